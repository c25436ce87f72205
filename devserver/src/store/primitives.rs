//! SQLite persistence of deployed primitives (five versioned kinds) and MCP servers.
//!
//! An item has versions in deployment order and one active version. Like the rest of `store`,
//! functions take a `&Connection` and leave transactions to the caller.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::spec::{ActiveBy, Kind, McpServerSpec, PrimitiveSpec};

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS primitives (
    agent_id          TEXT NOT NULL REFERENCES agents(id),
    kind              TEXT NOT NULL,
    id                TEXT NOT NULL,
    name              TEXT NOT NULL,
    active_version_id TEXT,
    -- How the listing marks the active version: id, versionId, flag, last.
    active_by         TEXT NOT NULL DEFAULT 'id',
    PRIMARY KEY (agent_id, kind, id),
    UNIQUE (agent_id, kind, name)
);
CREATE TABLE IF NOT EXISTS primitive_versions (
    agent_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    primitive_id TEXT NOT NULL,
    id           TEXT NOT NULL,
    version      TEXT NOT NULL,
    created_date INTEGER NOT NULL,
    PRIMARY KEY (agent_id, kind, primitive_id, id),
    UNIQUE (agent_id, kind, primitive_id, version),
    FOREIGN KEY (agent_id, kind, primitive_id)
        REFERENCES primitives(agent_id, kind, id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS mcp_servers (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    id       TEXT NOT NULL,
    name     TEXT NOT NULL,
    source   TEXT,
    active   INTEGER,
    PRIMARY KEY (agent_id, id),
    UNIQUE (agent_id, name)
);
";

/// One version of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemVersion {
    pub id: String,
    pub version: String,
}

/// A deployed primitive with its versions (in deployment order) and its active version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub id: String,
    pub name: String,
    pub versions: Vec<ItemVersion>,
    pub active_version_id: Option<String>,
    pub active_by: ActiveBy,
}

impl Item {
    /// The active version's string, if any.
    pub(crate) fn active_version(&self) -> Option<&str> {
        let id = self.active_version_id.as_deref()?;
        self.versions
            .iter()
            .find(|v| v.id == id)
            .map(|v| v.version.as_str())
    }

    /// The API's view: `{"id", "name", "versions": [...], "activeVersionId"?}`, with the active
    /// version marked as `active_by` says (the [`Serialize`] impl, as a value).
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The versions in the order the API lists them: the active one last under
    /// [`ActiveBy::Last`], else as deployed.
    fn listed_versions(&self) -> Vec<&ItemVersion> {
        let mut versions: Vec<&ItemVersion> = self.versions.iter().collect();
        if self.active_by == ActiveBy::Last
            && let Some(i) = versions
                .iter()
                .position(|v| Some(v.id.as_str()) == self.active_version_id.as_deref())
        {
            let v = versions.remove(i);
            versions.push(v);
        }
        versions
    }
}

/// Written straight to the answer's JSON (no intermediate `Value`: a listing has hundreds
/// of items, and building maps of them was most of the devserver's time per listing).
impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let active = self.active_version_id.as_deref();
        let with_id = matches!(self.active_by, ActiveBy::Id | ActiveBy::VersionId);
        let mut item = serializer.serialize_map(None)?;
        item.serialize_entry("id", &self.id)?;
        item.serialize_entry("name", &self.name)?;
        let versions: Vec<VersionView<'_>> = self
            .listed_versions()
            .into_iter()
            .map(|version| VersionView {
                version,
                active_by: self.active_by,
                active: Some(version.id.as_str()) == active,
            })
            .collect();
        item.serialize_entry("versions", &versions)?;
        if with_id && let Some(active) = active {
            item.serialize_entry("activeVersionId", active)?;
        }
        item.end()
    }
}

/// One version as listed: its id under `versionId` or `id`, and `active` where the item's
/// rule marks it by a flag.
struct VersionView<'a> {
    version: &'a ItemVersion,
    active_by: ActiveBy,
    active: bool,
}

impl Serialize for VersionView<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entry = serializer.serialize_map(None)?;
        let id_key = match self.active_by {
            ActiveBy::VersionId => "versionId",
            _ => "id",
        };
        entry.serialize_entry(id_key, &self.version.id)?;
        entry.serialize_entry("version", &self.version.version)?;
        if matches!(self.active_by, ActiveBy::Id | ActiveBy::Flag) {
            entry.serialize_entry("active", &self.active)?;
        }
        entry.end()
    }
}

