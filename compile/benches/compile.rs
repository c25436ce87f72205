//! Compile speed for entry files of 1 KB, 100 KB and 1 MB (a persona in a template literal,
//! plus one import), generated here: cold evaluation from disk, evaluation from memory, and a
//! cached `compile` (hash check only). Also write-back of a new persona into the 1 MB file,
//! and long text expressions: a `+` chain and a template literal of 50k to 400k terms on one
//! line, whose time must grow linearly with the number of terms (figures in README).

// A bench is test code that is not `cfg(test)`: a panic there fails the bench, no user sees it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lua_compile::{WriteOptions, compile, evaluate, evaluate_files, write_back_files};

/// An entry file of about `size` bytes: the persona is a template literal of policy lines.
fn entry(size: usize) -> String {
    let head = "import { LuaAgent } from \"lua-cli\";\nimport { NAME } from \"./name\";\n\nexport const agent = new LuaAgent({\n  name: NAME,\n  persona: `You are the Acme support agent.\n";
    let tail = "`,\n  skills: [],\n});\n";
    let mut persona = String::new();
    let mut i = 0;
    while head.len() + persona.len() + tail.len() < size {
        i += 1;
        persona.push_str(&format!("{i:06}. Answer questions about order {i} briefly; never share \\${{secrets}}: \\` kept.\n"));
    }
    format!("{head}{persona}{tail}")
}

fn files(size: usize) -> BTreeMap<String, String> {
    let mut files = BTreeMap::new();
    files.insert("src/index.ts".to_owned(), entry(size));
    files.insert(
        "src/name.ts".to_owned(),
        "export const NAME = 'Support Bot';\n".to_owned(),
    );
    files
}

fn write_project(root: &Path, files: &BTreeMap<String, String>) {
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
}

fn bench(c: &mut Criterion) {
    let sizes = [("1KB", 1_000), ("100KB", 100_000), ("1MB", 1_000_000)];
    let mut group = c.benchmark_group("compile");
    for (label, size) in sizes {
        let project = files(size);
        let bytes: usize = project.values().map(String::len).sum();
        group.throughput(Throughput::Bytes(bytes as u64));
        let dir = tempfile::tempdir().expect("tempdir");
        write_project(dir.path(), &project);
        let check = evaluate_files(&project, "src/index.ts").expect("compiles");
        assert!(
            check.fields["persona"].to_json().is_ok(),
            "the generated persona must be readable"
        );

        group.bench_with_input(BenchmarkId::new("evaluate_disk", label), &dir, |b, dir| {
            b.iter(|| evaluate(black_box(dir.path()), "src/index.ts").expect("compiles"));
        });
        group.bench_with_input(
            BenchmarkId::new("evaluate_memory", label),
            &project,
            |b, project| {
                b.iter(|| evaluate_files(black_box(project), "src/index.ts").expect("compiles"));
            },
        );
        compile(dir.path(), "src/index.ts").expect("compiles");
        group.bench_with_input(BenchmarkId::new("compile_cached", label), &dir, |b, dir| {
            b.iter(|| compile(black_box(dir.path()), "src/index.ts").expect("compiles"));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("write_back");
    let project = files(1_000_000);
    let compiled = evaluate_files(&project, "src/index.ts").expect("compiles");
    let node = compiled.fields["persona"].clone();
    let new_persona = serde_json::Value::String(format!(
        "Rewritten.\n{}",
        "A line with `ticks` and ${x}.\n".repeat(30_000)
    ));
    group.bench_function("persona_1MB_memory", |b| {
        b.iter(|| {
            let mut files = project.clone();
            write_back_files(
                &mut files,
                &compiled,
                &node,
                black_box(&new_persona),
                WriteOptions::default(),
            )
            .expect("writes")
        });
    });
    group.finish();
}

/// An entry whose persona is `terms` string literals joined by `+`, on one line.
fn plus_chain(terms: usize) -> String {
    let mut persona = String::with_capacity(terms * 12);
    for i in 0..terms {
        if i > 0 {
            persona.push_str(" + ");
        }
        persona.push_str(&format!("\"t{i} \""));
    }
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nexport default new LuaAgent({{\n  name: \"Bot\",\n  persona: {persona},\n}});\n"
    )
}

/// An entry whose persona is one template literal with `terms` substitutions, on one line.
fn template(terms: usize) -> String {
    let mut persona = String::with_capacity(terms * 14);
    for i in 0..terms {
        persona.push_str(&format!("t{i} ${{\"s{i}\"}} "));
    }
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nexport default new LuaAgent({{\n  name: \"Bot\",\n  persona: `{persona}`,\n}});\n"
    )
}

fn bench_text(c: &mut Criterion) {
    let mut group = c.benchmark_group("text_terms");
    group.sample_size(10);
    for terms in [50_000, 100_000, 200_000, 400_000] {
        group.throughput(Throughput::Elements(terms as u64));
        for (label, make) in [
            ("plus_chain", plus_chain as fn(usize) -> String),
            ("template", template),
        ] {
            let mut files = BTreeMap::new();
            files.insert("src/index.ts".to_owned(), make(terms));
            let check = evaluate_files(&files, "src/index.ts").expect("compiles");
            assert!(
                check.fields["persona"].to_json().is_ok(),
                "the generated persona must be readable"
            );
            group.bench_with_input(BenchmarkId::new(label, terms), &files, |b, files| {
                b.iter(|| evaluate_files(black_box(files), "src/index.ts").expect("compiles"));
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench, bench_text
}
criterion_main!(benches);
