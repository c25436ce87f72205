//! Write-back: put a new value into the source that defines a [`Node`], exactly and atomically.
//!
//! Planning is pure: it turns (node, new value) into byte-span edits, reading each touched
//! file once and refusing if its hash differs from the one compile recorded. Committing writes
//! every file through a temp file in the same folder (fsync, permissions kept, rename, fsync of
//! the folder), and only after checking all files again, so either every file is written or
//! none is (short of a crash between two renames).

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use oxc_allocator::Allocator;
use oxc_ast::AstKind;
use oxc_ast::ast::{ObjectPropertyKind, PropertyKey};
use oxc_ast_visit::Visit;
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};
use serde_json::Value;

use crate::error::WriteError;
use crate::literal::{Entry, Layout, Quote, choose_quote, print_number, print_string, print_value};
use crate::model::{Compiled, LiteralKind, Node, Origin};
use crate::source::{SourceText, sha256_hex};

/// Options for [`write_back`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Allow flattening a value built from several pieces (concatenation, template with
    /// substitutions, object with spreads) into one literal.
    pub force: bool,
}

/// What [`write_back`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files rewritten, relative to the project root, sorted. Empty when the source already
    /// held the new value.
    pub files: Vec<String>,
}

/// Write `new_value` back into the source that defines `node` (which came from `compiled`).
///
/// Only the bytes of the literals that define the value change. Each file is checked against
/// the sha256 compile recorded; if any differs, nothing is written ([`WriteError::Changed`]).
/// After a write, `compiled` is stale: compile again before another write.
pub fn write_back(
    root: &Path,
    compiled: &Compiled,
    node: &Node,
    new_value: &Value,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let store = FsStore { root };
    let new_texts = plan_texts(&store, compiled, node, new_value, opts)?;
    commit_fs(root, compiled, &new_texts)?;
    Ok(WriteReport {
        files: new_texts.into_keys().collect(),
    })
}

/// [`write_back`] on a project held in memory (relative path -> text), as returned by
/// [`crate::evaluate_files`]. Same checks, same edits; the map is updated in place.
pub fn write_back_files(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    node: &Node,
    new_value: &Value,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let new_texts = {
        let store = MemStore { files };
        plan_texts(&store, compiled, node, new_value, opts)?
    };
    let report = WriteReport {
        files: new_texts.keys().cloned().collect(),
    };
    files.extend(new_texts);
    Ok(report)
}

/// For the renderer and engine: would writing a new value here need `force`? True when the
/// value, or any part of it, is built from several pieces. (A given new value may not touch
/// those parts; [`needs_force_for`] answers exactly.)
pub fn needs_force(node: &Node) -> bool {
    match node {
        Node::Object { entries, origin } => {
            origin.literal == LiteralKind::Composite || entries.values().any(needs_force)
        }
        Node::Array { items, origin } => {
            origin.literal == LiteralKind::Composite || items.iter().any(needs_force)
        }
        Node::Unreadable(_) => false,
        other => other
            .origin()
            .is_some_and(|o| o.literal == LiteralKind::Composite),
    }
}

/// Would writing `new_value` over `node` need `force`?
pub fn needs_force_for(node: &Node, new_value: &Value) -> bool {
    if node.to_json().is_ok_and(|v| v == *new_value) {
        return false;
    }
    match (node, new_value) {
        (Node::Object { entries, origin }, Value::Object(map)) => {
            if same_keys(entries, map) {
                map.iter()
                    .any(|(k, v)| entries.get(k).is_some_and(|n| needs_force_for(n, v)))
            } else {
                origin.literal == LiteralKind::Composite
            }
        }
        (Node::Array { items, origin }, Value::Array(values)) => {
            if items.len() == values.len() {
                items.iter().zip(values).any(|(n, v)| needs_force_for(n, v))
            } else {
                origin.literal == LiteralKind::Composite
            }
        }
        (node, _) => node
            .origin()
            .is_some_and(|o| o.literal == LiteralKind::Composite),
    }
}

