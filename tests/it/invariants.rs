//! Architecture invariants that a test can check (see ARCHITECTURE.md). No `unwrap()`/
//! `expect()` in shipped code is clippy's (`unwrap_used`/`expect_used`, Cargo.toml).

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The engine and the CLI name no component: adding one touches only `components/`.
#[test]
fn core_and_cli_name_no_component() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("core/src"), &mut files);
    rust_files(&root.join("cli"), &mut files);
    assert!(files.len() > 5);
    // The one exception: the persona lifecycle commands (`lua persona ...`, `lua push
    // persona`) exist for that component alone. Their logic is in `components/`; this
    // module only parses and prints, and nothing else in `cli/` may name a component.
    let allowed = root.join("cli/commands/persona.rs");
    assert!(
        allowed.is_file(),
        "the exception must name an existing file"
    );
    for file in files.into_iter().filter(|f| *f != allowed) {
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in [
            "\"persona\"",
            "\"name\"",
            "\"model\"",
            "Persona",
            "lua_components::",
        ] {
            assert!(
                !text.contains(needle),
                "{} mentions {needle}: components must stay behind the Syncable trait",
                file.display()
            );
        }
    }
}
