//! The `.lua/manifest.json` cache: reuse while inputs are unchanged, deterministic bytes.

use std::path::Path;

use lua_compile::{CacheStatus, Compiled, compile, manifest_bytes};

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/index.ts"),
        "import { LuaAgent } from 'lua-cli';\nimport { PERSONA } from './persona';\nexport const agent = new LuaAgent({ persona: PERSONA, name: 'Bot', z: 1, a: [true] });\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/persona.ts"),
        "export const PERSONA = `Be kind.`;\n",
    )
    .unwrap();
    dir
}

fn manifest(root: &Path) -> Vec<u8> {
    std::fs::read(root.join(".lua/manifest.json")).unwrap()
}

#[test]
fn a_second_compile_reuses_the_manifest() {
    let dir = project();
    let (first, status) = compile(dir.path(), "src/index.ts").unwrap();
    assert_eq!(status, CacheStatus::Compiled);
    let (second, status) = compile(dir.path(), "src/index.ts").unwrap();
    assert_eq!(status, CacheStatus::Reused);
    assert_eq!(first, second);
    // `./src/index.ts` is the same entry.
    assert_eq!(
        compile(dir.path(), "./src/index.ts").unwrap().1,
        CacheStatus::Reused
    );
}

#[test]
fn changing_an_imported_file_recompiles() {
    let dir = project();
    compile(dir.path(), "src/index.ts").unwrap();
    std::fs::write(
        dir.path().join("src/persona.ts"),
        "export const PERSONA = `Be brief.`;\n",
    )
    .unwrap();
    let (c, status) = compile(dir.path(), "src/index.ts").unwrap();
    assert_eq!(status, CacheStatus::Compiled);
    assert_eq!(c.fields["persona"].to_json().unwrap(), "Be brief.");
    assert_eq!(
        compile(dir.path(), "src/index.ts").unwrap().1,
        CacheStatus::Reused
    );
}

#[test]
fn rewriting_a_file_with_the_same_bytes_still_reuses() {
    let dir = project();
    compile(dir.path(), "src/index.ts").unwrap();
    let bytes = std::fs::read(dir.path().join("src/persona.ts")).unwrap();
    std::fs::write(dir.path().join("src/persona.ts"), bytes).unwrap();
    assert_eq!(
        compile(dir.path(), "src/index.ts").unwrap().1,
        CacheStatus::Reused
    );
}

#[test]
fn a_deleted_input_a_corrupt_manifest_or_another_entry_recompiles() {
    let dir = project();
    compile(dir.path(), "src/index.ts").unwrap();
    std::fs::write(dir.path().join(".lua/manifest.json"), "{ not json").unwrap();
    assert_eq!(
        compile(dir.path(), "src/index.ts").unwrap().1,
        CacheStatus::Compiled
    );

    std::fs::write(
        dir.path().join("src/other.ts"),
        "import { LuaAgent } from 'lua-cli';\nnew LuaAgent({ name: 'Other' });\n",
    )
    .unwrap();
    let (other, status) = compile(dir.path(), "src/other.ts").unwrap();
    assert_eq!(status, CacheStatus::Compiled);
    assert_eq!(other.entry, "src/other.ts");

    std::fs::remove_file(dir.path().join("src/other.ts")).unwrap();
    assert!(compile(dir.path(), "src/other.ts").is_err());
}

#[test]
fn the_manifest_is_deterministic_sorted_and_ends_with_a_newline() {
    let a = project();
    let b = project();
    compile(a.path(), "src/index.ts").unwrap();
    compile(b.path(), "src/index.ts").unwrap();
    let bytes = manifest(a.path());
    assert_eq!(bytes, manifest(b.path()));
    // Recompiling writes the same bytes.
    std::fs::remove_file(a.path().join(".lua/manifest.json")).unwrap();
    compile(a.path(), "src/index.ts").unwrap();
    assert_eq!(manifest(a.path()), bytes);

    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with("}\n") && !text.ends_with("\n\n"));
    // Keys are sorted at every level: check the order in which they appear in each object.
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    fn check(v: &serde_json::Value) {
        if let serde_json::Value::Object(map) = v {
            let keys: Vec<&String> = map.keys().collect();
            let mut sorted = keys.clone();
            sorted.sort();
            assert_eq!(keys, sorted);
            map.values().for_each(check);
        }
        if let serde_json::Value::Array(items) = v {
            items.iter().for_each(check);
        }
    }
    check(&value);
    let top: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  \""))
        .map(|l| l.trim().split(':').next().unwrap())
        .collect();
    assert_eq!(
        top,
        [
            "\"config\"",
            "\"entry\"",
            "\"fields\"",
            "\"format\"",
            "\"inputs\""
        ]
    );
    // It reads back as the same result.
    let back: Compiled = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest_bytes(&back), text.as_bytes());
}

#[test]
fn no_temp_files_are_left_in_the_cache_folder() {
    let dir = project();
    compile(dir.path(), "src/index.ts").unwrap();
    std::fs::remove_file(dir.path().join("src/persona.ts")).unwrap();
    std::fs::write(
        dir.path().join("src/persona.ts"),
        "export const PERSONA = 'x';\n",
    )
    .unwrap();
    compile(dir.path(), "src/index.ts").unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.path().join(".lua"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["manifest.json"]);
}
