//! Many agents in one run: finding every agent project under a folder (`lua sync --all`)
//! and checking prepared agents concurrently, a bounded number at a time, on one shared
//! transport. Knows nothing of printing or exit codes: it returns one report per agent, in
//! the order given, whatever failed in the others.

use std::path::{Path, PathBuf};

use futures::StreamExt as _;

use crate::engine::{Engine, Report};
use crate::{CoreError, Server};
use lua_compile::Compiled;

/// Agents checked at once: enough to keep one connection busy, few enough that a hundred
/// agents' reads of their projects do not all wait on each other.
pub const IN_FLIGHT: usize = 16;

/// The folder of every `lua.skill.yaml` under `root` (itself included), sorted; folders
/// ignored by `.gitignore` (and `.ignore`), hidden folders and `node_modules` are skipped.
pub fn discover(root: &Path) -> Result<Vec<PathBuf>, CoreError> {
    let mut found = Vec::new();
    let walk = ignore::WalkBuilder::new(root)
        // .gitignore counts in a folder that is not (yet) a git repository too.
        .require_git(false)
        .filter_entry(|entry| entry.file_name() != "node_modules")
        .build();
    for entry in walk {
        let entry = entry.map_err(|e| CoreError::Discover {
            path: root.to_path_buf(),
            reason: e.to_string(),
        })?;
        if entry.file_type().is_some_and(|t| t.is_file())
            && entry.file_name() == "lua.skill.yaml"
            && let Some(dir) = entry.path().parent()
        {
            found.push(dir.to_path_buf());
        }
    }
    found.sort();
    Ok(found)
}

/// One agent ready to be checked.
pub struct Prepared<'a> {
    pub engine: &'a Engine,
    pub compiled: &'a Compiled,
    pub server: &'a Server,
}

/// Checks every agent, at most [`IN_FLIGHT`] at a time; the reports in the given order.
pub async fn check_all(agents: &[Prepared<'_>]) -> Vec<Report> {
    futures::stream::iter(
        agents
            .iter()
            .map(|agent| agent.engine.check(agent.compiled, agent.server)),
    )
    .buffered(IN_FLIGHT)
    .collect()
    .await
}
