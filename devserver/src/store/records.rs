//! SQLite persistence of per-request records: idempotent answers and dashboard sessions.
//!
//! Plain rows; what they mean (replay, expiry) is decided by the routes and `sessions`.

use rusqlite::{Connection, OptionalExtension, params};

use super::now_ms;

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
