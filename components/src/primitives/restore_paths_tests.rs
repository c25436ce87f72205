use super::*;

fn checked(root: &Path, raw: &str, fold: bool) -> Result<String, String> {
    check(root, raw, false, fold).map_err(|s| s.rule)
}

#[test]
fn normalised_forms_reach_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for raw in [
        "src/../lua.skill.yaml",
        ".//lua.skill.yaml",
        "./lua.skill.yaml",
        "src//..//lua.skill.yaml",
        "src\\..\\lua.skill.yaml",
    ] {
        let rule = checked(root, raw, false).unwrap_err();
        assert!(
            rule.contains("lua.skill.yaml is the project's own configuration"),
            "{raw}: {rule}"
        );
    }
    for raw in [
        "SRC/../.GIT/config",
        "src\\..\\.git\\hooks\\x",
        ".git/hooks/post-checkout",
    ] {
        let rule = checked(root, raw, false).unwrap_err();
        assert!(
            rule.contains("dot-folder (.g") || rule.contains("dot-folder (.G"),
            "{raw}: {rule}"
        );
    }
    assert!(
        checked(root, "LUA.TOML", false)
            .unwrap_err()
            .contains("lua.toml")
    );
    assert!(
        checked(root, "Lua.Sync.Json", false)
            .unwrap_err()
            .contains("lua.sync.json")
    );
    for raw in [
        ".vscode/tasks.json",
        ".idea/x.xml",
        ".github/workflows/ci.yml",
        ".husky/pre-commit",
        ".lua/manifest.json",
    ] {
        assert!(
            checked(root, raw, false)
                .unwrap_err()
                .contains("dot-folder"),
            "{raw}"
        );
    }
    for raw in [".env", ".env.local", "src/.npmrc", ".gitattributes"] {
        assert!(
            checked(root, raw, false).unwrap_err().contains("dotfile"),
            "{raw}"
        );
    }
    assert!(
        checked(root, "node_modules/x/index.js", false)
            .unwrap_err()
            .contains("node_modules")
    );
    assert!(
        checked(root, "src/Node_Modules/x.js", false)
            .unwrap_err()
            .contains("node_modules")
    );
    // Allowed: the agent's source, normalised.
    assert_eq!(
        checked(root, "src/./skills//order.ts", false).unwrap(),
        "src/skills/order.ts"
    );
    assert_eq!(
        checked(root, "src\\tools\\a.ts", false).unwrap(),
        "src/tools/a.ts"
    );
    assert_eq!(
        checked(root, "docs/lua.toml", false).unwrap(),
        "docs/lua.toml"
    );
    assert_eq!(checked(root, "SRC/Index.ts", true).unwrap(), "SRC/Index.ts");
    assert_eq!(normalise("SRC/Index.ts", true).unwrap(), "src/index.ts");
    assert!(
        checked(root, "SRC/../.GIT/Config", true)
            .unwrap_err()
            .contains("dot-folder (.git/)")
    );
}

#[test]
fn paths_that_leave_or_name_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for raw in [
        "../x.ts",
        "src/../../x.ts",
        "/etc/passwd",
        "\\\\server\\x",
        "C:/x.ts",
        "c:\\x.ts",
        "a\0b",
    ] {
        assert!(checked(root, raw, false).is_err(), "{raw}");
    }
    for raw in ["", ".", "./", "src/.."] {
        assert_eq!(
            checked(root, raw, false).unwrap_err(),
            "it names no file",
            "{raw:?}"
        );
    }
    let external = check(root, "vendor/lib.js", true, false).unwrap_err();
    assert_eq!(external.path, "vendor/lib.js");
    assert!(external.rule.contains("external"), "{}", external.rule);
}

#[test]
fn unicode_forms_are_one_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // "é" decomposed (e + U+0301) is the same name as the composed one.
    let nfd = "src/cafe\u{301}.ts";
    assert_eq!(checked(root, nfd, false).unwrap(), "src/caf\u{e9}.ts");
    // A dot-folder spelled with a combining mark after the dot is still a dot-folder.
    assert!(
        checked(root, ".\u{301}git/config", false)
            .unwrap_err()
            .contains("dot-folder")
    );
    assert!(checked(root, "lua.skill.yam\u{6c}", false).is_err());
}

#[cfg(unix)]
#[test]
fn paths_through_symbolic_links_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::create_dir_all(root.join("real")).unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::os::unix::fs::symlink(root.join("real"), root.join("src/linked")).unwrap();
    std::os::unix::fs::symlink("/etc/hosts", root.join("src/file.ts")).unwrap();
    let rule = checked(root, "src/linked/x.ts", false).unwrap_err();
    assert_eq!(rule, "it goes through the symbolic link src/linked");
    let rule = checked(root, "src/file.ts", false).unwrap_err();
    assert_eq!(rule, "it goes through the symbolic link src/file.ts");
    assert_eq!(
        checked(root, "src/new/x.ts", false).unwrap(),
        "src/new/x.ts"
    );
    assert_eq!(checked(root, "real/x.ts", false).unwrap(), "real/x.ts");
}

#[test]
fn case_sensitivity_is_probed_on_the_project_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("Project");
    std::fs::create_dir_all(&root).unwrap();
    // The answer is the disk's: compare with a direct look at the swapped name.
    let direct = std::fs::metadata(dir.path().join("pROJECT")).is_ok();
    assert_eq!(case_insensitive(&root), direct);
    assert!(!case_insensitive(Path::new("/no/such/folder")));
}
