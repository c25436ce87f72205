//! An owned, position-carrying view of a YAML document, built straight from
//! `saphyr-parser`'s event stream (no intermediate tree: saphyr's own loader hashes every
//! key and clones every anchor, which was most of the cost of reading a large
//! `lua.skill.yaml`). Positions are UTF-8 byte offsets plus 1-based lines, so callers can
//! slice the source text and annotate lines; the parser counts characters, which we
//! convert here.
//!
//! It keeps only what `lua.skill.yaml` needs (scalars, sequences, mappings with string
//! keys); aliases and tags are reported as unsupported rather than guessed, and a key
//! repeated in one mapping is a syntax error, as in saphyr's loader.

use std::borrow::Cow;
use std::collections::HashSet;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, ScanError, Span, Tag};

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

impl From<ScanError> for SyntaxError {
    fn from(e: ScanError) -> Self {
        Self {
            line: e.marker().line(),
            col: e.marker().col() + 1,
            message: e.info().to_string(),
        }
    }
}

/// Parse the first document of `text` (`None` for an empty file or one of comments only).
/// Later documents are parsed too, so a syntax error anywhere is reported, but not kept.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let offsets = CharOffsets::new(text);
    let mut builder = Builder {
        text,
        offsets: &offsets,
        stack: Vec::new(),
        first: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event?;
        builder.on_event(event, span)?;
    }
    Ok(builder.first)
}

/// A collection being read: its node so far.
enum Open {
    Seq(Node, Vec<Node>),
    /// Entries, the key read and waiting for its value, and the keys seen (duplicates).
    Map {
        node: Node,
        entries: Vec<(Node, String, Node)>,
        key: Option<(Node, String)>,
        seen: HashSet<KeyId>,
    },
}

/// How a scalar key compares with another (as saphyr's loader: by parsed value, so `1`
/// and `"1"` are two keys).
#[derive(Hash, PartialEq, Eq)]
enum KeyId {
    Null,
    Bool(bool),
    Number(String),
    String(String),
}

struct Builder<'t> {
    text: &'t str,
    offsets: &'t CharOffsets,
    stack: Vec<Open>,
    /// The first document's root, once read.
    first: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        match event {
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentStart(_) => {
                Ok(())
            }
            Event::DocumentEnd => {
                self.documents += 1;
                Ok(())
            }
            Event::SequenceStart(_, tag) => {
                let node = self.node(span, collection_value(tag.as_deref()));
                self.stack.push(Open::Seq(node, Vec::new()));
                Ok(())
            }
            Event::MappingStart(_, tag) => {
                let node = self.node(span, collection_value(tag.as_deref()));
                self.stack.push(Open::Map {
                    node,
                    entries: Vec::new(),
                    key: None,
                    seen: HashSet::new(),
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let node = match self.stack.pop() {
                    Some(Open::Seq(mut node, items)) => {
                        if !matches!(node.value, Value::Unsupported(_)) {
                            node.value = Value::Seq(items);
                        }
                        node
                    }
                    Some(Open::Map {
                        mut node, entries, ..
                    }) => {
                        if !matches!(node.value, Value::Unsupported(_)) {
                            node.value = Value::Map(entries);
                        }
                        node
                    }
                    // The parser balances its events; nothing to close is nothing to do.
                    None => return Ok(()),
                };
                self.insert(node, span)
            }
            Event::Scalar(text, style, _, tag) => {
                let value = scalar_value(text, style, tag);
                let node = self.node(span, value);
                self.insert(node, span)
            }
            Event::Alias(_) => {
                let node = self.node(span, Value::Unsupported("an alias"));
                self.insert(node, span)
            }
        }
    }

    fn node(&self, span: Span, value: Value) -> Node {
        Node {
            start: self.offsets.byte(span.start.index()).min(self.text.len()),
            line: span.start.line(),
            col: span.start.col(),
            value,
        }
    }

    /// A finished node goes into the open collection, or is a document's root.
    fn insert(&mut self, node: Node, span: Span) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            None => {
                if self.documents == 0 && self.first.is_none() {
                    self.first = Some(node);
                }
                Ok(())
            }
            Some(Open::Seq(_, items)) => {
                items.push(node);
                Ok(())
            }
            Some(Open::Map {
                entries, key, seen, ..
            }) => match key.take() {
                Some((key, name)) => {
                    entries.push((key, name, node));
                    Ok(())
                }
                None => {
                    if is_repeated(entries, seen, &node.value) {
                        return Err(SyntaxError {
                            line: span.start.line(),
                            col: span.start.col() + 1,
                            message: "duplicated key in mapping".to_string(),
                        });
                    }
                    let name = match &node.value {
                        Value::Scalar(ScalarValue::String(s) | ScalarValue::Number(s)) => s.clone(),
                        Value::Scalar(ScalarValue::Bool(b)) => b.to_string(),
                        _ => String::new(),
                    };
                    *key = Some((node, name));
                    Ok(())
                }
            },
        }
    }
}

