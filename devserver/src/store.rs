//! SQLite persistence: the schema and its migration, and agents (their fields one JSON
//! document each: name, model, governance and whatever else a client PATCHes); the
//! submodules keep persona versions (`versions`), idempotent answers and dashboard session
//! rows (`records`), deployed primitives (`primitives`) and backups (`backup`).
//!
//! Every function takes a `&Connection` (a `Transaction` derefs to one) and does no locking of its
//! own: callers hold the single connection's mutex and open the transaction, so a multi-step
//! change (numbering a version, moving "current", storing the idempotent answer) is atomic.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

pub(crate) mod backup;
pub(crate) mod primitives;
pub(crate) mod records;
pub(crate) mod versions;

pub(crate) use records::{
    SessionRow, StoredAnswer, idempotent_get, idempotent_put, session_delete, session_get,
    session_insert, session_prune, session_touch,
};
pub(crate) use versions::{
    Status, Version, VersionRefusal, create_version, deploy, list_versions, publish_draft,
};

/// Bumped when the schema changes; checked at open so an old file is not misread.
/// 2: `agents.governance`, primitives, MCP servers, backups, `idempotency.request`, sessions.
/// 3: `backups.project_hash`, `staged_blobs` (lua-cli's backup push).
/// 4: `agents.fields` (one JSON object) instead of the `name`, `model`, `governance` columns.
const SCHEMA_VERSION: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agents (
    id                TEXT PRIMARY KEY NOT NULL,
    -- The agent's fields as one JSON object (name, model, governance, any other): stored and
    -- served as given; only the API's PATCH handler checks the fields the platform validates.
    fields            TEXT NOT NULL DEFAULT '{}',
    created_date      INTEGER NOT NULL,
    current_version   INTEGER,
    -- Highest version number ever handed out: numbers are never reused.
    last_version      INTEGER NOT NULL DEFAULT 0,
    -- Highest createdDate ever handed out: createdDate is strictly increasing per agent.
    last_created_date INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS persona_versions (
    agent_id     TEXT NOT NULL REFERENCES agents(id),
    version      INTEGER NOT NULL,
    persona      TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    created_date INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    PRIMARY KEY (agent_id, version)
);
CREATE TABLE IF NOT EXISTS idempotency (
    agent_id     TEXT NOT NULL,
    key          TEXT NOT NULL,
    status       INTEGER NOT NULL,
    body         TEXT NOT NULL,
    created_date INTEGER NOT NULL,
    -- SHA-256 of the first request (method, path, body): a reuse with another request is
    -- refused. NULL in rows written before schema version 2.
    request      TEXT,
    PRIMARY KEY (agent_id, key)
);
-- Dashboard sessions, by the SHA-256 of their token (the token itself is only in the cookie).
CREATE TABLE IF NOT EXISTS sessions (
    token_digest TEXT PRIMARY KEY NOT NULL,
    created      INTEGER NOT NULL,
    last_seen    INTEGER NOT NULL
);
";

/// Opens (creating if needed) the database. `None` means an in-memory database.
pub(crate) fn open(path: Option<&Path>) -> rusqlite::Result<Connection> {
    let conn = match path {
        Some(p) => {
            let c = Connection::open(p)?;
            // WAL: readers never block the writer; a crash mid-transaction rolls back cleanly.
            c.pragma_update(None, "journal_mode", "WAL")?;
            c.pragma_update(None, "synchronous", "NORMAL")?;
            c
        }
        None => Connection::open_in_memory()?,
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "database schema version {version} is newer than this devserver understands ({SCHEMA_VERSION})"
        )));
    }
    conn.execute_batch(SCHEMA)?;
    // An older file lacks these columns: `CREATE TABLE IF NOT EXISTS` keeps the old tables as
    // they are.
    migrate_agent_fields(&conn)?;
    add_column_if_missing(&conn, "idempotency", "request", "TEXT")?;
    conn.execute_batch(primitives::SCHEMA)?;
    conn.execute_batch(backup::SCHEMA)?;
    add_column_if_missing(&conn, "backups", "project_hash", "TEXT")?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(conn)
}

