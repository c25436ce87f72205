//! The engine's side of the one guarded writer (`lua_compile::commit_files`): a
//! resolution's overlay committed in one transaction, the project's lock, and the recovery
//! of a commit a killed run left half done. Knows files and hashes, not components.

use std::path::Path;
use std::time::Duration;

use lua_compile::{OverlayFile, WriteError, WriteOptions};

/// How long a second `lua` waits for the project's lock before refusing.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Commit every changed file of an overlay together, guarded by the bytes each held when
/// the overlay first touched it. Returns warnings (an owner that could not be kept).
pub fn commit(
    root: &Path,
    changes: &[OverlayFile],
    options: &WriteOptions,
) -> Result<Vec<String>, WriteError> {
    let writes: Vec<lua_compile::FileWrite> = changes
        .iter()
        .map(|c| lua_compile::FileWrite {
            rel: c.rel.clone(),
            base: c.base(),
            bytes: c.new.clone(),
        })
        .collect();
    Ok(lua_compile::commit_files(root, &writes, options)?.warnings)
}

/// Hold the project's lock (one resolving `lua` at a time) and finish or undo what a killed
/// run left half committed, before reading anything.
pub fn prepare(root: &Path) -> Result<shim::ProjectLock, WriteError> {
    let lock = shim::ProjectLock::acquire(root, LOCK_WAIT)?;
    shim::recover(root)?;
    Ok(lock)
}

// TEMPORARY until the writer branch's journal and lock land on main.
mod shim {
    use super::*;
    pub struct ProjectLock;
    impl ProjectLock {
        pub fn acquire(_root: &Path, _wait: Duration) -> Result<Self, WriteError> {
            Ok(ProjectLock)
        }
    }
    pub fn recover(_root: &Path) -> Result<Option<()>, WriteError> {
        Ok(None)
    }
}
