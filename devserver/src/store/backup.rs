//! SQLite persistence of agents' source backups: one backup per agent (an upload replaces it),
//! its files' manifest entries and the exact bytes each blob URL serves.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value, json};

use crate::spec::PreparedFile;

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS backups (
    agent_id     TEXT PRIMARY KEY NOT NULL REFERENCES agents(id),
    created_date INTEGER NOT NULL,
    -- List 16-character hash prefixes in the manifest.
    short_hashes INTEGER NOT NULL DEFAULT 0,
    -- The projectHash a client pushed with its manifest (NULL: computed from the files).
    project_hash TEXT
);
-- Blobs uploaded through signed PUT URLs (lua-cli's `lua push backup`), waiting for the
-- manifest that names them; the manifest moves them into backup_files.
CREATE TABLE IF NOT EXISTS staged_blobs (
    agent_id TEXT NOT NULL REFERENCES agents(id),
    hash     TEXT NOT NULL,
    gzip     INTEGER NOT NULL,
    data     BLOB NOT NULL,
    PRIMARY KEY (agent_id, hash)
);
CREATE TABLE IF NOT EXISTS backup_files (
    agent_id      TEXT NOT NULL REFERENCES backups(agent_id) ON DELETE CASCADE,
    relative_path TEXT NOT NULL,
    external      INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    gzip          INTEGER NOT NULL,
    data          BLOB NOT NULL,
    PRIMARY KEY (agent_id, relative_path, external)
);
";

/// A backup's summary: `GET /developer/agents/{agentId}/backup`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Summary {
    pub file_count: i64,
    /// Epoch milliseconds.
    pub created_date: i64,
    /// The `projectHash` a client pushed with the manifest; `None` for seeded or uploaded backups.
    pub pushed_hash: Option<String>,
}

/// One manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub relative_path: String,
    /// As the manifest lists it (full, or 16 characters when the backup asks for short hashes).
    pub hash: String,
    pub external: bool,
    pub gzip: bool,
}

impl Entry {
    /// The manifest's view: `{"relativePath", "hash", "external"?}` (`external` only when true).
    pub(crate) fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("relativePath".to_owned(), json!(self.relative_path));
        m.insert("hash".to_owned(), json!(self.hash));
        if self.external {
            m.insert("external".to_owned(), json!(true));
        }
        Value::Object(m)
    }
}

/// Replaces the agent's backup with these files. Returns false if the agent is unknown.
pub(crate) fn replace(
    conn: &Connection,
    agent_id: &str,
    files: &[PreparedFile],
    short_hashes: bool,
    now: i64,
) -> rusqlite::Result<bool> {
    replace_with_hash(conn, agent_id, files, short_hashes, None, now)
}

/// [`replace`], storing the `projectHash` the client pushed (served instead of the computed one).
pub(crate) fn replace_with_hash(
    conn: &Connection,
    agent_id: &str,
    files: &[PreparedFile],
    short_hashes: bool,
    project_hash: Option<&str>,
    now: i64,
) -> rusqlite::Result<bool> {
    let known = conn
        .query_row("SELECT 1 FROM agents WHERE id = ?1", [agent_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !known {
        return Ok(false);
    }
    conn.execute("DELETE FROM backup_files WHERE agent_id = ?1", [agent_id])?;
    conn.execute(
        "INSERT OR REPLACE INTO backups (agent_id, created_date, short_hashes, project_hash)
         VALUES (?1, ?2, ?3, ?4)",
        params![agent_id, now, short_hashes, project_hash],
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO backup_files (agent_id, relative_path, external, hash, gzip, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for f in files {
        insert.execute(params![
            agent_id,
            f.relative_path,
            f.external,
            f.hash,
            f.gzip,
            f.data
        ])?;
    }
    Ok(true)
}

/// The agent's backup summary; `None` if it has none.
pub(crate) fn summary(conn: &Connection, agent_id: &str) -> rusqlite::Result<Option<Summary>> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM backup_files f WHERE f.agent_id = b.agent_id), b.created_date,
                b.project_hash
           FROM backups b WHERE b.agent_id = ?1",
        [agent_id],
        |r| {
            Ok(Summary {
                file_count: r.get(0)?,
                created_date: r.get(1)?,
                pushed_hash: r.get(2)?,
            })
        },
    )
    .optional()
}

/// The manifest entries in upload order (empty without a backup).
pub(crate) fn manifest(conn: &Connection, agent_id: &str) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT f.relative_path, f.hash, f.external, f.gzip, b.short_hashes
           FROM backup_files f JOIN backups b ON b.agent_id = f.agent_id
          WHERE f.agent_id = ?1 ORDER BY f.rowid",
    )?;
    stmt.query_map([agent_id], |r| {
        let hash: String = r.get(1)?;
        let short: bool = r.get(4)?;
        Ok(Entry {
            relative_path: r.get(0)?,
            hash: if short {
                hash.chars().take(16).collect()
            } else {
                hash
            },
            external: r.get(2)?,
            gzip: r.get(3)?,
        })
    })?
    .collect()
}

/// The backup's `projectHash`, computed as lua-cli 3.37 computes the one it pushes (and which the
/// platform stores and serves back): the hex SHA-256 of the entries' hashes, as the manifest lists
/// them, ordered by `relativePath` and joined with `|`. The reference sorts with JavaScript's
/// `localeCompare`; this sorts by bytes, which agrees for the ASCII paths of real projects, and
/// the reference only ever compares this value with one it read from the server earlier.
pub(crate) fn project_hash(entries: &[Entry]) -> String {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
    let joined = sorted
        .iter()
        .map(|e| e.hash.as_str())
        .collect::<Vec<_>>()
        .join("|");
    hex::encode(<sha2::Sha256 as sha2::Digest>::digest(joined.as_bytes()))
}

