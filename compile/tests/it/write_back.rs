//! Write-back: exact edits, quote styles, objects, composites, and the safety guards.

use std::collections::BTreeMap;
use std::path::Path;

use lua_compile::{
    Compiled, Node, WriteError, WriteOptions, compile, evaluate, evaluate_files, needs_force,
    needs_force_for, write_back, write_back_files,
};
use serde_json::{Value, json};

fn force() -> WriteOptions {
    WriteOptions {
        force: true,
        ..WriteOptions::default()
    }
}

fn files(list: &[(&str, &str)]) -> BTreeMap<String, String> {
    list.iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect()
}

/// Write `value` into field `key` of the in-memory project and return the entry's new text.
fn write_mem(
    project: &mut BTreeMap<String, String>,
    key: &str,
    value: Value,
    opts: WriteOptions,
) -> Result<Vec<String>, WriteError> {
    let compiled = evaluate_files(project, "src/index.ts").expect("compiles");
    let node = compiled.fields[key].clone();
    write_back_files(project, &compiled, &node, &value, opts).map(|r| r.files)
}

fn entry(props: &str) -> String {
    format!(
        "import {{ LuaAgent }} from 'lua-cli';\n\nexport const agent = new LuaAgent({{\n{props}\n}});\n"
    )
}

#[test]
fn quoted_literals_keep_their_quotes_and_multi_line_text_becomes_a_template() {
    let mut p = files(&[(
        "src/index.ts",
        &entry("  name: 'Old', // keep me\n  persona: \"Old\","),
    )]);
    write_mem(&mut p, "name", json!("It's new"), WriteOptions::default()).unwrap();
    write_mem(
        &mut p,
        "persona",
        json!("Line 1\nLine `2` costs ${3}"),
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        p["src/index.ts"],
        entry("  name: 'It\\'s new', // keep me\n  persona: `Line 1\nLine \\`2\\` costs \\${3}`,")
    );
}

#[test]
fn writing_the_current_value_touches_nothing() {
    let mut p = files(&[("src/index.ts", &entry("  persona: `Same ${'text'}`,"))]);
    let before = p.clone();
    // Even a composite needs no force when the value does not change.
    assert_eq!(
        write_mem(
            &mut p,
            "persona",
            json!("Same text"),
            WriteOptions::default()
        )
        .unwrap(),
        Vec::<String>::new()
    );
    assert_eq!(p, before);
}

