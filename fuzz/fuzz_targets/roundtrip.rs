//! Arbitrary string -> write_back -> evaluate gives the same string, for every quote style
//! and both line endings.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use lua_compile::{Node, WriteOptions, evaluate_files, write_back_files};

fuzz_target!(|input: (String, u8, bool)| {
    let (text, style, crlf) = input;
    let eol = if crlf { "\r\n" } else { "\n" };
    let literal = match style % 4 {
        0 => "'old'".to_owned(),
        1 => "\"old\"".to_owned(),
        2 => "`old`".to_owned(),
        _ => format!("`old{eol}lines`"),
    };
    let index = [
        "import { LuaAgent } from 'lua-cli';",
        "new LuaAgent({",
        &format!("  persona: {literal},"),
        "});",
        "",
    ]
    .join(eol);
    let mut files = BTreeMap::new();
    files.insert("src/index.ts".to_owned(), index);
    let compiled = evaluate_files(&files, "src/index.ts").expect("compiles");
    let node = compiled.fields["persona"].clone();
    write_back_files(
        &mut files,
        &compiled,
        &node,
        &serde_json::Value::String(text.clone()),
        WriteOptions::default(),
    )
    .expect("writes");
    let again = evaluate_files(&files, "src/index.ts").expect("compiles after write");
    match &again.fields["persona"] {
        Node::String { value, .. } => assert_eq!(value, &text),
        other => panic!("persona became {other:?}"),
    }
});