/// Keeps an uploaded blob until a manifest names it (a re-upload replaces it).
pub(crate) fn stage_blob(
    conn: &Connection,
    agent_id: &str,
    hash: &str,
    gzip: bool,
    data: &[u8],
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO staged_blobs (agent_id, hash, gzip, data) VALUES (?1, ?2, ?3, ?4)",
        params![agent_id, hash, gzip, data],
    )?;
    Ok(())
}

/// The bytes and gzip flag of a blob the agent has under `hash` (16 or 64 hex digits): staged,
/// else in its current backup (whose stored hashes may be longer). `None` when it has none.
pub(crate) fn find_blob(
    conn: &Connection,
    agent_id: &str,
    hash: &str,
) -> rusqlite::Result<Option<(bool, Vec<u8>)>> {
    let staged = conn
        .query_row(
            "SELECT gzip, data FROM staged_blobs WHERE agent_id = ?1 AND hash = ?2",
            params![agent_id, hash],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    if staged.is_some() {
        return Ok(staged);
    }
    conn.query_row(
        "SELECT gzip, data FROM backup_files WHERE agent_id = ?1 AND substr(hash, 1, ?3) = ?2
          ORDER BY rowid LIMIT 1",
        params![agent_id, hash, hash.len() as i64],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Forgets the agent's staged blobs (once a manifest has taken what it needs).
pub(crate) fn clear_staged(conn: &Connection, agent_id: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM staged_blobs WHERE agent_id = ?1", [agent_id])?;
    Ok(())
}

/// The full hash of the agent's blob that `given` names (the full hash or a prefix of at least
/// 16 characters, any case), if there is one.
pub(crate) fn resolve_hash(
    conn: &Connection,
    agent_id: &str,
    given: &str,
) -> rusqlite::Result<Option<String>> {
    let given = given.to_ascii_lowercase();
    if given.len() < 16 || given.len() > 64 || !given.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    conn.query_row(
        "SELECT hash FROM backup_files WHERE agent_id = ?1 AND substr(hash, 1, ?3) = ?2
          ORDER BY rowid LIMIT 1",
        params![agent_id, given, given.len() as i64],
        |r| r.get(0),
    )
    .optional()
}

/// The exact bytes the blob URL serves (gzip-compressed for a gzip file).
pub(crate) fn blob(
    conn: &Connection,
    agent_id: &str,
    hash: &str,
) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.query_row(
        "SELECT data FROM backup_files WHERE agent_id = ?1 AND hash = ?2 ORDER BY rowid LIMIT 1",
        params![agent_id, hash],
        |r| r.get(0),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::BackupSpec;
    use crate::store::{insert_agent, open};

    fn files(v: Value) -> (Vec<PreparedFile>, bool) {
        let spec: BackupSpec = serde_json::from_value(v).unwrap();
        (spec.prepare().unwrap(), spec.short_hashes)
    }

    #[test]
    fn an_upload_replaces_the_backup() {
        let conn = open(None).unwrap();
        insert_agent(&conn, "a_1", None, None).unwrap();
        assert_eq!(summary(&conn, "a_1").unwrap(), None);
        let (first, _) = files(json!({"files": [
            {"relativePath": "a.ts", "content": "a"}, {"relativePath": "b.ts", "content": "b"}
        ]}));
        assert!(replace(&conn, "a_1", &first, false, 10).unwrap());
        assert_eq!(summary(&conn, "a_1").unwrap().unwrap().file_count, 2);
        let (second, short) = files(json!({"shortHashes": true, "files": [
            {"relativePath": "c.ts", "content": "c", "external": true}
        ]}));
        assert!(replace(&conn, "a_1", &second, short, 20).unwrap());
        assert_eq!(
            summary(&conn, "a_1").unwrap(),
            Some(Summary {
                file_count: 1,
                created_date: 20,
                pushed_hash: None,
            })
        );
        let entries = manifest(&conn, "a_1").unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].hash, &second[0].hash[..16]);
        assert_eq!(
            entries[0].to_json(),
            json!({"relativePath": "c.ts", "hash": &second[0].hash[..16], "external": true})
        );
        let full = resolve_hash(&conn, "a_1", &entries[0].hash)
            .unwrap()
            .unwrap();
        assert_eq!(full, second[0].hash);
        assert_eq!(blob(&conn, "a_1", &full).unwrap().unwrap(), b"c");
        assert_eq!(resolve_hash(&conn, "a_1", &first[0].hash).unwrap(), None);
        assert_eq!(resolve_hash(&conn, "a_1", "abc").unwrap(), None);
        assert!(!replace(&conn, "ghost", &first, false, 1).unwrap());
    }

    #[test]
    fn the_project_hash_is_the_references_formula() {
        let entry = |path: &str, hash: &str| Entry {
            relative_path: path.into(),
            hash: hash.into(),
            external: false,
            gzip: false,
        };
        // Listed out of path order: the hash is over "aa|bb" (sorted by path), not "bb|aa".
        let entries = [entry("src/b.ts", "bb"), entry("src/a.ts", "aa")];
        assert_eq!(
            project_hash(&entries),
            // printf 'aa|bb' | sha256sum
            "87da88297abcaddcc49ae639247e2c948656d8a31b985565bfb183ddb0ce8ed4"
        );
    }
}
