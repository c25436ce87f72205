//! Restoring source files from the agent's backup, safely.
//!
//! [`plan`] compares the backup (manifest + verified blobs) with the project: per file
//! new / changed / unchanged, with a line diff for the prompt. [`apply`] then puts the
//! plan into the resolution's overlay ([`PullCtx::write_file`]), each file guarded by the
//! bytes it held when planned, with the records of what was restored (ours and lua-cli's
//! `.lua/backup-manifest.json`); the engine commits it all at once through the one
//! guarded writer.
//!
//! Safety rules:
//! - a path never leaves the project root (`..` resolved lexically, then the deepest
//!   existing ancestor resolved through symlinks); `external` files go under
//!   `.lua/external/`;
//! - a local file is never overwritten when its content differs both from the backup's
//!   and from the version last restored (recorded in `.lua/restored.json` by `lua`, or,
//!   when that has no entry for the file, in lua-cli's `.lua/backup-manifest.json`),
//!   unless `force`.
//!
//! It knows files and hashes; it does not know the platform (blobs come in verified).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use lua_core::PullCtx;
use lua_diff::Drift;
use lua_platform::{BackupFile, BackupManifest};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::restore_paths::{self, Skipped};

/// Where restored files' hashes are recorded, under the project root.
pub const RECORD_FILE: &str = ".lua/restored.json";
/// Where lua-cli records the backup it last pushed or restored (its pull guard's base).
pub const LUA_CLI_MANIFEST: &str = ".lua/backup-manifest.json";
/// Where `external` files go, under the project root.
pub const EXTERNAL_DIR: &str = ".lua/external";

/// What a pull would do to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    New,
    Changed,
    Unchanged,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Changed => "changed",
            Self::Unchanged => "unchanged",
        }
    }
}

/// One file of the plan.
#[derive(Clone, Debug)]
pub struct FileChange {
    /// The project-relative path (`src/index.ts`, `.lua/external/x.js`), `/`-separated.
    pub path: String,
    pub kind: ChangeKind,
    /// The backup's bytes.
    pub content: Vec<u8>,
    /// The local bytes now (`None`: no such file).
    pub local: Option<Vec<u8>>,
    /// Changed, and the local content is neither the backup's nor the last one lua
    /// restored: overwriting it would lose local edits.
    pub local_edits: bool,
    /// Line diff (backup as "server", local as "local"), when both sides are text.
    pub diff: Option<Drift>,
}

/// What [`apply`] would write, for the prompt and `--accept`'s listing.
#[derive(Clone, Debug)]
pub struct Plan {
    pub files: Vec<FileChange>,
    /// Backup entries never restored, whatever the flags, each with its rule in words
    /// ([`restore_paths`]): to be listed, while the rest of the restore goes on.
    pub skipped: Vec<Skipped>,
    record: BTreeMap<String, String>,
    /// The record files as they are now (sha256), guarding their rewrite.
    record_bases: [(&'static str, Option<String>); 2],
}

impl Plan {
    /// The files that would be written (new or changed).
    pub fn writes(&self) -> impl Iterator<Item = &FileChange> {
        self.files
            .iter()
            .filter(|f| f.kind != ChangeKind::Unchanged)
    }

    /// The files a write would lose local edits in.
    pub fn conflicts(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.local_edits)
            .map(|f| f.path.as_str())
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("backup path {path:?} is outside the project root; nothing was written")]
    Escapes { path: String },
    #[error("backup path {path:?} cannot be restored: {reason}; nothing was written")]
    InvalidPath { path: String, reason: String },
    #[error("backup file {path:?} (hash {hash}) was not downloaded; nothing was written")]
    MissingBlob { path: String, hash: String },
    #[error(
        "restoring the backup would overwrite local edits in {}: they differ from the backup and from the version lua last restored; nothing was written (review the diff, then use --force to overwrite)",
        paths.join(", ")
    )]
    LocalEdits { paths: Vec<String> },
    #[error("cannot restore {}: {source}; nothing was written", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Write(#[from] lua_compile::WriteError),
    #[error("{}: {reason}", path.display())]
    Record { path: PathBuf, reason: String },
}

