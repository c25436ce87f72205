//! `recover`'s rules one by one, on the state a killed commit leaves (built by hand here;
//! `crash.rs` gets there with real kills): undo what holds lua's bytes, leave what holds
//! someone else's, finish a decided commit, and remove every temp named.

use std::path::Path;

use lua_compile::{FileWrite, Recovered, WriteError, WriteOptions, commit_files, recover};

use crate::commit::sha;
use crate::crash::{dead_pid, leftovers};

const OLD: &[u8] = b"old bytes\n";
const NEW: &[u8] = b"the new bytes lua wrote\n";

fn tmp_name(file: &str, pid: u32, tag: &str) -> String {
    format!(".{file}.lua-tmp-{pid}-abcd{tag}")
}

/// The journal a commit of `how` to `file.txt` writes, by process `pid`, in `state`.
fn journal(root: &Path, pid: u32, state: &str, how: &str, dirs: &[&str], rel: &str) {
    let name = Path::new(rel).file_name().unwrap().to_string_lossy();
    let (keep, old) = if how == "create" {
        (serde_json::Value::Null, serde_json::Value::Null)
    } else {
        (tmp_name(&name, pid, "o").into(), sha(OLD).into())
    };
    let json = serde_json::json!({
        "format": 1, "pid": pid, "command": "lua sync --accept", "state": state,
        "dirs": dirs,
        "files": [{ "rel": rel, "how": how, "tmp": tmp_name(&name, pid, "n"),
                    "keep": keep, "old": old, "new": sha(NEW) }],
    });
    std::fs::create_dir_all(root.join(".lua/journal")).unwrap();
    std::fs::write(
        root.join(".lua/journal/journal.json"),
        serde_json::to_vec(&json).unwrap(),
    )
    .unwrap();
}

fn recovered(root: &Path) -> Recovered {
    let done = recover(root).unwrap().unwrap();
    assert!(leftovers(root).is_empty(), "{:?}", leftovers(root));
    assert_eq!(recover(root).unwrap(), None);
    done
}

#[test]
fn a_swapped_file_holding_luas_bytes_gets_its_old_file_back() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    // Killed after the exchange: lua's bytes at the path, the old file under the temp name.
    std::fs::write(dir.path().join("file.txt"), NEW).unwrap();
    std::fs::write(dir.path().join(tmp_name("file.txt", pid, "n")), OLD).unwrap();
    journal(dir.path(), pid, "prepared", "swap", &[], "file.txt");
    let done = recovered(dir.path());
    assert_eq!(done.undone, ["file.txt"]);
    assert!(!done.finished);
    assert_eq!(done.holder, format!("pid {pid} (lua sync --accept)"));
    assert_eq!(std::fs::read(dir.path().join("file.txt")).unwrap(), OLD);
}

#[test]
fn a_file_somebody_saved_since_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    std::fs::write(dir.path().join("file.txt"), "an editor's save\n").unwrap();
    std::fs::write(dir.path().join(tmp_name("file.txt", pid, "n")), OLD).unwrap();
    journal(dir.path(), pid, "prepared", "swap", &[], "file.txt");
    let done = recovered(dir.path());
    assert_eq!(done.left, ["file.txt"]);
    assert!(done.undone.is_empty());
    assert_eq!(
        std::fs::read_to_string(dir.path().join("file.txt")).unwrap(),
        "an editor's save\n"
    );
}

#[test]
fn a_committed_commit_is_finished_not_undone() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    std::fs::write(dir.path().join("file.txt"), NEW).unwrap();
    std::fs::write(dir.path().join(tmp_name("file.txt", pid, "n")), OLD).unwrap();
    journal(dir.path(), pid, "committed", "swap", &[], "file.txt");
    let done = recovered(dir.path());
    assert!(
        done.finished && done.undone.is_empty() && done.left.is_empty(),
        "{done:?}"
    );
    assert_eq!(std::fs::read(dir.path().join("file.txt")).unwrap(), NEW);
}

