//! Scrubbing the API key out of every text shown: the terminal (stdout, stderr, the `-v`
//! logs) and the machine reports (`--format json`, `--format github`).
//!
//! A server may echo the key in any answer, success included (an agent named after it, a
//! text quoting it as `\u0073k-...`). Whatever the origin, the printer passes its final
//! text through [`scrub`]; the JSON report is scrubbed value by value ([`scrub_json`]) so it
//! stays valid JSON.
//!
//! The key is recognised in every form a reader could decode: each of its characters raw,
//! as a JSON `\uXXXX` escape (or `\\uXXXX` once more escaped), as a JSON short escape
//! (`\/`, `\\`, `\"`), or percent-encoded (`%XX`, or `%25XX` once more encoded, as a GitHub
//! workflow command escapes `%`), in any mix, hex digits in either case; our own colour codes
//! between two characters do not hide it. Knows nothing about where text comes from.

use std::borrow::Cow;
use std::sync::OnceLock;

/// What replaces the key.
pub const REDACTED: &str = "[REDACTED]";

/// The key of this run, once known (set by config loading).
static KEY: OnceLock<Vec<char>> = OnceLock::new();

/// Remember the run's API key so that every later output is scrubbed of it. The first key
/// set stays (a run uses one key).
pub fn protect(key: &str) {
    let key = key.trim();
    if !key.is_empty() {
        let _ = KEY.set(key.chars().collect());
    }
}

/// `text` with the run's key (in any form) replaced by [`REDACTED`].
pub fn scrub(text: &str) -> Cow<'_, str> {
    match KEY.get() {
        Some(key) => scrub_with(text, key),
        None => Cow::Borrowed(text),
    }
}

/// A JSON document's text with every string (keys too) scrubbed, still valid JSON in the
/// same pretty layout. Unchanged (no parse) when the text shows no trace of the key.
pub fn scrub_json(text: &str) -> Cow<'_, str> {
    let Some(key) = KEY.get() else {
        return Cow::Borrowed(text);
    };
    if find(text, key).is_none() {
        return Cow::Borrowed(text);
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut value) => {
            scrub_value(&mut value, key);
            Cow::Owned(serde_json::to_string_pretty(&value).unwrap_or_default())
        }
        // Not JSON after all: scrubbed as text.
        Err(_) => scrub_with(text, key),
    }
}

fn scrub_value(value: &mut serde_json::Value, key: &[char]) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = scrub_with(s, key) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| scrub_value(v, key)),
        Value::Object(map) => {
            let old = std::mem::take(map);
            for (k, mut v) in old {
                scrub_value(&mut v, key);
                map.insert(scrub_with(&k, key).into_owned(), v);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

pub(crate) fn scrub_with<'t>(text: &'t str, key: &[char]) -> Cow<'t, str> {
    let Some(first) = find(text, key) else {
        return Cow::Borrowed(text);
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    let mut next = Some(first);
    while let Some((start, end)) = next {
        out.push_str(&text[rest..start]);
        out.push_str(REDACTED);
        // Our colour codes inside the span stay, so a style opened or reset in it still is.
        out.extend(sgr_sequences(&text[start..end]));
        rest = end;
        next = find(&text[end..], key).map(|(s, e)| (s + end, e + end));
    }
    out.push_str(&text[rest..]);
    Cow::Owned(out)
}

/// The first span (byte range) of `text` that decodes to `key`.
fn find(text: &str, key: &[char]) -> Option<(usize, usize)> {
    let first = *key.first()?;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // Only where a form of the first character can start.
        if (b == b'\\' || b == b'%' || text[i..].starts_with(first))
            && let Some(end) = match_at(text, i, key)
        {
            return Some((i, end));
        }
        i += 1;
        while i < bytes.len() && !text.is_char_boundary(i) {
            i += 1;
        }
    }
    None
}

/// Where the key starting at `start` ends, if it does.
fn match_at(text: &str, start: usize, key: &[char]) -> Option<usize> {
    let mut pos = start;
    for (n, &k) in key.iter().enumerate() {
        if n > 0 {
            pos = skip_sgr(text, pos);
        }
        pos = unit(text, pos, k)?;
    }
    Some(pos)
}

