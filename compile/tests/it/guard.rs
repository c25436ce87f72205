//! The disk guards of write-back: concurrent saves, permissions, owners, hard links, the
//! project fence, and left-over temp files. Each test fails on the code before the guard.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

use lua_compile::{Compiled, WriteError, WriteOptions, compile, evaluate, write_back};
use serde_json::json;

fn project(list: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, content) in list {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn entry(persona: &str) -> String {
    format!("import {{ LuaAgent }} from 'lua-cli';\nnew LuaAgent({{\n  persona: {persona},\n}});\n")
}

fn pull(
    root: &Path,
    compiled: &Compiled,
    value: &str,
) -> Result<lua_compile::WriteReport, WriteError> {
    write_back(
        root,
        compiled,
        &compiled.fields["persona"],
        &json!(value),
        WriteOptions::default(),
    )
}

fn read(path: impl AsRef<Path>) -> String {
    std::fs::read_to_string(path).unwrap()
}

// --- concurrent saves ----------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum Save {
    /// Open with truncation and write, as most editors' "save" does.
    InPlace,
    /// Write a temp file and rename it over the file (vim's `backupcopy=no`, many IDEs).
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

/// A cheap pseudo-random sequence (no dependency): xorshift.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn spin(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// How long one write-back takes here, to spread the editor's saves over it.
fn typical_write() -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..10 {
        let dir = project(&[("src/index.ts", &entry("'old'"))]);
        let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
        let start = Instant::now();
        pull(dir.path(), &compiled, "from lua").unwrap();
        total += start.elapsed();
    }
    total / 10
}

#[test]
fn no_save_is_ever_lost_in_place_or_by_rename() {
    let window = typical_write().max(Duration::from_micros(50));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut written, mut refused) = (0, 0);
    let deadline = Instant::now() + Duration::from_secs(240);
    let trials = 400;
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
        let dir = project(&[("src/index.ts", &entry("'old'"))]);
        let path = dir.path().join("src/index.ts");
        let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
        // The editor saves a burst of three versions starting at a random point of the write.
        let delay = Duration::from_nanos(rng.next() % (window.as_nanos() as u64 * 2));
        let barrier = Arc::new(Barrier::new(2));
        let editor = {
            let barrier = Arc::clone(&barrier);
            let path = path.clone();
            std::thread::spawn(move || {
                barrier.wait();
                spin(delay);
                let mut last = String::new();
                for n in 0..3 {
                    last = entry(&format!("'editor {trial}.{n}'"));
                    save(&path, &last, how);
                    spin(Duration::from_micros(20));
                }
                last
            })
        };
        barrier.wait();
        let result = pull(dir.path(), &compiled, "from lua");
        let last_save = editor.join().unwrap();
        // No save is ever lost, whatever its style: the file holds the editor's last save,
        // because lua either wrote before it (and was overwritten) or refused and left the
        // newest save at the path.
        assert_eq!(
            read(&path),
            last_save,
            "trial {trial} ({how:?}): an editor's save was lost; lua said {result:?}"
        );
        match result {
            Ok(_) => written += 1,
            Err(WriteError::Changed { .. }) => refused += 1,
            Err(e) => panic!("trial {trial}: {e}"),
        }
        // No temp file of either side is left.
        let left: Vec<String> = std::fs::read_dir(dir.path().join("src"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("lua-tmp"))
            .collect();
        assert!(left.is_empty(), "trial {trial}: {left:?}");
    }
    // The saves really did land on both sides of lua's write.
    assert!(
        written > 0 && refused > 0,
        "no race: {written} written, {refused} refused"
    );
}

// --- permissions, owner, links -------------------------------------------------------------

#[cfg(unix)]
#[test]
fn a_read_only_file_is_refused_even_as_root() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project(&[("src/index.ts", &entry("'old'"))]);
    let path = dir.path().join("src/index.ts");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    let err = pull(dir.path(), &compiled, "new").unwrap_err();
    assert!(matches!(err, WriteError::ReadOnly { .. }));
    assert_eq!(
        err.to_string(),
        "src/index.ts is read-only: its mode is 0444, which allows no one to write; nothing written"
    );
    assert_eq!(read(&path), entry("'old'"));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o7777,
        0o444
    );
}

#[cfg(unix)]
fn is_root() -> bool {
    rustix_uid() == 0
}

#[cfg(unix)]
fn rustix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    // The owner of a file we just made is who we are.
    let f = tempfile::NamedTempFile::new().unwrap();
    f.as_file().metadata().unwrap().uid()
}

#[cfg(unix)]
#[test]
fn owner_group_and_mode_are_kept() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    if !is_root() {
        // Only root can give a file to another user (CI runs as root).
        return;
    }
    let dir = project(&[("src/index.ts", &entry("'old'"))]);
    let path = dir.path().join("src/index.ts");
    std::os::unix::fs::chown(&path, Some(4242), Some(4343)).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    let report = pull(dir.path(), &compiled, "new").unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(
        (meta.uid(), meta.gid(), meta.mode() & 0o7777),
        (4242, 4343, 0o640)
    );
    assert_eq!(read(&path), entry("'new'"));
}

#[cfg(unix)]
#[test]
fn a_hard_linked_file_is_written_in_place_for_every_name() {
    use std::os::unix::fs::MetadataExt;
    let dir = project(&[("src/index.ts", &entry("'old'"))]);
    let path = dir.path().join("src/index.ts");
    let other = dir.path().join("other-name.ts");
    std::fs::hard_link(&path, &other).unwrap();
    let inode = std::fs::metadata(&path).unwrap().ino();
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    pull(dir.path(), &compiled, "new").unwrap();
    assert_eq!(read(&path), entry("'new'"));
    assert_eq!(read(&other), entry("'new'"));
    assert_eq!(std::fs::metadata(&path).unwrap().ino(), inode);
    // And it is guarded like any other write.
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    std::fs::write(&other, entry("'edited'")).unwrap();
    let err = pull(dir.path(), &compiled, "newer").unwrap_err();
    assert!(matches!(err, WriteError::Changed { .. }), "{err}");
    assert_eq!(read(&path), entry("'edited'"));
}

