//! Inserting: a property into the config object, an import, a new module; in the file's
//! style, exact, guarded and all or nothing.

use std::collections::BTreeMap;

use lua_compile::{
    NewModule, WriteError, WriteOptions, create_module, evaluate, evaluate_files, insert_property,
    insert_property_files, insert_shorthand_with_import_files, insert_with_new_module,
    insert_with_new_module_files, write_back, write_back_files,
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

fn insert_mem(src: &str, key: &str, value: Value) -> String {
    let mut p = files(&[("src/index.ts", src)]);
    let compiled = evaluate_files(&p, "src/index.ts").expect("compiles");
    insert_property_files(&mut p, &compiled, key, &value, WriteOptions::default())
        .unwrap_or_else(|e| panic!("insert into {src:?}: {e}"));
    let again = evaluate_files(&p, "src/index.ts").expect("compiles again");
    assert_eq!(again.fields[key].to_json().unwrap(), value);
    p.remove("src/index.ts").unwrap()
}

const HEAD: &str = "import { LuaAgent } from 'lua-cli';\n\n";

#[test]
fn a_property_goes_after_the_last_one_in_the_files_style() {
    let src = format!(
        "{HEAD}export const agent = new LuaAgent({{\n    name: 'Bot', // the name\n    persona: `p`,\n}});\n"
    );
    assert_eq!(
        insert_mem(&src, "model", json!("gpt-4o")),
        format!(
            "{HEAD}export const agent = new LuaAgent({{\n    name: 'Bot', // the name\n    persona: `p`,\n    model: 'gpt-4o',\n}});\n"
        )
    );
}

#[test]
fn without_a_trailing_comma_none_is_added_after_the_new_property() {
    let src = format!("{HEAD}const agent = new LuaAgent({{\n  name: \"Bot\" // why\n}});\n");
    assert_eq!(
        insert_mem(&src, "model", json!("m")),
        format!(
            "{HEAD}const agent = new LuaAgent({{\n  name: \"Bot\", // why\n  model: \"m\"\n}});\n"
        )
    );
}

#[test]
fn objects_are_written_as_multi_line_literals_in_the_values_key_order() {
    let src = format!("{HEAD}new LuaAgent({{\n\tname: 'Bot',\n}});\n");
    assert_eq!(
        insert_mem(
            &src,
            "governance",
            json!({"mode": "sdk", "rules": ["a", {"max-tokens": 5}], "on": true, "none": null})
        ),
        format!(
            "{HEAD}new LuaAgent({{\n\tname: 'Bot',\n\tgovernance: {{\n\t\tmode: 'sdk',\n\t\trules: [\n\t\t\t'a',\n\t\t\t{{\n\t\t\t\t'max-tokens': 5,\n\t\t\t}},\n\t\t],\n\t\ton: true,\n\t\tnone: null,\n\t}},\n}});\n"
        )
    );
}

#[test]
fn empty_and_one_line_objects() {
    assert_eq!(
        insert_mem(&format!("{HEAD}new LuaAgent({{}});\n"), "name", json!("x")),
        format!("{HEAD}new LuaAgent({{\n  name: 'x',\n}});\n")
    );
    assert_eq!(
        insert_mem(
            &format!("{HEAD}new LuaAgent({{\n}});\n"),
            "name",
            json!("x")
        ),
        format!("{HEAD}new LuaAgent({{\n  name: 'x',\n}});\n")
    );
    assert_eq!(
        insert_mem(
            &format!("{HEAD}new LuaAgent({{ name: 'a' }});\n"),
            "n",
            json!(1)
        ),
        format!("{HEAD}new LuaAgent({{ name: 'a', n: 1 }});\n")
    );
    assert_eq!(
        insert_mem(
            &format!("{HEAD}new LuaAgent({{ name: 'a', }});\n"),
            "my key",
            json!(1)
        ),
        format!("{HEAD}new LuaAgent({{ name: 'a', 'my key': 1, }});\n")
    );
}

#[test]
fn crlf_files_stay_crlf() {
    let src = format!("{HEAD}new LuaAgent({{\n  name: 'Bot',\n}});\n").replace('\n', "\r\n");
    let out = insert_mem(&src, "governance", json!({"mode": "sdk", "text": "a\nb"}));
    assert!(!out.replace("\r\n", "").contains('\n'), "{out:?}");
    assert!(
        out.contains("  name: 'Bot',\r\n  governance: {\r\n    mode: 'sdk',\r\n    text: `a\r\nb`,\r\n  },\r\n});"),
        "{out:?}"
    );
}

#[test]
fn the_config_object_is_found_where_it_is_defined() {
    let mut p = files(&[
        (
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nimport { CONFIG } from './config';\nnew LuaAgent(CONFIG);\n",
        ),
        (
            "src/config.ts",
            "export const CONFIG = {\n  name: 'Bot',\n};\n",
        ),
    ]);
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    assert_eq!(compiled.config.file, "src/config.ts");
    assert!(compiled.has_property("name") && !compiled.has_property("model"));
    let report = insert_property_files(
        &mut p,
        &compiled,
        "model",
        &json!("m"),
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(report.files, ["src/config.ts"]);
    assert_eq!(
        p["src/config.ts"],
        "export const CONFIG = {\n  name: 'Bot',\n  model: 'm',\n};\n"
    );
}

#[test]
fn an_existing_property_is_not_inserted_again() {
    let mut p = files(&[(
        "src/index.ts",
        &format!("{HEAD}new LuaAgent({{\n  model: 'a',\n}});\n"),
    )]);
    let before = p.clone();
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    let err = insert_property_files(
        &mut p,
        &compiled,
        "model",
        &json!("b"),
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::PropertyExists { .. }));
    assert_eq!(
        err.to_string(),
        "src/index.ts:3:14: the LuaAgent config already has `model`; write its value instead; nothing written"
    );
    assert_eq!(p, before);
}

#[test]
fn a_new_module_is_created_imported_and_bound() {
    let mut p = files(&[(
        "src/index.ts",
        "import { LuaAgent } from \"lua-cli\";\nimport { helper } from \"./helper\"; // note\n\nexport const agent = new LuaAgent({\n  name: \"Bot\",\n});\n",
    )]);
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    let value = json!({"mode": "sdk", "tokenBudget": 5000, "blocked": ["x"]});
    let module = NewModule {
        path: "src/governance.ts",
        export: "governance",
        value: &value,
        as_const: &["mode"],
    };
    let report = insert_with_new_module_files(
        &mut p,
        &compiled,
        "governance",
        &module,
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(report.files, ["src/governance.ts", "src/index.ts"]);
    assert_eq!(report.created, ["src/governance.ts"]);
    assert_eq!(
        p["src/governance.ts"],
        "export const governance = {\n  mode: \"sdk\" as const,\n  tokenBudget: 5000,\n  blocked: [\n    \"x\",\n  ],\n};\n"
    );
    assert_eq!(
        p["src/index.ts"],
        "import { LuaAgent } from \"lua-cli\";\nimport { helper } from \"./helper\"; // note\nimport { governance } from \"./governance\";\n\nexport const agent = new LuaAgent({\n  name: \"Bot\",\n  governance,\n});\n"
    );
    let again = evaluate_files(&p, "src/index.ts").unwrap();
    assert_eq!(again.fields["governance"].to_json().unwrap(), value);
    assert_eq!(
        again.fields["governance"].origin().unwrap().file,
        "src/governance.ts"
    );
}

#[test]
fn an_existing_module_is_imported_once_and_names_are_not_shadowed() {
    let mut p = files(&[
        (
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli'\nimport { other } from './gov'\nnew LuaAgent({ name: 'x' })\n",
        ),
        (
            "src/gov.ts",
            "export const other = 1;\nexport const governance = { mode: 'sdk' as const };\n",
        ),
    ]);
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    insert_shorthand_with_import_files(
        &mut p,
        &compiled,
        "policy",
        "src/gov.ts",
        "governance",
        WriteOptions::default(),
    )
    .unwrap();
    // No semicolons in this file: none added.
    assert_eq!(
        p["src/index.ts"],
        "import { LuaAgent } from 'lua-cli'\nimport { other } from './gov'\nimport { governance } from './gov'\nnew LuaAgent({ name: 'x', policy: governance })\n"
    );
    // Importing a name the file already declares is refused with the reason.
    let mut q = files(&[
        (
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nconst governance = 1;\nnew LuaAgent({});\n",
        ),
        ("src/gov.ts", "export const governance = {};\n"),
    ]);
    let compiled = evaluate_files(&q, "src/index.ts").unwrap();
    let err = insert_shorthand_with_import_files(
        &mut q,
        &compiled,
        "governance",
        "src/gov.ts",
        "governance",
        WriteOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot write the new value into the source: src/index.ts already declares `governance`; import `governance` from `./gov` by hand; nothing written"
    );
    // An import the file already has is reused.
    let mut r = files(&[
        (
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nimport { governance } from './gov';\nnew LuaAgent({});\n",
        ),
        ("src/gov.ts", "export const governance = { a: 1 };\n"),
    ]);
    let compiled = evaluate_files(&r, "src/index.ts").unwrap();
    insert_shorthand_with_import_files(
        &mut r,
        &compiled,
        "governance",
        "src/gov.ts",
        "governance",
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        r["src/index.ts"],
        "import { LuaAgent } from 'lua-cli';\nimport { governance } from './gov';\nnew LuaAgent({\n  governance,\n});\n"
    );
}

#[test]
fn an_insert_that_would_not_read_back_is_refused() {
    // A local `governance` inside the function shadows the import: the property would not
    // read the new module's value.
    let mut p = files(&[(
        "src/index.ts",
        "import { LuaAgent } from 'lua-cli';\nexport function make() {\n  const governance = load();\n  return new LuaAgent({ name: 'x' });\n}\n",
    )]);
    let before = p.clone();
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    let value = json!({"mode": "sdk"});
    let module = NewModule {
        path: "src/governance.ts",
        export: "governance",
        value: &value,
        as_const: &[],
    };
    let err = insert_with_new_module_files(
        &mut p,
        &compiled,
        "governance",
        &module,
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot read `governance` statically"),
        "{err}"
    );
    assert_eq!(p, before);
}

// --- objects written over objects ----------------------------------------------------------

#[test]
fn an_object_bound_to_a_const_in_another_file_is_rewritten_there_keeping_as_const() {
    let mut p = files(&[
        (
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nimport { governance } from './governance';\nnew LuaAgent({ governance });\n",
        ),
        (
            "src/governance.ts",
            "// Team policy.\nexport const governance = {\n  mode: 'sdk' as const, // keep\n  tokenBudget: 5,\n};\n",
        ),
    ]);
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    let node = compiled.fields["governance"].clone();
    // Same keys: values in place.
    write_back_files(
        &mut p,
        &compiled,
        &node,
        &json!({"mode": "off", "tokenBudget": 6}),
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        p["src/governance.ts"],
        "// Team policy.\nexport const governance = {\n  mode: 'off' as const, // keep\n  tokenBudget: 6,\n};\n"
    );
    // A new key and a changed one: reprinted in source order, `as const` kept.
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    let node = compiled.fields["governance"].clone();
    let value = json!({"mode": "sdk", "tokenBudget": 6, "blocked": ["a"]});
    write_back_files(&mut p, &compiled, &node, &value, WriteOptions::default()).unwrap();
    assert_eq!(
        p["src/governance.ts"],
        "// Team policy.\nexport const governance = {\n  mode: 'sdk' as const,\n  tokenBudget: 6,\n  blocked: [\n    'a',\n  ],\n};\n"
    );
    let again = evaluate_files(&p, "src/index.ts").unwrap();
    assert_eq!(again.fields["governance"].to_json().unwrap(), value);
}

#[test]
fn a_reprint_writes_references_where_they_are_defined() {
    let mut p = files(&[(
        "src/index.ts",
        "import { LuaAgent } from 'lua-cli';\nconst MODE = 'sdk';\nnew LuaAgent({\n  governance: { mode: MODE, n: 1 },\n});\n",
    )]);
    let compiled = evaluate_files(&p, "src/index.ts").unwrap();
    let node = compiled.fields["governance"].clone();
    write_back_files(
        &mut p,
        &compiled,
        &node,
        &json!({"mode": "off", "extra": true}),
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(
        p["src/index.ts"],
        "import { LuaAgent } from 'lua-cli';\nconst MODE = 'off';\nnew LuaAgent({\n  governance: {\n    mode: MODE,\n    extra: true,\n  },\n});\n"
    );
}

#[test]
fn objects_with_spreads_or_computed_keys_need_force_to_be_reprinted() {
    for governance in ["{ ...BASE, n: 1 }", "{ [KEY]: 'sdk', n: 1 }"] {
        let mut p = files(&[(
            "src/index.ts",
            &format!(
                "import {{ LuaAgent }} from 'lua-cli';\nconst BASE = {{ mode: 'sdk' }};\nconst KEY = 'mode';\nnew LuaAgent({{\n  governance: {governance},\n}});\n"
            ),
        )]);
        let before = p.clone();
        let compiled = evaluate_files(&p, "src/index.ts").unwrap();
        let node = compiled.fields["governance"].clone();
        let value = json!({"mode": "off", "n": 1, "new": 2});
        let err = write_back_files(&mut p, &compiled, &node, &value, WriteOptions::default())
            .unwrap_err();
        assert!(
            matches!(err, WriteError::Composite { .. }),
            "{governance}: {err}"
        );
        assert_eq!(
            err.to_string(),
            "src/index.ts:5:15: the value is built from several pieces; writing it back would replace them with one literal (use force to do so); nothing written"
        );
        assert_eq!(p, before);
        write_back_files(&mut p, &compiled, &node, &value, force()).unwrap();
        let again = evaluate_files(&p, "src/index.ts").unwrap();
        assert_eq!(again.fields["governance"].to_json().unwrap(), value);
    }
}

// --- on disk -------------------------------------------------------------------------------

fn disk(list: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, content) in list {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn listing(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn on_disk_a_changed_entry_stops_the_insert_and_removes_nothing_it_did_not_create() {
    let src = format!("{HEAD}new LuaAgent({{\n  name: 'Bot',\n}});\n");
    let dir = disk(&[("src/index.ts", &src)]);
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    std::fs::write(dir.path().join("src/index.ts"), format!("{src}// edited\n")).unwrap();
    let err = insert_property(
        dir.path(),
        &compiled,
        "model",
        &json!("m"),
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::Changed { .. }), "{err}");
    let value = json!({"mode": "sdk"});
    let module = NewModule {
        path: "src/governance.ts",
        export: "governance",
        value: &value,
        as_const: &["mode"],
    };
    let err = insert_with_new_module(
        dir.path(),
        &compiled,
        "governance",
        &module,
        WriteOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, WriteError::Changed { .. }), "{err}");
    assert_eq!(listing(&dir.path().join("src")), ["index.ts"]);
}

#[test]
fn on_disk_the_module_and_the_entry_are_written_together() {
    let src = format!("{HEAD}new LuaAgent({{\n  name: 'Bot',\n}});\n");
    let dir = disk(&[("src/index.ts", &src)]);
    let compiled = evaluate(dir.path(), "src/index.ts").unwrap();
    let value = json!({"mode": "sdk", "tokenBudget": 10});
    let module = NewModule {
        path: "src/governance.ts",
        export: "governance",
        value: &value,
        as_const: &["mode"],
    };
    let report = insert_with_new_module(
        dir.path(),
        &compiled,
        "governance",
        &module,
        WriteOptions::default(),
    )
    .unwrap();
    assert_eq!(report.created, ["src/governance.ts"]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/governance.ts")).unwrap(),
        "export const governance = {\n  mode: 'sdk' as const,\n  tokenBudget: 10,\n};\n"
    );
    assert_eq!(
        listing(&dir.path().join("src")),
        ["governance.ts", "index.ts"]
    );
    let again = evaluate(dir.path(), "src/index.ts").unwrap();
    assert_eq!(again.fields["governance"].to_json().unwrap(), value);
    // The module exists now: creating it again is refused, and so is a second insert.
    let err = create_module(dir.path(), &again, &module, WriteOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "src/governance.ts already exists; nothing written"
    );
    // The created file has the umask's mode, not a temp file's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("src/governance.ts"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o077, 0, "mode {mode:o}");
    }
    // And the value written over it goes into the module.
    let node = again.fields["governance"].clone();
    write_back(
        dir.path(),
        &again,
        &node,
        &json!({"mode": "off", "tokenBudget": 10}),
        WriteOptions::default(),
    )
    .unwrap();
    assert!(
        std::fs::read_to_string(dir.path().join("src/governance.ts"))
            .unwrap()
            .contains("mode: 'off' as const,")
    );
}
