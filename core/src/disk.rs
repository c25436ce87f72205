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

/// What [`prepare`] found and holds.
pub struct Prepared {
    /// Held for the run: one resolving `lua` per project.
    pub lock: lua_compile::ProjectLock,
    /// A commit a killed run left half done, finished or undone.
    pub recovered: Option<lua_compile::Recovered>,
}

/// Hold the project's lock (one resolving `lua` at a time) and finish or undo what a killed
/// run left half committed, before reading anything.
pub fn prepare(root: &Path) -> Result<Prepared, WriteError> {
    let lock = lua_compile::ProjectLock::acquire(root, LOCK_WAIT)?;
    let recovered = lua_compile::recover(root)?;
    Ok(Prepared { lock, recovered })
}
