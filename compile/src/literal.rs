//! Printing values as JavaScript source: string literals in each quote style, numbers, and
//! fresh object/array literals. The invariant: evaluating the printed literal gives back the
//! value exactly, whatever the file's line endings.

use std::fmt::Write as _;

/// How a string literal is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quote {
    Single,
    Double,
    Backtick,
}

/// The quote style to write `text` with when the original used `original`: multi-line text
/// goes into a template literal (readable), anything else keeps the original style.
pub(crate) fn choose_quote(original: Quote, text: &str) -> Quote {
    if text.contains('\n') {
        Quote::Backtick
    } else {
        original
    }
}

/// `text` as a literal in `quote` style; real newlines inside a template are written as `eol`
/// (`"\n"` or `"\r\n"`). Carriage returns are always escaped, since JavaScript reads a raw CR
/// or CRLF in a template as LF.
pub(crate) fn print_string(text: &str, quote: Quote, eol: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    let q = match quote {
        Quote::Single => '\'',
        Quote::Double => '"',
        Quote::Backtick => '`',
    };
    out.push(q);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' if quote == Quote::Backtick => out.push_str(eol),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' if quote == Quote::Backtick => out.push('\t'),
            '\t' => out.push_str("\\t"),
            '\u{2028}' if quote != Quote::Backtick => out.push_str("\\u2028"),
            '\u{2029}' if quote != Quote::Backtick => out.push_str("\\u2029"),
            '$' if quote == Quote::Backtick && chars.peek() == Some(&'{') => out.push_str("\\$"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            // `\xHH`, not `\0`: `\0` followed by a digit is an octal escape (an error in
            // templates and in strict mode).
            c if c.is_control() && (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

/// JavaScript's `String(n)` for the numbers it prints without an exponent; `None` for the
/// others (exponent forms differ between Rust and JavaScript and are not worth guessing).
pub(crate) fn js_number_to_string(n: f64) -> Option<String> {
    if n.is_nan() {
        return Some("NaN".into());
    }
    if n.is_infinite() {
        return Some(if n > 0.0 { "Infinity" } else { "-Infinity" }.into());
    }
    if n == 0.0 {
        return Some("0".into());
    }
    let abs = n.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display prints the shortest round-trip digits without an exponent, which is
        // what JavaScript does in this range.
        Some(format!("{n}"))
    } else {
        None
    }
}

/// A number as source: its JSON form, which is valid JavaScript.
pub(crate) fn print_number(n: &serde_json::Number) -> String {
    n.to_string()
}

/// Whether `key` can be written as a bare identifier property name. ASCII only: other keys
/// are quoted, which is always valid.
pub(crate) fn is_identifier_name(key: &str) -> bool {
    let mut chars = key.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first == '_' || first == '$' || first.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == '$' || c.is_ascii_alphanumeric())
}

/// Source for a property key.
pub(crate) fn print_key(key: &str, quote: Quote) -> String {
    if is_identifier_name(key) {
        key.to_owned()
    } else {
        let q = if quote == Quote::Backtick {
            Quote::Double
        } else {
            quote
        };
        print_string(key, q, "\n")
    }
}

/// Layout of a freshly printed object or array literal.
pub(crate) struct Layout<'s> {
    /// Indentation of the line the literal starts on.
    pub indent: &'s str,
    /// One indentation step.
    pub unit: &'s str,
    /// Line ending of the file.
    pub eol: &'s str,
    /// Quote style for strings that fit on one line.
    pub quote: Quote,
}

/// Print any JSON value as a JavaScript literal. Objects and arrays are printed one entry per
/// line, indented one `unit` deeper than `indent`, with trailing commas.
pub(crate) fn print_value(value: &serde_json::Value, layout: &Layout<'_>) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => print_number(n),
        Value::String(s) => print_string(s, choose_quote(layout.quote, s), layout.eol),
        Value::Array(items) => {
            let inner = layout.inner();
            let child = layout.child(&inner);
            let texts: Vec<String> = items.iter().map(|v| print_value(v, &child)).collect();
            print_container('[', ']', &texts, layout)
        }
        Value::Object(map) => {
            let inner = layout.inner();
            let child = layout.child(&inner);
            let texts: Vec<String> = map
                .iter()
                .map(|(k, v)| print_property(k, v, &child))
                .collect();
            print_container('{', '}', &texts, layout)
        }
    }
}

