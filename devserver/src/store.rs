//! SQLite persistence: agents (with governance), persona versions, idempotency records,
//! dashboard sessions; the submodules keep deployed primitives and backups.
//!
//! Every function takes a `&Connection` (a `Transaction` derefs to one) and does no locking of its
//! own: callers hold the single connection's mutex and open the transaction, so a multi-step
//! change (numbering a version, moving "current", storing the idempotent answer) is atomic.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

pub(crate) mod backup;
pub(crate) mod primitives;

/// Bumped when the schema changes; checked at open so an old file is not misread.
/// 2: `agents.governance`, primitives, MCP servers, backups, `idempotency.request`, sessions.
/// 3: `backups.project_hash`, `staged_blobs` (lua-cli's backup push).
const SCHEMA_VERSION: i64 = 3;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS agents (
    id                TEXT PRIMARY KEY NOT NULL,
    name              TEXT,
    model             TEXT,
    -- JSON object, or NULL for none.
    governance        TEXT,
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
    // A version-1 file (or an early version-2 one) lacks these columns: `CREATE TABLE IF NOT
    // EXISTS` keeps the old tables as they are.
    add_column_if_missing(&conn, "agents", "governance", "TEXT")?;
    add_column_if_missing(&conn, "idempotency", "request", "TEXT")?;
    conn.execute_batch(primitives::SCHEMA)?;
    conn.execute_batch(backup::SCHEMA)?;
    add_column_if_missing(&conn, "backups", "project_hash", "TEXT")?;
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
    Ok(conn)
}

/// Adds a nullable column to an existing table unless it is already there.
fn add_column_if_missing(
    conn: &Connection,
    table: &str,
    column: &str,
    decl: &str,
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if !names.iter().any(|n| n == column) {
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
    pub name: Option<String>,
    pub model: Option<String>,
    /// A JSON object, or `None`.
    pub governance: Option<Value>,
    pub created_date: i64,
    pub current_version: Option<i64>,
}

/// Which agent fields an update sets: `None` leaves a field as it is; `Some(None)` clears a
/// nullable one.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct AgentPatch {
    pub name: Option<String>,
    pub model: Option<Option<String>>,
    pub governance: Option<Option<Value>>,
}

impl Agent {
    /// The API's view of an agent (the payload of `GET /admin/agents/{agentId}`).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "model": self.model,
            "governance": self.governance,
            "createdDate": self.created_date,
        })
    }
}

/// Whether a version is a draft or published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Draft,
    Published,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Published => "published",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Status> {
        match s {
            "draft" => Some(Status::Draft),
            "published" => Some(Status::Published),
            _ => None,
        }
    }
}

/// One persona version, with `is_current` resolved against its agent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Version {
    pub version: i64,
    pub persona: Value,
    pub status: Status,
    pub created_date: i64,
    pub created_by: String,
    pub is_current: bool,
}

impl Version {
    /// The API's view of a version (one entry of the versions list).
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "version": self.version,
            "persona": self.persona,
            "createdDate": self.created_date,
            "isCurrent": self.is_current,
            "status": self.status.as_str(),
            "createdBy": self.created_by,
        })
    }
}

/// An agent with the numbers the dashboard's list shows.
#[derive(Debug, Clone)]
pub(crate) struct AgentSummary {
    pub agent: Agent,
    /// The published version with the greatest createdDate.
    pub latest_published: Option<i64>,
}

/// Why an operation on an existing version was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VersionRefusal {
    NoSuchAgent,
    NoSuchVersion,
    /// Deploying a draft: only published versions can become current.
    IsDraft,
    /// Publishing a version that is already published.
    AlreadyPublished,
}

fn agent_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Agent> {
    let governance: Option<String> = r.get(5)?;
    Ok(Agent {
        id: r.get(0)?,
        name: r.get(1)?,
        model: r.get(2)?,
        // Written by this module as JSON; an unreadable value is served as none.
        governance: governance.and_then(|g| serde_json::from_str(&g).ok()),
        created_date: r.get(3)?,
        current_version: r.get(4)?,
    })
}

const AGENT_COLUMNS: &str = "id, name, model, created_date, current_version, governance";

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
    let n = conn.execute(
        "INSERT OR IGNORE INTO agents (id, name, model, created_date) VALUES (?1, ?2, ?3, ?4)",
        params![id, name, model, now_ms()],
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
    let patch = AgentPatch {
        name: name.map(str::to_owned),
        model: model.map(|m| Some(m.to_owned())),
        governance: None,
    };
    patch_agent(conn, id, &patch)
}

/// Applies a patch. Returns the updated agent, None if unknown.
pub(crate) fn patch_agent(
    conn: &Connection,
    id: &str,
    patch: &AgentPatch,
) -> rusqlite::Result<Option<Agent>> {
    if let Some(name) = &patch.name {
        conn.execute(
            "UPDATE agents SET name = ?2 WHERE id = ?1",
            params![id, name],
        )?;
    }
    if let Some(model) = &patch.model {
        conn.execute(
            "UPDATE agents SET model = ?2 WHERE id = ?1",
            params![id, model],
        )?;
    }
    if let Some(governance) = &patch.governance {
        conn.execute(
            "UPDATE agents SET governance = ?2 WHERE id = ?1",
            params![id, governance.as_ref().map(Value::to_string)],
        )?;
    }
    get_agent(conn, id)
}

