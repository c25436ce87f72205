//! `commit_files`: many files, text and binary, created and replaced, through the guarded
//! writer: all or nothing, on real files.

use std::collections::BTreeMap;
use std::path::Path;

use lua_compile::{FileWrite, WriteError, WriteOptions, commit_files};
use sha2::{Digest as _, Sha256};

pub(crate) fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A scratch folder on tmpfs where there is one: the crash and race tests run hundreds of
/// commits, and what they test is the order of steps, not the disk's flushes.
pub(crate) fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if std::env::var_os("LUA_TEST_ON_DISK").is_none()
        && shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

/// Every file under `root` (not `.lua/`) -> its bytes.
pub(crate) fn snapshot(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            let path = entry.path();
            let rel = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if rel == ".lua" {
                continue;
            }
            if entry.file_type().unwrap().is_dir() {
                walk(root, &path, out);
            } else {
                out.insert(rel, std::fs::read(&path).unwrap_or_default());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The old bytes of file `i` of the big project, and its path.
fn big_file(i: usize) -> (String, Vec<u8>, Vec<u8>) {
    let rel = format!(
        "src/part{}/file{i}.{}",
        i % 7,
        if i.is_multiple_of(3) { "bin" } else { "ts" }
    );
    let old: Vec<u8> = if i.is_multiple_of(3) {
        (0..=255u8).cycle().skip(i).take(300 + i).collect()
    } else {
        format!("export const v{i} = 'old {i}';\n").into_bytes()
    };
    let new: Vec<u8> = if i.is_multiple_of(3) {
        old.iter()
            .rev()
            .copied()
            .chain([0xff, 0x00, 0xfe])
            .collect()
    } else {
        format!("export const v{i} = 'new {i}';\n").into_bytes()
    };
    (rel, old, new)
}

/// The commit of the big project of `n` files: each replaced, and `n / 2` new ones created
/// in new folders.
pub(crate) fn big_project_writes(n: usize) -> Vec<FileWrite> {
    let mut writes = Vec::new();
    for i in 0..n {
        let (rel, old, new) = big_file(i);
        writes.push(FileWrite {
            rel,
            base: Some(sha(&old)),
            bytes: new,
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

/// Make the big project of `n` files (every third binary) in `root`; its commit.
pub(crate) fn big_project(root: &Path, n: usize) -> Vec<FileWrite> {
    for i in 0..n {
        let (rel, old, _) = big_file(i);
        let path = root.join(&rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &old).unwrap();
    }
    big_project_writes(n)
}

/// What `before` becomes once `writes` are in.
pub(crate) fn after(
    before: &BTreeMap<String, Vec<u8>>,
    writes: &[FileWrite],
) -> BTreeMap<String, Vec<u8>> {
    let mut want = before.clone();
    for w in writes {
        want.insert(w.rel.clone(), w.bytes.clone());
    }
    want
}

#[test]
fn hundreds_of_files_text_and_binary_new_and_replaced_go_in_together() {
    let dir = tempfile::tempdir().unwrap();
    let writes = big_project(dir.path(), 300);
    let before = snapshot(dir.path());
    let report = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap();
    assert_eq!(report.files.len(), 450);
    assert_eq!(report.created.len(), 150);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(snapshot(dir.path()), after(&before, &writes));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("restored/d0/n0.txt"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o644);
    }
}

#[test]
fn one_changed_file_means_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let writes = big_project(dir.path(), 200);
    // Somebody edits one file after its base was taken.
    std::fs::write(dir.path().join(&writes[150].rel), "edited\n").unwrap();
    let before = snapshot(dir.path());
    let err = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap_err();
    assert!(
        matches!(&err, WriteError::Changed { file } if *file == writes[150].rel),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
    // The folders made for the created files are gone again.
    assert!(!dir.path().join("restored").exists());
}

#[test]
fn a_file_to_create_that_exists_means_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let mut writes = big_project(dir.path(), 30);
    std::fs::create_dir_all(dir.path().join("restored/d3")).unwrap();
    std::fs::write(dir.path().join("restored/d3/n3.txt"), "mine\n").unwrap();
    let before = snapshot(dir.path());
    let err = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "restored/d3/n3.txt already exists; nothing written"
    );
    assert_eq!(snapshot(dir.path()), before);
    // A base that says "absent" for a file that exists is refused the same way, and one
    // that names a file that does not exist is a change.
    writes.truncate(1);
    writes[0].rel = "src/nothing-here.ts".into();
    let err = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap_err();
    assert!(
        matches!(err, WriteError::Io { .. } | WriteError::Changed { .. }),
        "{err}"
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn paths_that_are_not_plainly_inside_the_project_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for rel in ["../escape.txt", "/etc/passwd", "a//b", "./a", "", "a\\b"] {
        let err = commit_files(
            dir.path(),
            &[FileWrite {
                rel: rel.into(),
                base: None,
                bytes: b"x".to_vec(),
            }],
            &WriteOptions::default(),
        )
        .unwrap_err();
        assert!(matches!(err, WriteError::Invalid { .. }), "{rel}: {err}");
        assert!(
            err.to_string().starts_with(&format!("{rel}: not a plain")),
            "{err}"
        );
    }
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
}

#[cfg(unix)]
#[test]
fn a_symlinked_folder_out_of_the_project_is_refused() {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("project");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::create_dir_all(base.path().join("outside")).unwrap();
    std::os::unix::fs::symlink(base.path().join("outside"), root.join("out")).unwrap();
    let mut writes = big_project(&root, 20);
    writes.push(FileWrite {
        rel: "out/new.txt".into(),
        base: None,
        bytes: b"x".to_vec(),
    });
    let before = snapshot(&root);
    let err = commit_files(&root, &writes, &WriteOptions::default()).unwrap_err();
    assert!(
        matches!(&err, WriteError::Outside { file, .. } if file == "out/new.txt"),
        "{err}"
    );
    assert_eq!(snapshot(&root), before);
    assert_eq!(
        std::fs::read_dir(base.path().join("outside"))
            .unwrap()
            .count(),
        0
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_file_refuses_the_whole_commit() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let writes = big_project(dir.path(), 60);
    let ro = dir.path().join(&writes[42].rel);
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o444)).unwrap();
    let before = snapshot(dir.path());
    let err = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is read-only: its mode is 0444, which allows no one to write; nothing written",
            writes[42].rel
        )
    );
    assert_eq!(snapshot(dir.path()), before);
}

#[cfg(unix)]
#[test]
fn hard_links_owner_and_mode_are_kept() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = tempfile::tempdir().unwrap();
    let writes = big_project(dir.path(), 40);
    let linked = dir.path().join(&writes[3].rel);
    let other = dir.path().join("elsewhere.bin");
    std::fs::hard_link(&linked, &other).unwrap();
    let inode = std::fs::metadata(&linked).unwrap().ino();
    let moded = dir.path().join(&writes[4].rel);
    std::fs::set_permissions(&moded, std::fs::Permissions::from_mode(0o600)).unwrap();
    commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap();
    assert_eq!(std::fs::read(&other).unwrap(), writes[3].bytes);
    assert_eq!(std::fs::metadata(&linked).unwrap().ino(), inode);
    assert_eq!(
        std::fs::metadata(&moded).unwrap().permissions().mode() & 0o7777,
        0o600
    );
}

#[test]
fn a_write_that_changes_nothing_is_checked_but_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("same.txt"), "same\n").unwrap();
    let writes = [FileWrite {
        rel: "same.txt".into(),
        base: Some(sha(b"same\n")),
        bytes: b"same\n".to_vec(),
    }];
    let report = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap();
    assert!(report.files.is_empty(), "{report:?}");
    std::fs::write(dir.path().join("same.txt"), "other\n").unwrap();
    let err = commit_files(dir.path(), &writes, &WriteOptions::default()).unwrap_err();
    assert!(matches!(err, WriteError::Changed { .. }), "{err}");
}