/// Before version 4 an agent's fields were columns (`governance` only since version 2): they
/// move into the one JSON document, and the columns go.
fn migrate_agent_fields(conn: &Connection) -> rusqlite::Result<()> {
    if !has_column(conn, "agents", "name")? {
        return Ok(());
    }
    add_column_if_missing(conn, "agents", "governance", "TEXT")?;
    add_column_if_missing(conn, "agents", "fields", "TEXT NOT NULL DEFAULT '{}'")?;
    conn.execute_batch(
        "UPDATE agents SET fields = json_object(
             'name', name, 'model', model,
             -- Written as JSON by earlier versions; an unreadable value was served as none.
             'governance', CASE WHEN json_valid(governance) THEN json(governance) END);
         ALTER TABLE agents DROP COLUMN name;
         ALTER TABLE agents DROP COLUMN model;
         ALTER TABLE agents DROP COLUMN governance;",
    )
}

fn has_column(conn: &Connection, table: &str, column: &str) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(names.iter().any(|n| n == column))
}

/// Adds a nullable column to an existing table unless it is already there.
fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    decl: &str,
) -> rusqlite::Result<()> {
    if !has_column(conn, table, column)? {
        conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN {column} {decl}"))?;
    }
    Ok(())
}

/// Milliseconds since the Unix epoch (0 if the clock is before 1970).
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An agent row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Agent {
    pub id: String,
    /// Its fields, as stored (a `null` field is kept: a PATCH that clears a field is answered
    /// with it).
    pub fields: Map<String, Value>,
    pub created_date: i64,
    pub current_version: Option<i64>,
}

/// The fields an update sets, as given (`null` clears). Fields it does not name keep their
/// value.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AgentPatch(pub Map<String, Value>);

impl<const N: usize> From<[(&str, Value); N]> for AgentPatch {
    fn from(fields: [(&str, Value); N]) -> Self {
        AgentPatch(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }
}

/// The fields every agent answer carries, `null` when the agent has none (the contract).
const ALWAYS_SHOWN: [&str; 3] = ["name", "model", "governance"];

impl Agent {
    /// The field `key` when it is a string (the dashboard's name and model).
    pub(crate) fn string(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    /// The field `key` unless absent or `null` (the dashboard's governance).
    pub(crate) fn field(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).filter(|v| !v.is_null())
    }

