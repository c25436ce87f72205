//! The write-back invariant: for any string `s`, writing `s` and compiling again yields `s`
//! byte for byte, and every byte outside the rewritten literal is unchanged; for every quote
//! style, for LF and CRLF files, in the entry file or an imported one.

use std::collections::BTreeMap;

use lua_compile::{Node, WriteOptions, evaluate, evaluate_files, write_back, write_back_files};
use proptest::prelude::*;
use serde_json::Value;

#[derive(Clone, Copy, Debug)]
enum Style {
    Single,
    Double,
    Template,
    MultiLineTemplate,
}

fn initial_literal(style: Style, eol: &str) -> String {
    match style {
        Style::Single => "'You are helpful.'".into(),
        Style::Double => "\"You are \\\"helpful\\\".\"".into(),
        Style::Template => "`You are helpful.`".into(),
        Style::MultiLineTemplate => format!("`You are helpful.{eol}Answer briefly.{eol}`"),
    }
}

/// A small project whose persona is `style`, in `src/index.ts` or imported from
/// `src/persona.ts`; returns the files and the file that holds the literal.
fn project(style: Style, crlf: bool, imported: bool) -> (BTreeMap<String, String>, String) {
    let eol = if crlf { "\r\n" } else { "\n" };
    let literal = initial_literal(style, eol);
    let persona_expr = if imported {
        "PERSONA".to_owned()
    } else {
        literal.clone()
    };
    let index = [
        "import { LuaAgent } from \"lua-cli\";",
        if imported {
            "import { PERSONA } from \"./persona\";"
        } else {
            "// persona inline"
        },
        "",
        "export const agent = new LuaAgent({",
        "  name: 'Support Bot', // trailing comment",
        &format!("  persona: {persona_expr},"),
        "  after: `tail`,",
        "});",
        "",
    ]
    .join(eol);
    let mut files = BTreeMap::new();
    files.insert("src/index.ts".to_owned(), index);
    if imported {
        files.insert(
            "src/persona.ts".to_owned(),
            format!("/* persona */{eol}export const PERSONA = {literal} as const;{eol}"),
        );
    }
    let holder = if imported {
        "src/persona.ts"
    } else {
        "src/index.ts"
    };
    (files, holder.to_owned())
}

fn persona(files: &BTreeMap<String, String>) -> Node {
    let compiled = evaluate_files(files, "src/index.ts").expect("compiles");
    compiled
        .fields
        .get("persona")
        .expect("persona field")
        .clone()
}

fn text_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        // Arbitrary unicode, astral plane included.
        4 => any::<String>(),
        // Dense in everything a literal must escape.
        6 => proptest::collection::vec(
            prop_oneof![
                Just("`".to_owned()),
                Just("${".to_owned()),
                Just("$".to_owned()),
                Just("{".to_owned()),
                Just("}".to_owned()),
                Just("\\".to_owned()),
                Just("'".to_owned()),
                Just("\"".to_owned()),
                Just("\r\n".to_owned()),
                Just("\r".to_owned()),
                Just("\n".to_owned()),
                Just("\t".to_owned()),
                Just("\u{2028}".to_owned()),
                Just("\u{2029}".to_owned()),
                Just("\0".to_owned()),
                Just("\0".to_owned() + "1"),
                Just("\u{1}".to_owned()),
                Just("\u{7f}".to_owned()),
                Just("\u{feff}".to_owned()),
                Just("é".to_owned()),
                Just("😀".to_owned()),
                Just("\u{10ffff}".to_owned()),
                Just("\\u{41}".to_owned()),
                Just("*/".to_owned()),
                Just("</script>".to_owned()),
                "[a-z ]{1,5}",
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat()),
        // Very long.
        1 => "[a-zA-Z`$\\{}\\\\\n ]{1,12}".prop_map(|s| s.repeat(4000)),
        1 => Just(String::new()),
    ]
}

fn style_strategy() -> impl Strategy<Value = Style> {
    prop_oneof![
        Just(Style::Single),
        Just(Style::Double),
        Just(Style::Template),
        Just(Style::MultiLineTemplate),
    ]
}

