//! An owned, position-carrying view of a YAML document, built once from `saphyr`'s marked
//! tree. Positions are UTF-8 byte offsets plus 1-based lines, so callers can slice the
//! source text and annotate lines; `saphyr` counts characters, which we convert here.
//!
//! It keeps only what `lua.skill.yaml` needs (scalars, sequences, mappings with string
//! keys); anchors, aliases and tags are reported as unsupported rather than guessed.

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// A node with where it starts in the source.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    /// Byte offset of the node's first character (a quote for quoted scalars, `[` or `{`
    /// for flow collections, the first key for block mappings, the `-` for block sequences).
    pub start: usize,
    /// 1-based line of `start`.
    pub line: usize,
    /// 0-based column (in characters) of `start`.
    pub col: usize,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    /// A scalar: its parsed form and its source text as written (without quotes).
    Scalar(ScalarValue),
    Seq(Vec<Node>),
    /// Keys in file order, each with its own node (for the key's line).
    Map(Vec<(Node, String, Node)>),
    /// An alias, tag or other construct this view does not model.
    Unsupported(&'static str),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum ScalarValue {
    Null,
    Bool(bool),
    /// A number, kept as the text written (`1.0` stays `1.0`).
    Number(String),
    String(String),
}

impl ScalarValue {
    /// A short name of the type, for "expected a string, found a list" messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Number(_) => "a number",
            Self::String(_) => "a string",
        }
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Scalar(s) => s.type_name(),
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
            Self::Unsupported(what) => what,
        }
    }
}

/// A syntax error: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub col: usize,
    pub message: String,
}

/// Parse the first document of `text` (`None` for an empty file or one of comments only).
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| SyntaxError {
        line: e.marker().line(),
        col: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    let Some(doc) = docs.first() else {
        return Ok(None);
    };
    let offsets = CharOffsets::new(text);
    Ok(Some(convert(doc, text, &offsets)))
}

/// Char index -> byte offset (identity for ASCII text, a table otherwise).
struct CharOffsets(Option<Vec<usize>>);

impl CharOffsets {
    fn new(text: &str) -> Self {
        if text.is_ascii() {
            return Self(None);
        }
        let mut table: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        table.push(text.len());
        Self(Some(table))
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.0 {
            None => char_index,
            Some(t) => t
                .get(char_index)
                .copied()
                .unwrap_or_else(|| t.last().copied().unwrap_or(0)),
        }
    }
}

fn convert(node: &MarkedYaml<'_>, text: &str, offsets: &CharOffsets) -> Node {
    let start = offsets.byte(node.span.start.index()).min(text.len());
    let value = match &node.data {
        YamlData::Value(scalar) => Value::Scalar(match scalar {
            Scalar::Null => ScalarValue::Null,
            Scalar::Boolean(b) => ScalarValue::Bool(*b),
            Scalar::Integer(_) | Scalar::FloatingPoint(_) => {
                // `,` `]` `}` cannot be part of a number, so cutting there is right in
                // both block and flow context.
                let (a, b) = scalar_extent(text, start, true).unwrap_or((start, start));
                ScalarValue::Number(text[a..b].to_string())
            }
            Scalar::String(s) => ScalarValue::String(s.to_string()),
        }),
        YamlData::Sequence(items) => {
            Value::Seq(items.iter().map(|n| convert(n, text, offsets)).collect())
        }
        YamlData::Mapping(map) => {
            let mut entries = Vec::with_capacity(map.len());
            for (k, v) in map {
                let key = convert(k, text, offsets);
                let name = match &key.value {
                    Value::Scalar(ScalarValue::String(s)) => s.clone(),
                    Value::Scalar(ScalarValue::Number(s)) => s.clone(),
                    Value::Scalar(ScalarValue::Bool(b)) => b.to_string(),
                    _ => String::new(),
                };
                entries.push((key, name, convert(v, text, offsets)));
            }
            Value::Map(entries)
        }
        YamlData::Tagged(..) => Value::Unsupported("a tagged value"),
        YamlData::Alias(_) => Value::Unsupported("an alias"),
        YamlData::Representation(..) | YamlData::BadValue => {
            Value::Unsupported("an unparsed value")
        }
    };
    Node {
        start,
        line: node.span.start.line(),
        col: node.span.start.col(),
        value,
    }
}

