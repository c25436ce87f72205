//! Three-way sync state: `lua.sync.json` at the project root.
//!
//! Per item (`<component>` for a single value, `<component>/<key>` for an item of a
//! keyed set), the hash of the value both sides last agreed on (and the server version
//! then). Small, sorted, no timestamps: meant to be committed, so a teammate's checkout
//! classifies drift the same way (which is why it is not under `.lua/`, which project
//! templates ignore). The first round kept it in `.lua/sync-state.json`: that file is
//! read when the new one does not exist, and removed when the new one is written.
//! A corrupt, oversized or unknown-format file is reported and treated as "no base",
//! never a crash; only regular files are read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use serde::{Deserialize, Serialize};

use crate::component::Version;
use crate::error::CoreError;

pub const STATE_FILE: &str = "lua.sync.json";
/// Where the first round kept it; read once and migrated.
pub const LEGACY_STATE_FILE: &str = ".lua/sync-state.json";
/// The largest state file read.
pub const MAX_STATE_BYTES: u64 = 1024 * 1024;
pub const STATE_FORMAT: u32 = 1;

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SyncState {
    pub format: u32,
    /// The agent these bases belong to; a state recorded for another agent is no base.
    pub agent_id: Option<String>,
    pub components: BTreeMap<String, StateEntry>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StateEntry {
    /// `sha256:<hex>` of the canonical text both sides agreed on.
    pub hash: String,
    /// The server's version of that value, where it has versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<Version>,
}

/// The state file as loaded, with a warning when it could not be used.
pub struct Loaded {
    pub state: SyncState,
    pub warning: Option<String>,
}

pub fn path(root: &Path) -> PathBuf {
    root.join(STATE_FILE)
}

pub fn legacy_path(root: &Path) -> PathBuf {
    root.join(LEGACY_STATE_FILE)
}

/// Load the state for `agent_id`. Missing file: empty. Corrupt, other format or other
/// agent: empty, with a warning saying why.
pub fn load(root: &Path, agent_id: &str) -> Loaded {
    let empty = SyncState {
        format: STATE_FORMAT,
        agent_id: Some(agent_id.to_string()),
        components: BTreeMap::new(),
    };
    let (name, text) = match read_small(&path(root)) {
        Ok(Some(text)) => (STATE_FILE, text),
        Ok(None) => match read_small(&legacy_path(root)) {
            Ok(Some(text)) => (LEGACY_STATE_FILE, text),
            Ok(None) => {
                return Loaded {
                    state: empty,
                    warning: None,
                };
            }
            Err(e) => return unreadable(empty, LEGACY_STATE_FILE, &e),
        },
        Err(e) => return unreadable(empty, STATE_FILE, &e),
    };
    parse(empty, name, &text, agent_id)
}

fn unreadable(empty: SyncState, name: &str, e: &str) -> Loaded {
    Loaded {
        state: empty,
        warning: Some(format!(
            "cannot read {name}: {e}; treating as no previous sync"
        )),
    }
}

/// A regular file of at most [`MAX_STATE_BYTES`]; `None` when it does not exist.
fn read_small(file: &Path) -> Result<Option<String>, String> {
    use std::io::Read;
    let meta = match std::fs::metadata(file) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_STATE_BYTES {
        return Err(format!("larger than {} KiB", MAX_STATE_BYTES / 1024));
    }
    let handle = std::fs::File::open(file).map_err(|e| e.to_string())?;
    if !handle.metadata().is_ok_and(|m| m.is_file()) {
        return Err("not a regular file".into());
    }
    let mut text = String::new();
    handle
        .take(MAX_STATE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    if text.len() as u64 > MAX_STATE_BYTES {
        return Err(format!("larger than {} KiB", MAX_STATE_BYTES / 1024));
    }
    Ok(Some(text))
}

fn parse(empty: SyncState, name: &str, text: &str, agent_id: &str) -> Loaded {
    match serde_json::from_str::<SyncState>(text) {
        Ok(state) if state.format != STATE_FORMAT => Loaded {
            state: empty,
            warning: Some(format!(
                "{name} has format {} (this lua understands {STATE_FORMAT}); treating as no previous sync",
                state.format
            )),
        },
        Ok(state) if state.agent_id.as_deref() != Some(agent_id) => Loaded {
            state: empty,
            warning: Some(format!(
                "{name} was recorded for agent {}; treating as no previous sync",
                state.agent_id.as_deref().unwrap_or("(none)")
            )),
        },
        Ok(state) => Loaded {
            state,
            warning: None,
        },
        Err(e) => Loaded {
            state: empty,
            warning: Some(format!(
                "{name} is not valid ({e}); treating as no previous sync"
            )),
        },
    }
}

/// Write the state atomically (temp file beside it, fsync, rename); the first round's
/// file, if any, is removed once the new one is in place.
pub fn save(root: &Path, state: &SyncState) -> Result<(), CoreError> {
    write(root, state)?;
    let legacy = legacy_path(root);
    if legacy.is_file() {
        std::fs::remove_file(&legacy).map_err(|source| CoreError::StateWrite {
            path: legacy,
            source,
        })?;
    }
    Ok(())
}

/// Through the one guarded writer: atomic, mode/owner kept, and refused if the file changed
/// since it was read here (a teammate's `git pull` meanwhile is not overwritten).
fn write(root: &Path, state: &SyncState) -> Result<(), CoreError> {
    let file = path(root);
    let err = |source| CoreError::StateWrite {
        path: file.clone(),
        source,
    };
    let mut text =
        serde_json::to_string_pretty(state).map_err(|e| err(std::io::Error::other(e)))?;
    text.push('\n');
    let old = match std::fs::read(&file) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(err(e)),
    };
    if old.as_deref() == Some(text.as_bytes()) {
        return Ok(());
    }
    let write = lua_compile::FileWrite {
        rel: STATE_FILE.to_string(),
        base: old.as_deref().map(|b| hex::encode(Sha256::digest(b))),
        bytes: text.into_bytes(),
    };
    lua_compile::commit_files(root, &[write], &lua_compile::WriteOptions::default())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_sorted_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = load(dir.path(), "a_b").state;
        state.components.insert(
            "beta".into(),
            StateEntry {
                hash: "sha256:1".into(),
                server_version: Some(Version::Number(3)),
            },
        );
        state.components.insert(
            "alpha".into(),
            StateEntry {
                hash: "sha256:2".into(),
                server_version: None,
            },
        );
        save(dir.path(), &state).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        insta::assert_snapshot!(text);
        assert_eq!(load(dir.path(), "a_b").state, state);
    }

    #[test]
    fn corrupt_file_is_no_base_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(path(dir.path()), "{not json").unwrap();
        let loaded = load(dir.path(), "a_b");
        assert!(loaded.state.components.is_empty());
        assert!(loaded.warning.unwrap().contains("not valid"));
    }

    #[test]
    fn other_format_or_agent_is_no_base() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            path(dir.path()),
            r#"{"format": 9, "agentId": "a_b", "components": {}}"#,
        )
        .unwrap();
        assert!(
            load(dir.path(), "a_b")
                .warning
                .unwrap()
                .contains("format 9")
        );
        std::fs::write(
            path(dir.path()),
            r#"{"format": 1, "agentId": "x_y", "components": {"alpha": {"hash": "h"}}}"#,
        )
        .unwrap();
        let loaded = load(dir.path(), "a_b");
        assert!(loaded.state.components.is_empty());
        assert!(loaded.warning.unwrap().contains("x_y"));
    }

    #[test]
    fn the_first_rounds_file_is_read_then_migrated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".lua")).unwrap();
        std::fs::write(
            legacy_path(dir.path()),
            r#"{"format": 1, "agentId": "a_b", "components": {"alpha": {"hash": "sha256:1", "serverVersion": 4}}}"#,
        )
        .unwrap();
        let loaded = load(dir.path(), "a_b");
        assert_eq!(loaded.warning, None);
        let entry = &loaded.state.components["alpha"];
        assert_eq!(entry.server_version, Some(Version::Number(4)));
        save(dir.path(), &loaded.state).unwrap();
        assert!(!legacy_path(dir.path()).exists());
        assert_eq!(load(dir.path(), "a_b").state, loaded.state);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".lua-tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn text_versions_and_keyed_entries_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let mut state = load(dir.path(), "a_b").state;
        state.components.insert(
            "skills/order-skill".into(),
            StateEntry {
                hash: "sha256:9".into(),
                server_version: Some(Version::Text("1.0.1".into())),
            },
        );
        save(dir.path(), &state).unwrap();
        let text = std::fs::read_to_string(path(dir.path())).unwrap();
        assert!(text.contains(r#""serverVersion": "1.0.1""#), "{text}");
        assert_eq!(load(dir.path(), "a_b").state, state);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_or_oversized_state_file_is_no_base_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(path(dir.path()))
            .status()
            .unwrap();
        assert!(status.success());
        let loaded = load(dir.path(), "a_b");
        assert!(loaded.warning.unwrap().contains("not a regular file"));
        std::fs::remove_file(path(dir.path())).unwrap();
        std::fs::write(path(dir.path()), vec![b' '; 2 * 1024 * 1024]).unwrap();
        assert!(load(dir.path(), "a_b").warning.unwrap().contains("larger"));
    }
}
