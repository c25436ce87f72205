//! Unit tests of the parent module (included with `#[cfg(test)] #[path]`).

use super::*;

fn file(path: &str, bytes: &[u8]) -> (BackupFile, (String, Vec<u8>)) {
    let hash = sha256(bytes);
    (
        BackupFile {
            relative_path: path.into(),
            hash: hash.clone(),
            external: false,
        },
        (hash, bytes.to_vec()),
    )
}

fn backup(files: &[(&str, &[u8])]) -> (Vec<BackupFile>, BTreeMap<String, Vec<u8>>) {
    let mut list = Vec::new();
    let mut blobs = BTreeMap::new();
    for (p, b) in files {
        let (f, (h, bytes)) = file(p, b);
        list.push(f);
        blobs.insert(h, bytes);
    }
    (list, blobs)
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/index.ts"), "old index\n").unwrap();
    std::fs::write(dir.path().join("src/same.ts"), "same\n").unwrap();
    dir
}

/// Apply `plan` as the engine does: into an overlay, then one commit through the writer.
fn apply(plan: &Plan, force: bool) -> Result<Vec<String>, RestoreError> {
    let root = plan_root(plan);
    if !root.join("src/index.ts").exists() {
        std::fs::create_dir_all(root.join("src")).unwrap();
    }
    let entry = root.join("lua-test-entry.ts");
    std::fs::write(&entry, "new LuaAgent({ name: \"x\" });\n").unwrap();
    let compiled = lua_compile::evaluate(&root, "lua-test-entry.ts").unwrap();
    std::fs::remove_file(&entry).unwrap();
    let project = lua_core::Project::new(&root, compiled);
    let client = lua_platform::PlatformClient::new(lua_platform::ClientConfig {
        base_url: "http://127.0.0.1:9".into(),
        api_key: None,
        timeout: std::time::Duration::from_secs(1),
        retries: 0,
        client_version: "test".into(),
        deadline: None,
        transport: None,
    })
    .unwrap();
    let server = lua_core::Server::new(client, "base_agent");
    let overlay = std::sync::Mutex::new(lua_compile::Overlay::new(&root, BTreeMap::new()));
    let ctx = PullCtx::new(&project, &server, force, &overlay);
    let manifest = BackupManifest {
        files: Vec::new(),
        created_at: None,
        project_hash: None,
    };
    let written = super::apply(plan, &manifest, force, &ctx)?;
    let changes = overlay.into_inner().unwrap().changes();
    lua_core::disk::commit(&root, &changes, &Default::default())?;
    Ok(written)
}

thread_local! {
    static ROOT: std::cell::RefCell<Option<PathBuf>> = const { std::cell::RefCell::new(None) };
}

fn plan_root(_plan: &Plan) -> PathBuf {
    ROOT.with(|r| r.borrow().clone()).unwrap()
}

fn plan(
    root: &Path,
    files: &[BackupFile],
    blobs: &BTreeMap<String, Vec<u8>>,
) -> Result<Plan, RestoreError> {
    ROOT.with(|r| *r.borrow_mut() = Some(root.to_path_buf()));
    super::plan(root, files, blobs)
}

fn read(dir: &tempfile::TempDir, p: &str) -> String {
    std::fs::read_to_string(dir.path().join(p)).unwrap()
}

#[test]
fn plan_classifies_and_diffs() {
    let dir = project();
    let (files, blobs) = backup(&[
        ("src/index.ts", b"new index\n"),
        ("src/same.ts", b"same\n"),
        ("src/skills/order.ts", b"export {}\n"),
    ]);
    let plan = plan(dir.path(), &files, &blobs).unwrap();
    let kinds: Vec<_> = plan
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.kind, f.local_edits))
        .collect();
    assert_eq!(
        kinds,
        [
            ("src/index.ts", ChangeKind::Changed, true),
            ("src/same.ts", ChangeKind::Unchanged, false),
            ("src/skills/order.ts", ChangeKind::New, false),
        ]
    );
    let diff = plan.files[0].diff.as_ref().unwrap();
    assert_eq!((diff.added(), diff.removed()), (1, 1));
    assert_eq!(plan.writes().count(), 2);
    assert_eq!(plan.conflicts(), ["src/index.ts"]);
}