fn same_keys(entries: &BTreeMap<String, Node>, map: &serde_json::Map<String, Value>) -> bool {
    entries.len() == map.len() && map.keys().all(|k| entries.contains_key(k))
}

/// Where files are read from (and, for the hash check, re-read).
trait Store {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>>;
    fn path(&self, rel: &str) -> PathBuf;
}

struct FsStore<'r> {
    root: &'r Path,
}

impl Store for FsStore<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.root.join(rel))
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

struct MemStore<'m> {
    files: &'m BTreeMap<String, String>,
}

impl Store for MemStore<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.files
            .get(rel)
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file in memory"))
    }
    fn path(&self, rel: &str) -> PathBuf {
        PathBuf::from(rel)
    }
}

/// Read `rel` and check it is byte for byte what compile read.
fn read_checked(store: &dyn Store, compiled: &Compiled, rel: &str) -> Result<String, WriteError> {
    let changed = || WriteError::Changed {
        file: rel.to_owned(),
    };
    let bytes = match store.read(rel) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(changed()),
        Err(source) => {
            return Err(WriteError::Io {
                path: store.path(rel),
                source,
            });
        }
    };
    if compiled.inputs.get(rel) != Some(&sha256_hex(&bytes)) {
        return Err(changed());
    }
    String::from_utf8(bytes).map_err(|_| changed())
}

/// One replacement of a byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edit {
    file: String,
    start: u32,
    end: u32,
    text: String,
}

struct Planner<'s> {
    store: &'s dyn Store,
    compiled: &'s Compiled,
    force: bool,
    texts: HashMap<String, SourceText>,
    edits: Vec<Edit>,
}

/// Plan the edits and return the new text of every file that changes.
fn plan_texts(
    store: &dyn Store,
    compiled: &Compiled,
    node: &Node,
    new_value: &Value,
    opts: WriteOptions,
) -> Result<BTreeMap<String, String>, WriteError> {
    let mut planner = Planner {
        store,
        compiled,
        force: opts.force,
        texts: HashMap::new(),
        edits: Vec::new(),
    };
    planner.plan(node, new_value)?;
    planner.apply()
}