/// Write `text` into the project's persona in memory and check the invariant.
fn check_roundtrip(
    text: &str,
    style: Style,
    crlf: bool,
    imported: bool,
) -> Result<(), TestCaseError> {
    let (mut files, holder) = project(style, crlf, imported);
    let before = files.clone();
    let compiled = evaluate_files(&files, "src/index.ts").expect("compiles");
    let node = compiled.fields.get("persona").expect("persona").clone();
    let origin = node.origin().expect("origin").clone();
    prop_assert_eq!(&origin.file, &holder);

    let report = write_back_files(
        &mut files,
        &compiled,
        &node,
        &Value::String(text.to_owned()),
        WriteOptions::default(),
    )
    .expect("write back");

    // Every byte outside the span is unchanged; other files untouched.
    let old = &before[&holder];
    let new = &files[&holder];
    let (start, end) = (origin.start as usize, origin.end as usize);
    prop_assert_eq!(&new[..start], &old[..start]);
    prop_assert!(new.len() >= old.len() - end);
    prop_assert_eq!(&new[new.len() - (old.len() - end)..], &old[end..]);
    for (file, content) in &before {
        if *file != holder {
            prop_assert_eq!(&files[file], content);
        }
    }
    // A CRLF file stays CRLF: no bare LF appears.
    if crlf {
        prop_assert!(
            !new.replace("\r\n", "").contains('\n'),
            "bare LF written into a CRLF file"
        );
    }

    // Compiling again yields the string, byte for byte, and the other fields as before.
    let again = evaluate_files(&files, "src/index.ts").expect("compiles after write");
    match again.fields.get("persona") {
        Some(Node::String { value, .. }) => prop_assert_eq!(value, text),
        other => prop_assert!(false, "persona is now {:?}", other),
    }
    prop_assert_eq!(
        again.fields["name"].to_json().ok(),
        Some(Value::from("Support Bot"))
    );
    prop_assert_eq!(
        again.fields["after"].to_json().ok(),
        Some(Value::from("tail"))
    );
    if report.files.is_empty() {
        prop_assert_eq!(&files, &before);
    } else {
        prop_assert_eq!(&report.files, &vec![holder.clone()]);
    }

    // Writing the same value again changes nothing.
    let node_again = again.fields["persona"].clone();
    let second = write_back_files(
        &mut files,
        &again,
        &node_again,
        &Value::String(text.to_owned()),
        WriteOptions::default(),
    )
    .expect("second write");
    prop_assert!(second.files.is_empty());
    Ok(())
}

proptest! {
    // 10,000 in-memory cases: every style x line ending x file, arbitrary text.
    #![proptest_config(ProptestConfig::with_cases(10_000))]
    #[test]
    fn any_string_round_trips_in_memory(
        text in text_strategy(),
        style in style_strategy(),
        crlf in any::<bool>(),
        imported in any::<bool>(),
    ) {
        check_roundtrip(&text, style, crlf, imported)?;
    }
}

proptest! {
    // The same invariant through the real file system (atomic write, fsync): fewer cases,
    // since each one creates and syncs files.
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn any_string_round_trips_on_disk(
        text in text_strategy(),
        style in style_strategy(),
        crlf in any::<bool>(),
        imported in any::<bool>(),
    ) {
        let (files, holder) = project(style, crlf, imported);
        let dir = tempfile::tempdir().expect("tempdir");
        for (rel, content) in &files {
            let path = dir.path().join(rel);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, content).expect("write");
        }
        let compiled = evaluate(dir.path(), "src/index.ts").expect("compiles");
        let node = compiled.fields["persona"].clone();
        let origin = node.origin().expect("origin").clone();
        write_back(dir.path(), &compiled, &node, &Value::String(text.clone()), WriteOptions::default())
            .expect("write back");
        let old = &files[&holder];
        let new = std::fs::read_to_string(dir.path().join(&holder)).expect("read");
        let (start, end) = (origin.start as usize, origin.end as usize);
        prop_assert_eq!(&new[..start], &old[..start]);
        prop_assert_eq!(&new[new.len() - (old.len() - end)..], &old[end..]);
        let again = evaluate(dir.path(), "src/index.ts").expect("compiles after write");
        prop_assert_eq!(again.fields["persona"].to_json().ok(), Some(Value::String(text)));
    }
}

#[test]
fn every_style_and_ending_round_trips_the_nasty_cases() {
    let nasty = [
        "",
        "`",
        "${x}",
        "\\${x}",
        "$",
        "\\",
        "\\\\`",
        "'\"",
        "a\r\nb",
        "a\rb",
        "a\n\rb",
        "\r\n\r\n",
        "tab\there",
        "\u{2028}\u{2029}",
        "\0",
        "\x001",
        "😀 astral \u{1F600}",
        "line1\nline2\n",
        "\n",
        "end with backslash\\",
        "*/ /* // <!--",
    ];
    for text in nasty {
        for style in [
            Style::Single,
            Style::Double,
            Style::Template,
            Style::MultiLineTemplate,
        ] {
            for crlf in [false, true] {
                for imported in [false, true] {
                    check_roundtrip(text, style, crlf, imported).unwrap_or_else(|e| {
                        panic!("{text:?} {style:?} crlf={crlf} imported={imported}: {e}")
                    });
                }
            }
        }
    }
    // A sanity check that the helper reads what it wrote.
    let (files, _) = project(Style::Single, false, false);
    assert_eq!(
        persona(&files).to_json().ok(),
        Some(Value::from("You are helpful."))
    );
}