/// An MCP server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct McpServer {
    pub id: String,
    pub name: String,
    pub source: Option<String>,
    pub active: Option<bool>,
}

impl McpServer {
    /// The API's view: `{"id", "name", "source"?, "active"?}` (absent fields are omitted).
    pub(crate) fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Serialize for McpServer {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut m = serializer.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("name", &self.name)?;
        if let Some(source) = &self.source {
            m.serialize_entry("source", source)?;
        }
        if let Some(active) = self.active {
            m.serialize_entry("active", &active)?;
        }
        m.end()
    }
}

/// Why a change to primitives was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    NoSuchAgent,
    NoSuchItem,
    NoSuchVersion,
    /// An item (or MCP server) with this name already exists.
    DuplicateName,
    /// An item (or MCP server) with this id already exists.
    DuplicateId,
    /// The item already has this version.
    DuplicateVersion,
}

fn agent_exists(conn: &Connection, agent_id: &str) -> rusqlite::Result<bool> {
    conn.query_row("SELECT 1 FROM agents WHERE id = ?1", [agent_id], |_| Ok(()))
        .optional()
        .map(|r| r.is_some())
}

/// A fresh entity id, `skill_3f2a9c81d0e4` style.
fn new_id(prefix: &str) -> String {
    let uuid = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}_{}", &uuid[..12])
}

/// Version ids are derived from the item id and the version's position: stable for a seed.
fn version_id(item_id: &str, n: usize) -> String {
    format!("{item_id}_v{n}")
}

