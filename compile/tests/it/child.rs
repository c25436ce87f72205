//! The child processes of the crash and lock tests: this test binary run again with one
//! test selected and an environment variable saying what to do. Without the variable these
//! tests do nothing.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use lua_compile::{ProjectLock, WriteOptions, commit_files};

use crate::commit::big_project_writes;

const COMMIT: &str = "LUA_TEST_CHILD_COMMIT";
const LOCK: &str = "LUA_TEST_CHILD_LOCK";

/// Run `test` in a new process of this binary with `var=root`; its stdout is piped.
fn spawn(test: &str, var: &str, root: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1", "-q"])
        .env(var, root)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A child that commits the 300-file project in `root` (made by the parent), printing
/// `go` right before.
pub(crate) fn spawn_commit(root: &Path) -> Child {
    spawn("child::commit_in_child", COMMIT, root)
}

/// A child that takes the lock of `root`, prints `locked`, and sleeps until killed.
pub(crate) fn spawn_lock(root: &Path) -> Child {
    spawn("child::lock_in_child", LOCK, root)
}

/// Wait for the child to print `word` on a line of its own. (Read byte by byte: a buffer
/// would swallow the lines after it.)
pub(crate) fn wait_for(child: &mut Child, word: &str) {
    use std::io::Read as _;
    let out = child.stdout.as_mut().unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8];
    loop {
        assert!(
            out.read(&mut byte).unwrap() > 0,
            "child ended before `{word}`"
        );
        if byte[0] != b'\n' {
            line.push(byte[0]);
        } else if line.trim_ascii() == word.as_bytes() {
            return;
        } else {
            line.clear();
        }
    }
}

/// Tell the parent how far the child is (a line on stdout, flushed at once).
fn say(word: &str) {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{word}").unwrap();
    out.flush().unwrap();
}

fn root_from(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).map(PathBuf::from)
}

#[test]
fn commit_in_child() {
    let Some(root) = root_from(COMMIT) else {
        return;
    };
    let writes = big_project_writes(300);
    say("go");
    commit_files(&root, &writes, &WriteOptions::default()).unwrap();
    say("done");
}

#[test]
fn lock_in_child() {
    let Some(root) = root_from(LOCK) else {
        return;
    };
    let _lock = ProjectLock::acquire(&root, Duration::ZERO).unwrap();
    say("locked");
    std::thread::sleep(Duration::from_secs(120));
}