/// Past one encoded form of `k` at `pos`.
fn unit(text: &str, pos: usize, k: char) -> Option<usize> {
    let rest = text.get(pos..)?;
    if rest.starts_with(k) {
        return Some(pos + k.len_utf8());
    }
    for prefix in ["\\u", "\\\\u"] {
        if let Some(hex) = rest.strip_prefix(prefix)
            && let Some(code) = hex_value(hex, 4)
            && char::from_u32(code) == Some(k)
        {
            return Some(pos + prefix.len() + 4);
        }
    }
    let short = match k {
        '/' => Some("\\/"),
        '\\' => Some("\\\\"),
        '"' => Some("\\\""),
        _ => None,
    };
    if let Some(short) = short
        && rest.starts_with(short)
    {
        return Some(pos + short.len());
    }
    // Percent-encoded: each UTF-8 byte of `k` as `%XX` (or `%25XX`).
    let mut at = pos;
    let mut buf = [0u8; 4];
    for &byte in k.encode_utf8(&mut buf).as_bytes() {
        let here = text.get(at..)?;
        let prefix = if here.starts_with("%25") && hex_value(&here[3..], 2).is_some() {
            "%25"
        } else {
            "%"
        };
        let code = here.strip_prefix(prefix).and_then(|h| hex_value(h, 2))?;
        if code != u32::from(byte) {
            return None;
        }
        at += prefix.len() + 2;
    }
    Some(at)
}

/// The value of the first `digits` characters of `text` as hexadecimal.
fn hex_value(text: &str, digits: usize) -> Option<u32> {
    let hex = text.get(..digits)?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(hex, 16).ok()
}

/// Past any colour codes (`ESC [ ... m`) at `pos`.
fn skip_sgr(text: &str, mut pos: usize) -> usize {
    while let Some(len) = sgr_len(&text[pos..]) {
        pos += len;
    }
    pos
}

fn sgr_len(text: &str) -> Option<usize> {
    let body = text.strip_prefix("\u{1b}[")?;
    let end = body.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
    (body[end..].starts_with('m')).then_some(2 + end + 1)
}

/// The colour codes in `span`, in order.
fn sgr_sequences(span: &str) -> impl Iterator<Item = &str> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos < span.len() {
            if let Some(len) = sgr_len(&span[pos..]) {
                let seq = &span[pos..pos + len];
                pos += len;
                return Some(seq);
            }
            pos += span[pos..].chars().next().map_or(1, char::len_utf8);
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-Ab/9_x";

    fn scrubbed(text: &str) -> String {
        let key: Vec<char> = KEY.chars().collect();
        scrub_with(text, &key).into_owned()
    }

    #[test]
    fn every_form_is_replaced() {
        for text in [
            "sk-Ab/9_x",
            "\\u0073k-Ab/9_x",
            "\\u0073\\u006B\\u002d\\u0041\\u0062\\/\\u0039\\u005f\\u0078",
            "\\\\u0073k-Ab\\/9_x",
            "sk%2DAb%2F9%5fx",
            "%73%6b%2d%41%62%2f%39%5f%78",
            "sk%252DAb%252F9_x",
            "s\u{1b}[1mk-\u{1b}[0mAb/9_x",
        ] {
            let shown = scrubbed(&format!("name: {text}!"));
            assert!(shown.starts_with("name: [REDACTED]"), "{text} -> {shown}");
            assert!(shown.ends_with('!'), "{text} -> {shown}");
            assert!(!shown.contains("Ab"), "{text} -> {shown}");
        }
    }

    #[test]
    fn colour_codes_inside_the_key_are_kept() {
        assert_eq!(
            scrubbed("s\u{1b}[1mk-\u{1b}[0mAb/9_x"),
            "[REDACTED]\u{1b}[1m\u{1b}[0m"
        );
    }

    #[test]
    fn several_occurrences_and_near_misses() {
        assert_eq!(
            scrubbed("sk-Ab/9_x and sk-Ab/9_x, sk-Ab/9_ and sk-Ab%2f9_y"),
            "[REDACTED] and [REDACTED], sk-Ab/9_ and sk-Ab%2f9_y"
        );
        assert!(matches!(
            scrub_with("nothing here", &['s', 'k']),
            Cow::Borrowed(_)
        ));
        assert_eq!(scrubbed("é sk-Ab/9_x é"), "é [REDACTED] é");
    }

    #[test]
    fn json_stays_json() {
        let key: Vec<char> = KEY.chars().collect();
        let doc = serde_json::json!({
            "label": "sk-Ab/9_x",
            "text": "say \\u0073k-Ab/9_x",
            "sk-Ab/9_x": [1, "x"],
        });
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        assert!(find(&text, &key).is_some());
        let mut value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        scrub_value(&mut value, &key);
        let out = serde_json::to_string_pretty(&value).unwrap_or_default();
        assert!(find(&out, &key).is_none(), "{out}");
        assert_eq!(value["text"], "say [REDACTED]");
        assert_eq!(value["[REDACTED]"][1], "x");
    }
}
