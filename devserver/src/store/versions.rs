//! SQLite persistence of persona versions: numbering, publishing, which one is current.
//!
//! Agents themselves are `store.rs`; like it, every function takes a `&Connection` and the
//! caller holds the transaction, so numbering a version and moving "current" are atomic.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use super::{Agent, get_agent};

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
