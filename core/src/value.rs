//! Value comparison, canonical text form and hashing, shared by every component.
//!
//! Strings compare as text (CRLF and CR become LF, surrounding whitespace trimmed,
//! nothing else). Every other value compares structurally, as JSON: object key order is
//! ignored, types are not (`5` is not `"5"`). The text of a structured value is a stable
//! pretty form, one line per leaf or array element with its path (`rules.tokenBudget: 5`),
//! so a changed rule shows as one changed line. Hashes are of the same canonical forms and
//! are labelled by kind, so no two different values share a hash.
//!
//! Component-specific equivalences (the persona's `{base}` = string) do not live here:
//! a component maps its values with [`crate::Syncable::canonical`] first.

use std::borrow::Cow;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Normalise text for comparison: line endings to LF, surrounding whitespace trimmed.
pub fn normalize_text(s: &str) -> String {
    normalized(s).into_owned()
}

/// [`normalize_text`] without a copy when there is no `\r` (the usual case).
fn normalized(s: &str) -> Cow<'_, str> {
    if s.contains('\r') {
        Cow::Owned(
            s.replace("\r\n", "\n")
                .replace('\r', "\n")
                .trim()
                .to_string(),
        )
    } else {
        Cow::Borrowed(s.trim())
    }
}

/// Whether two values are the same: strings as normalised text, the rest as JSON.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(a), Value::String(b)) => normalized(a) == normalized(b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(a), Value::Object(b)) => same_object(a, b),
        (a, b) => same_json(a, b),
    }
}

/// Strict JSON equality below the top level (strings inside objects are content).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => same_object(a, b),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same_json(a, b))
        }
        (Value::Number(a), Value::Number(b)) => numbers_equal(a, b),
        (a, b) => a == b,
    }
}

fn same_object(a: &Map<String, Value>, b: &Map<String, Value>) -> bool {
    a.len() == b.len()
        && a.iter()
            .all(|(k, v)| b.get(k).is_some_and(|w| same_json(v, w)))
}

/// `1` and `1.0` are the same number in TypeScript.
fn numbers_equal(a: &serde_json::Number, b: &serde_json::Number) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The text a value is compared and diffed as.
///
/// - a string: itself, normalised;
/// - null: empty;
/// - any other value: one line per leaf, `path: json`, keys sorted.
pub fn canonical_text(value: &Value) -> String {
    match value {
        Value::String(s) => normalize_text(s),
        Value::Null => String::new(),
        Value::Object(_) | Value::Array(_) => {
            let mut lines = Vec::new();
            leaf_lines(value, &mut String::new(), &mut lines);
            lines.join("\n")
        }
        other => canonical_json(other),
    }
}

fn leaf_lines(value: &Value, path: &mut String, out: &mut Vec<String>) {
    let prefix = |path: &str| {
        if path.is_empty() {
            String::new()
        } else {
            format!("{path}: ")
        }
    };
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for key in keys {
                let len = path.len();
                push_key(path, key);
                leaf_lines(&map[key], path, out);
                path.truncate(len);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                leaf_lines(item, path, out);
                path.truncate(len);
            }
        }
        leaf => out.push(format!("{}{}", prefix(path), canonical_json(leaf))),
    }
}

/// `.key` for identifier-like keys, `["a.b"]` otherwise, so paths are unambiguous.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !key.starts_with(|c: char| c.is_ascii_digit());
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&Value::String(key.to_string()).to_string());
        path.push(']');
    }
}

/// Compact JSON with object keys sorted at every level: the identity of a value.
pub fn canonical_json(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let fields: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        canonical_json(&map[k.as_str()])
                    )
                })
                .collect();
            format!("{{{}}}", fields.join(","))
        }
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(canonical_json).collect();
            format!("[{}]", items.join(","))
        }
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            // A whole float is the integer it equals (`1.0` is `1`).
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Stable content hash of a value: `sha256:<hex>` of the normalised text for strings
/// (the form earlier state files used), `sha256-json:<hex>` of the canonical JSON for
/// everything else. The labels keep a string from ever sharing a hash with an object.
pub fn hash_value(value: &Value) -> String {
    match value {
        Value::String(s) => hash_text(&normalized(s)),
        other => labelled("sha256-json:", canonical_json(other).as_bytes()),
    }
}

