//! Three-way sync state: `.lua/sync-state.json`.
//!
//! Per component id, the hash of the value both sides last agreed on (and the server
//! version then). Small, sorted, no timestamps: meant to be committed, so a teammate's
//! checkout classifies drift the same way. A corrupt or unknown-format file is reported
//! and treated as "no base", never a crash.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::CoreError;

pub const STATE_FILE: &str = ".lua/sync-state.json";
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
    pub server_version: Option<u64>,
}

/// The state file as loaded, with a warning when it could not be used.
pub struct Loaded {
    pub state: SyncState,
    pub warning: Option<String>,
}

pub fn path(root: &Path) -> PathBuf {
    root.join(STATE_FILE)
}

/// Load the state for `agent_id`. Missing file: empty. Corrupt, other format or other
/// agent: empty, with a warning saying why.
pub fn load(root: &Path, agent_id: &str) -> Loaded {
    let file = path(root);
    let empty = SyncState {
        format: STATE_FORMAT,
        agent_id: Some(agent_id.to_string()),
        components: BTreeMap::new(),
    };
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Loaded {
                state: empty,
                warning: None,
            };
        }
        Err(e) => {
            return Loaded {
                state: empty,
                warning: Some(format!(
                    "cannot read {STATE_FILE}: {e}; treating as no previous sync"
                )),
            };
        }
    };
    match serde_json::from_str::<SyncState>(&text) {
        Ok(state) if state.format != STATE_FORMAT => Loaded {
            state: empty,
            warning: Some(format!(
                "{STATE_FILE} has format {} (this lua understands {STATE_FORMAT}); treating as no previous sync",
                state.format
            )),
        },
        Ok(state) if state.agent_id.as_deref() != Some(agent_id) => Loaded {
            state: empty,
            warning: Some(format!(
                "{STATE_FILE} was recorded for agent {}; treating as no previous sync",
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
                "{STATE_FILE} is not valid ({e}); treating as no previous sync"
            )),
        },
    }
}

/// Write the state atomically (temp file in `.lua/`, fsync, rename).
pub fn save(root: &Path, state: &SyncState) -> Result<(), CoreError> {
    let file = path(root);
    let err = |source| CoreError::StateWrite {
        path: file.clone(),
        source,
    };
    let dir = file.parent().unwrap_or(root);
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut text =
        serde_json::to_string_pretty(state).map_err(|e| err(std::io::Error::other(e)))?;
    text.push('\n');
    if std::fs::read_to_string(&file).is_ok_and(|old| old == text) {
        return Ok(());
    }
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(err)?;
    tmp.write_all(text.as_bytes()).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(&file).map_err(|e| err(e.error))?;
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
                server_version: Some(3),
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
        std::fs::create_dir_all(dir.path().join(".lua")).unwrap();
        std::fs::write(path(dir.path()), "{not json").unwrap();
        let loaded = load(dir.path(), "a_b");
        assert!(loaded.state.components.is_empty());
        assert!(loaded.warning.unwrap().contains("not valid"));
    }

    #[test]
    fn other_format_or_agent_is_no_base() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".lua")).unwrap();
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
}