#[test]
fn a_created_file_and_its_folders_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    std::fs::create_dir_all(dir.path().join("a/b")).unwrap();
    std::fs::write(dir.path().join("a/b/file.txt"), NEW).unwrap();
    journal(
        dir.path(),
        pid,
        "prepared",
        "create",
        &["a", "a/b"],
        "a/b/file.txt",
    );
    let done = recovered(dir.path());
    assert_eq!(done.undone, ["a/b/file.txt"]);
    assert!(!dir.path().join("a").exists());
}

#[cfg(unix)]
#[test]
fn a_hard_linked_file_cut_short_while_rewritten_in_place_gets_its_old_bytes_back() {
    use std::os::unix::fs::MetadataExt;
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    // Killed half-way through the in-place write: the file holds the start of lua's bytes.
    let path = dir.path().join("file.txt");
    std::fs::write(&path, &NEW[..7]).unwrap();
    std::fs::hard_link(&path, dir.path().join("other-name.txt")).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    std::fs::write(dir.path().join(tmp_name("file.txt", pid, "n")), NEW).unwrap();
    std::fs::write(dir.path().join(tmp_name("file.txt", pid, "o")), OLD).unwrap();
    journal(dir.path(), pid, "prepared", "in_place", &[], "file.txt");
    let done = recovered(dir.path());
    assert_eq!(done.undone, ["file.txt"]);
    assert_eq!(std::fs::read(&path).unwrap(), OLD);
    assert_eq!(
        std::fs::read(dir.path().join("other-name.txt")).unwrap(),
        OLD
    );
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
}

#[test]
fn a_journal_that_was_never_completed_means_nothing_went_in() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    std::fs::create_dir_all(dir.path().join(".lua/journal")).unwrap();
    std::fs::write(
        dir.path()
            .join(".lua/journal")
            .join(tmp_name("journal.json", pid, "j")),
        "{\"format\": 1, \"pi",
    )
    .unwrap();
    let done = recovered(dir.path());
    assert!(done.undone.is_empty() && !done.finished, "{done:?}");
    assert!(!dir.path().join(".lua/journal").exists());
}

#[test]
fn the_next_commit_recovers_first() {
    let dir = tempfile::tempdir().unwrap();
    let pid = dead_pid();
    std::fs::write(dir.path().join("file.txt"), NEW).unwrap();
    std::fs::write(dir.path().join(tmp_name("file.txt", pid, "n")), OLD).unwrap();
    journal(dir.path(), pid, "prepared", "swap", &[], "file.txt");
    // Based on the file as it was before the interrupted commit.
    let report = commit_files(
        dir.path(),
        &[FileWrite {
            rel: "file.txt".into(),
            base: Some(sha(OLD)),
            bytes: b"next\n".to_vec(),
        }],
        &WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(report.files, ["file.txt"]);
    assert_eq!(
        std::fs::read(dir.path().join("file.txt")).unwrap(),
        b"next\n"
    );
    assert!(leftovers(dir.path()).is_empty());
}

#[cfg(unix)]
#[test]
fn a_lua_folder_linking_out_of_the_project_is_not_written_to() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(base.path().join("elsewhere")).unwrap();
    std::os::unix::fs::symlink(base.path().join("elsewhere"), root.join(".lua")).unwrap();
    std::fs::write(root.join("file.txt"), OLD).unwrap();
    let err = commit_files(
        &root,
        &[FileWrite {
            rel: "file.txt".into(),
            base: Some(sha(OLD)),
            bytes: NEW.to_vec(),
        }],
        &WriteOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(&err, WriteError::Outside { file, .. } if file == ".lua"),
        "{err}"
    );
    assert_eq!(std::fs::read(root.join("file.txt")).unwrap(), OLD);
    assert_eq!(
        std::fs::read_dir(base.path().join("elsewhere"))
            .unwrap()
            .count(),
        0
    );
}
