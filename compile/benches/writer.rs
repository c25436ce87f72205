//! The guarded writer: `recover` when there is nothing to recover (every resolving run pays
//! it first: one `stat`), and `commit_files` of 300 replaced files (text and binary) plus
//! 150 created ones, journal, exchange, watch and fsyncs included, in the temp folder's file
//! system.

// A bench is test code that is not `cfg(test)`: a panic there fails the bench, no user sees it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lua_compile::{FileWrite, WriteOptions, commit_files, recover};
use sha2::{Digest as _, Sha256};

/// A project of `n` files (every third binary) in `root`, and the commit replacing each and
/// creating `n / 2` more in new folders.
fn project(root: &Path, n: usize) -> Vec<FileWrite> {
    let mut writes = Vec::new();
    for i in 0..n {
        let rel = format!("src/part{}/file{i}.ts", i % 7);
        let old: Vec<u8> = if i.is_multiple_of(3) {
            (0..=255u8).cycle().skip(i).take(300 + i).collect()
        } else {
            format!("export const v{i} = 'old {i}';\n").into_bytes()
        };
        let path = root.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &old).unwrap();
        writes.push(FileWrite {
            rel,
            base: Some(hex::encode(Sha256::digest(&old))),
            bytes: format!("export const v{i} = 'new {i}';\n").into_bytes(),
        });
    }
    for i in 0..n / 2 {
        writes.push(FileWrite {
            rel: format!("restored/d{}/n{i}.txt", i % 5),
            base: None,
            bytes: format!("created {i}\n").into_bytes(),
        });
    }
    writes
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("writer");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".lua")).unwrap();
    group.bench_function("recover_nothing_to_do", |b| {
        b.iter(|| recover(black_box(dir.path())).unwrap());
    });
    group.bench_function("commit_300_replaced_150_created", |b| {
        b.iter_batched(
            || {
                let dir = tempfile::tempdir().unwrap();
                let writes = project(dir.path(), 300);
                (dir, writes)
            },
            |(dir, writes)| {
                commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap();
                dir
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