/// `sha256:<hex>` of already-canonical text.
pub fn hash_text(text: &str) -> String {
    labelled("sha256:", text.as_bytes())
}

/// `<label><lowercase hex of the sha256 of bytes>`, built in one allocation (a check
/// hashes both sides of every item).
fn labelled(label: &str, bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(label.len() + 2 * digest.len());
    out.push_str(label);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn line_endings_and_surrounding_whitespace_are_ignored() {
        assert!(same(&json!("  a\r\nb\rc\n\n"), &json!("a\nb\nc")));
        assert_eq!(
            hash_value(&json!("  a\r\nb\rc\n\n")),
            hash_value(&json!("a\nb\nc"))
        );
    }

    #[test]
    fn inner_blank_lines_and_spaces_are_content() {
        assert!(!same(&json!("a\n\nb"), &json!("a\nb")));
        assert!(!same(&json!("a  b"), &json!("a b")));
    }

    #[test]
    fn types_matter_and_key_order_does_not() {
        assert!(!same(
            &json!({"tokenBudget": 5}),
            &json!({"tokenBudget": "5"})
        ));
        assert_ne!(
            hash_value(&json!({"tokenBudget": 5})),
            hash_value(&json!({"tokenBudget": "5"}))
        );
        assert!(same(
            &json!({"a": 1, "b": [1, 2]}),
            &json!({"b": [1, 2], "a": 1})
        ));
        assert_eq!(
            hash_value(&json!({"a": 1, "b": 2})),
            hash_value(&json!({"b": 2, "a": 1}))
        );
        assert!(same(&json!({"x": 1.0}), &json!({"x": 1})));
        assert!(!same(&json!([1, 2]), &json!([2, 1])));
    }

    #[test]
    fn no_persona_rule_here() {
        assert!(!same(&json!({"base": "Hi"}), &json!("Hi")));
        assert_ne!(hash_value(&json!({"base": "Hi"})), hash_value(&json!("Hi")));
    }

    #[test]
    fn hashes_are_labelled_lowercase_sha256_hex() {
        assert_eq!(
            hash_text(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        // The string is normalised first; an object is hashed as its canonical JSON.
        assert_eq!(hash_value(&json!(" \r\n")), hash_text(""));
        assert_eq!(
            hash_value(&json!({"b": 1, "a": [true]})),
            format!(
                "sha256-json:{}",
                hex::encode(Sha256::digest(br#"{"a":[true],"b":1}"#))
            )
        );
    }

    #[test]
    fn a_string_never_shares_a_hash_with_a_structured_value() {
        assert_ne!(hash_value(&json!("5")), hash_value(&json!(5)));
        assert_ne!(hash_value(&json!("true")), hash_value(&json!(true)));
        let object = json!({"a": 1});
        assert_ne!(
            hash_value(&Value::String(canonical_json(&object))),
            hash_value(&object)
        );
    }

    #[test]
    fn structured_text_is_one_line_per_leaf() {
        let governance = json!({
            "mode": "sdk",
            "rules": {"tokenBudget": 5, "blockTools": ["rm", "exec"]},
            "injection": {"threshold": 0.8},
            "odd key": {},
        });
        insta::assert_snapshot!(canonical_text(&governance), @r#"
        injection.threshold: 0.8
        mode: "sdk"
        ["odd key"]: {}
        rules.blockTools[0]: "rm"
        rules.blockTools[1]: "exec"
        rules.tokenBudget: 5
        "#);
        assert_ne!(
            canonical_text(&json!({"a": {"b": 1}})),
            canonical_text(&json!({"a.b": 1}))
        );
        assert_eq!(canonical_text(&json!(5)), "5");
        assert_eq!(canonical_text(&Value::Null), "");
    }
}
