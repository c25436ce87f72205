//! Every project under `tests/fixtures/` compiles to the snapshotted fields (as JSON, with
//! origins and diagnostics) or fails with the snapshotted error.

use std::path::PathBuf;

use lua_compile::{Compiled, evaluate};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REQUIRED: [&str; 10] = [
    "const-config",
    "crlf",
    "dynamic-persona",
    "huge-persona",
    "imported-persona",
    "interpolated-brand",
    "no-agent",
    "object-persona",
    "syntax-error",
    "template-style",
];

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Long values shortened to a prefix, their length and hash (the huge persona stays checked
/// without a 2,000-line snapshot); frames dropped from the JSON, since the diagnostics are
/// shown in full below it.
fn shorten(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(shorten),
        Value::Object(map) => {
            map.remove("frame");
            for (key, v) in map.iter_mut() {
                match v {
                    Value::String(s) if key == "value" && s.chars().count() > 300 => {
                        let hash = hex::encode(Sha256::digest(s.as_bytes()));
                        let prefix: String = s.chars().take(60).collect();
                        *s = format!(
                            "{prefix}… ({} chars, sha256 {})",
                            s.chars().count(),
                            &hash[..16]
                        );
                    }
                    other => shorten(other),
                }
            }
        }
        _ => {}
    }
}

fn describe(compiled: &Compiled) -> String {
    let mut value = json!({
        "entry": compiled.entry,
        "fields": compiled.fields,
        "inputs": compiled.inputs.keys().collect::<Vec<_>>(),
        "unkeyed": compiled.unkeyed,
    });
    shorten(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap();
    let diagnostics: Vec<String> = compiled
        .fields
        .values()
        .flat_map(|n| n.unreadables())
        .chain(&compiled.unkeyed)
        .map(ToString::to_string)
        .collect();
    for d in diagnostics {
        text.push_str("\n\n");
        text.push_str(&d);
    }
    text
}

#[test]
fn every_fixture_compiles_as_snapshotted() {
    let mut names: Vec<String> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for required in REQUIRED {
        assert!(
            names.iter().any(|n| n == required),
            "fixture {required} is missing"
        );
    }
    for name in names {
        let root = fixtures_dir().join(&name);
        let text = match evaluate(&root, "src/index.ts") {
            Ok(compiled) => describe(&compiled),
            Err(e) => format!("error: {e}"),
        };
        insta::assert_snapshot!(name, text);
    }
}

#[test]
fn crlf_fixture_really_uses_crlf() {
    let text = std::fs::read(fixtures_dir().join("crlf/src/index.ts")).unwrap();
    let lf = text.iter().filter(|b| **b == b'\n').count();
    let crlf = text.windows(2).filter(|w| w == b"\r\n").count();
    assert!(
        lf > 0 && lf == crlf,
        "a checkout converted the CRLF fixture's line endings"
    );
}
