//! Planning a write: turn (node, new value) into byte-span edits, reading each touched file
//! once through a [`Store`] and refusing if its hash differs from the one compile recorded.
//! Pure: nothing is written here ([`crate::fsio`] commits the result).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use oxc_span::Span;
use serde_json::Value;

use crate::error::WriteError;
use crate::fsio::{Store, read_checked};
use crate::layout::{eol, indent_unit, line_indent, line_start, starts_line};
use crate::literal::{
    Layout, Quote, choose_quote, print_container, print_number, print_property, print_string,
    print_value,
};
use crate::model::{Compiled, LiteralKind, Node, Origin};
use crate::outline::{Container, Part, outline, slice};
use crate::source::SourceText;

/// One replacement of a byte span (an insertion when `start == end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub file: String,
    pub start: u32,
    pub end: u32,
    pub text: String,
}

/// Collects the edits of one write. Every file it reads is checked against compile's hash.
pub(crate) struct Planner<'s> {
    store: &'s dyn Store,
    compiled: &'s Compiled,
    force: bool,
    texts: HashMap<String, Rc<SourceText>>,
    edits: Vec<Edit>,
}

impl<'s> Planner<'s> {
    pub fn new(store: &'s dyn Store, compiled: &'s Compiled, force: bool) -> Self {
        Planner {
            store,
            compiled,
            force,
            texts: HashMap::new(),
            edits: Vec::new(),
        }
    }

    /// The text of `rel`, read once and checked to be what compile read.
    pub fn text(&mut self, rel: &str) -> Result<Rc<SourceText>, WriteError> {
        if let Some(text) = self.texts.get(rel) {
            return Ok(Rc::clone(text));
        }
        let text = Rc::new(SourceText::new(
            rel.to_owned(),
            read_checked(self.store, self.compiled, rel)?,
        ));
        self.texts.insert(rel.to_owned(), Rc::clone(&text));
        Ok(text)
    }

    pub fn composite_error(origin: &Origin) -> WriteError {
        WriteError::Composite {
            file: origin.file.clone(),
            line: origin.line,
            column: origin.column,
        }
    }

    /// Plan writing `value` over `node`.
    pub fn plan(&mut self, node: &Node, value: &Value) -> Result<(), WriteError> {
        if node.to_json().is_ok_and(|current| current == *value) {
            return Ok(());
        }
        match (node, value) {
            (Node::Unreadable(u), _) => Err(WriteError::Unreadable(u.clone())),
            (Node::String { origin, .. }, Value::String(s)) => self.string(origin, s),
            (Node::Number { origin, .. }, Value::Number(n)) => self.scalar(origin, print_number(n)),
            (Node::Bool { origin, .. }, Value::Bool(b)) => self.scalar(origin, b.to_string()),
            (Node::Object { entries, .. }, Value::Object(map)) if same_keys(entries, map) => {
                for (key, v) in map {
                    if let Some(child) = entries.get(key) {
                        self.plan(child, v)?;
                    }
                }
                Ok(())
            }
            (Node::Array { items, .. }, Value::Array(values)) if items.len() == values.len() => {
                for (child, v) in items.iter().zip(values) {
                    self.plan(child, v)?;
                }
                Ok(())
            }
            (Node::Object { origin, .. }, Value::Object(_))
            | (Node::Array { origin, .. }, Value::Array(_)) => self.reprint(node, origin, value),
            (node, value) => {
                let Some(origin) = node.origin() else {
                    return Err(WriteError::Shape {
                        reason: "the value has no source".into(),
                    });
                };
                Err(shape_mismatch(origin, describe_json(value)))
            }
        }
    }

    fn string(&mut self, origin: &Origin, s: &str) -> Result<(), WriteError> {
        let src = self.text(&origin.file)?;
        let quote = match origin.literal {
            LiteralKind::SingleQuoted => Quote::Single,
            LiteralKind::DoubleQuoted => Quote::Double,
            LiteralKind::Template => Quote::Backtick,
            LiteralKind::Composite if self.force => quote_at(&src.text, origin.start),
            LiteralKind::Composite => return Err(Self::composite_error(origin)),
            _ => return Err(shape_mismatch(origin, "a string")),
        };
        let text = print_string(s, choose_quote(quote, s), eol(&src.text));
        self.push(origin, text);
        Ok(())
    }

    fn scalar(&mut self, origin: &Origin, text: String) -> Result<(), WriteError> {
        if origin.literal == LiteralKind::Composite && !self.force {
            return Err(Self::composite_error(origin));
        }
        self.text(&origin.file)?;
        self.push(origin, text);
        Ok(())
    }

    fn push(&mut self, origin: &Origin, text: String) {
        self.edits.push(Edit {
            file: origin.file.clone(),
            start: origin.start,
            end: origin.end,
            text,
        });
    }

    /// Add an insertion (or any edit) planned elsewhere.
    pub fn push_edit(&mut self, edit: Edit) {
        self.edits.push(edit);
    }