pub(crate) fn list_agents(conn: &Connection) -> rusqlite::Result<Vec<AgentSummary>> {
    let mut stmt = conn.prepare(
        "SELECT a.id, a.name, a.model, a.created_date, a.current_version, a.governance,
                (SELECT v.version FROM persona_versions v
                  WHERE v.agent_id = a.id AND v.status = 'published'
                  ORDER BY v.created_date DESC LIMIT 1)
           FROM agents a ORDER BY a.id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(AgentSummary {
            agent: agent_from_row(r)?,
            latest_published: r.get(6)?,
        })
    })?;
    rows.collect()
}

/// Lists an agent's versions in version order, optionally only one status. The agent must exist.
pub(crate) fn list_versions(
    conn: &Connection,
    agent: &Agent,
    only: Option<Status>,
) -> rusqlite::Result<Vec<Version>> {
    let mut stmt = conn.prepare(
        "SELECT version, persona, status, created_date, created_by FROM persona_versions
          WHERE agent_id = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY version",
    )?;
    let rows = stmt.query_map(params![agent.id, only.map(Status::as_str)], |r| {
        version_from_row(r, agent.current_version)
    })?;
    rows.collect()
}

fn version_from_row(r: &rusqlite::Row<'_>, current: Option<i64>) -> rusqlite::Result<Version> {
    let version: i64 = r.get(0)?;
    let persona_text: String = r.get(1)?;
    // Written by this module as JSON; a hand-edited non-JSON value is served as plain text.
    let persona = serde_json::from_str(&persona_text).unwrap_or(Value::String(persona_text));
    let status_text: String = r.get(2)?;
    let status = Status::parse(&status_text).unwrap_or(Status::Draft);
    Ok(Version {
        version,
        persona,
        status,
        created_date: r.get(3)?,
        created_by: r.get(4)?,
        is_current: current == Some(version),
    })
}

fn get_version(conn: &Connection, agent: &Agent, n: i64) -> rusqlite::Result<Option<Version>> {
    conn.query_row(
        "SELECT version, persona, status, created_date, created_by FROM persona_versions
          WHERE agent_id = ?1 AND version = ?2",
        params![agent.id, n],
        |r| version_from_row(r, agent.current_version),
    )
    .optional()
}

/// The next createdDate for an agent: `max(now, last + 1)`, recorded as the new last.
fn next_created_date(conn: &Connection, agent_id: &str, now: i64) -> rusqlite::Result<i64> {
    let last: i64 = conn.query_row(
        "SELECT last_created_date FROM agents WHERE id = ?1",
        [agent_id],
        |r| r.get(0),
    )?;
    let date = now.max(last.saturating_add(1));
    conn.execute(
        "UPDATE agents SET last_created_date = ?2 WHERE id = ?1",
        params![agent_id, date],
    )?;
    Ok(date)
}

/// Creates the agent's next version. A published one also becomes current.
/// Call inside a transaction: numbering reads then writes the agent row.
pub(crate) fn create_version(
    conn: &Connection,
    agent_id: &str,
    persona: &Value,
    status: Status,
    created_by: &str,
    now: i64,
) -> rusqlite::Result<Option<Version>> {
    let Some(last): Option<i64> = conn
        .query_row(
            "SELECT last_version FROM agents WHERE id = ?1",
            [agent_id],
            |r| r.get(0),
        )
        .optional()?
    else {
        return Ok(None);
    };
    let version = last.saturating_add(1);
    let created_date = next_created_date(conn, agent_id, now)?;
    conn.execute(
        "INSERT INTO persona_versions (agent_id, version, persona, status, created_date, created_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            agent_id,
            version,
            persona.to_string(),
            status.as_str(),
            created_date,
            created_by
        ],
    )?;
    conn.execute(
        "UPDATE agents SET last_version = ?2 WHERE id = ?1",
        params![agent_id, version],
    )?;
    if status == Status::Published {
        set_current(conn, agent_id, version)?;
    }
    Ok(Some(Version {
        version,
        persona: persona.clone(),
        status,
        created_date,
        created_by: created_by.to_owned(),
        is_current: status == Status::Published,
    }))
}

fn set_current(conn: &Connection, agent_id: &str, version: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE agents SET current_version = ?2 WHERE id = ?1",
        params![agent_id, version],
    )?;
    Ok(())
}