#[test]
fn imported_values_are_rewritten_where_they_are_defined() {
    let mut p = files(&[
        (
            "src/index.ts",
            &entry("  persona: PERSONA,")
                .replace("\n\n", "\nimport { PERSONA } from './persona';\n"),
        ),
        (
            "src/persona.ts",
            "// The persona.\nexport const PERSONA = `Old persona.` as const;\n",
        ),
    ]);
    let index_before = p["src/index.ts"].clone();
    let written = write_mem(
        &mut p,
        "persona",
        json!("New persona."),
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(written, ["src/persona.ts"]);
    assert_eq!(
        p["src/persona.ts"],
        "// The persona.\nexport const PERSONA = `New persona.` as const;\n"
    );
    assert_eq!(p["src/index.ts"], index_before);
}

#[test]
fn composite_values_need_force_and_are_flattened_with_it() {
    let mut p = files(&[(
        "src/index.ts",
        &entry("  persona: `For ${BRAND}: ` + 'be kind',\n  n: 1 + 1,")
            .replace("\n\n", "\nconst BRAND = 'Acme';\n"),
    )]);
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    assert!(needs_force(&compiled.fields["persona"]));
    assert!(!needs_force_for(
        &compiled.fields["persona"],
        &json!("For Acme: be kind")
    ));
    let err = write_mem(&mut p, "persona", json!("Plain"), WriteOptions::default()).unwrap_err();
    assert!(matches!(err, WriteError::Composite { .. }));
    assert_eq!(
        err.to_string(),
        "src/index.ts:4:12: the value is built from several pieces; writing it back would replace them with one literal (use force to do so); nothing written"
    );
    write_mem(&mut p, "persona", json!("Plain"), force()).unwrap();
    write_mem(&mut p, "n", json!(3), force()).unwrap();
    assert!(
        p["src/index.ts"].contains("  persona: `Plain`,\n  n: 3,\n"),
        "{}",
        p["src/index.ts"]
    );
}

#[test]
fn objects_with_the_same_keys_are_rewritten_entry_by_entry() {
    let mut p = files(&[(
        "src/index.ts",
        &entry("  persona: {\n    base: 'Base', // why\n    voice: VOICE,\n  },")
            .replace("\n\n", "\nconst VOICE = \"warm\";\n"),
    )]);
    write_mem(
        &mut p,
        "persona",
        json!({"voice": "calm", "base": "Base"}),
        WriteOptions::default(),
    )
    .unwrap();
    assert!(p["src/index.ts"].contains("const VOICE = \"calm\";"));
    assert!(p["src/index.ts"].contains("    base: 'Base', // why\n    voice: VOICE,\n"));
}

#[test]
fn objects_with_new_keys_are_reprinted_keeping_unchanged_entries_verbatim() {
    let mut p = files(&[(
        "src/index.ts",
        &entry("  persona: {\n    base: BASE,\n    voice: 'warm',\n  },")
            .replace("\n\n", "\nconst BASE = 'b';\n"),
    )]);
    write_mem(
        &mut p,
        "persona",
        json!({"base": "b", "voice": "it's \"calm\"", "extra": {"tone": ["x", 1]}, "my key": "multi\nline"}),
        WriteOptions::default(),
    )
    .unwrap();
    let expected = "  persona: {\n    base: BASE,\n    voice: 'it\\'s \"calm\"',\n    extra: {\n      tone: [\n        'x',\n        1,\n      ],\n    },\n    'my key': `multi\nline`,\n  },";
    assert!(
        p["src/index.ts"].contains(expected),
        "{}",
        p["src/index.ts"]
    );
    let again = evaluate_files(&p, "src/index.ts").unwrap();
    assert_eq!(
        again.fields["persona"].to_json().unwrap(),
        json!({"base": "b", "voice": "it's \"calm\"", "extra": {"tone": ["x", 1]}, "my key": "multi\nline"})
    );
}

#[test]
fn arrays_are_rewritten_in_place_or_reprinted() {
    let mut p = files(&[("src/index.ts", &entry("  tags: ['a', 'b'],"))]);
    write_mem(&mut p, "tags", json!(["a", "c"]), WriteOptions::default()).unwrap();
    assert!(p["src/index.ts"].contains("  tags: ['a', 'c'],"));
    write_mem(
        &mut p,
        "tags",
        json!(["a", "c", "d"]),
        WriteOptions::default(),
    )
    .unwrap();
    assert!(
        p["src/index.ts"].contains("  tags: [\n    'a',\n    'c',\n    'd',\n  ],"),
        "{}",
        p["src/index.ts"]
    );
}

#[test]
fn shape_mismatches_and_unreadable_values_are_refused() {
    let mut p = files(&[(
        "src/index.ts",
        &entry("  persona: 'text',\n  dynamic: load(),"),
    )]);
    let before = p.clone();
    let err = write_mem(
        &mut p,
        "persona",
        json!({"base": "b"}),
        WriteOptions::default(),
    )
    .unwrap_err();
    insta::assert_snapshot!("shape_error", err.to_string());
    let err = write_mem(&mut p, "dynamic", json!("x"), force()).unwrap_err();
    assert!(matches!(err, WriteError::Unreadable(_)));
    assert!(
        err.to_string()
            .starts_with("src/index.ts:5:12: cannot read `dynamic` statically")
    );
    assert_eq!(p, before);
}

#[test]
fn a_literal_shared_by_two_fields_cannot_take_two_values() {
    let mut p = files(&[(
        "src/index.ts",
        &entry("  persona: { a: SAME, b: SAME },").replace("\n\n", "\nconst SAME = 'same';\n"),
    )]);
    let err = write_mem(
        &mut p,
        "persona",
        json!({"a": "one", "b": "two"}),
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::Shape { .. }), "{err}");
    // The same new value for both is one edit.
    write_mem(
        &mut p,
        "persona",
        json!({"a": "both", "b": "both"}),
        WriteOptions::default(),
    )
    .unwrap();
    assert!(p["src/index.ts"].contains("const SAME = 'both';"));
}

// --- on disk -------------------------------------------------------------------------------

fn disk_project(list: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, content) in list {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn field(root: &Path, key: &str) -> (Compiled, Node) {
    let compiled = evaluate(root, "src/index.ts").unwrap();
    let node = compiled.fields[key].clone();
    (compiled, node)
}

#[test]
fn a_file_changed_after_compile_is_not_written() {
    let dir = disk_project(&[
        (
            "src/index.ts",
            entry("  persona: PERSONA,")
                .replace("\n\n", "\nimport { PERSONA } from './persona';\n")
                .as_bytes(),
        ),
        ("src/persona.ts", b"export const PERSONA = 'old';\n"),
    ]);
    let (compiled, node) = field(dir.path(), "persona");
    std::fs::write(
        dir.path().join("src/persona.ts"),
        "export const PERSONA = 'edited by hand';\n",
    )
    .unwrap();
    let err = write_back(dir.path(), &compiled, &node, &json!("new"), force()).unwrap_err();
    assert!(matches!(&err, WriteError::Changed { file } if file == "src/persona.ts"));
    assert_eq!(
        err.to_string(),
        "src/persona.ts changed since compile read it; nothing written"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/persona.ts")).unwrap(),
        "export const PERSONA = 'edited by hand';\n"
    );
    // No temp file is left behind.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("src"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_change_in_any_touched_file_stops_every_write() {
    let dir = disk_project(&[
        (
            "src/index.ts",
            entry("  persona: { a: A, b: 'b' },")
                .replace("\n\n", "\nimport { A } from './a';\n")
                .as_bytes(),
        ),
        ("src/a.ts", b"export const A = 'a';\n"),
    ]);
    let (compiled, node) = field(dir.path(), "persona");
    let index_before = std::fs::read(dir.path().join("src/index.ts")).unwrap();
    std::fs::write(dir.path().join("src/a.ts"), "export const A = 'A';\n").unwrap();
    let err = write_back(
        dir.path(),
        &compiled,
        &node,
        &json!({"a": "x", "b": "y"}),
        force(),
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::Changed { .. }));
    assert_eq!(
        std::fs::read(dir.path().join("src/index.ts")).unwrap(),
        index_before
    );
}

