//! Lossless edits of `lua.skill.yaml`'s text: a version set in place, an entry added in
//! the list's own style (block or flow, its columns and line breaks). Each edit is parsed
//! again and checked before it is accepted; writing is [`SkillYaml::write`].

use std::path::PathBuf;

use super::super::yaml_tree::{Node, ScalarValue, Value, scalar_extent};
use super::{Section, SkillYaml, YamlError};

/// Lossless edits of the file's text. Every edit is checked by parsing the result.
#[derive(Clone, Debug)]
pub struct Editor {
    pub(super) path: PathBuf,
    pub(super) text: String,
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
            None => self.with_new_section(&yaml, section, &fields, &nl),
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
                    self.with_block_item(first, last, &fields, &nl)
                }
                Value::Scalar(ScalarValue::Null) => {
                    self.with_list_under_key(&yaml, section, &fields, &nl)
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

    /// The text with `section:` and its first item appended at the end of the file.
    fn with_new_section(
        &self,
        yaml: &SkillYaml,
        section: &Section,
        fields: &[(&str, &str)],
        nl: &str,
    ) -> String {
        let indent = yaml.sequence_indent().unwrap_or(2);
        let mut t = self.text.clone();
        if !t.is_empty() && !t.ends_with('\n') {
            t.push_str(nl);
        }
        t.push_str(section.key);
        t.push(':');
        t.push_str(nl);
        t.push_str(&block_item(indent, indent + 2, fields, nl));
        t
    }

    /// The text with an item after `last` of a block list, in the columns of `first`.
    fn with_block_item(
        &self,
        first: &Node,
        last: &Node,
        fields: &[(&str, &str)],
        nl: &str,
    ) -> String {
        let (dash_col, key_col) = block_columns(&self.text, first);
        let at = item_end(&self.text, last.start, dash_col);
        let (head, tail) = self.text.split_at(at);
        let lead = if head.ends_with('\n') || head.is_empty() {
            ""
        } else {
            nl
        };
        format!(
            "{head}{lead}{}{tail}",
            block_item(dash_col, key_col, fields, nl)
        )
    }

    /// `key:` with nothing after it (maybe a comment): the text with the list below it.
    fn with_list_under_key(
        &self,
        yaml: &SkillYaml,
        section: &Section,
        fields: &[(&str, &str)],
        nl: &str,
    ) -> String {
        let key_end = line_end(&self.text, self.key_line_start(yaml, section.key));
        let indent = yaml.sequence_indent().unwrap_or(2);
        let (head, tail) = self.text.split_at(key_end);
        let brk = line_break_len(tail);
        let lead = if brk == 0 { nl } else { &tail[..brk] };
        format!(
            "{head}{lead}{}{}",
            block_item(indent, indent + 2, fields, nl),
            &tail[brk..]
        )
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
