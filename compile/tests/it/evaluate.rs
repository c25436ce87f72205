//! Every evaluation form, and every unreadable or error form (their messages snapshotted).

use std::collections::BTreeMap;

use lua_compile::{CompileError, Compiled, LiteralKind, Node, evaluate_files};
use serde_json::{Value, json};

fn project(files: &[(&str, &str)]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
        .collect()
}

fn eval(files: &[(&str, &str)]) -> Result<Compiled, CompileError> {
    evaluate_files(&project(files), "src/index.ts")
}

fn ok(files: &[(&str, &str)]) -> Compiled {
    eval(files).unwrap_or_else(|e| panic!("compile failed: {e}"))
}

/// The entry file with `body` as the LuaAgent config's properties.
fn agent(prelude: &str, props: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n{prelude}\nconst agent = new LuaAgent({{\n{props}\n}});\n"
    )
}

fn json_of(c: &Compiled, key: &str) -> Value {
    c.fields[key]
        .to_json()
        .unwrap_or_else(|u| panic!("{key} unreadable: {u}"))
}

fn origin_text<'f>(files: &'f BTreeMap<String, String>, node: &Node) -> &'f str {
    let o = node.origin().expect("origin");
    &files[&o.file][o.start as usize..o.end as usize]
}

fn unreadable(c: &Compiled, key: &str) -> String {
    match &c.fields[key] {
        Node::Unreadable(u) => u.to_string(),
        other => panic!("{key} is readable: {other:?}"),
    }
}