    /// Replace a whole object or array literal with a freshly printed one (the key set or
    /// length changed). Entries keep their order and, where their value did not change, their
    /// source text; a changed entry is itself written in place (so `base: BASE` rewrites the
    /// `const BASE`, and `mode: 'x' as const` keeps its `as const`). A literal with spreads or
    /// computed keys cannot be reprinted exactly: it needs `force`, and is then flattened.
    fn reprint(&mut self, node: &Node, origin: &Origin, value: &Value) -> Result<(), WriteError> {
        if let Some(u) = node.unreadables().first() {
            return Err(WriteError::Unreadable((*u).clone()));
        }
        let src = self.text(&origin.file)?;
        let text = src.text.as_str();
        let span = Span::new(origin.start, origin.end);
        let container = outline(text, &origin.file, Some(span))
            .container
            .unwrap_or_default();
        let flatten = origin.literal == LiteralKind::Composite || container.has_dynamic();
        if flatten && !self.force {
            return Err(Self::composite_error(origin));
        }
        let indent = line_indent(text, origin.start as usize);
        let unit = entry_unit(text, origin, indent, &container);
        let layout = Layout {
            indent,
            unit: &unit,
            eol: eol(text),
            quote: first_quote(node),
        };
        if flatten {
            let printed = print_value(value, &layout);
            self.push(origin, printed);
            return Ok(());
        }
        let inner = layout.inner();
        let child = layout.child(&inner);
        let (open, close, entries) = match (node, value) {
            (Node::Object { entries, .. }, Value::Object(map)) => {
                let texts = self.object_entries(text, &container, entries, map, &child)?;
                ('{', '}', texts)
            }
            (Node::Array { items, .. }, Value::Array(values)) => {
                let mut texts = Vec::with_capacity(values.len());
                for (i, v) in values.iter().enumerate() {
                    let kept = items.get(i).zip(container.parts.get(i));
                    texts.push(match kept {
                        Some((old, part)) => self.kept_entry(text, part, old, None, v, &child)?,
                        None => print_value(v, &child),
                    });
                }
                ('[', ']', texts)
            }
            _ => return Err(shape_mismatch(origin, describe_json(value))),
        };
        let printed = print_container(open, close, &entries, &layout);
        self.push(origin, printed);
        Ok(())
    }

    /// The entries of a reprinted object: kept keys in source order, then new keys.
    fn object_entries(
        &mut self,
        text: &str,
        container: &Container,
        entries: &BTreeMap<String, Node>,
        map: &serde_json::Map<String, Value>,
        child: &Layout<'_>,
    ) -> Result<Vec<String>, WriteError> {
        // The last property of a key wins, as in JavaScript.
        let mut last: HashMap<&str, &Part> = HashMap::new();
        for part in &container.parts {
            if let Some(key) = &part.key {
                last.insert(key, part);
            }
        }
        let mut texts = Vec::with_capacity(map.len());
        let mut done = HashSet::new();
        for part in &container.parts {
            let Some(key) = part.key.as_deref() else {
                continue;
            };
            let is_last = last.get(key).is_some_and(|p| std::ptr::eq(*p, part));
            if let (true, Some(v), Some(old)) = (is_last, map.get(key), entries.get(key)) {
                texts.push(self.kept_entry(text, part, old, Some(key), v, child)?);
                done.insert(key);
            }
        }
        for (key, v) in map {
            if !done.contains(key.as_str()) {
                texts.push(print_property(key, v, child));
            }
        }
        Ok(texts)
    }

    /// The source of an entry that stays: verbatim when unchanged, else with its value written
    /// in place (edits inside the entry are applied to its text, edits elsewhere are kept).
    /// An inline value of another type is printed afresh.
    fn kept_entry(
        &mut self,
        text: &str,
        part: &Part,
        old: &Node,
        key: Option<&str>,
        value: &Value,
        child: &Layout<'_>,
    ) -> Result<String, WriteError> {
        let original = slice(text, part.span);
        let before = self.edits.len();
        match self.plan(old, value) {
            Ok(()) => {}
            Err(WriteError::Shape { .. })
                if inside(old, part.span) && (self.force || !crate::needs_force(old)) =>
            {
                self.edits.truncate(before);
                return Ok(match key {
                    Some(key) => print_property(key, value, child),
                    None => print_value(value, child),
                });
            }
            Err(e) => return Err(e),
        }
        let new: Vec<Edit> = self.edits.drain(before..).collect();
        let file = &old.origin().map_or_else(String::new, |o| o.file.clone());
        let (local, outer): (Vec<Edit>, Vec<Edit>) = new
            .into_iter()
            .partition(|e| e.file == *file && e.start >= part.span.start && e.end <= part.span.end);
        self.edits.extend(outer);
        // Re-indent nothing: values written in place keep the entry's own layout.
        splice(original, part.span.start as usize, local, file)
    }

