//! `kill -9` at random points of a commit of 300 files, then `recover`: the project is byte
//! for byte as before or as after, and no temp file of lua is left. Also: what `recover`
//! refuses (a journal naming paths outside the project, one of a running process).

use std::path::Path;
use std::time::{Duration, Instant};

use lua_compile::{WriteError, recover};

use crate::child::{spawn_commit, wait_for};
use crate::commit::{after, big_project, scratch, snapshot};

/// Every temp file of lua under `root` (`.lua/` included), and the journal folder.
pub(crate) fn leftovers(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.contains(".lua-tmp-") || name.starts_with(".lua-write-") || name == "journal" {
                out.push(entry.path().display().to_string());
            }
            if entry.file_type().unwrap().is_dir() {
                walk(&entry.path(), out);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, &mut out);
    out
}

/// A cheap pseudo-random sequence (no dependency): xorshift.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// How long a child's commit of the 300-file project takes here, now (measured in a child,
/// as the trials run, so that the load of other tests is counted in).
fn typical_commit() -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..3 {
        let dir = scratch();
        big_project(dir.path(), 300);
        let mut child = spawn_commit(dir.path());
        wait_for(&mut child, "go");
        let start = Instant::now();
        wait_for(&mut child, "done");
        total += start.elapsed();
        child.wait().unwrap();
    }
    total / 3
}

#[cfg(unix)]
#[test]
fn kill_9_at_random_points_leaves_the_project_before_or_after() {
    let window = typical_commit();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let (mut as_before, mut as_after, mut undone, mut finished) = (0, 0, 0, 0);
    let trials = 40;
    for trial in 0..trials {
        let dir = scratch();
        let writes = big_project(dir.path(), 300);
        // Some files have a second name: they are rewritten in place.
        let mut links = Vec::new();
        #[cfg(unix)]
        for w in writes.iter().take(300).step_by(37) {
            let link = format!("links/{}", w.rel.replace('/', "-"));
            std::fs::create_dir_all(dir.path().join("links")).unwrap();
            std::fs::hard_link(dir.path().join(&w.rel), dir.path().join(&link)).unwrap();
            links.push((link, w.bytes.clone()));
        }
        let before = snapshot(dir.path());
        let mut want = after(&before, &writes);
        want.extend(links);
        let mut child = spawn_commit(dir.path());
        wait_for(&mut child, "go");
        // Spread the kills over the commit, and a little past it.
        let delay = rng.next() % (window.as_micros() as u64 * 13 / 10 + 1);
        std::thread::sleep(Duration::from_micros(delay));
        child.kill().unwrap();
        child.wait().unwrap();
        let recovered = recover(dir.path()).unwrap();
        let now = snapshot(dir.path());
        if now == before {
            as_before += 1;
        } else if now == want {
            as_after += 1;
        } else {
            let differ: Vec<_> = now
                .iter()
                .filter(|(rel, bytes)| before.get(*rel) != Some(bytes))
                .map(|(rel, bytes)| (rel, want.get(rel) == Some(bytes)))
                .take(5)
                .collect();
            panic!(
                "trial {trial} (killed after {delay} µs): neither before nor after: {} files, {differ:?}; recover said {recovered:?}",
                now.len()
            );
        }
        if let Some(r) = &recovered {
            assert!(r.left.is_empty(), "trial {trial}: {r:?}");
            if r.finished {
                finished += 1;
            } else if !r.undone.is_empty() {
                undone += 1;
            }
        }
        let left = leftovers(dir.path());
        assert!(left.is_empty(), "trial {trial}: {left:?}");
        assert_eq!(recover(dir.path()).unwrap(), None, "trial {trial}");
    }
    // The kills really landed inside commits, on both sides of the decision.
    let summary = format!(
        "{trials} kills: {as_before} as before, {as_after} as after; {undone} undone, {finished} finished by recover"
    );
    assert!(as_before > 0 && as_after > 0, "{summary}");
    assert!(
        undone > 0,
        "no kill landed while files were going in: {summary}"
    );
}

#[test]
fn with_no_journal_there_is_nothing_to_recover() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(recover(dir.path()).unwrap(), None);
    assert!(!dir.path().join(".lua").exists());
}

fn write_journal(root: &Path, json: &serde_json::Value) {
    let dir = root.join(".lua/journal");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("journal.json"), serde_json::to_vec(json).unwrap()).unwrap();
}

/// A pid that no process has now.
pub(crate) fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn journal(pid: u32, rel: &str, tmp: &str) -> serde_json::Value {
    serde_json::json!({
        "format": 1,
        "pid": pid,
        "command": "lua sync --accept",
        "state": "prepared",
        "dirs": [],
        "files": [{
            "rel": rel, "how": "create", "tmp": tmp, "keep": null,
            "old": null, "new": crate::commit::sha(b"x"),
        }],
    })
}

#[test]
fn a_journal_naming_a_path_outside_the_project_is_refused_and_changes_nothing() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(base.path().join("victim.txt"), "x").unwrap();
    let pid = dead_pid();
    for (rel, tmp) in [
        ("../victim.txt", format!(".victim.txt.lua-tmp-{pid}-abc")),
        ("/etc/hostname", format!(".hostname.lua-tmp-{pid}-abc")),
        ("victim.txt", "../victim.txt".to_owned()),
        ("victim.txt", "victim.txt".to_owned()),
    ] {
        write_journal(&root, &journal(pid, rel, &tmp));
        let err = recover(&root).unwrap_err();
        assert!(
            matches!(err, WriteError::Journal { .. }),
            "{rel} {tmp}: {err}"
        );
        let message = err.to_string();
        assert!(
            message.contains(".lua/journal/journal.json: it names"),
            "{message}"
        );
        assert!(
            message.ends_with("nothing was changed: check the files it names, then remove it"),
            "{message}"
        );
        assert_eq!(
            std::fs::read_to_string(base.path().join("victim.txt")).unwrap(),
            "x"
        );
    }
    // A folder of the project linking outside it is not followed either.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(base.path(), root.join("up")).unwrap();
        write_journal(
            &root,
            &journal(
                pid,
                "up/victim.txt",
                &format!(".victim.txt.lua-tmp-{pid}-abc"),
            ),
        );
        let err = recover(&root).unwrap_err();
        assert!(err.to_string().contains("outside the project"), "{err}");
        assert_eq!(
            std::fs::read_to_string(base.path().join("victim.txt")).unwrap(),
            "x"
        );
    }
}

#[test]
fn a_journal_that_is_not_luas_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".lua/journal")).unwrap();
    std::fs::write(dir.path().join(".lua/journal/journal.json"), "{ not json").unwrap();
    let err = recover(dir.path()).unwrap_err();
    assert!(
        err.to_string().contains("it is not a journal lua wrote"),
        "{err}"
    );
}

#[test]
fn the_journal_of_a_running_lua_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let mut sleeper = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .unwrap();
    std::fs::write(dir.path().join("new.txt"), "x").unwrap();
    write_journal(
        dir.path(),
        &journal(
            sleeper.id(),
            "new.txt",
            &format!(".new.txt.lua-tmp-{}-abc", sleeper.id()),
        ),
    );
    let err = recover(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "the project is in use by pid {} (lua sync --accept); try again when it is done",
            sleeper.id()
        )
    );
    assert!(dir.path().join("new.txt").exists());
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    // Once it is gone, its created file (holding its bytes) is removed.
    let done = recover(dir.path()).unwrap().unwrap();
    assert_eq!(done.undone, ["new.txt"]);
    assert!(!dir.path().join("new.txt").exists());
    assert!(leftovers(dir.path()).is_empty());
}