/// Publishes a draft: it keeps its number, becomes published and current, and gets a fresh
/// createdDate so it is the latest published.
pub(crate) fn publish_draft(
    conn: &Connection,
    agent_id: &str,
    n: i64,
    now: i64,
) -> rusqlite::Result<Result<Version, VersionRefusal>> {
    let Some(agent) = get_agent(conn, agent_id)? else {
        return Ok(Err(VersionRefusal::NoSuchAgent));
    };
    let Some(v) = get_version(conn, &agent, n)? else {
        return Ok(Err(VersionRefusal::NoSuchVersion));
    };
    if v.status == Status::Published {
        return Ok(Err(VersionRefusal::AlreadyPublished));
    }
    let created_date = next_created_date(conn, agent_id, now)?;
    conn.execute(
        "UPDATE persona_versions SET status = 'published', created_date = ?3
          WHERE agent_id = ?1 AND version = ?2",
        params![agent_id, n, created_date],
    )?;
    set_current(conn, agent_id, n)?;
    Ok(Ok(Version {
        status: Status::Published,
        created_date,
        is_current: true,
        ..v
    }))
}

/// Makes an existing published version current (a rollback when it is older).
/// "Latest published" is untouched: createdDate does not change.
pub(crate) fn deploy(
    conn: &Connection,
    agent_id: &str,
    n: i64,
) -> rusqlite::Result<Result<Version, VersionRefusal>> {
    let Some(agent) = get_agent(conn, agent_id)? else {
        return Ok(Err(VersionRefusal::NoSuchAgent));
    };
    let Some(v) = get_version(conn, &agent, n)? else {
        return Ok(Err(VersionRefusal::NoSuchVersion));
    };
    if v.status == Status::Draft {
        return Ok(Err(VersionRefusal::IsDraft));
    }
    set_current(conn, agent_id, n)?;
    Ok(Ok(Version {
        is_current: true,
        ..v
    }))
}

/// A stored answer: the status and exact body of the first response to an idempotent request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredAnswer {
    pub status: u16,
    pub body: String,
    /// The fingerprint of the request that produced it (`None` for pre-version-2 rows).
    pub request: Option<String>,
}

pub(crate) fn idempotent_get(
    conn: &Connection,
    agent_id: &str,
    key: &str,
) -> rusqlite::Result<Option<StoredAnswer>> {
    conn.query_row(
        "SELECT status, body, request FROM idempotency WHERE agent_id = ?1 AND key = ?2",
        params![agent_id, key],
        |r| {
            Ok(StoredAnswer {
                status: r.get(0)?,
                body: r.get(1)?,
                request: r.get(2)?,
            })
        },
    )
    .optional()
}

pub(crate) fn idempotent_put(
    conn: &Connection,
    agent_id: &str,
    key: &str,
    answer: &StoredAnswer,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO idempotency (agent_id, key, status, body, created_date, request)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            agent_id,
            key,
            answer.status,
            answer.body,
            now_ms(),
            answer.request
        ],
    )?;
    Ok(())
}

/// A stored dashboard session: when it was created and last used (epoch ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SessionRow {
    pub created: i64,
    pub last_seen: i64,
}

pub(crate) fn session_insert(conn: &Connection, digest: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO sessions (token_digest, created, last_seen) VALUES (?1, ?2, ?2)",
        params![digest, now],
    )?;
    Ok(())
}

pub(crate) fn session_get(conn: &Connection, digest: &str) -> rusqlite::Result<Option<SessionRow>> {
    conn.query_row(
        "SELECT created, last_seen FROM sessions WHERE token_digest = ?1",
        params![digest],
        |r| {
            Ok(SessionRow {
                created: r.get(0)?,
                last_seen: r.get(1)?,
            })
        },
    )
    .optional()
}

pub(crate) fn session_touch(conn: &Connection, digest: &str, now: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen = ?2 WHERE token_digest = ?1",
        params![digest, now],
    )?;
    Ok(())
}

pub(crate) fn session_delete(conn: &Connection, digest: &str) -> rusqlite::Result<bool> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE token_digest = ?1",
        params![digest],
    )? > 0)
}

/// Deletes sessions idle since before `idle_before` or created before `created_before`.
pub(crate) fn session_prune(
    conn: &Connection,
    idle_before: i64,
    created_before: i64,
) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM sessions WHERE last_seen < ?1 OR created < ?2",
        params![idle_before, created_before],
    )
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
        assert_eq!(a.name.as_deref(), Some("Bot"));
        assert_eq!(a.model, None);
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
            (agent.name.as_deref(), agent.governance),
            (Some("Old"), None)
        );
        let patch = AgentPatch {
            governance: Some(Some(json!({"mode": "sdk"}))),
            model: Some(None),
            ..AgentPatch::default()
        };
        let patched = patch_agent(&conn, "a_1", &patch).unwrap().unwrap();
        assert_eq!(patched.governance, Some(json!({"mode": "sdk"})));
        assert_eq!(patched.model, None);
        drop(conn);
        // Opening again is a no-op (the column is not added twice).
        let conn = open(Some(&path)).unwrap();
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
        assert_eq!(
            get_agent(&conn, "a_1").unwrap().unwrap().governance,
            Some(json!({"mode": "sdk"}))
        );
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