    /// The API's view of an agent (the payload of `GET /admin/agents/{agentId}`): its id,
    /// `name`, `model` and `governance` (`null` when none), every other field, `createdDate`.
    pub(crate) fn to_json(&self) -> Value {
        let mut out = Map::with_capacity(self.fields.len() + 4);
        out.insert("id".to_owned(), Value::String(self.id.clone()));
        for key in ALWAYS_SHOWN {
            out.insert(key.to_owned(), Value::Null);
        }
        for (key, value) in &self.fields {
            out.insert(key.clone(), value.clone());
        }
        out.insert("createdDate".to_owned(), json!(self.created_date));
        Value::Object(out)
    }
}

/// An agent with the numbers the dashboard's list shows.
#[derive(Debug, Clone)]
pub(crate) struct AgentSummary {
    pub agent: Agent,
    /// The published version with the greatest createdDate.
    pub latest_published: Option<i64>,
}

fn agent_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Agent> {
    let fields: String = r.get(1)?;
    Ok(Agent {
        id: r.get(0)?,
        // Written by this module as a JSON object; an unreadable one is served as no fields.
        fields: serde_json::from_str(&fields).unwrap_or_default(),
        created_date: r.get(2)?,
        current_version: r.get(3)?,
    })
}

const AGENT_COLUMNS: &str = "id, fields, created_date, current_version";

pub(crate) fn get_agent(conn: &Connection, id: &str) -> rusqlite::Result<Option<Agent>> {
    conn.query_row(
        &format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1"),
        [id],
        agent_from_row,
    )
    .optional()
}

/// Inserts an agent unless one with that id exists. Returns whether it was created.
pub(crate) fn insert_agent(
    conn: &Connection,
    id: &str,
    name: Option<&str>,
    model: Option<&str>,
) -> rusqlite::Result<bool> {
    let fields = json!({ "name": name, "model": model });
    let n = conn.execute(
        "INSERT OR IGNORE INTO agents (id, fields, created_date) VALUES (?1, ?2, ?3)",
        params![id, fields.to_string(), now_ms()],
    )?;
    Ok(n == 1)
}

/// Sets the given fields (None = leave unchanged). Returns the updated agent, None if unknown.
pub(crate) fn update_agent(
    conn: &Connection,
    id: &str,
    name: Option<&str>,
    model: Option<&str>,
) -> rusqlite::Result<Option<Agent>> {
    let mut patch = AgentPatch::default();
    if let Some(name) = name {
        patch.0.insert("name".to_owned(), json!(name));
    }
    if let Some(model) = model {
        patch.0.insert("model".to_owned(), json!(model));
    }
    patch_agent(conn, id, &patch)
}

/// Applies a patch: each field it names is set as given. Returns the updated agent, None if
/// unknown. The caller holds the connection (one writer), so read, merge and write are one
/// step.
pub(crate) fn patch_agent(
    conn: &Connection,
    id: &str,
    patch: &AgentPatch,
) -> rusqlite::Result<Option<Agent>> {
    let Some(mut agent) = get_agent(conn, id)? else {
        return Ok(None);
    };
    if patch.0.is_empty() {
        return Ok(Some(agent));
    }
    for (key, value) in &patch.0 {
        agent.fields.insert(key.clone(), value.clone());
    }
    conn.execute(
        "UPDATE agents SET fields = ?2 WHERE id = ?1",
        params![id, Value::Object(agent.fields.clone()).to_string()],
    )?;
    Ok(Some(agent))
}

pub(crate) fn list_agents(conn: &Connection) -> rusqlite::Result<Vec<AgentSummary>> {
    let mut stmt = conn.prepare(
        "SELECT a.id, a.fields, a.created_date, a.current_version,
                (SELECT v.version FROM persona_versions v
                  WHERE v.agent_id = a.id AND v.status = 'published'
                  ORDER BY v.created_date DESC LIMIT 1)
           FROM agents a ORDER BY a.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AgentSummary {
            agent: agent_from_row(r)?,
            latest_published: r.get(4)?,
        })
    })?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db_with_agent() -> Connection {
        let conn = open(None).unwrap();
        assert!(insert_agent(&conn, "a_1", Some("Bot"), None).unwrap());
        conn
    }

    #[test]
    fn insert_agent_does_not_overwrite() {
        let conn = db_with_agent();
        assert!(!insert_agent(&conn, "a_1", Some("Other"), Some("m")).unwrap());
        let a = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(a.string("name"), Some("Bot"));
        assert_eq!(a.field("model"), None);
    }

    #[test]
    fn created_dates_strictly_increase_even_with_a_stuck_clock() {
        let conn = db_with_agent();
        let p = json!("x");
        let v1 = create_version(&conn, "a_1", &p, Status::Published, "t", 1000)
            .unwrap()
            .unwrap();
        let v2 = create_version(&conn, "a_1", &p, Status::Draft, "t", 1000)
            .unwrap()
            .unwrap();
        let v3 = create_version(&conn, "a_1", &p, Status::Published, "t", 5)
            .unwrap()
            .unwrap();
        assert_eq!((v1.version, v2.version, v3.version), (1, 2, 3));
        assert_eq!(
            (v1.created_date, v2.created_date, v3.created_date),
            (1000, 1001, 1002)
        );
        // Publishing the draft moves it after v3.
        let p2 = publish_draft(&conn, "a_1", 2, 0).unwrap().unwrap();
        assert_eq!(p2.created_date, 1003);
        let agent = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(agent.current_version, Some(2));
        let summary = list_agents(&conn).unwrap();
        assert_eq!(summary[0].latest_published, Some(2));
    }

    #[test]
    fn drafts_are_not_current_and_cannot_be_deployed() {
        let conn = db_with_agent();
        let p = json!("x");
        create_version(&conn, "a_1", &p, Status::Published, "t", 1).unwrap();
        let d = create_version(&conn, "a_1", &p, Status::Draft, "t", 2)
            .unwrap()
            .unwrap();
        assert!(!d.is_current);
        assert_eq!(
            deploy(&conn, "a_1", 2).unwrap(),
            Err(VersionRefusal::IsDraft)
        );
        assert_eq!(
            deploy(&conn, "a_1", 9).unwrap(),
            Err(VersionRefusal::NoSuchVersion)
        );
        assert_eq!(
            deploy(&conn, "nope", 1).unwrap(),
            Err(VersionRefusal::NoSuchAgent)
        );
        assert_eq!(
            publish_draft(&conn, "a_1", 1, 3).unwrap(),
            Err(VersionRefusal::AlreadyPublished)
        );
        let agent = get_agent(&conn, "a_1").unwrap().unwrap();
        let published = list_versions(&conn, &agent, Some(Status::Published)).unwrap();
        assert_eq!(published.len(), 1);
        assert!(published[0].is_current);
    }

    #[test]
    fn unknown_agent_gets_no_version() {
        let conn = open(None).unwrap();
        assert_eq!(
            create_version(&conn, "ghost", &json!("x"), Status::Published, "t", 1).unwrap(),
            None
        );
    }

    #[test]
    fn a_version_1_database_gains_governance_and_keeps_its_agents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v1.db");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE agents (id TEXT PRIMARY KEY NOT NULL, name TEXT, model TEXT,
                   created_date INTEGER NOT NULL, current_version INTEGER,
                   last_version INTEGER NOT NULL DEFAULT 0,
                   last_created_date INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO agents (id, name, model, created_date) VALUES ('a_1', 'Old', 'm', 5);
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        }
        let conn = open(Some(&path)).unwrap();
        let agent = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(
            (agent.string("name"), agent.field("governance")),
            (Some("Old"), None)
        );
        let patch = AgentPatch::from([
            ("governance", json!({"mode": "sdk"})),
            ("model", Value::Null),
        ]);
        let patched = patch_agent(&conn, "a_1", &patch).unwrap().unwrap();
        assert_eq!(patched.field("governance"), Some(&json!({"mode": "sdk"})));
        assert_eq!(patched.field("model"), None);
        drop(conn);
        // Opening again is a no-op (the column is not added twice).
        let conn = open(Some(&path)).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(
            get_agent(&conn, "a_1")
                .unwrap()
                .unwrap()
                .field("governance"),
            Some(&json!({"mode": "sdk"}))
        );
    }

    #[test]
    fn a_version_3_database_moves_its_agent_columns_into_the_document() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let old = Connection::open(&path).unwrap();
            old.execute_batch(
                "CREATE TABLE agents (id TEXT PRIMARY KEY NOT NULL, name TEXT, model TEXT,
                   governance TEXT, created_date INTEGER NOT NULL, current_version INTEGER,
                   last_version INTEGER NOT NULL DEFAULT 0,
                   last_created_date INTEGER NOT NULL DEFAULT 0);
                 INSERT INTO agents (id, name, model, governance, created_date)
                   VALUES ('a_1', 'Old', NULL, '{\"mode\":\"sdk\"}', 5),
                          ('a_2', NULL, 'm', 'not json', 6);
                 PRAGMA user_version = 3;",
            )
            .unwrap();
        }
        let conn = open(Some(&path)).unwrap();
        let a = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(
            a.to_json(),
            json!({"id": "a_1", "name": "Old", "model": null,
                   "governance": {"mode": "sdk"}, "createdDate": 5})
        );
        let b = get_agent(&conn, "a_2").unwrap().unwrap();
        assert_eq!(
            (b.string("model"), b.field("governance")),
            (Some("m"), None)
        );
        assert!(!has_column(&conn, "agents", "name").unwrap());
    }

    #[test]
    fn file_database_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        {
            let conn = open(Some(&path)).unwrap();
            insert_agent(&conn, "a_1", None, None).unwrap();
            create_version(
                &conn,
                "a_1",
                &json!({"base": "b"}),
                Status::Published,
                "t",
                7,
            )
            .unwrap();
        }
        let conn = open(Some(&path)).unwrap();
        let agent = get_agent(&conn, "a_1").unwrap().unwrap();
        let versions = list_versions(&conn, &agent, None).unwrap();
        assert_eq!(versions.len(), 1);
        assert_eq!(versions[0].persona, json!({"base": "b"}));
        assert!(versions[0].is_current);
    }
}
