//! `lua.skill.yaml`: the deployed primitives a project knows about, read with their line
//! numbers, and edited losslessly (comments, quoting and layout kept).
//!
//! Reading is strict: a malformed file, a section that is not a list, an entry without a
//! `name`, a `version` that is a list... is an error naming the file, line and field.
//! Each section is validated on its own ([`SkillYaml::entries`]), so a bad `jobs:` fails
//! only the component that reads jobs.
//!
//! Edits ([`Editor`]) replace exactly the bytes of one scalar or insert whole lines; each
//! edit is re-parsed and checked before it is accepted. The edited text goes into the
//! resolution's overlay (the engine commits it through the one guarded writer).
//!
//! It knows YAML and the shape of entries; it does not know the platform or the engine.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

mod edit;

pub use self::edit::Editor;
use super::yaml_tree::{self, Node, ScalarValue, Value};

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

#[cfg(test)]
#[path = "skill_yaml_tests.rs"]
mod tests;
