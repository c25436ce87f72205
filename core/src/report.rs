//! The machine-readable report (`--format json`): one stable document for CI.
//!
//! Schema (documented in README "JSON report"): `{ "version": 1, "agentId", "serverUrl",
//! "entry", "exitCode", "components": [ { "id", "key", "title", "shape", "status",
//! "presence", "classification", "policy": {"check","allow"}, "serverVersion",
//! "localVersion", "baseVersion", "entityId", "serverHash", "localHash", "baseHash",
//! "local": {"file","line","column"}, "diff", "message", "action": {"kind", "reason",
//! ...} } ], "warnings": [...] }`. One entry per item: a keyed set (skills) has one
//! entry per item, with its `key`; a single value has `"key": null`.

use std::io;

use serde::Serialize;
use serde_json::{Value, json};

use crate::component::{Local, Shape, Version};
use crate::engine::{Action, Exit, Item, Outcome, Report, Status};

pub const REPORT_VERSION: u32 = 1;

/// The JSON report of a run: serialised straight from the report (no intermediate
/// `Value` per item: a check of thousands of items stays fast).
pub fn to_json<'a>(report: &'a Report, outcome: Option<&'a Outcome>, exit: Exit) -> JsonReport<'a> {
    JsonReport {
        version: REPORT_VERSION,
        agent_id: &report.agent_id,
        server_url: &report.server_url,
        entry: &report.entry,
        exit_code: exit as i32,
        components: Components {
            items: &report.items,
            outcome,
        },
        warnings: &report.warnings,
    }
}

/// The text `--format json` prints: [`to_json`], pretty, written into one buffer sized for
/// the report (no regrowing through a megabyte for thousands of items).
pub fn to_json_text(report: &Report, outcome: Option<&Outcome>, exit: Exit) -> String {
    /// About what one item takes, pretty-printed (a drifted one with its diff: more).
    const PER_ITEM: usize = 768;
    let mut out = Vec::with_capacity(1024 + PER_ITEM * report.items.len());
    // Serialising borrowed strings and numbers into a Vec cannot fail, and serde_json
    // writes UTF-8 only.
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, Pretty::default());
    match to_json(report, outcome, exit).serialize(&mut serializer) {
        Ok(()) => String::from_utf8(out).unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// serde_json's `PrettyFormatter` (two-space indent), byte for byte, except that a line
/// break and its indent are written in one piece rather than one write per level.
#[derive(Default)]
struct Pretty {
    level: usize,
    has_value: bool,
}

impl Pretty {
    fn line<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        const BREAK: &[u8] = b"\n                                ";
        match BREAK.get(..1 + 2 * self.level) {
            Some(piece) => writer.write_all(piece),
            None => {
                writer.write_all(b"\n")?;
                (0..self.level).try_for_each(|_| writer.write_all(b"  "))
            }
        }
    }

    /// `[` or `{`: one level deeper, nothing in it yet.
    fn open<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        writer.write_all(bracket)
    }

    /// `]` or `}`: on a line of its own unless the collection was empty.
    fn close<W: ?Sized + io::Write>(&mut self, writer: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level -= 1;
        if self.has_value {
            self.line(writer)?;
        }
        writer.write_all(bracket)
    }

    /// Before an element or a key: a comma after the first, then a new line.
    fn next<W: ?Sized + io::Write>(&mut self, writer: &mut W, first: bool) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.line(writer)
    }
}

impl serde_json::ser::Formatter for Pretty {
    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.next(writer, first)
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.open(writer, b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.close(writer, b"}")
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        self.next(writer, first)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b": ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// The document `--format json` prints; its field order is the schema's.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonReport<'a> {
    version: u32,
    agent_id: &'a str,
    server_url: &'a str,
    entry: &'a str,
    exit_code: i32,
    components: Components<'a>,
    warnings: &'a [String],
}

/// The items, each turned into its entry as it is written (no list of entries is built).
struct Components<'a> {
    items: &'a [Item],
    outcome: Option<&'a Outcome>,
}

impl Serialize for Components<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.items.iter().map(|item| item_json(item, self.outcome)))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ItemJson<'a> {
    id: &'a str,
    key: Option<&'a str>,
    title: &'a str,
    shape: &'static str,
    status: &'a str,
    presence: Option<&'static str>,
    classification: Option<&'static str>,
    policy: PolicyJson,
    server_version: Option<VersionJson<'a>>,
    local_version: Option<VersionJson<'a>>,
    base_version: Option<VersionJson<'a>>,
    entity_id: Option<&'a str>,
    server_hash: Option<&'a str>,
    local_hash: Option<&'a str>,
    base_hash: Option<&'a str>,
    local: Option<PlaceJson<'a>>,
    diff: Option<String>,
    message: Option<String>,
    action: Option<Value>,
}

#[derive(Serialize)]
struct PolicyJson {
    check: crate::config::CheckPolicy,
    allow: crate::config::Allow,
}

