//! Value normalisation, canonical text form and hashing, shared by every component.
//!
//! The API contract's comparison rule: compare evaluated values, CRLF and CR become LF,
//! surrounding whitespace is trimmed, nothing else. Object values (the channel-aware
//! persona form) compare equal to a string when their only key is `base` or `text`
//! and it holds that string; otherwise they compare in a canonical text form with
//! sorted keys.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Normalise text for comparison: line endings to LF, surrounding whitespace trimmed.
pub fn normalize_text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .trim()
        .to_string()
}

/// The text a value is compared and diffed as (already normalised).
///
/// - a string: itself;
/// - an object whose only key is `base` or `text` with a string: that string;
/// - any other object: `## key` headings in sorted key order, each followed by its text;
/// - anything else: its compact JSON.
pub fn canonical_text(value: &Value) -> String {
    match value {
        Value::String(s) => normalize_text(s),
        Value::Object(map) => {
            if map.len() == 1
                && let Some(Value::String(s)) = map.get("base").or_else(|| map.get("text"))
            {
                return normalize_text(s);
            }
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let blocks: Vec<String> = keys
                .into_iter()
                .map(|k| format!("## {k}\n{}", canonical_text(&map[k])))
                .collect();
            blocks.join("\n\n")
        }
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Stable content hash of a value's canonical text: `sha256:<hex>`.
pub fn hash_value(value: &Value) -> String {
    hash_text(&canonical_text(value))
}

/// `sha256:<hex>` of already-canonical text.
pub fn hash_text(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    format!("sha256:{}", hex::encode(digest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn line_endings_and_surrounding_whitespace_are_ignored() {
        assert_eq!(
            canonical_text(&json!("  a\r\nb\rc\n\n")),
            canonical_text(&json!("a\nb\nc"))
        );
    }

    #[test]
    fn inner_blank_lines_and_spaces_are_content() {
        assert_ne!(
            canonical_text(&json!("a\n\nb")),
            canonical_text(&json!("a\nb"))
        );
        assert_ne!(
            canonical_text(&json!("a  b")),
            canonical_text(&json!("a b"))
        );
    }

    #[test]
    fn object_with_only_base_or_text_equals_the_string() {
        assert_eq!(hash_value(&json!({"base": "Hi"})), hash_value(&json!("Hi")));
        assert_eq!(hash_value(&json!({"text": "Hi"})), hash_value(&json!("Hi")));
        assert_ne!(
            hash_value(&json!({"base": "Hi", "voice": "Hey"})),
            hash_value(&json!("Hi"))
        );
    }

    #[test]
    fn object_canonical_form_sorts_keys() {
        let a = json!({"voice": "V", "base": "B"});
        assert_eq!(canonical_text(&a), "## base\nB\n\n## voice\nV");
    }
}
