//! ARCHITECTURE.md, checked against the code: its "Crate graph and layers (checked)" section
//! is parsed, not copied here. The crate graph comes from `cargo metadata`; the layer chains
//! are held against the `crate::<module>` paths each module's files name; the component ids
//! come from the registry (this binary links `lua-components` and nothing else that
//! registers), and none may be spelled as a string in `core/` or `cli/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use lua_components as _;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("components/ is inside the repository")
        .to_path_buf()
}

/// The lines of the checked section.
fn checked_section() -> Vec<String> {
    let text = std::fs::read_to_string(repo().join("ARCHITECTURE.md")).unwrap();
    let start = text
        .find("## Crate graph and layers (checked)")
        .expect("ARCHITECTURE.md has its checked section");
    let rest = &text[start..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].lines().map(str::to_owned).collect()
}

/// Every `name` between backticks, in order.
fn ticked(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a file names as `crate::<module>`.
fn crate_paths(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        // `lua_crate::x` or `my_crate::x` is another crate's path.
        let before = text[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let name: String = text[i + 7..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
    }
    out
}

/// A module's files: `<dir>/<module>.rs` and everything under `<dir>/<module>/`.
fn module_files(dir: &Path, module: &str) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let file = dir.join(format!("{module}.rs"));
    if file.is_file() {
        files.push(file);
    }
    rust_files(&dir.join(module), &mut files);
    files
}

#[test]
fn the_crate_graph_is_the_documented_one() {
    let mut stated: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in checked_section() {
        if let Some((krate, deps)) = line.strip_prefix("- ").and_then(|l| l.split_once(" uses ")) {
            let krate = ticked(krate).concat();
            stated.insert(krate, ticked(deps).into_iter().collect());
        }
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = meta["packages"].as_array().unwrap();
    let names: BTreeSet<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut actual: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in packages {
        let deps = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .filter(|n| names.contains(n))
            .map(str::to_owned)
            .collect();
        actual.insert(p["name"].as_str().unwrap().to_owned(), deps);
    }
    assert_eq!(
        stated, actual,
        "ARCHITECTURE.md's crate graph (left) is not the manifests' (right)"
    );
}

#[test]
fn no_module_uses_one_the_document_puts_above_it() {
    let mut chains = 0;
    for line in checked_section() {
        let Some((dir, chain)) = line.strip_prefix("- ").and_then(|l| l.split_once(": ")) else {
            continue;
        };
        let dir = repo().join(ticked(dir).concat());
        let layers: Vec<Vec<String>> = chain.split(" < ").map(ticked).collect();
        assert!(layers.len() > 1, "a chain has two layers at least: {line}");
        chains += 1;
        for (i, layer) in layers.iter().enumerate() {
            let above: BTreeSet<&String> = layers[i + 1..].iter().flatten().collect();
            for module in layer {
                let files = module_files(&dir, module);
                assert!(
                    !files.is_empty(),
                    "{line}: no module {module} in {}",
                    dir.display()
                );
                for file in files {
                    let text = std::fs::read_to_string(&file).unwrap();
                    let uses = crate_paths(&text);
                    let wrong: Vec<_> = uses.iter().filter(|u| above.contains(u)).collect();
                    assert!(
                        wrong.is_empty(),
                        "{} ({module}) uses {wrong:?}, which ARCHITECTURE.md puts above it: {line}",
                        file.display()
                    );
                }
            }
        }
    }
    assert!(chains >= 3, "ARCHITECTURE.md states its layer chains");
}

#[test]
fn core_and_cli_spell_no_registered_component_id() {
    let ids = lua_core::registry::ids().unwrap();
    assert!(ids.len() >= 4, "{ids:?}");
    let mut files = Vec::new();
    rust_files(&repo().join("core/src"), &mut files);
    rust_files(&repo().join("cli"), &mut files);
    assert!(files.len() > 5);
    // The named exception (ARCHITECTURE.md, "Invariants"): the persona lifecycle commands.
    let allowed = repo().join("cli/commands/persona.rs");
    assert!(allowed.is_file(), "the exception names an existing file");
    for file in files.into_iter().filter(|f| *f != allowed) {
        let text = std::fs::read_to_string(&file).unwrap();
        for id in &ids {
            assert!(
                !text.contains(&format!("\"{id}\"")),
                "{} spells the component id {id:?}: components stay behind the Syncable trait",
                file.display()
            );
        }
    }
}
