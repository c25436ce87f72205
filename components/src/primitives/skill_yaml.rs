//! `lua.skill.yaml`: the deployed primitives a project knows about, read with their line
//! numbers, and edited losslessly (comments, quoting and layout kept).
//!
//! Reading is strict: a malformed file, a section that is not a list, an entry without a
//! `name`, a `version` that is a list... is an error naming the file, line and field.
//! Each section is validated on its own ([`SkillYaml::entries`]), so a bad `jobs:` fails
//! only the component that reads jobs.
//!
//! Edits ([`Editor`]) replace exactly the bytes of one scalar or insert whole lines; each
//! edit is re-parsed and checked before it is accepted. [`SkillYaml::write`] swaps the
//! file in atomically and refuses if it changed since it was read.
//!
//! It knows YAML and the shape of entries; it does not know the platform or the engine.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::fsio;
use super::yaml_tree::{self, Node, ScalarValue, Value, scalar_extent};

/// The file name, at the project root.
pub const FILE_NAME: &str = "lua.skill.yaml";

/// One section of the file: `skills: [{name, version, skillId}]` and the like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Section {
    /// The top-level key (`skills`, `mcpServers`).
    pub key: &'static str,
    /// The entity id field (`skillId`, `mcpServerId`).
    pub id_field: &'static str,
    /// Whether entries carry a `version`.
    pub versioned: bool,
}

/// One entry of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    /// The `version` as written (numbers keep their text: `1.0` is `"1.0"`).
    pub version: Option<String>,
    /// The entity id (`skillId`, ...), when present.
    pub id: Option<String>,
    /// 1-based line of the entry (for annotations).
    pub line: usize,
}