/// Lists an agent's items of one kind in creation order; `None` if the agent is unknown.
pub(crate) fn list_items(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
) -> rusqlite::Result<Option<Vec<Item>>> {
    if !agent_exists(conn, agent_id)? {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT id, name, active_version_id, active_by FROM primitives
          WHERE agent_id = ?1 AND kind = ?2 ORDER BY rowid",
    )?;
    let heads = stmt
        .query_map(params![agent_id, kind.key()], |r| {
            Ok(Item {
                id: r.get(0)?,
                name: r.get(1)?,
                versions: Vec::new(),
                active_version_id: r.get(2)?,
                active_by: ActiveBy::parse(&r.get::<_, String>(3)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    // Every version of the kind in one query (not one per item: a listing of hundreds of
    // items is one request the check waits for), grouped by item in creation order.
    let mut versions: HashMap<String, Vec<ItemVersion>> = HashMap::new();
    let mut stmt = conn.prepare(
        "SELECT primitive_id, id, version FROM primitive_versions
          WHERE agent_id = ?1 AND kind = ?2 ORDER BY rowid",
    )?;
    let rows = stmt.query_map(params![agent_id, kind.key()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            ItemVersion {
                id: r.get(1)?,
                version: r.get(2)?,
            },
        ))
    })?;
    for row in rows {
        let (item, version) = row?;
        versions.entry(item).or_default().push(version);
    }
    Ok(Some(
        heads
            .into_iter()
            .map(|mut item| {
                item.versions = versions.remove(&item.id).unwrap_or_default();
                item
            })
            .collect(),
    ))
}

/// Finds one item by name.
pub(crate) fn get_item(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    name: &str,
) -> rusqlite::Result<Option<Item>> {
    Ok(list_items(conn, agent_id, kind)?
        .and_then(|items| items.into_iter().find(|i| i.name == name)))
}

/// Adds an item with its versions (checked by [`PrimitiveSpec::check`] beforehand). The active
/// version is the spec's `active`, else the last one.
pub(crate) fn add_item(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    spec: &PrimitiveSpec,
    now: i64,
) -> rusqlite::Result<Result<Item, Refusal>> {
    if !agent_exists(conn, agent_id)? {
        return Ok(Err(Refusal::NoSuchAgent));
    }
    if get_item(conn, agent_id, kind, &spec.name)?.is_some() {
        return Ok(Err(Refusal::DuplicateName));
    }
    let id = spec.id.clone().unwrap_or_else(|| new_id(kind.singular()));
    let taken = conn
        .query_row(
            "SELECT 1 FROM primitives WHERE agent_id = ?1 AND kind = ?2 AND id = ?3",
            params![agent_id, kind.key(), id],
            |_| Ok(()),
        )
        .optional()?;
    if taken.is_some() {
        return Ok(Err(Refusal::DuplicateId));
    }
    conn.execute(
        "INSERT INTO primitives (agent_id, kind, id, name, active_by) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![agent_id, kind.key(), id, spec.name, spec.active_by.as_str()],
    )?;
    let mut active = None;
    for (i, version) in spec.versions.iter().enumerate() {
        let vid = insert_version(conn, agent_id, kind, &id, i + 1, version, now)?;
        if spec.active.as_deref().is_none_or(|a| a == version) {
            active = Some(vid);
        }
    }
    if let Some(vid) = active {
        set_active_id(conn, agent_id, kind, &id, &vid)?;
    }
    get_item(conn, agent_id, kind, &spec.name).map(|i| i.ok_or(Refusal::NoSuchItem))
}

fn insert_version(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    item_id: &str,
    n: usize,
    version: &str,
    now: i64,
) -> rusqlite::Result<String> {
    let vid = version_id(item_id, n);
    conn.execute(
        "INSERT INTO primitive_versions (agent_id, kind, primitive_id, id, version, created_date)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![agent_id, kind.key(), item_id, vid, version, now],
    )?;
    Ok(vid)
}

fn set_active_id(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    item_id: &str,
    version_id: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE primitives SET active_version_id = ?4 WHERE agent_id = ?1 AND kind = ?2 AND id = ?3",
        params![agent_id, kind.key(), item_id, version_id],
    )?;
    Ok(())
}

/// Publishes (deploys) a new version of an item; it becomes active when `activate`.
pub(crate) fn publish_version(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    name: &str,
    version: &str,
    activate: bool,
    now: i64,
) -> rusqlite::Result<Result<Item, Refusal>> {
    let item = match find(conn, agent_id, kind, name)? {
        Ok(item) => item,
        Err(refusal) => return Ok(Err(refusal)),
    };
    if item.versions.iter().any(|v| v.version == version) {
        return Ok(Err(Refusal::DuplicateVersion));
    }
    // Positions only grow: a version id is never handed out twice for an item.
    let vid = insert_version(
        conn,
        agent_id,
        kind,
        &item.id,
        next_position(&item),
        version,
        now,
    )?;
    if activate {
        set_active_id(conn, agent_id, kind, &item.id, &vid)?;
    }
    get_item(conn, agent_id, kind, name).map(|i| i.ok_or(Refusal::NoSuchItem))
}

fn next_position(item: &Item) -> usize {
    let prefix = format!("{}_v", item.id);
    item.versions
        .iter()
        .filter_map(|v| v.id.strip_prefix(&prefix)?.parse::<usize>().ok())
        .max()
        .unwrap_or(0)
        + 1
}

fn find(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    name: &str,
) -> rusqlite::Result<Result<Item, Refusal>> {
    Ok(match list_items(conn, agent_id, kind)? {
        None => Err(Refusal::NoSuchAgent),
        Some(items) => items
            .into_iter()
            .find(|i| i.name == name)
            .ok_or(Refusal::NoSuchItem),
    })
}

/// Makes an existing version (by its version string) the active one.
pub(crate) fn set_active(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    name: &str,
    version: &str,
) -> rusqlite::Result<Result<Item, Refusal>> {
    let item = match find(conn, agent_id, kind, name)? {
        Ok(item) => item,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let Some(v) = item.versions.iter().find(|v| v.version == version) else {
        return Ok(Err(Refusal::NoSuchVersion));
    };
    set_active_id(conn, agent_id, kind, &item.id, &v.id)?;
    get_item(conn, agent_id, kind, name).map(|i| i.ok_or(Refusal::NoSuchItem))
}

/// Deletes an item and its versions.
pub(crate) fn delete_item(
    conn: &Connection,
    agent_id: &str,
    kind: Kind,
    name: &str,
) -> rusqlite::Result<Result<(), Refusal>> {
    let item = match find(conn, agent_id, kind, name)? {
        Ok(item) => item,
        Err(refusal) => return Ok(Err(refusal)),
    };
    conn.execute(
        "DELETE FROM primitive_versions WHERE agent_id = ?1 AND kind = ?2 AND primitive_id = ?3",
        params![agent_id, kind.key(), item.id],
    )?;
    conn.execute(
        "DELETE FROM primitives WHERE agent_id = ?1 AND kind = ?2 AND id = ?3",
        params![agent_id, kind.key(), item.id],
    )?;
    Ok(Ok(()))
}

/// Lists an agent's MCP servers in creation order; `None` if the agent is unknown.
pub(crate) fn list_mcp_servers(
    conn: &Connection,
    agent_id: &str,
) -> rusqlite::Result<Option<Vec<McpServer>>> {
    if !agent_exists(conn, agent_id)? {
        return Ok(None);
    }
    let mut stmt = conn.prepare(
        "SELECT id, name, source, active FROM mcp_servers WHERE agent_id = ?1 ORDER BY rowid",
    )?;
    stmt.query_map([agent_id], |r| {
        Ok(McpServer {
            id: r.get(0)?,
            name: r.get(1)?,
            source: r.get(2)?,
            active: r.get(3)?,
        })
    })?
    .collect::<rusqlite::Result<Vec<_>>>()
    .map(Some)
}

/// Adds an MCP server (checked by [`McpServerSpec::check`] beforehand).
pub(crate) fn add_mcp_server(
    conn: &Connection,
    agent_id: &str,
    spec: &McpServerSpec,
) -> rusqlite::Result<Result<McpServer, Refusal>> {
    let Some(existing) = list_mcp_servers(conn, agent_id)? else {
        return Ok(Err(Refusal::NoSuchAgent));
    };
    if existing.iter().any(|m| m.name == spec.name) {
        return Ok(Err(Refusal::DuplicateName));
    }
    let id = spec.id.clone().unwrap_or_else(|| new_id("mcp"));
    if existing.iter().any(|m| m.id == id) {
        return Ok(Err(Refusal::DuplicateId));
    }
    conn.execute(
        "INSERT INTO mcp_servers (agent_id, id, name, source, active) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![agent_id, id, spec.name, spec.source, spec.active],
    )?;
    Ok(Ok(McpServer {
        id,
        name: spec.name.clone(),
        source: spec.source.clone(),
        active: spec.active,
    }))
}

/// Deletes an MCP server by name.
pub(crate) fn delete_mcp_server(
    conn: &Connection,
    agent_id: &str,
    name: &str,
) -> rusqlite::Result<Result<(), Refusal>> {
    if !agent_exists(conn, agent_id)? {
        return Ok(Err(Refusal::NoSuchAgent));
    }
    let n = conn.execute(
        "DELETE FROM mcp_servers WHERE agent_id = ?1 AND name = ?2",
        params![agent_id, name],
    )?;
    Ok(if n == 0 {
        Err(Refusal::NoSuchItem)
    } else {
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{insert_agent, open};
    use serde_json::json;

    fn spec(v: Value) -> PrimitiveSpec {
        serde_json::from_value(v).unwrap()
    }

    fn db() -> Connection {
        let conn = open(None).unwrap();
        insert_agent(&conn, "a_1", None, None).unwrap();
        conn
    }

    #[test]
    fn the_last_version_is_active_unless_one_is_named() {
        let conn = db();
        let skill = add_item(
            &conn,
            "a_1",
            Kind::SKILLS,
            &spec(json!({"id": "s1", "name": "orders", "versions": ["1.0.0", "1.0.1"]})),
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(skill.active_version(), Some("1.0.1"));
        assert_eq!(
            skill.to_json(),
            json!({"id": "s1", "name": "orders", "versions": [
                {"id": "s1_v1", "version": "1.0.0", "active": false},
                {"id": "s1_v2", "version": "1.0.1", "active": true},
            ], "activeVersionId": "s1_v2"})
        );
        let job = add_item(
            &conn,
            "a_1",
            Kind::JOBS,
            &spec(json!({"name": "nightly", "versions": ["1", "2"], "active": "1"})),
            1,
        )
        .unwrap()
        .unwrap();
        assert_eq!(job.active_version(), Some("1"));
        assert!(job.id.starts_with("job_"), "{}", job.id);
        // Kinds are separate: the skill is not a job.
        let jobs = list_items(&conn, "a_1", Kind::JOBS).unwrap().unwrap();
        assert_eq!(jobs.len(), 1);
        assert_eq!(list_items(&conn, "ghost", Kind::JOBS).unwrap(), None);
    }

    #[test]
    fn publish_set_active_and_delete() {
        let conn = db();
        let s = spec(json!({"id": "w", "name": "hook", "versions": ["1"]}));
        add_item(&conn, "a_1", Kind::WEBHOOKS, &s, 1)
            .unwrap()
            .unwrap();
        assert_eq!(
            add_item(&conn, "a_1", Kind::WEBHOOKS, &s, 1).unwrap(),
            Err(Refusal::DuplicateName)
        );
        let staged = publish_version(&conn, "a_1", Kind::WEBHOOKS, "hook", "2", false, 2)
            .unwrap()
            .unwrap();
        assert_eq!(staged.active_version(), Some("1"));
        let item = publish_version(&conn, "a_1", Kind::WEBHOOKS, "hook", "3", true, 3)
            .unwrap()
            .unwrap();
        assert_eq!(item.active_version(), Some("3"));
        assert_eq!(item.versions[2].id, "w_v3");
        assert_eq!(
            publish_version(&conn, "a_1", Kind::WEBHOOKS, "hook", "3", true, 3).unwrap(),
            Err(Refusal::DuplicateVersion)
        );
        let back = set_active(&conn, "a_1", Kind::WEBHOOKS, "hook", "1")
            .unwrap()
            .unwrap();
        assert_eq!(back.active_version(), Some("1"));
        assert_eq!(
            set_active(&conn, "a_1", Kind::WEBHOOKS, "hook", "9").unwrap(),
            Err(Refusal::NoSuchVersion)
        );
        delete_item(&conn, "a_1", Kind::WEBHOOKS, "hook")
            .unwrap()
            .unwrap();
        assert_eq!(
            delete_item(&conn, "a_1", Kind::WEBHOOKS, "hook").unwrap(),
            Err(Refusal::NoSuchItem)
        );
        assert!(
            list_items(&conn, "a_1", Kind::WEBHOOKS)
                .unwrap()
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn active_markers_follow_active_by() {
        let item = |by: &str| {
            let conn = db();
            add_item(
                &conn,
                "a_1",
                Kind::SKILLS,
                &spec(json!({"id": "s", "name": "n", "versions": ["1", "2"], "active": "1", "activeBy": by})),
                1,
            )
            .unwrap()
            .unwrap()
            .to_json()
        };
        assert_eq!(
            item("versionId"),
            json!({"id": "s", "name": "n", "versions": [
                {"versionId": "s_v1", "version": "1"}, {"versionId": "s_v2", "version": "2"}
            ], "activeVersionId": "s_v1"})
        );
        assert_eq!(
            item("flag"),
            json!({"id": "s", "name": "n", "versions": [
                {"id": "s_v1", "version": "1", "active": true},
                {"id": "s_v2", "version": "2", "active": false}
            ]})
        );
        assert_eq!(
            item("last"),
            json!({"id": "s", "name": "n", "versions": [
                {"id": "s_v2", "version": "2"}, {"id": "s_v1", "version": "1"}
            ]})
        );
    }

    #[test]
    fn mcp_servers_omit_absent_fields() {
        let conn = db();
        let add =
            |v: Value| add_mcp_server(&conn, "a_1", &serde_json::from_value(v).unwrap()).unwrap();
        let plain = add(json!({"id": "m1", "name": "docs"})).unwrap();
        assert_eq!(plain.to_json(), json!({"id": "m1", "name": "docs"}));
        let full =
            add(json!({"id": "m2", "name": "crm", "source": "integration", "active": false}))
                .unwrap();
        assert_eq!(
            full.to_json(),
            json!({"id": "m2", "name": "crm", "source": "integration", "active": false})
        );
        assert_eq!(add(json!({"name": "docs"})), Err(Refusal::DuplicateName));
        assert_eq!(
            add(json!({"id": "m1", "name": "x"})),
            Err(Refusal::DuplicateId)
        );
        delete_mcp_server(&conn, "a_1", "docs").unwrap().unwrap();
        let left = list_mcp_servers(&conn, "a_1").unwrap().unwrap();
        assert_eq!(left.len(), 1);
    }
}