/// Compare the backup with the project. `blobs` maps manifest hashes to verified bytes.
/// Reads files; writes nothing.
pub fn plan(
    root: &Path,
    files: &[BackupFile],
    blobs: &BTreeMap<String, Vec<u8>>,
) -> Result<Plan, RestoreError> {
    let (record, record_bases) = read_records(root)?;
    let root_real = std::fs::canonicalize(root).map_err(|source| RestoreError::Io {
        path: root.to_path_buf(),
        source,
    })?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::with_capacity(files.len());
    let mut skipped = Vec::new();
    let fold_case = restore_paths::case_insensitive(root);
    for file in files {
        // A path that leaves the project refuses the whole restore (below); any other
        // entry the rules forbid is skipped and listed.
        let leaves =
            !file.external && restore_paths::normalise(&file.relative_path, false).is_err();
        let path = if leaves {
            return Err(project_path(file)
                .err()
                .unwrap_or_else(|| RestoreError::Escapes {
                    path: file.relative_path.clone(),
                }));
        } else {
            match restore_paths::check(root, &file.relative_path, file.external, fold_case) {
                Ok(path) => path,
                Err(skip) => {
                    skipped.push(skip);
                    continue;
                }
            }
        };
        let key = if fold_case {
            path.to_lowercase()
        } else {
            path.clone()
        };
        if !seen.insert(key) {
            return Err(RestoreError::InvalidPath {
                path,
                reason: "listed twice".into(),
            });
        }
        let target = resolve(&root_real, &path, &file.relative_path)?;
        let content = blobs
            .get(&file.hash)
            .cloned()
            .ok_or_else(|| RestoreError::MissingBlob {
                path: file.relative_path.clone(),
                hash: file.hash.clone(),
            })?;
        let local = read_local(&target, &file.relative_path)?;
        let kind = match &local {
            None => ChangeKind::New,
            Some(bytes) if *bytes == content => ChangeKind::Unchanged,
            Some(_) => ChangeKind::Changed,
        };
        let local_edits = kind == ChangeKind::Changed
            && local
                .as_deref()
                .is_some_and(|bytes| !recorded_as(record.get(&path), &sha256(bytes)));
        let diff = match (&local, kind) {
            (Some(l), ChangeKind::Changed) => {
                text_pair(&content, l).map(|(s, l)| lua_diff::compute(s, l))
            }
            (None, _) => std::str::from_utf8(&content)
                .ok()
                .map(|s| lua_diff::compute(s, "")),
            _ => None,
        };
        out.push(FileChange {
            path,
            kind,
            content,
            local,
            local_edits,
            diff,
        });
    }
    Ok(Plan {
        files: out,
        skipped,
        record,
        record_bases,
    })
}

/// Whether a recorded hash (full, or lua-cli's 16-character prefix) is `sha`'s.
fn recorded_as(recorded: Option<&String>, sha: &str) -> bool {
    recorded.is_some_and(|r| r.len() >= 16 && sha.starts_with(r.as_str()))
}

/// Put the plan into the resolution's overlay, with the records of what was restored (ours,
/// and lua-cli's manifest so that its next pull sees what we wrote as its own). Refuses
/// local edits unless `force`. Returns the paths it writes. Each file is guarded by the
/// bytes it held when planned: a save since then refuses the whole commit.
pub fn apply(
    plan: &Plan,
    manifest: &BackupManifest,
    force: bool,
    ctx: &PullCtx<'_>,
) -> Result<Vec<String>, RestoreError> {
    let conflicts = plan.conflicts();
    if !force && !conflicts.is_empty() {
        return Err(RestoreError::LocalEdits {
            paths: conflicts.into_iter().map(str::to_string).collect(),
        });
    }
    let mut written = Vec::new();
    for f in plan.writes() {
        ctx.write_file(&f.path, f.content.clone(), f.local.as_deref().map(sha256))?;
        written.push(f.path.clone());
    }
    let mut record = plan.record.clone();
    for f in &plan.files {
        record.insert(f.path.clone(), sha256(&f.content));
    }
    let [(ours, ours_base), (theirs, theirs_base)] = plan.record_bases.clone();
    ctx.write_file(ours, record_text(&record), ours_base)?;
    ctx.write_file(theirs, lua_cli_manifest_text(manifest), theirs_base)?;
    Ok(written)
}

