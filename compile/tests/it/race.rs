//! An editor saving (in place, or by rename) one of the files of a 300-file commit while it
//! runs: no save is ever lost, and the commit stays all or nothing.

use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use lua_compile::{WriteError, WriteOptions, commit_files};

use crate::commit::{big_project, scratch, snapshot};
use crate::crash::{Rng, leftovers};

#[derive(Clone, Copy, Debug)]
enum Save {
    InPlace,
    Rename,
}

fn save(path: &Path, text: &str, how: Save) {
    match how {
        Save::InPlace => std::fs::write(path, text).unwrap(),
        Save::Rename => {
            let tmp = path.with_extension("editor-tmp");
            std::fs::write(&tmp, text).unwrap();
            std::fs::rename(&tmp, path).unwrap();
        }
    }
}

fn spin(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

#[test]
fn no_save_is_lost_while_hundreds_of_files_are_committed() {
    let window = {
        let dir = scratch();
        let writes = big_project(dir.path(), 300);
        let start = Instant::now();
        commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap();
        start.elapsed()
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut written, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(300);
    let trials = 40;
    for trial in 0..trials {
        assert!(
            Instant::now() < deadline,
            "race test ran out of time at {trial}"
        );
        let how = if trial % 2 == 0 {
            Save::InPlace
        } else {
            Save::Rename
        };
        let dir = scratch();
        let writes = big_project(dir.path(), 300);
        let before = snapshot(dir.path());
        let k = (rng.next() % 300) as usize;
        let edited = writes[k].rel.clone();
        let path = dir.path().join(&edited);
        let delay = Duration::from_nanos(rng.next() % (window.as_nanos() as u64 * 3 / 2 + 1));
        let barrier = Arc::new(Barrier::new(2));
        let editor = {
            let barrier = Arc::clone(&barrier);
            let path = path.clone();
            std::thread::spawn(move || {
                barrier.wait();
                spin(delay);
                let mut last = String::new();
                for n in 0..3 {
                    last = format!("export const edited = '{trial}.{n}';\n");
                    save(&path, &last, how);
                    spin(Duration::from_micros(50));
                }
                last
            })
        };
        barrier.wait();
        let result = commit_files(dir.path(), &writes, &WriteOptions::default());
        let last_save = editor.join().unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            last_save,
            "trial {trial} ({how:?}, {edited}): the editor's save was lost; lua said {result:?}"
        );
        // Every other file: all new (written) or all old (refused).
        let now = snapshot(dir.path());
        let expect_new = match &result {
            Ok(_) => {
                written += 1;
                true
            }
            Err(WriteError::Changed { file }) => {
                assert_eq!(*file, edited, "trial {trial}");
                refused += 1;
                false
            }
            Err(e) => panic!("trial {trial}: {e}"),
        };
        for w in &writes {
            if w.rel == edited {
                continue;
            }
            let want = if expect_new {
                Some(&w.bytes)
            } else {
                before.get(&w.rel)
            };
            assert_eq!(
                now.get(&w.rel),
                want,
                "trial {trial}: {} ({result:?})",
                w.rel
            );
        }
        let left = leftovers(dir.path());
        assert!(left.is_empty(), "trial {trial}: {left:?}");
    }
    assert!(
        written > 0 && refused > 0,
        "no race: {written} written, {refused} refused"
    );
}

#[test]
fn two_commits_of_one_process_never_mix() {
    let mut locked = 0;
    for trial in 0..10 {
        let dir = scratch();
        let first = big_project(dir.path(), 300);
        let second: Vec<_> = first
            .iter()
            .map(|w| lua_compile::FileWrite {
                bytes: [w.bytes.as_slice(), b"second"].concat(),
                ..w.clone()
            })
            .collect();
        let before = snapshot(dir.path());
        let barrier = Arc::new(Barrier::new(2));
        let other = {
            let (barrier, root, second) = (
                Arc::clone(&barrier),
                dir.path().to_path_buf(),
                second.clone(),
            );
            std::thread::spawn(move || {
                barrier.wait();
                commit_files(&root, &second, &WriteOptions::default())
            })
        };
        barrier.wait();
        let mine = commit_files(dir.path(), &first, &WriteOptions::default());
        let theirs = other.join().unwrap();
        let now = snapshot(dir.path());
        let all = |writes: &[lua_compile::FileWrite]| {
            writes.iter().all(|w| now.get(&w.rel) == Some(&w.bytes))
        };
        let state = if all(&first) {
            "first"
        } else if all(&second) {
            "second"
        } else {
            assert_eq!(now, before, "trial {trial}: mixed ({mine:?}, {theirs:?})");
            "before"
        };
        // At most one of them went in, and it said so; the other was refused.
        assert!(
            !(mine.is_ok() && theirs.is_ok()),
            "trial {trial}: both said written"
        );
        match state {
            "first" => assert!(mine.is_ok(), "trial {trial}: {mine:?}"),
            "second" => assert!(theirs.is_ok(), "trial {trial}: {theirs:?}"),
            _ => assert!(mine.is_err() && theirs.is_err()),
        }
        for refused in [&mine, &theirs]
            .into_iter()
            .filter_map(|r| r.as_ref().err())
        {
            locked += usize::from(matches!(refused, WriteError::Locked { .. }));
            assert!(
                matches!(
                    refused,
                    WriteError::Locked { .. } | WriteError::Changed { .. }
                ),
                "trial {trial}: {refused}"
            );
        }
        assert!(leftovers(dir.path()).is_empty(), "trial {trial}");
    }
    // They did overlap: the second found the first's commit in flight.
    assert!(locked > 0, "the two commits never overlapped");
}