impl Planner<'_> {
    fn text(&mut self, rel: &str) -> Result<&SourceText, WriteError> {
        if !self.texts.contains_key(rel) {
            let text = read_checked(self.store, self.compiled, rel)?;
            self.texts
                .insert(rel.to_owned(), SourceText::new(rel.to_owned(), text));
        }
        self.texts.get(rel).ok_or_else(|| WriteError::Changed {
            file: rel.to_owned(),
        })
    }

    fn composite_error(origin: &Origin) -> WriteError {
        WriteError::Composite {
            file: origin.file.clone(),
            line: origin.line,
            column: origin.column,
        }
    }

    fn plan(&mut self, node: &Node, value: &Value) -> Result<(), WriteError> {
        if node.to_json().is_ok_and(|current| current == *value) {
            return Ok(());
        }
        match (node, value) {
            (Node::Unreadable(u), _) => Err(WriteError::Unreadable(u.clone())),
            (Node::String { origin, .. }, Value::String(s)) => {
                let force = self.force;
                let src = self.text(&origin.file)?;
                let quote = match origin.literal {
                    LiteralKind::SingleQuoted => Quote::Single,
                    LiteralKind::DoubleQuoted => Quote::Double,
                    LiteralKind::Template => Quote::Backtick,
                    LiteralKind::Composite if force => quote_at(&src.text, origin.start),
                    LiteralKind::Composite => return Err(Self::composite_error(origin)),
                    _ => return Err(shape_mismatch(origin, "a string")),
                };
                let text = print_string(s, choose_quote(quote, s), eol(&src.text));
                self.push(origin, text);
                Ok(())
            }
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

    /// Replace a whole object or array literal with a freshly printed one (the key set or
    /// length changed). Entries whose value did not change keep their source text verbatim,
    /// so references such as `base: BASE` survive.
    fn reprint(&mut self, node: &Node, origin: &Origin, value: &Value) -> Result<(), WriteError> {
        if origin.literal == LiteralKind::Composite && !self.force {
            return Err(Self::composite_error(origin));
        }
        if let Some(u) = node.unreadables().first() {
            return Err(WriteError::Unreadable((*u).clone()));
        }
        let src = self.text(&origin.file)?;
        let text = &src.text;
        let parts = container_parts(text, &origin.file, Span::new(origin.start, origin.end));
        let indent = line_indent(text, origin.start as usize);
        let unit = parts
            .first_entry_start
            .and_then(|start| {
                let entry_line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                let entry_indent = line_indent(text, start);
                (entry_line_start > origin.start as usize && entry_indent.len() > indent.len())
                    .then(|| entry_indent.strip_prefix(indent))
                    .flatten()
            })
            .unwrap_or(if indent.contains('\t') { "\t" } else { "  " });
        let quote = first_quote(node);
        let layout = Layout {
            indent,
            unit,
            eol: eol(text),
            quote,
        };
        // A container built with spreads does not line up with its literal's own entries.
        let can_reuse = origin.literal != LiteralKind::Composite;
        let reuse = |entry: Entry<'_>| -> Option<String> {
            if !can_reuse {
                return None;
            }
            match (entry, node) {
                (Entry::Key(key, v), Node::Object { entries, .. }) => {
                    let unchanged = entries
                        .get(key)
                        .is_some_and(|n| n.to_json().is_ok_and(|j| j == *v));
                    unchanged.then(|| parts.keyed.get(key).cloned()).flatten()
                }
                (Entry::Index(i, v), Node::Array { items, .. }) => {
                    let unchanged = items
                        .get(i)
                        .is_some_and(|n| n.to_json().is_ok_and(|j| j == *v));
                    unchanged.then(|| parts.indexed.get(i).cloned()).flatten()
                }
                _ => None,
            }
        };
        let printed = print_value(value, &layout, &reuse);
        self.push(origin, printed);
        Ok(())
    }

    /// Apply the planned edits: sorted, identical duplicates merged, overlaps refused.
    fn apply(mut self) -> Result<BTreeMap<String, String>, WriteError> {
        self.edits
            .sort_by(|a, b| (&a.file, a.start, a.end).cmp(&(&b.file, b.start, b.end)));
        self.edits.dedup();
        let mut out = BTreeMap::new();
        let mut i = 0;
        while i < self.edits.len() {
            let file = self.edits[i].file.clone();
            let src = self
                .texts
                .get(&file)
                .ok_or_else(|| WriteError::Changed { file: file.clone() })?;
            let text = &src.text;
            let mut new_text = String::with_capacity(text.len());
            let mut pos = 0usize;
            while let Some(edit) = self.edits.get(i).filter(|e| e.file == file) {
                let (start, end) = (edit.start as usize, edit.end as usize);
                if start < pos {
                    let (line, column) = src.line_col(edit.start);
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
                        reason: format!("the recorded span {start}..{end} does not fit {file}"),
                    });
                }
                new_text.push_str(&text[pos..start]);
                new_text.push_str(&edit.text);
                pos = end;
                i += 1;
            }
            new_text.push_str(&text[pos..]);
            if new_text != *text {
                out.insert(file, new_text);
            }
        }
        Ok(out)
    }
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
    }
}