/// `key: value` for a property printed on a line indented as `layout` says.
pub(crate) fn print_property(key: &str, value: &serde_json::Value, layout: &Layout<'_>) -> String {
    format!(
        "{}: {}",
        print_key(key, layout.quote),
        print_value(value, layout)
    )
}

/// A container literal from the source text of its entries: one entry per line, one `unit`
/// deeper than `layout.indent`, each followed by a comma; `{}` / `[]` when empty.
pub(crate) fn print_container(
    open: char,
    close: char,
    entries: &[String],
    layout: &Layout<'_>,
) -> String {
    let mut out = String::from(open);
    if entries.is_empty() {
        out.push(close);
        return out;
    }
    let inner = layout.inner();
    for text in entries {
        out.push_str(layout.eol);
        out.push_str(&inner);
        out.push_str(text);
        out.push(',');
    }
    out.push_str(layout.eol);
    out.push_str(layout.indent);
    out.push(close);
    out
}

impl Layout<'_> {
    /// The indentation of the entries inside a container at this layout.
    pub(crate) fn inner(&self) -> String {
        format!("{}{}", self.indent, self.unit)
    }

    /// The same layout at indentation `indent`.
    pub(crate) fn child<'i>(&'i self, indent: &'i str) -> Layout<'i> {
        Layout {
            indent,
            unit: self.unit,
            eol: self.eol,
            quote: self.quote,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_strings_escape_what_they_must() {
        assert_eq!(print_string("it's", Quote::Single, "\n"), r"'it\'s'");
        assert_eq!(
            print_string("say \"hi\"", Quote::Double, "\n"),
            r#""say \"hi\"""#
        );
        assert_eq!(print_string("a\\b", Quote::Double, "\n"), r#""a\\b""#);
        assert_eq!(
            print_string("a\u{2028}b\0c", Quote::Single, "\n"),
            r"'a\u2028b\x00c'"
        );
        assert_eq!(
            print_string("tab\there", Quote::Double, "\n"),
            r#""tab\there""#
        );
    }

    #[test]
    fn templates_escape_backticks_substitutions_and_cr() {
        assert_eq!(print_string("a`b", Quote::Backtick, "\n"), "`a\\`b`");
        assert_eq!(
            print_string("${x} $y", Quote::Backtick, "\n"),
            "`\\${x} $y`"
        );
        assert_eq!(
            print_string("l1\nl2", Quote::Backtick, "\r\n"),
            "`l1\r\nl2`"
        );
        assert_eq!(
            print_string("l1\r\nl2", Quote::Backtick, "\n"),
            "`l1\\r\nl2`"
        );
    }

    #[test]
    fn multi_line_text_prefers_templates() {
        assert_eq!(choose_quote(Quote::Single, "a\nb"), Quote::Backtick);
        assert_eq!(choose_quote(Quote::Single, "a b"), Quote::Single);
        assert_eq!(choose_quote(Quote::Backtick, "a b"), Quote::Backtick);
    }

    #[test]
    fn numbers_print_like_javascript_or_not_at_all() {
        assert_eq!(js_number_to_string(3.0).as_deref(), Some("3"));
        assert_eq!(js_number_to_string(-0.0).as_deref(), Some("0"));
        assert_eq!(js_number_to_string(1.5).as_deref(), Some("1.5"));
        assert_eq!(
            js_number_to_string(0.1 + 0.2).as_deref(),
            Some("0.30000000000000004")
        );
        assert_eq!(js_number_to_string(1e21), None);
        assert_eq!(js_number_to_string(f64::NAN).as_deref(), Some("NaN"));
    }

    #[test]
    fn fresh_objects_are_indented_like_the_original() {
        let value = serde_json::json!({"base": "b", "my key": [1, true, null], "empty": {}});
        let layout = Layout {
            indent: "  ",
            unit: "    ",
            eol: "\n",
            quote: Quote::Single,
        };
        let printed = print_value(&value, &layout);
        assert_eq!(
            printed,
            "{\n      base: 'b',\n      'my key': [\n          1,\n          true,\n          null,\n      ],\n      empty: {},\n  }"
        );
    }
}