/// What can go wrong reading or editing the file.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}:{col}: invalid YAML: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{}:{line}: `{field}` must be {expected}, found {found}", path.display())]
    Field {
        path: PathBuf,
        line: usize,
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("{}:{line}: `{section}` lists `{name}` twice (first at line {first})", path.display())]
    Duplicate {
        path: PathBuf,
        line: usize,
        first: usize,
        section: &'static str,
        name: String,
    },
    #[error("{}: cannot edit {what}: {reason}", path.display())]
    Edit {
        path: PathBuf,
        what: String,
        reason: String,
    },
    #[error("{} changed since lua read it; nothing was written (run lua sync again)", path.display())]
    Changed { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl YamlError {
    /// The 1-based line and column the error is at (1, 1 when it is about the whole file).
    pub fn position(&self) -> (usize, usize) {
        match self {
            Self::Syntax { line, col, .. } => (*line, *col),
            Self::Field { line, .. } | Self::Duplicate { line, .. } => (*line, 1),
            _ => (1, 1),
        }
    }

    /// The message without the file and position it starts with.
    pub fn detail(&self) -> String {
        match self {
            Self::Syntax { message, .. } => format!("invalid YAML: {message}"),
            Self::Field {
                field,
                expected,
                found,
                ..
            } => {
                format!("`{field}` must be {expected}, found {found}")
            }
            Self::Duplicate {
                section,
                name,
                first,
                ..
            } => {
                format!("`{section}` lists `{name}` twice (first at line {first})")
            }
            other => other.to_string(),
        }
    }
}

/// The file as read: its text, its hash, its parsed tree.
#[derive(Clone, Debug)]
pub struct SkillYaml {
    path: PathBuf,
    text: String,
    /// SHA-256 of the bytes read; `None` when the file did not exist.
    hash: Option<[u8; 32]>,
    root: Option<Node>,
}

impl SkillYaml {
    /// Read `root/lua.skill.yaml`. A missing file reads as an empty one (no entries);
    /// writing it later creates it.
    pub fn read(project_root: &Path) -> Result<Self, YamlError> {
        let path = project_root.join(FILE_NAME);
        match std::fs::read(&path) {
            Ok(bytes) => Self::from_bytes(&path, Some(&bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Self::from_bytes(&path, None),
            Err(source) => Err(YamlError::Read { path, source }),
        }
    }

    /// The file at `path` as read elsewhere (`None`: it does not exist).
    pub fn from_bytes(path: &Path, bytes: Option<&[u8]>) -> Result<Self, YamlError> {
        let Some(bytes) = bytes else {
            return Ok(Self {
                path: path.to_path_buf(),
                text: String::new(),
                hash: None,
                root: None,
            });
        };
        let text = std::str::from_utf8(bytes).map_err(|e| YamlError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            col: 1,
            message: format!("not UTF-8 (byte {})", e.valid_up_to()),
        })?;
        Self::parse(path, text)
    }

    /// Parse `text` as the file at `path` (used for messages). The top level must be a
    /// mapping (or empty).
    pub fn parse(path: &Path, text: &str) -> Result<Self, YamlError> {
        let root = yaml_tree::parse(text).map_err(|e| YamlError::Syntax {
            path: path.to_path_buf(),
            line: e.line,
            col: e.col,
            message: e.message,
        })?;
        if let Some(node) = &root
            && !matches!(node.value, Value::Map(_) | Value::Scalar(ScalarValue::Null))
        {
            return Err(YamlError::Field {
                path: path.to_path_buf(),
                line: node.line,
                field: "(top level)".into(),
                expected: "a mapping",
                found: node.value.type_name(),
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            text: text.to_string(),
            hash: Some(Sha256::digest(text.as_bytes()).into()),
            root,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the file existed when read.
    pub fn exists(&self) -> bool {
        self.hash.is_some()
    }

    /// The 1-based line of the section's key (`skills:`), when the file has it.
    pub fn section_line(&self, section: &Section) -> Option<usize> {
        match &self.root.as_ref()?.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(_, k, _)| k == section.key)
                .map(|(key, _, _)| key.line),
            _ => None,
        }
    }

    /// The entries of one section, validated; empty when the key is absent or null.
    pub fn entries(&self, section: &Section) -> Result<Vec<Entry>, YamlError> {
        let Some(node) = self.section_node(section.key) else {
            return Ok(Vec::new());
        };
        let items = match &node.value {
            Value::Seq(items) => items,
            Value::Scalar(ScalarValue::Null) => return Ok(Vec::new()),
            other => return Err(self.field(node.line, section.key, "a list", other)),
        };
        let mut out: Vec<Entry> = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let entry = self.entry(section, i, item)?;
            if let Some(first) = out.iter().find(|e| e.name == entry.name) {
                return Err(YamlError::Duplicate {
                    path: self.path.clone(),
                    line: entry.line,
                    first: first.line,
                    section: section.key,
                    name: entry.name,
                });
            }
            out.push(entry);
        }
        Ok(out)
    }

    /// Start editing (edits apply to a copy of the text; nothing is written until
    /// [`SkillYaml::write`]).
    pub fn edit(&self) -> Editor {
        Editor {
            path: self.path.clone(),
            text: self.text.clone(),
        }
    }

    /// Write the edited text atomically, refusing if the file changed (or appeared, or
    /// vanished) since it was read. Keeps the file's permissions.
    pub fn write(&self, editor: &Editor) -> Result<(), YamlError> {
        let current = match std::fs::read(&self.path) {
            Ok(bytes) => Some(<[u8; 32]>::from(Sha256::digest(&bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(YamlError::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        if current != self.hash {
            return Err(YamlError::Changed {
                path: self.path.clone(),
            });
        }
        fsio::write_atomic(&self.path, editor.text.as_bytes()).map_err(|source| YamlError::Write {
            path: self.path.clone(),
            source,
        })
    }

    fn section_node(&self, key: &str) -> Option<&Node> {
        match &self.root.as_ref()?.value {
            Value::Map(entries) => entries.iter().find(|(_, k, _)| k == key).map(|(_, _, v)| v),
            _ => None,
        }
    }

    fn entry(&self, section: &Section, index: usize, item: &Node) -> Result<Entry, YamlError> {
        let at = |field: &str| format!("{}[{index}].{field}", section.key);
        let Value::Map(fields) = &item.value else {
            return Err(self.field(
                item.line,
                &format!("{}[{index}]", section.key),
                "a mapping",
                &item.value,
            ));
        };
        let get = |k: &str| {
            fields
                .iter()
                .find(|(_, key, _)| key == k)
                .map(|(_, _, v)| v)
        };
        let name = match get("name") {
            Some(Node {
                value: Value::Scalar(ScalarValue::String(s) | ScalarValue::Number(s)),
                ..
            }) if !s.trim().is_empty() => s.clone(),
            Some(node) => {
                return Err(self.field(node.line, &at("name"), "a non-empty string", &node.value));
            }
            None => {
                return Err(YamlError::Field {
                    path: self.path.clone(),
                    line: item.line,
                    field: at("name"),
                    expected: "a non-empty string",
                    found: "nothing",
                });
            }
        };
        let text_field = |k: &str| -> Result<Option<String>, YamlError> {
            match get(k) {
                None
                | Some(Node {
                    value: Value::Scalar(ScalarValue::Null),
                    ..
                }) => Ok(None),
                Some(Node {
                    value: Value::Scalar(ScalarValue::String(s) | ScalarValue::Number(s)),
                    ..
                }) => Ok(Some(s.clone())),
                Some(node) => Err(self.field(node.line, &at(k), "a string", &node.value)),
            }
        };
        let version = if section.versioned {
            text_field("version")?
        } else {
            None
        };
        let id = text_field(section.id_field)?;
        Ok(Entry {
            name,
            version,
            id,
            line: item.line,
        })
    }

    fn field(&self, line: usize, field: &str, expected: &'static str, found: &Value) -> YamlError {
        YamlError::Field {
            path: self.path.clone(),
            line,
            field: field.to_string(),
            expected,
            found: found.type_name(),
        }
    }
}

/// Lossless edits of the file's text. Every edit is checked by parsing the result.
#[derive(Clone, Debug)]
pub struct Editor {
    path: PathBuf,
    text: String,
}

impl Editor {
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Set the `version` of the entry `name` of `section`, keeping its quoting style (a
    /// plain scalar that would not read back as this string is double-quoted). Adds a
    /// `version:` line to a block entry that has none.
    pub fn set_version(
        &mut self,
        section: &Section,
        name: &str,
        version: &str,
    ) -> Result<(), YamlError> {
        let what = format!("the version of `{name}` in `{}`", section.key);
        let (item, flow) = self.find_item(section, name, &what)?;
        let Value::Map(fields) = &item.value else {
            return Err(self.edit_err(&what, "the entry is not a mapping"));
        };
        let new_text = match fields.iter().find(|(_, k, _)| k == "version") {
            Some((_, _, node)) => {
                let (start, end) =
                    scalar_extent(&self.text, node.start, flow).ok_or_else(|| {
                        self.edit_err(
                            &what,
                            &format!("line {}: the version is not a one-line scalar", node.line),
                        )
                    })?;
                let old = &self.text[start..end];
                let replacement = quote_like(old, version);
                format!("{}{replacement}{}", &self.text[..start], &self.text[end..])
            }
            None if !flow => {
                let (key_node, _, value) = fields
                    .iter()
                    .find(|(_, k, _)| k == "name")
                    .ok_or_else(|| self.edit_err(&what, "the entry has no name"))?;
                let at = line_end(&self.text, value.start);
                let indent = " ".repeat(key_node.col);
                let nl = newline_of(&self.text);
                let (head, tail) = self.text.split_at(at);
                let sep = if tail.is_empty() && !head.ends_with('\n') {
                    nl
                } else {
                    ""
                };
                let line = format!("{indent}version: {}", plain_or_quoted(version));
                if tail.is_empty() {
                    format!("{head}{sep}{line}{nl}")
                } else {
                    // `at` is the start of the line break; insert after it.
                    let brk = line_break_len(tail);
                    format!("{}{}{line}{nl}{}", head, &tail[..brk], &tail[brk..])
                }
            }
            None => {
                return Err(self.edit_err(&what, "the entry is a flow mapping without a version"));
            }
        };
        self.accept(new_text, &what, |yaml| {
            let entries = yaml.entries(section)?;
            Ok(entries
                .iter()
                .any(|e| e.name == name && e.version.as_deref() == Some(version)))
        })
    }

    /// Add `{name, <id_field>}` to `section` (a list of the file's own style), creating
    /// the key at the end of the file when absent.
    pub fn add_entry(
        &mut self,
        section: &Section,
        name: &str,
        version: Option<&str>,
        id: &str,
    ) -> Result<(), YamlError> {
        let what = format!("`{name}` into `{}`", section.key);
        let yaml = SkillYaml::parse(&self.path, &self.text)?;
        if yaml.entries(section)?.iter().any(|e| e.name == name) {
            return Err(self.edit_err(&what, "an entry of that name exists"));
        }
        let nl = newline_of(&self.text).to_string();
        let node = yaml.section_node(section.key).cloned();
        let mut fields = vec![("name", name)];
        if let (true, Some(v)) = (section.versioned, version) {
            fields.push(("version", v));
        }
        fields.push((section.id_field, id));
        let new_text = match node {
            None => {
                let indent = yaml.sequence_indent().unwrap_or(2);
                let mut t = self.text.clone();
                if !t.is_empty() && !t.ends_with('\n') {
                    t.push_str(&nl);
                }
                t.push_str(section.key);
                t.push(':');
                t.push_str(&nl);
                t.push_str(&block_item(indent, indent + 2, &fields, &nl));
                t
            }
            Some(node) => match &node.value {
                Value::Seq(items) if is_flow(&self.text, node.start) => {
                    let close = flow_close(&self.text, node.start).ok_or_else(|| {
                        self.edit_err(&what, &format!("line {}: unterminated list", node.line))
                    })?;
                    let entry = flow_item(&fields);
                    let sep = if items.is_empty() { "" } else { ", " };
                    format!("{}{sep}{entry}{}", &self.text[..close], &self.text[close..])
                }
                Value::Seq(items) => {
                    let (Some(first), Some(last)) = (items.first(), items.last()) else {
                        return Err(self.edit_err(&what, "empty block list"));
                    };
                    let (dash_col, key_col) = block_columns(&self.text, first);
                    let at = item_end(&self.text, last.start, dash_col);
                    let (head, tail) = self.text.split_at(at);
                    let lead = if head.ends_with('\n') || head.is_empty() {
                        String::new()
                    } else {
                        nl.clone()
                    };
                    format!(
                        "{head}{lead}{}{tail}",
                        block_item(dash_col, key_col, &fields, &nl)
                    )
                }
                Value::Scalar(ScalarValue::Null) => {
                    // `key:` with nothing after it (maybe a comment): the list goes below.
                    let key_end = line_end(&self.text, self.key_line_start(&yaml, section.key));
                    let indent = yaml.sequence_indent().unwrap_or(2);
                    let (head, tail) = self.text.split_at(key_end);
                    let brk = line_break_len(tail);
                    let lead = if brk == 0 {
                        nl.clone()
                    } else {
                        tail[..brk].to_string()
                    };
                    format!(
                        "{head}{lead}{}{}",
                        block_item(indent, indent + 2, &fields, &nl),
                        &tail[brk..]
                    )
                }
                other => return Err(self.field_err(node.line, section.key, other)),
            },
        };
        self.accept(new_text, &what, |yaml| {
            let entries = yaml.entries(section)?;
            Ok(entries
                .iter()
                .any(|e| e.name == name && e.id.as_deref() == Some(id)))
        })
    }

    fn key_line_start(&self, yaml: &SkillYaml, key: &str) -> usize {
        match yaml.root.as_ref().map(|r| &r.value) {
            Some(Value::Map(entries)) => entries
                .iter()
                .find(|(_, k, _)| k == key)
                .map_or(0, |(k, _, _)| k.start),
            _ => 0,
        }
    }

    fn find_item(
        &self,
        section: &Section,
        name: &str,
        what: &str,
    ) -> Result<(Node, bool), YamlError> {
        let yaml = SkillYaml::parse(&self.path, &self.text)?;
        yaml.entries(section)?;
        let Some(Node {
            value: Value::Seq(items),
            ..
        }) = yaml.section_node(section.key)
        else {
            return Err(self.edit_err(what, "no such entry"));
        };
        for item in items {
            if let Value::Map(fields) = &item.value {
                let matches = fields.iter().any(|(_, k, v)| {
                    k == "name"
                        && matches!(&v.value, Value::Scalar(ScalarValue::String(s) | ScalarValue::Number(s)) if s == name)
                });
                if matches {
                    return Ok((item.clone(), is_flow(&self.text, item.start)));
                }
            }
        }
        Err(self.edit_err(what, "no such entry"))
    }

    /// Keep `new_text` only if it parses and `check` confirms the edit.
    fn accept(
        &mut self,
        new_text: String,
        what: &str,
        check: impl FnOnce(&SkillYaml) -> Result<bool, YamlError>,
    ) -> Result<(), YamlError> {
        let reason = match SkillYaml::parse(&self.path, &new_text).and_then(|y| check(&y)) {
            Ok(true) => {
                self.text = new_text;
                return Ok(());
            }
            Ok(false) => "the edited file does not read back as intended".to_string(),
            Err(e) => format!("the edited file would be invalid ({e})"),
        };
        Err(self.edit_err(what, &reason))
    }

    fn edit_err(&self, what: &str, reason: &str) -> YamlError {
        YamlError::Edit {
            path: self.path.clone(),
            what: what.to_string(),
            reason: reason.to_string(),
        }
    }

    fn field_err(&self, line: usize, field: &str, found: &Value) -> YamlError {
        YamlError::Field {
            path: self.path.clone(),
            line,
            field: field.to_string(),
            expected: "a list",
            found: found.type_name(),
        }
    }
}

impl SkillYaml {
    /// The dash column of the file's first block list, to match its style.
    fn sequence_indent(&self) -> Option<usize> {
        let Some(Value::Map(entries)) = self.root.as_ref().map(|r| &r.value) else {
            return None;
        };
        entries.iter().find_map(|(_, _, v)| match &v.value {
            Value::Seq(items) if !is_flow(&self.text, v.start) => items
                .first()
                .map(|first| block_columns(&self.text, first).0),
            _ => None,
        })
    }
}

/// `value` written in the style of `old` (single, double or plain).
fn quote_like(old: &str, value: &str) -> String {
    if old.starts_with('\'') && !value.contains(['\n', '\r']) {
        format!("'{}'", value.replace('\'', "''"))
    } else if old.starts_with('"') {
        double_quoted(value)
    } else {
        plain_or_quoted(value)
    }
}

/// `value` as a plain scalar when it reads back as that same string, else double-quoted.
fn plain_or_quoted(value: &str) -> String {
    let safe = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "._-+/@".contains(c))
        && !value.starts_with(['-', '@', '.'])
        && matches!(
            saphyr::Scalar::parse_from_cow(value.into()),
            saphyr::Scalar::String(_)
        );
    if safe {
        value.to_string()
    } else {
        double_quoted(value)
    }
}

/// A YAML double-quoted scalar (JSON's escapes are a subset of YAML's).
fn double_quoted(value: &str) -> String {
    serde_json::Value::String(value.to_string()).to_string()
}

fn block_item(dash_col: usize, key_col: usize, fields: &[(&str, &str)], nl: &str) -> String {
    let mut out = String::new();
    for (i, (k, v)) in fields.iter().enumerate() {
        if i == 0 {
            out.push_str(&" ".repeat(dash_col));
            out.push('-');
            out.push_str(&" ".repeat(key_col.saturating_sub(dash_col + 1).max(1)));
        } else {
            out.push_str(&" ".repeat(key_col));
        }
        out.push_str(k);
        out.push_str(": ");
        out.push_str(&plain_or_quoted(v));
        out.push_str(nl);
    }
    out
}

fn flow_item(fields: &[(&str, &str)]) -> String {
    let inner: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}: {}", double_quoted(v)))
        .collect();
    format!("{{{}}}", inner.join(", "))
}

fn is_flow(text: &str, start: usize) -> bool {
    matches!(text.as_bytes().get(start), Some(b'[' | b'{'))
}

/// Byte offset of the `]` closing the flow list that opens at `start`.
fn flow_close(text: &str, start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in text.get(start..)?.char_indices() {
        match quote {
            Some('"') if c == '"' && prev != '\\' => quote = None,
            Some('\'') if c == '\'' => quote = None,
            Some(_) => {}
            None => match c {
                '"' | '\'' => quote = Some(c),
                '[' | '{' => depth += 1,
                ']' | '}' => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(start + i);
                    }
                }
                _ => {}
            },
        }
        prev = c;
    }
    None
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Offset of the line break (or end of text) of the line containing `at`.
fn line_end(text: &str, at: usize) -> usize {
    text[at..].find(['\n', '\r']).map_or(text.len(), |i| at + i)
}

fn line_break_len(tail: &str) -> usize {
    if tail.starts_with("\r\n") {
        2
    } else if tail.starts_with(['\n', '\r']) {
        1
    } else {
        0
    }
}

/// The columns of a block list's dash and of its items' keys, from its first item.
/// (`saphyr`'s list start is the dash for an indented list but the first key for one at
/// the parent's indentation, so we read the line ourselves.)
fn block_columns(text: &str, first: &Node) -> (usize, usize) {
    let start = line_start(text, first.start);
    let line = &text[start..first.start];
    let indent = line.len() - line.trim_start().len();
    if line.trim_start().starts_with('-') {
        (indent, first.col)
    } else {
        // The item's first key is on the line after its dash: assume the usual two.
        let dash = first.col.saturating_sub(2);
        (dash, first.col)
    }
}

fn newline_of(text: &str) -> &'static str {
    if text.contains("\r\n") { "\r\n" } else { "\n" }
}

/// The offset just after the last content line of the block item starting at `start`:
/// lines belong to the item until one (not blank, not a comment) is indented at or left
/// of the item's dash.
fn item_end(text: &str, start: usize, dash_col: usize) -> usize {
    let mut pos = line_end(text, start);
    let mut end = pos + line_break_len(&text[pos..]);
    pos = end;
    while pos < text.len() {
        let le = line_end(text, pos);
        let line = &text[pos..le];
        let trimmed = line.trim_start();
        let next = le + line_break_len(&text[le..]);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            pos = next;
            continue;
        }
        if line.len() - trimmed.len() <= dash_col {
            break;
        }
        end = next;
        pos = next;
    }
    end
}

#[cfg(test)]
#[path = "skill_yaml_tests.rs"]
mod tests;