fn describe_json(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The file's line ending, judged by its first line break.
pub(crate) fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
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

/// Leading whitespace of the line containing byte `offset`.
fn line_indent(text: &str, offset: usize) -> &str {
    let offset = offset.min(text.len());
    let start = text
        .get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let line = &text[start..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// The quote style of the first quoted string directly inside a container; double by default.
fn first_quote(node: &Node) -> Quote {
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
        .unwrap_or(Quote::Double)
}

/// The source pieces of the object or array literal at `span`, found by parsing the file again.
#[derive(Default)]
struct ContainerParts {
    /// Object: key -> source of the whole property (`key: value`); the last one wins, as in JS.
    keyed: HashMap<String, String>,
    /// Array: source of each item.
    indexed: Vec<String>,
    first_entry_start: Option<usize>,
}

fn container_parts(text: &str, rel: &str, span: Span) -> ContainerParts {
    crate::source::with_big_stack(|| container_parts_here(text, rel, span)).unwrap_or_default()
}

fn container_parts_here(text: &str, rel: &str, span: Span) -> ContainerParts {
    let allocator = Allocator::default();
    let source_type = SourceType::from_path(rel).unwrap_or_else(|_| SourceType::ts());
    let ret = Parser::new(&allocator, text, source_type).parse();
    let mut finder = ContainerFinder {
        span,
        text,
        parts: None,
    };
    finder.visit_program(&ret.program);
    finder.parts.unwrap_or_default()
}

struct ContainerFinder<'t> {
    span: Span,
    text: &'t str,
    parts: Option<ContainerParts>,
}

impl<'a> Visit<'a> for ContainerFinder<'_> {
    fn enter_node(&mut self, kind: AstKind<'a>) {
        if self.parts.is_some() {
            return;
        }
        let slice = |s: Span| {
            self.text
                .get(s.start as usize..s.end as usize)
                .unwrap_or("")
                .to_owned()
        };
        match kind {
            AstKind::ObjectExpression(obj) if obj.span == self.span => {
                let mut parts = ContainerParts::default();
                for prop in &obj.properties {
                    parts
                        .first_entry_start
                        .get_or_insert(prop.span().start as usize);
                    if let ObjectPropertyKind::ObjectProperty(p) = prop {
                        let key = match &p.key {
                            PropertyKey::StaticIdentifier(id) if !p.computed => {
                                Some(id.name.as_str().to_owned())
                            }
                            PropertyKey::StringLiteral(s) => Some(s.value.as_str().to_owned()),
                            _ => None,
                        };
                        if let Some(key) = key {
                            parts.keyed.insert(key, slice(p.span));
                        }
                    }
                }
                self.parts = Some(parts);
            }
            AstKind::ArrayExpression(arr) if arr.span == self.span => {
                let mut parts = ContainerParts::default();
                for el in &arr.elements {
                    parts
                        .first_entry_start
                        .get_or_insert(el.span().start as usize);
                    parts.indexed.push(slice(el.span()));
                }
                self.parts = Some(parts);
            }
            _ => {}
        }
    }
}

/// Write every file atomically, after checking again that none changed since compile.
fn commit_fs(
    root: &Path,
    compiled: &Compiled,
    new_texts: &BTreeMap<String, String>,
) -> Result<(), WriteError> {
    let store = FsStore { root };
    let mut prepared = Vec::new();
    for (rel, text) in new_texts {
        let path = root.join(rel);
        // Write through symlinks: replacing the link itself would detach it from its target.
        let target = std::fs::canonicalize(&path).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        let io_err = |source| WriteError::Io {
            path: target.clone(),
            source,
        };
        let dir = target.parent().unwrap_or(root).to_path_buf();
        let perms = std::fs::metadata(&target).map_err(io_err)?.permissions();
        let mut tmp = tempfile::Builder::new()
            .prefix(".lua-write-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(io_err)?;
        tmp.write_all(text.as_bytes()).map_err(io_err)?;
        tmp.as_file().sync_all().map_err(io_err)?;
        tmp.as_file().set_permissions(perms).map_err(io_err)?;
        prepared.push((tmp, target, dir));
    }
    // Last check right before renaming: a file edited while we prepared is not overwritten.
    for rel in new_texts.keys() {
        read_checked(&store, compiled, rel)?;
    }
    for (tmp, target, dir) in prepared {
        tmp.persist(&target).map_err(|e| WriteError::Io {
            path: target.clone(),
            source: e.error,
        })?;
        sync_dir(&dir).map_err(|source| WriteError::Io {
            path: dir.clone(),
            source,
        })?;
    }
    Ok(())
}

/// fsync a folder so a rename in it survives a crash (a no-op where folders cannot be opened).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