/// A collection's value until it closes: unsupported under a tag of its own.
fn collection_value(tag: Option<&Tag>) -> Value {
    match tag {
        Some(tag) if !tag.is_yaml_core_schema() => Value::Unsupported("a tagged value"),
        // Replaced by the items when the collection closes.
        _ => Value::Seq(Vec::new()),
    }
}

/// A scalar as the YAML core schema reads it (saphyr's rules: quoted is a string, plain
/// is resolved, `!!int` and friends apply, an unknown core tag is unparsed).
fn scalar_value(text: Cow<'_, str>, style: ScalarStyle, tag: Option<Cow<'_, Tag>>) -> Value {
    if let Some(tag) = &tag
        && !tag.is_yaml_core_schema()
    {
        return Value::Unsupported("a tagged value");
    }
    // Plain scalars borrow from the source, so keeping the text written is cheap.
    let written = (style == ScalarStyle::Plain).then(|| text.clone());
    match Scalar::parse_from_cow_and_metadata(text, style, tag.as_ref()) {
        None => Value::Unsupported("an unparsed value"),
        Some(Scalar::Null) => Value::Scalar(ScalarValue::Null),
        Some(Scalar::Boolean(b)) => Value::Scalar(ScalarValue::Bool(b)),
        // A number keeps the text written: `1.0` stays `1.0`.
        Some(Scalar::Integer(_) | Scalar::FloatingPoint(_)) => Value::Scalar(ScalarValue::Number(
            written.map(Cow::into_owned).unwrap_or_default(),
        )),
        Some(Scalar::String(s)) => Value::Scalar(ScalarValue::String(s.into_owned())),
    }
}

/// Whether a key was seen before in its mapping: a scan while the mapping is small (the
/// usual case, no allocation), a set once it is large (a hostile file with thousands of
/// keys stays linear).
fn is_repeated(entries: &[(Node, String, Node)], seen: &mut HashSet<KeyId>, key: &Value) -> bool {
    const SCAN: usize = 16;
    if !matches!(key, Value::Scalar(_)) {
        return false;
    }
    if entries.len() < SCAN {
        return entries.iter().any(|(k, _, _)| k.value == *key);
    }
    let Some(id) = key_id(key) else {
        return false;
    };
    if seen.is_empty() {
        seen.extend(entries.iter().filter_map(|(k, _, _)| key_id(&k.value)));
    }
    !seen.insert(id)
}

