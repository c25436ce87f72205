//! Write-back: put a new value into the source that defines a [`Node`], exactly and atomically.
//!
//! [`crate::plan`] turns (node, new value) into byte-span edits, reading each touched file once
//! and refusing if its hash differs from the one compile recorded; the guarded writer
//! (`commit.rs`) commits every file, guarded by those hashes, all or nothing.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::commit::commit_fs;
use crate::error::WriteError;
use crate::fsio::{Changes, FsStore, MemStore, Store, commit_mem};
use crate::model::{Compiled, LiteralKind, Node};
use crate::options::{WriteOptions, WriteReport};
use crate::plan::{Planner, same_keys};

/// Write `new_value` back into the source that defines `node` (which came from `compiled`).
///
/// Only the bytes of the literals that define the value change. Each file is checked against
/// the sha256 compile recorded; if any differs, nothing is written ([`WriteError::Changed`]).
/// After a write, `compiled` is stale: compile again before another write.
pub fn write_back(
    root: &Path,
    compiled: &Compiled,
    node: &Node,
    new_value: &Value,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let changes = plan_replace(&FsStore { root }, compiled, node, new_value, &opts)?;
    let warnings = commit_fs(root, &changes.writes(compiled), &opts)?;
    Ok(changes.report(warnings))
}

/// [`write_back`] on a project held in memory (relative path -> text), as returned by
/// [`crate::evaluate_files`]. Same checks, same edits; the map is updated in place.
pub fn write_back_files(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    node: &Node,
    new_value: &Value,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let changes = plan_replace(&MemStore { files }, compiled, node, new_value, &opts)?;
    let report = changes.report(Vec::new());
    commit_mem(files, changes);
    Ok(report)
}

fn plan_replace(
    store: &dyn Store,
    compiled: &Compiled,
    node: &Node,
    new_value: &Value,
    opts: &WriteOptions,
) -> Result<Changes, WriteError> {
    let mut planner = Planner::new(store, compiled, opts.force);
    planner.plan(node, new_value)?;
    Ok(Changes {
        replace: planner.apply()?,
        create: BTreeMap::new(),
    })
}

/// For the renderer and engine: would writing a new value here need `force`? True when the
/// value, or any part of it, is built from several pieces. (A given new value may not touch
/// those parts; [`needs_force_for`] answers exactly.)
pub fn needs_force(node: &Node) -> bool {
    match node {
        Node::Object { entries, origin } => {
            origin.literal == LiteralKind::Composite || entries.values().any(needs_force)
        }
        Node::Array { items, origin } => {
            origin.literal == LiteralKind::Composite || items.iter().any(needs_force)
        }
        Node::Unreadable(_) => false,
        other => other
            .origin()
            .is_some_and(|o| o.literal == LiteralKind::Composite),
    }
}

/// Would writing `new_value` over `node` need `force`? (Computed keys, which only a reprint
/// of their object cannot keep, are found when writing: [`WriteError::Composite`].)
pub fn needs_force_for(node: &Node, new_value: &Value) -> bool {
    if node.to_json().is_ok_and(|v| v == *new_value) {
        return false;
    }
    match (node, new_value) {
        (Node::Object { entries, origin }, Value::Object(map)) => {
            if same_keys(entries, map) {
                map.iter()
                    .any(|(k, v)| entries.get(k).is_some_and(|n| needs_force_for(n, v)))
            } else {
                origin.literal == LiteralKind::Composite
                    || map
                        .iter()
                        .any(|(k, v)| entries.get(k).is_some_and(|n| needs_force_for(n, v)))
            }
        }
        (Node::Array { items, origin }, Value::Array(values)) => {
            origin.literal == LiteralKind::Composite
                || items.iter().zip(values).any(|(n, v)| needs_force_for(n, v))
        }
        (node, _) => node
            .origin()
            .is_some_and(|o| o.literal == LiteralKind::Composite),
    }
}