#[cfg(unix)]
#[test]
fn permissions_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = disk_project(&[("src/index.ts", entry("  persona: 'old',").as_bytes())]);
    let path = dir.path().join("src/index.ts");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let (compiled, node) = field(dir.path(), "persona");
    write_back(
        dir.path(),
        &compiled,
        &node,
        &json!("new"),
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o640
    );
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("persona: 'new',")
    );
}

#[cfg(unix)]
#[test]
fn symlinked_sources_are_written_through_the_link() {
    let dir = disk_project(&[
        (
            "src/index.ts",
            entry("  persona: P,")
                .replace("\n\n", "\nimport { P } from './persona';\n")
                .as_bytes(),
        ),
        ("shared/persona.ts", b"export const P = 'old';\n"),
    ]);
    std::os::unix::fs::symlink(
        dir.path().join("shared/persona.ts"),
        dir.path().join("src/persona.ts"),
    )
    .unwrap();
    let (compiled, node) = field(dir.path(), "persona");
    write_back(
        dir.path(),
        &compiled,
        &node,
        &json!("new"),
        WriteOptions::default(),
    )
    .unwrap();
    assert!(
        std::fs::symlink_metadata(dir.path().join("src/persona.ts"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("shared/persona.ts")).unwrap(),
        "export const P = 'new';\n"
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let src = entry("  persona: `Old\nlines`,\n  name: 'n',").replace('\n', "\r\n");
    let dir = disk_project(&[("src/index.ts", src.as_bytes())]);
    let (compiled, node) = field(dir.path(), "persona");
    let text = "New\nmulti-line\r\npersona\n";
    write_back(
        dir.path(),
        &compiled,
        &node,
        &json!(text),
        WriteOptions::default(),
    )
    .unwrap();
    let written = std::fs::read_to_string(dir.path().join("src/index.ts")).unwrap();
    assert!(
        !written.replace("\r\n", "").contains('\n'),
        "bare LF in {written:?}"
    );
    assert!(
        written.contains("  persona: `New\r\nmulti-line\\r\r\npersona\r\n`,\r\n  name: 'n',\r\n"),
        "{written:?}"
    );
    let (_, again) = field(dir.path(), "persona");
    assert_eq!(again.to_json().unwrap(), json!(text));
}

#[test]
fn after_a_write_the_cache_notices_the_change() {
    let dir = disk_project(&[("src/index.ts", entry("  persona: 'old',").as_bytes())]);
    let (compiled, status) = compile(dir.path(), "src/index.ts").unwrap();
    assert_eq!(status, lua_compile::CacheStatus::Compiled);
    write_back(
        dir.path(),
        &compiled,
        &compiled.fields["persona"],
        &json!("new"),
        WriteOptions::default(),
    )
    .unwrap();
    let (again, status) = compile(dir.path(), "src/index.ts").unwrap();
    assert_eq!(status, lua_compile::CacheStatus::Compiled);
    assert_eq!(again.fields["persona"].to_json().unwrap(), json!("new"));
    // The old compile result is stale now: writing with it is refused.
    let err = write_back(
        dir.path(),
        &compiled,
        &compiled.fields["persona"],
        &json!("x"),
        WriteOptions::default(),
    );
    assert!(matches!(err, Err(WriteError::Changed { .. })));
}

#[test]
fn a_byte_order_mark_is_kept_and_spans_account_for_it() {
    let mut p = files(&[(
        "src/index.ts",
        &format!("\u{feff}{}", entry("  persona: 'old',")),
    )]);
    write_mem(&mut p, "persona", json!("new"), WriteOptions::default()).unwrap();
    assert_eq!(
        p["src/index.ts"],
        format!("\u{feff}{}", entry("  persona: 'new',"))
    );
}
