//! Arbitrary bytes as `src/index.ts`: evaluation never panics, and every string value it
//! reads can be written back and read again unchanged.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use lua_compile::{Node, WriteOptions, evaluate_files, write_back_files};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let mut files = BTreeMap::new();
    files.insert("src/index.ts".to_owned(), text);
    let Ok(compiled) = evaluate_files(&files, "src/index.ts") else {
        return;
    };
    for (key, node) in &compiled.fields {
        let Node::String { value, .. } = node else {
            continue;
        };
        let new_value = format!("{value}`${{x}}\\\r\n'\"");
        let mut written = files.clone();
        let json = serde_json::Value::String(new_value.clone());
        if write_back_files(
            &mut written,
            &compiled,
            node,
            &json,
            WriteOptions {
                force: true,
                ..WriteOptions::default()
            },
        )
        .is_err()
        {
            continue;
        }
        // Writing may turn other fields into something else only if they share the literal;
        // the written field itself must read back exactly.
        let again =
            evaluate_files(&written, "src/index.ts").expect("a written file still compiles");
        match again.fields.get(key) {
            Some(Node::String { value, .. }) => assert_eq!(value, &new_value),
            other => panic!("{key} became {other:?}"),
        }
    }
});