fn record_text(record: &BTreeMap<String, String>) -> Vec<u8> {
    let mut text =
        serde_json::to_string_pretty(&json!({ "version": 1, "files": record })).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// lua-cli's `.lua/backup-manifest.json` for `manifest` (external files left out, as
/// lua-cli does).
fn lua_cli_manifest_text(manifest: &BackupManifest) -> Vec<u8> {
    let files: Vec<Value> = manifest
        .files
        .iter()
        .filter(|f| !f.external)
        .map(|f| json!({ "relativePath": f.relative_path, "hash": f.hash }))
        .collect();
    let mut text = serde_json::to_string_pretty(&json!({
        "lastHash": manifest.project_hash,
        "lastPushedAt": manifest.created_at,
        "files": files,
    }))
    .unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

/// The project-relative path of a backup file, `/`-separated, `..` resolved; refused when
/// it is absolute or climbs out.
fn project_path(file: &BackupFile) -> Result<String, RestoreError> {
    let raw = file.relative_path.replace('\\', "/");
    let escapes = || RestoreError::Escapes {
        path: file.relative_path.clone(),
    };
    if raw.starts_with('/') || raw.contains('\0') || Path::new(&raw).has_root() {
        return Err(escapes());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or_else(escapes)?;
            }
            p if p.len() > 1 && p.as_bytes()[1] == b':' && parts.is_empty() => {
                return Err(escapes());
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err(RestoreError::InvalidPath {
            path: file.relative_path.clone(),
            reason: "it names no file".into(),
        });
    }
    let rel = parts.join("/");
    if !file.external && (rel == ".lua" || rel.starts_with(".lua/")) {
        return Err(RestoreError::InvalidPath {
            path: file.relative_path.clone(),
            reason: "lua's own folder is not restored from a backup".into(),
        });
    }
    Ok(if file.external {
        format!("{EXTERNAL_DIR}/{rel}")
    } else {
        rel
    })
}

/// The absolute target of `rel` under `root_real`, refusing symlinks that lead out.
fn resolve(root_real: &Path, rel: &str, shown: &str) -> Result<PathBuf, RestoreError> {
    let target = root_real.join(rel);
    let escapes = || RestoreError::Escapes {
        path: shown.to_string(),
    };
    // The deepest existing ancestor (or the file itself), resolved through symlinks.
    let mut probe = target.as_path();
    loop {
        match std::fs::symlink_metadata(probe) {
            Ok(_) => break,
            Err(_) => match probe.parent() {
                Some(p) => probe = p,
                None => return Err(escapes()),
            },
        }
    }
    let real = std::fs::canonicalize(probe).map_err(|_| escapes())?;
    if !real.starts_with(root_real) {
        return Err(escapes());
    }
    if probe == target {
        let meta = std::fs::metadata(&real).map_err(|_| escapes())?;
        if !meta.is_file() {
            return Err(RestoreError::InvalidPath {
                path: shown.to_string(),
                reason: "a folder or special file is in the way".into(),
            });
        }
        return Ok(real);
    }
    // Only plain components remain below `probe`.
    let rest = target.strip_prefix(probe).map_err(|_| escapes())?;
    if rest
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(escapes());
    }
    Ok(real.join(rest))
}

fn read_local(target: &Path, shown: &str) -> Result<Option<Vec<u8>>, RestoreError> {
    match std::fs::read(target) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RestoreError::Io {
            path: PathBuf::from(shown),
            source,
        }),
    }
}

fn text_pair<'a>(a: &'a [u8], b: &'a [u8]) -> Option<(&'a str, &'a str)> {
    Some((std::str::from_utf8(a).ok()?, std::str::from_utf8(b).ok()?))
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The last restored hashes by path: ours, completed by lua-cli's manifest for paths ours
/// does not know; and the two files' current hashes (the bases of their rewrite).
type Records = (
    BTreeMap<String, String>,
    [(&'static str, Option<String>); 2],
);

fn read_records(root: &Path) -> Result<Records, RestoreError> {
    let (ours, ours_base) = read_json(root, RECORD_FILE)?;
    let (theirs, theirs_base) = read_json(root, LUA_CLI_MANIFEST)?;
    let bad = |file: &str, reason: String| RestoreError::Record {
        path: root.join(file),
        reason: format!(
            "{reason} (delete the file to start over; the next pull then asks for --force where local files differ)"
        ),
    };
    let mut record = BTreeMap::new();
    if let Some(value) = ours {
        let files = value
            .get("files")
            .and_then(Value::as_object)
            .ok_or_else(|| bad(RECORD_FILE, "expected {\"files\": {path: sha256}}".into()))?;
        for (k, v) in files {
            let hash = v
                .as_str()
                .ok_or_else(|| bad(RECORD_FILE, format!("the hash of {k:?} is not a string")))?;
            record.insert(k.clone(), hash.to_string());
        }
    }
    if let Some(value) = theirs {
        let files = value
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad(
                    LUA_CLI_MANIFEST,
                    "expected {\"files\": [{\"relativePath\", \"hash\"}]}".into(),
                )
            })?;
        for entry in files {
            let (Some(path), Some(hash)) = (
                entry.get("relativePath").and_then(Value::as_str),
                entry.get("hash").and_then(Value::as_str),
            ) else {
                return Err(bad(
                    LUA_CLI_MANIFEST,
                    "an entry lacks relativePath or hash".into(),
                ));
            };
            let path = path.trim_start_matches("./").replace('\\', "/");
            record
                .entry(path)
                .or_insert_with(|| hash.to_ascii_lowercase());
        }
    }
    Ok((
        record,
        [(RECORD_FILE, ours_base), (LUA_CLI_MANIFEST, theirs_base)],
    ))
}

/// A JSON file under the root (`None`: absent) and its sha256.
fn read_json(root: &Path, rel: &str) -> Result<(Option<Value>, Option<String>), RestoreError> {
    let path = root.join(rel);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((None, None)),
        Err(e) => {
            return Err(RestoreError::Record {
                path,
                reason: e.to_string(),
            });
        }
    };
    let value = serde_json::from_slice(&bytes).map_err(|e| RestoreError::Record {
        path: path.clone(),
        reason: format!("not JSON: {e} (delete the file to start over)"),
    })?;
    Ok((Some(value), Some(sha256(&bytes))))
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