    /// Apply the planned edits: the new text of every file that changes.
    pub fn apply(mut self) -> Result<BTreeMap<String, String>, WriteError> {
        self.edits
            .sort_by(|a, b| (&a.file, a.start, a.end).cmp(&(&b.file, b.start, b.end)));
        self.edits.dedup();
        let mut by_file: BTreeMap<String, Vec<Edit>> = BTreeMap::new();
        for edit in self.edits {
            by_file.entry(edit.file.clone()).or_default().push(edit);
        }
        let mut out = BTreeMap::new();
        for (file, edits) in by_file {
            let src = self
                .texts
                .get(&file)
                .ok_or_else(|| WriteError::Changed { file: file.clone() })?;
            let new_text = splice(&src.text, 0, edits, &file)?;
            if new_text != src.text {
                out.insert(file, new_text);
            }
        }
        Ok(out)
    }
}

/// Whether a node's source lies within `span` (an inline value, not a reference).
fn inside(node: &Node, span: Span) -> bool {
    node.origin()
        .is_some_and(|o| o.start >= span.start && o.end <= span.end)
}

/// `text` (which starts at byte `base` of `file`) with `edits` applied; edits sorted by start.
/// Overlapping edits with different text are refused.
fn splice(text: &str, base: usize, mut edits: Vec<Edit>, file: &str) -> Result<String, WriteError> {
    edits.sort_by_key(|e| (e.start, e.end));
    edits.dedup();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0usize;
    for edit in &edits {
        let (start, end) = (
            (edit.start as usize).wrapping_sub(base),
            (edit.end as usize).wrapping_sub(base),
        );
        if start < pos {
            let at = edit.start.saturating_sub(crate::source::to_u32(base));
            let (line, column) = SourceText::new(file.into(), text.into()).line_col(at);
            return Err(WriteError::Shape {
                reason: format!(
                    "two values share the source at {file}:{line}:{column} and would get different text"
                ),
            });
        }
        if end > text.len()
            || start > end
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            return Err(WriteError::Shape {
                reason: format!(
                    "the recorded span {}..{} does not fit {file}",
                    edit.start, edit.end
                ),
            });
        }
        out.push_str(&text[pos..start]);
        out.push_str(&edit.text);
        pos = end;
    }
    out.push_str(&text[pos..]);
    Ok(out)
}

/// One indentation step inside a container: what its first entry on its own line uses, else
/// the file's.
fn entry_unit(text: &str, origin: &Origin, indent: &str, container: &Container) -> String {
    container
        .parts
        .first()
        .map(|p| p.span.start as usize)
        .filter(|&start| {
            line_start(text, start) > origin.start as usize && starts_line(text, start)
        })
        .and_then(|start| {
            let entry_indent = line_indent(text, start);
            entry_indent
                .strip_prefix(indent)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| indent_unit(text))
}

pub(crate) fn same_keys(
    entries: &BTreeMap<String, Node>,
    map: &serde_json::Map<String, Value>,
) -> bool {
    entries.len() == map.len() && map.keys().all(|k| entries.contains_key(k))
}

fn shape_mismatch(origin: &Origin, new: &str) -> WriteError {
    WriteError::Shape {
        reason: format!(
            "the code at {}:{}:{} is {} and the new value is {new}; edit it by hand",
            origin.file,
            origin.line,
            origin.column,
            describe_kind(origin.literal)
        ),
    }
}

fn describe_kind(kind: LiteralKind) -> &'static str {
    match kind {
        LiteralKind::SingleQuoted | LiteralKind::DoubleQuoted | LiteralKind::Template => {
            "a string literal"
        }
        LiteralKind::Composite => "an expression built from several pieces",
        LiteralKind::ObjectLiteral => "an object literal",
        LiteralKind::ArrayLiteral => "an array literal",
        LiteralKind::Other => "a literal of another type",
        LiteralKind::Derived => {
            "no literal but a value derived from the code (a class agent's name from its class name; declare `name = \"...\";` in the class to pull it)"
        }
        LiteralKind::ClassBody => "a class body",
    }
}

pub(crate) fn describe_json(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The quote style of the expression at `start` (for a composite replaced by one literal).
fn quote_at(text: &str, start: u32) -> Quote {
    match text.as_bytes().get(start as usize) {
        Some(b'`') => Quote::Backtick,
        Some(b'\'') => Quote::Single,
        _ => Quote::Double,
    }
}

/// The quote style of the first quoted string directly inside a container, if any.
pub(crate) fn node_quote(node: &Node) -> Option<Quote> {
    let children: Vec<&Node> = match node {
        Node::Object { entries, .. } => entries.values().collect(),
        Node::Array { items, .. } => items.iter().collect(),
        _ => Vec::new(),
    };
    children
        .iter()
        .find_map(|n| match n.origin().map(|o| o.literal) {
            Some(LiteralKind::SingleQuoted) => Some(Quote::Single),
            Some(LiteralKind::DoubleQuoted) => Some(Quote::Double),
            _ => None,
        })
}

/// The quote style of the first quoted string directly inside a container; double by default.
fn first_quote(node: &Node) -> Quote {
    node_quote(node).unwrap_or(Quote::Double)
}