fn key_id(value: &Value) -> Option<KeyId> {
    match value {
        Value::Scalar(ScalarValue::Null) => Some(KeyId::Null),
        Value::Scalar(ScalarValue::Bool(b)) => Some(KeyId::Bool(*b)),
        Value::Scalar(ScalarValue::Number(n)) => Some(KeyId::Number(n.clone())),
        Value::Scalar(ScalarValue::String(s)) => Some(KeyId::String(s.clone())),
        _ => None,
    }
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

    /// Positions and values as saphyr's own loader gives them, for the constructs this view
    /// models: the builder over events must agree with it node for node.
    #[test]
    fn agrees_with_saphyrs_loader() {
        use saphyr::{LoadableYamlNode, MarkedYaml, YamlData};
        fn flat(node: &MarkedYaml<'_>, out: &mut Vec<(usize, usize, usize, String)>) {
            let what = match &node.data {
                YamlData::Value(Scalar::String(s)) => format!("s:{s}"),
                YamlData::Value(Scalar::Null) => "null".into(),
                YamlData::Value(Scalar::Boolean(b)) => format!("b:{b}"),
                YamlData::Value(_) => "n".into(),
                YamlData::Sequence(_) => "seq".into(),
                YamlData::Mapping(_) => "map".into(),
                _ => "other".into(),
            };
            out.push((
                node.span.start.index(),
                node.span.start.line(),
                node.span.start.col(),
                what,
            ));
            match &node.data {
                YamlData::Sequence(items) => items.iter().for_each(|n| flat(n, out)),
                YamlData::Mapping(map) => map.iter().for_each(|(k, v)| {
                    flat(k, out);
                    flat(v, out);
                }),
                _ => {}
            }
        }
        fn ours(node: &Node, out: &mut Vec<(usize, usize, usize, String)>) {
            let what = match &node.value {
                Value::Scalar(ScalarValue::String(s)) => format!("s:{s}"),
                Value::Scalar(ScalarValue::Null) => "null".into(),
                Value::Scalar(ScalarValue::Bool(b)) => format!("b:{b}"),
                Value::Scalar(ScalarValue::Number(_)) => "n".into(),
                Value::Seq(_) => "seq".into(),
                Value::Map(_) => "map".into(),
                Value::Unsupported(_) => "other".into(),
            };
            out.push((node.start, node.line, node.col, what));
            match &node.value {
                Value::Seq(items) => items.iter().for_each(|n| ours(n, out)),
                Value::Map(entries) => entries.iter().for_each(|(k, _, v)| {
                    ours(k, out);
                    ours(v, out);
                }),
                _ => {}
            }
        }
        let docs = [
            "agent:\n  agentId: a1\nskills:\n  - name: s\n    version: 1.0.0\n    skillId: x\n",
            "# head\nskills:\n- name: \"q\" # c\n  version: '1.0'\n  n: 1.50\nmcpServers: []\n",
            "a: {b: [1, 2, {c: d}], e: ~}\nf: |\n  block\n  text\ng: >-\n  folded\nh: true\n",
            "list:\n  - - nested\n    - seq\n  -\n  - plain text here\nempty:\n",
            "k: 0x1F\nl: +5\nm: .inf\nn: null\no: 'it''s'\np: \"esc\\\"aped\"\n",
        ];
        for doc in docs {
            let loaded = MarkedYaml::load_from_str(doc).unwrap();
            let (mut want, mut got) = (Vec::new(), Vec::new());
            flat(&loaded[0], &mut want);
            ours(&parse(doc).unwrap().unwrap(), &mut got);
            assert_eq!(got, want, "{doc}");
        }
    }

    #[test]
    fn aliases_tags_and_repeated_keys() {
        let root = parse("a: &x 1\nb: *x\nc: !custom 2\nd: !!str 3\n")
            .unwrap()
            .unwrap();
        let Value::Map(entries) = &root.value else {
            panic!()
        };
        let kinds: Vec<_> = entries
            .iter()
            .map(|(_, _, v)| v.value.type_name())
            .collect();
        assert_eq!(
            kinds,
            ["a number", "an alias", "a tagged value", "a string"]
        );
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(
            (e.line, e.message.as_str()),
            (3, "duplicated key in mapping")
        );
        // `1` and `"1"` are two keys; a large mapping is checked too.
        assert!(parse("1: a\n\"1\": b\n").is_ok());
        let mut big: String = (0..40).map(|i| format!("k{i}: v\n")).collect();
        assert!(parse(&big).is_ok());
        big.push_str("k7: again\n");
        assert_eq!(parse(&big).unwrap_err().line, 41);
    }

    #[test]
    fn later_documents_are_checked_but_not_kept() {
        let root = parse("a: 1\n---\nb: 2\n").unwrap().unwrap();
        assert!(matches!(&root.value, Value::Map(e) if e.len() == 1 && e[0].1 == "a"));
        assert_eq!(parse("a: 1\n---\nb: [\n").unwrap_err().line, 4);
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let e = parse("a: [1\nb: 2").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(parse("").unwrap().is_none());
        assert!(parse("# only\n").unwrap().is_none());
    }
}