#[test]
fn string_literals_keep_their_quotes_in_the_span() {
    let files = project(&[(
        "src/index.ts",
        &agent("", "  name: 'Bot',\n  persona: \"Say \\\"hi\\\" \\u00e9\","),
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(json_of(&c, "name"), json!("Bot"));
    assert_eq!(json_of(&c, "persona"), json!("Say \"hi\" é"));
    assert_eq!(origin_text(&files, &c.fields["name"]), "'Bot'");
    assert_eq!(
        origin_text(&files, &c.fields["persona"]),
        "\"Say \\\"hi\\\" \\u00e9\""
    );
    let name = c.fields["name"].origin().unwrap();
    assert_eq!(
        (name.literal, name.line, name.column),
        (LiteralKind::SingleQuoted, 4, 9)
    );
    assert_eq!(
        c.fields["persona"].origin().unwrap().literal,
        LiteralKind::DoubleQuoted
    );
}

#[test]
fn templates_without_substitutions_are_templates() {
    let files = project(&[(
        "src/index.ts",
        &agent("", "  persona: `Line 1\nLine \\`2\\``,"),
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(json_of(&c, "persona"), json!("Line 1\nLine `2`"));
    assert_eq!(
        c.fields["persona"].origin().unwrap().literal,
        LiteralKind::Template
    );
    assert_eq!(
        origin_text(&files, &c.fields["persona"]),
        "`Line 1\nLine \\`2\\``"
    );
}

#[test]
fn template_substitutions_with_known_values_are_composite() {
    let files = project(&[(
        "src/index.ts",
        &agent(
            "const BRAND = \"Acme\";\nconst YEAR = 2024;\nconst ON = true;",
            "  persona: `Support for ${BRAND} since ${YEAR} (${ON}, ${null}, ${1.5})`,",
        ),
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(
        json_of(&c, "persona"),
        json!("Support for Acme since 2024 (true, null, 1.5)")
    );
    let o = c.fields["persona"].origin().unwrap();
    assert_eq!(o.literal, LiteralKind::Composite);
    assert!(origin_text(&files, &c.fields["persona"]).starts_with("`Support for ${BRAND}"));
}

#[test]
fn consts_resolve_in_any_order_and_the_origin_is_the_literal() {
    let files = project(&[(
        "src/index.ts",
        "import { LuaAgent } from 'lua-cli';\nconst agent = new LuaAgent({ persona: PERSONA, name: ALIAS });\nconst ALIAS = NAME;\nconst NAME = 'Bot';\nconst PERSONA = `Be kind.`;\n",
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(json_of(&c, "persona"), json!("Be kind."));
    assert_eq!(origin_text(&files, &c.fields["persona"]), "`Be kind.`");
    assert_eq!(origin_text(&files, &c.fields["name"]), "'Bot'");
    assert_eq!(c.fields["name"].origin().unwrap().line, 4);
}

#[test]
fn relative_imports_resolve_like_typescript() {
    let index = agent(
        "import { A } from './a';\nimport { B } from './b.ts';\nimport { C } from '../shared/text.js';\nimport D from './folder';\nimport { E as Renamed } from \"./e\";",
        "  a: A, b: B, c: C, d: D, e: Renamed,",
    );
    let files = project(&[
        ("src/index.ts", &index),
        ("src/a.ts", "export const A = 'a';"),
        ("src/b.ts", "export const B = \"b\";"),
        ("shared/text.ts", "export const C = `c`;"),
        ("src/folder/index.ts", "export default 'd';"),
        ("src/e.ts", "const INNER = 'e';\nexport { INNER as E };"),
    ]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    for (key, value, file) in [
        ("a", "a", "src/a.ts"),
        ("b", "b", "src/b.ts"),
        ("c", "c", "shared/text.ts"),
        ("d", "d", "src/folder/index.ts"),
        ("e", "e", "src/e.ts"),
    ] {
        assert_eq!(json_of(&c, key), json!(value), "{key}");
        assert_eq!(c.fields[key].origin().unwrap().file, file, "{key}");
    }
    // Every file read is an input, with its sha256.
    let inputs: Vec<&str> = c.inputs.keys().map(String::as_str).collect();
    assert_eq!(
        inputs,
        [
            "shared/text.ts",
            "src/a.ts",
            "src/b.ts",
            "src/e.ts",
            "src/folder/index.ts",
            "src/index.ts"
        ]
    );
    assert!(c.inputs.values().all(|h| h.len() == 64));
}

#[test]
fn exports_in_every_form() {
    let index = agent(
        "import { X, Y, Z, W } from './lib';\nimport def from './def';\nimport * as ns from './lib';",
        "  x: X, y: Y, z: Z, w: W, def, member: ns.X,",
    );
    let files = project(&[
        ("src/index.ts", &index),
        (
            "src/lib.ts",
            "const local = 'y';\nexport const X = 'x';\nexport { local as Y };\nexport { Z } from './more';\nexport * from './star';",
        ),
        ("src/more.ts", "export const Z = 'z';"),
        ("src/star.ts", "export const W = 'w';"),
        (
            "src/def.ts",
            "const value = { deep: 'yes' };\nexport default value;",
        ),
    ]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(json_of(&c, "x"), json!("x"));
    assert_eq!(json_of(&c, "y"), json!("y"));
    assert_eq!(json_of(&c, "z"), json!("z"));
    assert_eq!(json_of(&c, "w"), json!("w"));
    assert_eq!(json_of(&c, "def"), json!({"deep": "yes"}));
    assert_eq!(json_of(&c, "member"), json!("x"));
    assert_eq!(c.fields["w"].origin().unwrap().file, "src/star.ts");
}

#[test]
fn concatenation_is_composite_over_the_whole_expression() {
    let files = project(&[(
        "src/index.ts",
        &agent(
            "const A = 'You are ';",
            "  persona: A + \"helpful\" + ` and ` + 2 + 3,\n  sum: 2 + 3,",
        ),
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(json_of(&c, "persona"), json!("You are helpful and 23"));
    assert_eq!(json_of(&c, "sum"), json!(5));
    assert_eq!(
        origin_text(&files, &c.fields["persona"]),
        "A + \"helpful\" + ` and ` + 2 + 3"
    );
    assert_eq!(
        c.fields["persona"].origin().unwrap().literal,
        LiteralKind::Composite
    );
}

#[test]
fn typescript_wrappers_are_transparent() {
    let files = project(&[(
        "src/index.ts",
        &agent(
            "const P = ('Hi' as const);",
            "  a: P,\n  b: ('x' satisfies string),\n  c: (\"y\")!,\n  d: <const>'z',\n  e: (((`w`))),",
        ),
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    for (k, v, text) in [
        ("a", "Hi", "'Hi'"),
        ("b", "x", "'x'"),
        ("c", "y", "\"y\""),
        ("e", "w", "`w`"),
    ] {
        assert_eq!(json_of(&c, k), json!(v));
        assert_eq!(
            origin_text(&files, &c.fields[k]),
            text,
            "{k}: span is the literal alone"
        );
    }
    // `<const>` assertions are not TypeScript in .ts files with JSX off only; either way no panic.
    assert!(c.fields.contains_key("d"));
}

#[test]
fn objects_arrays_numbers_bools_null() {
    let files = project(&[(
        "src/index.ts",
        &agent(
            "",
            "  persona: { base: 'b', voice: { tone: \"warm\", level: -2 } },\n  list: [1, 2.5, true, false, null, 'x', [], {}],\n  'quoted key': 1,\n  42: 'n',",
        ),
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    assert_eq!(
        json_of(&c, "persona"),
        json!({"base": "b", "voice": {"tone": "warm", "level": -2}})
    );
    assert_eq!(
        json_of(&c, "list"),
        json!([1, 2.5, true, false, null, "x", [], {}])
    );
    assert_eq!(json_of(&c, "quoted key"), json!(1));
    assert_eq!(json_of(&c, "42"), json!("n"));
    let Node::Object { entries, origin } = &c.fields["persona"] else {
        panic!("object")
    };
    assert_eq!(origin.literal, LiteralKind::ObjectLiteral);
    assert_eq!(
        entries["base"].origin().unwrap().literal,
        LiteralKind::SingleQuoted
    );
    assert_eq!(
        origin_text(&files, &c.fields["list"]),
        "[1, 2.5, true, false, null, 'x', [], {}]"
    );
}

#[test]
fn the_config_may_be_a_const_an_export_or_a_call() {
    let cases = [
        "import { LuaAgent } from 'lua-cli';\nconst config = { persona: 'p' } satisfies object;\nconst agent = new LuaAgent(config);",
        "import { LuaAgent } from 'lua-cli';\nexport const agent = new LuaAgent({ persona: 'p' });",
        "import { LuaAgent } from 'lua-cli';\nexport default new LuaAgent({ persona: 'p' });",
        "import { LuaAgent } from 'lua-cli';\nexport const agent = LuaAgent({ persona: 'p' });",
        "import { LuaAgent as Agent } from 'lua-cli';\nconst agent = new Agent({ persona: 'p' });",
        "import * as lua from 'lua-cli';\nconst agent = new lua.LuaAgent({ persona: 'p' });",
        "import { LuaAgent } from 'lua-cli';\nasync function main() {\n  const agent = new LuaAgent({ persona: 'p' });\n}\nmain();",
        "import { LuaAgent } from 'lua-cli';\nimport { config } from './config';\nnew LuaAgent(config);",
    ];
    for src in cases {
        let c = ok(&[
            ("src/index.ts", src),
            ("src/config.ts", "export const config = { persona: `p` };"),
        ]);
        assert_eq!(json_of(&c, "persona"), json!("p"), "{src}");
    }
}

#[test]
fn member_access_on_known_objects() {
    let c = ok(&[(
        "src/index.ts",
        &agent(
            "const TEXT = { persona: { base: 'b' }, list: ['zero', 'one'] };",
            "  a: TEXT.persona.base,\n  b: TEXT['list'][1],",
        ),
    )]);
    assert_eq!(json_of(&c, "a"), json!("b"));
    assert_eq!(json_of(&c, "b"), json!("one"));
}

#[test]
fn crlf_templates_read_as_lf_like_javascript() {
    let src = "import { LuaAgent } from 'lua-cli';\r\nconst agent = new LuaAgent({\r\n  persona: `one\r\ntwo\\r\r\nthree`,\r\n  name: 'n',\r\n});\r\n";
    let c = ok(&[("src/index.ts", src)]);
    assert_eq!(json_of(&c, "persona"), json!("one\ntwo\r\nthree"));
    let o = c.fields["name"].origin().unwrap();
    assert_eq!((o.line, o.column), (6, 9));
}

#[test]
fn columns_count_chars_and_spans_count_bytes() {
    let files = project(&[(
        "src/index.ts",
        "import { LuaAgent } from 'lua-cli';\nconst agent = new LuaAgent({ é: '😀', name: 'ü' });\n",
    )]);
    let c = evaluate_files(&files, "src/index.ts").unwrap();
    let o = c.fields["name"].origin().unwrap();
    assert_eq!(o.column, 44);
    assert_eq!(origin_text(&files, &c.fields["name"]), "'ü'");
    assert_eq!(o.end - o.start, 4);
}

#[test]
fn unreadable_values_do_not_stop_the_others() {
    let c = ok(&[(
        "src/index.ts",
        &agent(
            "import fs from 'fs';\nimport { THEME } from '@acme/theme';\nlet mood = 'happy';\nvar legacy = 'old';",
            "  persona: fs.readFileSync('./persona.md', 'utf8'),\n  mood,\n  legacy: legacy,\n  theme: THEME,\n  missing: NOPE,\n  env: process.env.NAME,\n  name: 'still read',",
        ),
    )]);
    assert_eq!(json_of(&c, "name"), json!("still read"));
    insta::assert_snapshot!("call", unreadable(&c, "persona"));
    insta::assert_snapshot!("let", unreadable(&c, "mood"));
    insta::assert_snapshot!("var", unreadable(&c, "legacy"));
    insta::assert_snapshot!("package_import", unreadable(&c, "theme"));
    insta::assert_snapshot!("unknown_identifier", unreadable(&c, "missing"));
    insta::assert_snapshot!("process_env", unreadable(&c, "env"));
}

#[test]
fn more_unreadable_forms() {
    let c = ok(&[(
        "src/index.ts",
        &agent(
            "const dedent = (s: TemplateStringsArray) => s.join('');\nconst A = B;\nconst B = A;\nconst { destructured } = { destructured: 'd' };\nfunction helper() { return 'h'; }\nenum Mode { A = 'a' }",
            "  tagged: dedent`text`,\n  cyclic: A,\n  destructured,\n  fn: helper,\n  arrow: () => 'x',\n  cond: 1 > 0 ? 'a' : 'b',\n  enumValue: Mode.A,\n  nested: { ok: 'yes', bad: Math.random() },\n  lone: '\\uD800',\n  sub: `x ${[1, 2]}`,\n  hole: [1, , 2],\n  get getter() { return 'g'; },",
        ),
    )]);
    for key in [
        "tagged",
        "cyclic",
        "destructured",
        "fn",
        "arrow",
        "cond",
        "enumValue",
        "lone",
        "sub",
        "getter",
    ] {
        insta::assert_snapshot!(format!("unreadable_{key}"), unreadable(&c, key));
    }
    // Inside an object, only the unreadable entry is unreadable; its path names it.
    let Node::Object { entries, .. } = &c.fields["nested"] else {
        panic!("object")
    };
    assert_eq!(entries["ok"].to_json().ok(), Some(json!("yes")));
    insta::assert_snapshot!(
        "unreadable_nested",
        entries["bad"].unreadables()[0].to_string()
    );
    let Node::Array { items, .. } = &c.fields["hole"] else {
        panic!("array")
    };
    assert_eq!(items[1].unreadables()[0].field, "hole[1]");
}

#[test]
fn locals_around_the_agent_shadow_top_level_consts() {
    let c = ok(&[(
        "src/index.ts",
        "import { LuaAgent } from 'lua-cli';\nconst PERSONA = 'top';\nfunction make(PERSONA: string) {\n  return new LuaAgent({ persona: PERSONA, name: NAME });\n}\nconst NAME = 'n';\n",
    )]);
    assert_eq!(json_of(&c, "name"), json!("n"));
    insta::assert_snapshot!("shadowed", unreadable(&c, "persona"));
}

#[test]
fn spreads_and_computed_keys_in_the_config() {
    let c = ok(&[(
        "src/index.ts",
        &agent(
            "import { base } from '@acme/base';\nconst KNOWN = { model: 'm', name: 'from spread' };\nconst KEY = 'persona';",
            "  early: 'maybe replaced',\n  ...base,\n  ...KNOWN,\n  name: 'explicit',\n  [KEY]: 'computed but known',\n  [Symbol.iterator]: 'dynamic',",
        ),
    )]);
    // Keys after the unknown spread are read; the known spread merges; computed string keys work.
    assert_eq!(json_of(&c, "name"), json!("explicit"));
    assert_eq!(json_of(&c, "model"), json!("m"));
    assert_eq!(json_of(&c, "persona"), json!("computed but known"));
    insta::assert_snapshot!("overridden_by_spread", unreadable(&c, "early"));
    // The spread and the dynamic key are reported, since they may set any key at run time.
    let unkeyed: Vec<String> = c.unkeyed.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!("unkeyed", unkeyed.join("\n\n"));
}

#[test]
fn nested_objects_with_unknown_spreads_are_unreadable_as_a_whole() {
    let c = ok(&[(
        "src/index.ts",
        &agent(
            "import { extra } from 'pkg';",
            "  persona: { ...extra, base: 'b' },",
        ),
    )]);
    insta::assert_snapshot!("nested_spread", unreadable(&c, "persona"));
}

fn error(files: &[(&str, &str)]) -> String {
    match eval(files) {
        Ok(c) => panic!("compiled: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_modules_and_exports_are_import_errors() {
    let missing = error(&[(
        "src/index.ts",
        &agent("import { P } from './persona';", "  persona: P,"),
    )]);
    insta::assert_snapshot!("missing_module", missing);
    let no_export = error(&[
        (
            "src/index.ts",
            &agent("import { P } from './persona';", "  persona: P,"),
        ),
        ("src/persona.ts", "export const Q = 'q';"),
    ]);
    insta::assert_snapshot!("missing_export", no_export);
    // An import nothing in the config needs is never followed.
    let c = ok(&[(
        "src/index.ts",
        &agent("import { tool } from './missing-tool';", "  name: 'n',"),
    )]);
    assert_eq!(c.inputs.len(), 1);
}

#[test]
fn import_cycles_are_errors_naming_the_chain() {
    let e = eval(&[
        (
            "src/index.ts",
            &agent("import { A } from './a';", "  persona: A,"),
        ),
        ("src/a.ts", "import { B } from './b';\nexport const A = B;"),
        ("src/b.ts", "import { A } from './a';\nexport const B = A;"),
    ])
    .unwrap_err();
    assert!(matches!(e, CompileError::Import { .. }));
    insta::assert_snapshot!("import_cycle", e.to_string());
    // A file-level cycle that values do not follow is fine, as in JavaScript.
    let c = ok(&[
        (
            "src/index.ts",
            &agent("import { A } from './a';", "  persona: A,"),
        ),
        (
            "src/a.ts",
            "import { B } from './b';\nexport const A = 'a';\nexport const C = B;",
        ),
        ("src/b.ts", "import { C } from './a';\nexport const B = C;"),
    ]);
    assert_eq!(json_of(&c, "persona"), json!("a"));
}

#[test]
fn agent_errors() {
    insta::assert_snapshot!(
        "no_agent",
        error(&[("src/index.ts", "export const x = 1;\n")])
    );
    insta::assert_snapshot!(
        "agent_without_config",
        error(&[(
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nnew LuaAgent();\n"
        )])
    );
    insta::assert_snapshot!(
        "agent_config_is_a_string",
        error(&[(
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nnew LuaAgent('name');\n"
        )])
    );
    insta::assert_snapshot!(
        "agent_config_is_a_call",
        error(&[(
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nnew LuaAgent(loadConfig());\n"
        )])
    );
}

#[test]
fn syntax_and_io_errors() {
    insta::assert_snapshot!(
        "syntax_error",
        error(&[(
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nconst agent = new LuaAgent({\n  name: 'x'\n  persona: 'y',\n});\n"
        )])
    );
    insta::assert_snapshot!(
        "syntax_error_in_import",
        error(&[
            (
                "src/index.ts",
                &agent("import { P } from './p';", "  persona: P,")
            ),
            ("src/p.ts", "export const P = `unterminated;\n"),
        ])
    );
    let missing = evaluate_files(&BTreeMap::new(), "src/index.ts").unwrap_err();
    assert!(matches!(missing, CompileError::Io { .. }));
    assert!(
        missing
            .to_string()
            .starts_with("cannot read src/index.ts: "),
        "{missing}"
    );
}

#[test]
fn non_utf8_files_are_syntax_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/index.ts"),
        b"const a = 'ok';\nconst b = '\xff';\n",
    )
    .unwrap();
    let e = lua_compile::evaluate(dir.path(), "src/index.ts").unwrap_err();
    insta::assert_snapshot!("not_utf8", e.to_string());
}

#[test]
fn deep_nesting_is_bounded_not_a_stack_overflow() {
    let deep = format!("{}'x'{}", "[".repeat(200), "]".repeat(200));
    let chain: String = (0..3000).map(|i| format!(" + 'p{i}'")).collect();
    let c = ok(&[(
        "src/index.ts",
        &agent("", &format!("  deep: {deep},\n  long: 'start'{chain},")),
    )]);
    assert!(!c.fields["deep"].unreadables().is_empty());
    let long = json_of(&c, "long");
    assert!(long.as_str().unwrap().ends_with("p2999"));
    // And the manifest of such a value can be read back.
    let bytes = lua_compile::manifest_bytes(&c);
    let back: Compiled = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back, c);
}

#[test]
fn pathological_nesting_does_not_overflow_the_stack() {
    for (open, close) in [
        ("(", ")"),
        ("!", ""),
        ("[", "]"),
        ("`${", "}`"),
        ("a ? b : ", ""),
    ] {
        let n = 50_000;
        let src = agent(
            "",
            &format!(
                "  persona: {}1{},\n  name: 'n',",
                open.repeat(n),
                close.repeat(n)
            ),
        );
        let c = ok(&[("src/index.ts", &src)]);
        assert_eq!(json_of(&c, "name"), json!("n"), "{open}");
    }
}

#[test]
fn frames_of_very_long_lines_are_excerpts() {
    let long = "x".repeat(100_000);
    let c = ok(&[(
        "src/index.ts",
        &agent("", &format!("  persona: '{long}' + load(), name: 'n',")),
    )]);
    let text = unreadable(&c, "persona");
    assert!(
        text.starts_with("src/index.ts:4:100017: cannot read `persona` statically"),
        "{text}"
    );
    assert!(text.lines().all(|l| l.chars().count() < 200), "{text}");
    insta::assert_snapshot!("long_line", text);
}

#[test]
fn values_that_expand_exponentially_are_cut_off() {
    let mut prelude = String::from("const L0 = { s: 'xxxxxxxxxxxxxxxx', n: [1, 2, 3] };\n");
    for i in 1..=40 {
        prelude.push_str(&format!(
            "const L{i} = {{ a: L{p}, b: L{p} }};\nconst S{i} = S{p} + S{p};\n",
            p = i - 1
        ));
    }
    prelude.push_str("const S0 = 'abcdefgh';\n");
    let c = ok(&[(
        "src/index.ts",
        &agent(&prelude, "  tree: L40,\n  text: S40,\n  name: 'n',"),
    )]);
    assert_eq!(json_of(&c, "name"), json!("n"));
    assert!(!c.fields["tree"].unreadables().is_empty());
    assert!(!c.fields["text"].unreadables().is_empty());
    let reasons: Vec<&str> = c.fields["tree"]
        .unreadables()
        .iter()
        .map(|u| u.reason.as_str())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("too many times")),
        "{:?}",
        &reasons[..3]
    );
}

#[test]
fn fuzz_regressions_do_not_panic() {
    // Found by `cargo fuzz run evaluate`: an error span on the `\r` of a line break.
    for src in [
        "wait=\r",
        "wait=\r\n",
        "x = `\r",
        "'\r",
        "\r",
        "\u{feff}\r\n(",
    ] {
        let e = eval(&[("src/index.ts", src)]);
        assert!(e.is_err(), "{src:?}");
    }
}