/// The extent of the scalar that starts at `start`, as `(start, end)` byte offsets of its
/// source text, quotes included; `flow` when inside `[...]`/`{...}` (where `,` `]` `}` end
/// a plain scalar). `None` when it is not a single-line scalar we can replace exactly.
///
/// Computed from the text, not from `saphyr`'s end marker, which for double-quoted
/// scalars runs past the closing quote.
pub(crate) fn scalar_extent(text: &str, start: usize, flow: bool) -> Option<(usize, usize)> {
    let rest = text.get(start..)?;
    let mut chars = rest.char_indices();
    match chars.next()?.1 {
        '"' => {
            let mut escaped = false;
            for (i, c) in chars {
                match c {
                    '\n' | '\r' => return None,
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return Some((start, start + i + 1)),
                    _ => escaped = false,
                }
            }
            None
        }
        '\'' => {
            let bytes = rest.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                match bytes[i] {
                    b'\n' | b'\r' => return None,
                    b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => return Some((start, start + i + 1)),
                    _ => i += 1,
                }
            }
            None
        }
        '|' | '>' | '&' | '*' | '!' => None,
        _ => {
            let line = plain_text_at(text, start);
            let mut end = line.len();
            if flow && let Some(i) = line.find([',', ']', '}']) {
                end = i;
            }
            let cut = line[..end].trim_end();
            if cut.is_empty() {
                return None;
            }
            Some((start, start + cut.len()))
        }
    }
}

/// The plain scalar text from `start` to the end of its line or a ` #` comment.
fn plain_text_at(text: &str, start: usize) -> &str {
    let rest = text.get(start..).unwrap_or("");
    let line_end = rest.find(['\n', '\r']).unwrap_or(rest.len());
    let line = &rest[..line_end];
    let comment = line
        .char_indices()
        .find(|&(i, c)| c == '#' && i > 0 && line[..i].ends_with([' ', '\t']))
        .map_or(line.len(), |(i, _)| i);
    line[..comment].trim_end()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_bytes_and_lines() {
        let text = "a: é\nb:\n  - \"x\" # c\n  - 1.0\n";
        let root = parse(text).unwrap().unwrap();
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        let (_, _, b) = &entries[1];
        let Value::Seq(items) = &b.value else {
            panic!()
        };
        assert_eq!(items[0].line, 3);
        assert_eq!(&text[items[0].start..items[0].start + 3], "\"x\"");
        assert_eq!(
            scalar_extent(text, items[0].start, false),
            Some((items[0].start, items[0].start + 3))
        );
        assert_eq!(
            items[1].value,
            Value::Scalar(ScalarValue::Number("1.0".into()))
        );
    }

    #[test]
    fn extents_of_each_style() {
        let t = "'it''s' # c";
        assert_eq!(scalar_extent(t, 0, false), Some((0, 7)));
        let t = "\"a\\\"b\"  ";
        assert_eq!(scalar_extent(t, 0, false), Some((0, 6)));
        let t = "1.0.0   # bumped";
        assert_eq!(scalar_extent(t, 0, false), Some((0, 5)));
        let t = "a#b c";
        assert_eq!(scalar_extent(t, 0, false), Some((0, 5)));
        let t = "2.0, x: 1}";
        assert_eq!(scalar_extent(t, 0, true), Some((0, 3)));
        assert_eq!(scalar_extent("\"open\n", 0, false), None);
        assert_eq!(scalar_extent("|\n  x", 0, false), None);
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = parse("a: [1\nb: 2").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("").unwrap().is_none());
        assert!(parse("# only\n").unwrap().is_none());
    }
}