// --- the project fence ----------------------------------------------------------------------

fn with_outside() -> (tempfile::TempDir, PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let root = base.path().join("project");
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(base.path().join("outside")).unwrap();
    std::fs::write(
        base.path().join("outside/p.ts"),
        "export const P = 'old';\n",
    )
    .unwrap();
    (base, root)
}

#[cfg(unix)]
#[test]
fn a_symlink_out_of_the_project_is_not_written_through() {
    let (base, root) = with_outside();
    std::fs::write(
        root.join("src/index.ts"),
        entry("P").replace("\nnew", "\nimport { P } from './persona';\nnew"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        base.path().join("outside/p.ts"),
        root.join("src/persona.ts"),
    )
    .unwrap();
    let compiled = evaluate(&root, "src/index.ts").unwrap();
    let err = pull(&root, &compiled, "new").unwrap_err();
    let real = std::fs::canonicalize(base.path().join("outside/p.ts")).unwrap();
    assert!(
        matches!(&err, WriteError::Outside { file, target } if file == "src/persona.ts" && *target == real)
    );
    assert_eq!(
        err.to_string(),
        format!(
            "src/persona.ts is {}, outside the project; nothing written (a folder outside the project must be allowed explicitly)",
            real.display()
        )
    );
    assert_eq!(
        read(base.path().join("outside/p.ts")),
        "export const P = 'old';\n"
    );
}

#[test]
fn an_import_out_of_the_project_is_not_written_unless_allowed() {
    let (base, root) = with_outside();
    std::fs::write(
        root.join("src/index.ts"),
        entry("P").replace("\nnew", "\nimport { P } from '../../outside/p';\nnew"),
    )
    .unwrap();
    let compiled = evaluate(&root, "src/index.ts").unwrap();
    assert_eq!(
        compiled.fields["persona"].origin().unwrap().file,
        "../outside/p.ts"
    );
    let err = pull(&root, &compiled, "new").unwrap_err();
    assert!(matches!(err, WriteError::Outside { .. }), "{err}");
    assert_eq!(
        read(base.path().join("outside/p.ts")),
        "export const P = 'old';\n"
    );
    // Allowed explicitly (as a monorepo would, relative to the root): written.
    let opts = WriteOptions {
        allowed_outside: vec![PathBuf::from("../outside")],
        ..WriteOptions::default()
    };
    write_back(
        &root,
        &compiled,
        &compiled.fields["persona"],
        &json!("new"),
        opts,
    )
    .unwrap();
    assert_eq!(
        read(base.path().join("outside/p.ts")),
        "export const P = 'new';\n"
    );
}

// --- temp files -----------------------------------------------------------------------------

/// A pid that is certainly not running: a child that has exited.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

fn age(path: &Path, by: Duration) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(SystemTime::now() - by).unwrap();
}

#[test]
fn stale_temp_files_are_removed_at_the_next_write_in_their_folder() {
    let dir = project(&[("src/index.ts", &entry("'old'"))]);
    let src = dir.path().join("src");
    let dead = format!(".index.ts.lua-tmp-{}-AbCdEf", dead_pid());
    let old_live = format!(
        ".index.ts.lua-tmp-{}-XyZ123",
        std::process::id() + 1_000_000
    );
    let fresh_live = ".index.ts.lua-tmp-1-Fresh1".to_owned();
    let legacy_old = ".lua-write-Ab12Cd.tmp";
    let legacy_fresh = ".lua-write-Zz99Yy.tmp";
    let not_ours = ".index.ts.swp";
    for name in [
        &dead,
        &old_live,
        &fresh_live,
        &legacy_old.to_owned(),
        &legacy_fresh.to_owned(),
        &not_ours.to_owned(),
    ] {
        std::fs::write(src.join(name), "left over").unwrap();
    }
    age(&src.join(&old_live), Duration::from_secs(2 * 3600));
    age(&src.join(legacy_old), Duration::from_secs(2 * 3600));
    age(&src.join(not_ours), Duration::from_secs(2 * 3600));
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    pull(dir.path(), &compiled, "new").unwrap();
    let mut left: Vec<String> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    // pid 1 is running and its temp file is fresh: it may be in use. The rest are stale.
    assert_eq!(
        left,
        [
            fresh_live.as_str(),
            ".index.ts.swp",
            ".lua-write-Zz99Yy.tmp",
            "index.ts"
        ]
    );
}

#[test]
fn the_manifest_folder_is_cleaned_too() {
    let dir = project(&[("src/index.ts", &entry("'old'"))]);
    compile(dir.path(), "src/index.ts").unwrap();
    let lua = dir.path().join(".lua");
    let dead = format!(".manifest.json.lua-tmp-{}-AbCdEf", dead_pid());
    std::fs::write(lua.join(&dead), "{").unwrap();
    std::fs::write(lua.join(".manifest-Qq1.tmp"), "{").unwrap();
    age(&lua.join(".manifest-Qq1.tmp"), Duration::from_secs(7200));
    std::fs::write(dir.path().join("src/index.ts"), entry("'changed'")).unwrap();
    compile(dir.path(), "src/index.ts").unwrap();
    let left: Vec<String> = std::fs::read_dir(&lua)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["manifest.json"]);
}