#[test]
fn local_edits_are_refused_without_force_and_nothing_is_written() {
    let dir = project();
    let (files, blobs) = backup(&[("src/new.ts", b"n\n"), ("src/index.ts", b"new index\n")]);
    let p = plan(dir.path(), &files, &blobs).unwrap();
    let e = apply(&p, false).unwrap_err().to_string();
    assert_eq!(
        e,
        "restoring the backup would overwrite local edits in src/index.ts: they differ from the backup and from the version lua last restored; nothing was written (review the diff, then use --force to overwrite)"
    );
    assert!(!dir.path().join("src/new.ts").exists());
    assert!(!dir.path().join(RECORD_FILE).exists());
    assert_eq!(apply(&p, true).unwrap(), ["src/new.ts", "src/index.ts"]);
    assert_eq!(read(&dir, "src/index.ts"), "new index\n");
    assert_eq!(read(&dir, "src/new.ts"), "n\n");
}

#[test]
fn a_file_lua_restored_may_be_replaced_but_not_once_edited() {
    let dir = tempfile::tempdir().unwrap();
    let (files, blobs) = backup(&[("a.ts", b"v1\n")]);
    apply(&plan(dir.path(), &files, &blobs).unwrap(), false).unwrap();
    let record = read(&dir, RECORD_FILE);
    assert!(record.contains(&sha256(b"v1\n")), "{record}");

    // The backup moves on; the local file is what lua restored: replaced without force.
    let (files, blobs) = backup(&[("a.ts", b"v2\n")]);
    let p = plan(dir.path(), &files, &blobs).unwrap();
    assert!(!p.files[0].local_edits);
    apply(&p, false).unwrap();
    assert_eq!(read(&dir, "a.ts"), "v2\n");

    // Edited locally since: refused.
    std::fs::write(dir.path().join("a.ts"), "mine\n").unwrap();
    let (files, blobs) = backup(&[("a.ts", b"v3\n")]);
    assert!(matches!(
        apply(&plan(dir.path(), &files, &blobs).unwrap(), false),
        Err(RestoreError::LocalEdits { .. })
    ));
    assert_eq!(read(&dir, "a.ts"), "mine\n");
}

#[test]
fn a_file_seen_equal_to_the_backup_is_recorded() {
    let dir = project();
    let (files, blobs) = backup(&[("src/same.ts", b"same\n")]);
    apply(&plan(dir.path(), &files, &blobs).unwrap(), false).unwrap();
    let (files, blobs) = backup(&[("src/same.ts", b"same v2\n")]);
    let p = plan(dir.path(), &files, &blobs).unwrap();
    assert!(!p.files[0].local_edits);
}

#[test]
fn paths_that_escape_are_refused_by_name() {
    let dir = project();
    for bad in [
        "../evil.ts",
        "src/../../evil.ts",
        "/etc/passwd",
        "..\\evil.ts",
        "C:/x",
    ] {
        let (files, blobs) = backup(&[("ok.ts", b"x"), (bad, b"evil")]);
        let e = plan(dir.path(), &files, &blobs).unwrap_err().to_string();
        assert_eq!(
            e,
            format!("backup path {bad:?} is outside the project root; nothing was written")
        );
    }
    // `..` that stays inside is fine.
    let (files, blobs) = backup(&[("src/x/../inner.ts", b"x")]);
    assert_eq!(
        plan(dir.path(), &files, &blobs).unwrap().files[0].path,
        "src/inner.ts"
    );
    // lua's own folder is a dot-folder: skipped and listed, the rest goes on.
    let (files, blobs) = backup(&[(".lua/sync.json", b"x"), ("ok.ts", b"x")]);
    let p = plan(dir.path(), &files, &blobs).unwrap();
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].path, ".lua/sync.json");
    assert!(
        p.skipped[0].rule.contains("dot-folder (.lua/)"),
        "{:?}",
        p.skipped
    );
    assert_eq!(p.files.len(), 1);
    assert!(!dir.path().join("ok.ts").exists());
}

#[cfg(unix)]
#[test]
fn paths_through_symlinks_are_skipped() {
    let dir = project();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("target.ts"), "outside\n").unwrap();
    std::os::unix::fs::symlink(outside.path(), dir.path().join("linked")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("target.ts"),
        dir.path().join("src/link.ts"),
    )
    .unwrap();
    for bad in ["linked/new.ts", "src/link.ts", "linked/target.ts"] {
        let (files, blobs) = backup(&[(bad, b"evil")]);
        let p = plan(dir.path(), &files, &blobs).unwrap();
        assert!(p.files.is_empty(), "{bad}");
        assert!(
            p.skipped[0]
                .rule
                .starts_with("it goes through the symbolic link"),
            "{:?}",
            p.skipped
        );
        apply(&p, true).unwrap();
    }
    assert_eq!(
        std::fs::read_to_string(outside.path().join("target.ts")).unwrap(),
        "outside\n"
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
}