#[derive(Serialize)]
struct PlaceJson<'a> {
    file: &'a str,
    line: u32,
    column: u32,
}

/// [`Local::place`], borrowed (a report of thousands of items copies no file name).
fn place_json(local: &Local) -> Option<PlaceJson<'_>> {
    match local {
        Local::Value(v) => v.place.as_ref().map(|p| PlaceJson {
            file: &p.file,
            line: p.line,
            column: p.column,
        }),
        Local::Unreadable(u) => Some(PlaceJson {
            file: &u.file,
            line: u.line,
            column: u.column,
        }),
        Local::Missing => None,
    }
}

/// A version as the platform writes it: a number or a string.
#[derive(Serialize)]
#[serde(untagged)]
enum VersionJson<'a> {
    Number(u64),
    Text(&'a str),
}

fn version_json(v: Option<&Version>) -> Option<VersionJson<'_>> {
    v.map(|v| match v {
        Version::Number(n) => VersionJson::Number(*n),
        Version::Text(s) => VersionJson::Text(s),
    })
}

fn item_json<'a>(item: &'a Item, outcome: Option<&Outcome>) -> ItemJson<'a> {
    let diff = match &item.status {
        Status::Drift { .. } => {
            let server = item.server_text.as_deref().unwrap_or("");
            let local = item.local_text.as_deref().unwrap_or("");
            // Canonical text has no final newline; add one so the diff has no
            // "\ No newline at end of file" noise.
            Some(lua_diff::unified(
                &format!("{server}\n"),
                &format!("{local}\n"),
                "server",
                "local",
            ))
        }
        _ => None,
    };
    let message = match &item.status {
        Status::Unreadable(u) => Some(u.to_string()),
        Status::NotCompared(why) => Some(format!("not compared: {why}")),
        Status::Unreachable(e) | Status::Error(e) => Some(e.to_string()),
        _ => item.reason(),
    };
    let entity_id = item
        .remote
        .as_ref()
        .and_then(|r| r.entity_id.as_deref())
        .or(match &item.local {
            Local::Value(v) => v.entity_id.as_deref(),
            _ => None,
        });
    ItemJson {
        id: item.id,
        key: item.key.as_deref(),
        title: item.title,
        shape: match item.shape {
            Shape::Single => "single",
            Shape::Keyed => "keyed",
        },
        status: item.status.as_str(),
        presence: item.presence().map(|p| p.as_str()),
        classification: item.classification().map(|c| c.as_str()),
        policy: PolicyJson {
            check: item.policy.check,
            allow: item.policy.allow,
        },
        server_version: version_json(item.server_version()),
        local_version: version_json(item.local_version()),
        base_version: version_json(item.base.as_ref().and_then(|b| b.server_version.as_ref())),
        entity_id,
        server_hash: item.server_hash.as_deref(),
        local_hash: item.local_hash.as_deref(),
        base_hash: item.base.as_ref().map(|b| b.hash.as_str()),
        local: place_json(&item.local),
        diff,
        message,
        action: outcome
            .and_then(|o| o.find(item))
            .map(|r| action_json(&r.action)),
    }
}

fn action_json(action: &Action) -> Value {
    let reason = action.reason().map(|r| r.as_str());
    match action {
        Action::Pushed { version } => {
            json!({"kind": "pushed", "version": version_json(version.as_ref())})
        }
        Action::Pulled { files, notes } => {
            json!({"kind": "pulled", "files": files, "notes": notes})
        }
        Action::Skipped { message, .. } => {
            json!({"kind": "skipped", "reason": reason, "message": message})
        }
        Action::Conflict { message } => {
            json!({"kind": "conflict", "reason": reason, "message": message})
        }
        Action::Unresolved { message, .. } => {
            json!({"kind": "unresolved", "reason": reason, "message": message})
        }
        Action::Refused { message, .. } => {
            json!({"kind": "refused", "reason": reason, "message": message})
        }
        Action::Guarded { message } => {
            json!({"kind": "guarded", "reason": reason, "message": message})
        }
        Action::Failed { message, .. } => {
            json!({"kind": "failed", "reason": reason, "message": message})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`Pretty`] writes what serde_json's pretty printer writes, deep nesting included.
    #[test]
    fn pretty_is_serde_jsons_pretty() {
        let mut deep = json!("leaf");
        for i in 0..20 {
            deep = json!({ "k": deep, "empty": {}, "none": [], "list": [i, [i], {"x": null}] });
        }
        for value in [
            json!(null),
            json!([]),
            json!({}),
            json!([1, "two", {"a": []}]),
            deep,
        ] {
            let mut out = Vec::new();
            let mut serializer =
                serde_json::Serializer::with_formatter(&mut out, Pretty::default());
            value.serialize(&mut serializer).unwrap();
            assert_eq!(
                String::from_utf8(out).unwrap(),
                serde_json::to_string_pretty(&value).unwrap()
            );
        }
    }
}