#[test]
fn external_files_are_skipped_and_listed() {
    let dir = project();
    let (mut files, blobs) = backup(&[("vendor/lib.js", b"lib")]);
    files[0].external = true;
    let p = plan(dir.path(), &files, &blobs).unwrap();
    assert!(p.files.is_empty());
    assert_eq!(p.skipped[0].path, "vendor/lib.js");
    assert!(p.skipped[0].rule.contains("external"), "{:?}", p.skipped);
    apply(&p, false).unwrap();
    assert!(!dir.path().join(".lua/external").exists());
}

#[test]
fn a_missing_blob_is_an_error() {
    let dir = project();
    let (files, _) = backup(&[("a.ts", b"x")]);
    let e = plan(dir.path(), &files, &BTreeMap::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("was not downloaded"), "{e}");
}

#[test]
fn a_file_changed_after_planning_stops_everything() {
    let dir = project();
    let (files, blobs) = backup(&[("src/new.ts", b"n"), ("src/same.ts", b"same v2\n")]);
    let p = plan(dir.path(), &files, &blobs).unwrap();
    std::fs::write(dir.path().join("src/same.ts"), "edited meanwhile\n").unwrap();
    let e = apply(&p, true).unwrap_err().to_string();
    assert!(e.contains("src/same.ts changed since"), "{e}");
    assert!(!dir.path().join("src/new.ts").exists());
    assert_eq!(read(&dir, "src/same.ts"), "edited meanwhile\n");
}

#[test]
fn lua_cli_s_manifest_is_a_base_and_is_written_in_its_format() {
    let dir = project();
    // lua-cli restored `src/index.ts` as "old index" (a 16-character hash prefix).
    std::fs::create_dir_all(dir.path().join(".lua")).unwrap();
    let short = &sha256(b"old index\n")[..16];
    std::fs::write(
        dir.path().join(LUA_CLI_MANIFEST),
        format!(r#"{{"lastHash":"p1","lastPushedAt":"2026-01-01T00:00:00Z","files":[{{"relativePath":"src/index.ts","hash":"{short}"}}]}}"#),
    )
    .unwrap();
    let (files, blobs) = backup(&[("src/index.ts", b"new index\n")]);
    let p = plan(dir.path(), &files, &blobs).unwrap();
    assert!(
        !p.files[0].local_edits,
        "lua-cli's record makes it not a local edit"
    );
    let root = dir.path().to_path_buf();
    let overlay = std::sync::Mutex::new(lua_compile::Overlay::new(&root, BTreeMap::new()));
    let manifest = BackupManifest {
        files: files.clone(),
        created_at: Some("2026-02-01T00:00:00Z".into()),
        project_hash: Some("p2".into()),
    };
    std::fs::write(root.join("e.ts"), "new LuaAgent({});\n").unwrap();
    let compiled = lua_compile::evaluate(&root, "e.ts").unwrap();
    let project = lua_core::Project::new(&root, compiled);
    let client = lua_platform::PlatformClient::new(lua_platform::ClientConfig {
        base_url: "http://127.0.0.1:9".into(),
        api_key: None,
        timeout: std::time::Duration::from_secs(1),
        retries: 0,
        client_version: "test".into(),
        deadline: None,
        transport: None,
    })
    .unwrap();
    let server = lua_core::Server::new(client, "base_agent");
    let ctx = PullCtx::new(&project, &server, false, &overlay);
    super::apply(&p, &manifest, false, &ctx).unwrap();
    let changes = overlay.into_inner().unwrap().changes();
    lua_core::disk::commit(&root, &changes, &Default::default()).unwrap();
    let theirs: Value = serde_json::from_str(&read(&dir, LUA_CLI_MANIFEST)).unwrap();
    assert_eq!(theirs["lastHash"], "p2");
    assert_eq!(theirs["lastPushedAt"], "2026-02-01T00:00:00Z");
    assert_eq!(theirs["files"][0]["relativePath"], "src/index.ts");
    assert_eq!(theirs["files"][0]["hash"], sha256(b"new index\n"));
}

#[test]
fn a_corrupt_record_names_its_file() {
    let dir = project();
    std::fs::create_dir_all(dir.path().join(".lua")).unwrap();
    std::fs::write(dir.path().join(RECORD_FILE), "{").unwrap();
    let (files, blobs) = backup(&[("a.ts", b"x")]);
    let e = plan(dir.path(), &files, &blobs).unwrap_err().to_string();
    assert!(e.contains(".lua/restored.json: not JSON"), "{e}");
}
