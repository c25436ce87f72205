//! Restoring source files from the agent's backup, safely.
//!
//! [`plan`] compares the backup (manifest + verified blobs) with the project: per file
//! new / changed / unchanged, with a line diff for the prompt. [`apply`] then writes the
//! plan all-or-nothing: every target is checked again right before writing, each file is
//! swapped in atomically, and on any failure what was written is put back and what was
//! created is removed.
//!
//! Safety rules:
//! - a path never leaves the project root (`..` resolved lexically, then the deepest
//!   existing ancestor resolved through symlinks); `external` files go under
//!   `.lua/external/`;
//! - a local file is never overwritten when its content differs both from the backup's
//!   and from the version `lua` last restored or saw equal to a backup (recorded in
//!   `.lua/restored.json`, written only by pulls), unless `force`.
//!
//! It knows files and hashes; it does not know the platform (blobs come in verified).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use lua_diff::Drift;
use lua_platform::BackupFile;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::fsio;
use super::restore_paths::{self, Skipped};

/// Where restored files' hashes are recorded, under the project root.
pub const RECORD_FILE: &str = ".lua/restored.json";
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
    target: PathBuf,
}

/// What [`apply`] would write, for the prompt and `--accept`'s listing.
#[derive(Clone, Debug)]
pub struct Plan {
    root: PathBuf,
    pub files: Vec<FileChange>,
    /// Backup entries never restored, whatever the flags, each with its rule in words
    /// ([`restore_paths`]): to be listed, while the rest of the restore goes on.
    pub skipped: Vec<Skipped>,
    record: BTreeMap<String, String>,
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
    #[error("{path} changed while restoring; nothing was written (run lua sync again)")]
    Changed { path: String },
    #[error("cannot restore {}: {source}; {}", path.display(), if *rolled_back { "what was written was put back" } else { "nothing was written" })]
    Io {
        path: PathBuf,
        source: std::io::Error,
        rolled_back: bool,
    },
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
    let record = read_record(root)?;
    let root_real = std::fs::canonicalize(root).map_err(|source| RestoreError::Io {
        path: root.to_path_buf(),
        source,
        rolled_back: false,
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
                .is_some_and(|bytes| record.get(&path) != Some(&sha256(bytes)));
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
            target,
        });
    }
    Ok(Plan {
        root: root.to_path_buf(),
        files: out,
        skipped,
        record,
    })
}

/// Write the plan all-or-nothing, then record the restored hashes. Refuses local edits
/// unless `force`. Returns the paths written.
pub fn apply(plan: &Plan, force: bool) -> Result<Vec<String>, RestoreError> {
    let conflicts = plan.conflicts();
    if !force && !conflicts.is_empty() {
        return Err(RestoreError::LocalEdits {
            paths: conflicts.into_iter().map(str::to_string).collect(),
        });
    }
    // Nothing changed under us since the plan was made?
    for f in &plan.files {
        if read_local(&f.target, &f.path)? != f.local {
            return Err(RestoreError::Changed {
                path: f.path.clone(),
            });
        }
    }
    let mut done = Undo::default();
    let mut written = Vec::new();
    for f in plan.writes() {
        if let Err(source) = write_one(f, &mut done) {
            let rolled_back = done.rollback();
            return Err(RestoreError::Io {
                path: f.target.clone(),
                source,
                rolled_back,
            });
        }
        written.push(f.path.clone());
    }
    let mut record = plan.record.clone();
    for f in &plan.files {
        record.insert(f.path.clone(), sha256(&f.content));
    }
    if let Err(e) = write_record(&plan.root, &record) {
        done.rollback();
        return Err(e);
    }
    Ok(written)
}

/// What to undo if a later write fails.
#[derive(Default)]
struct Undo {
    /// Files replaced, with their previous bytes; files created (`None`).
    files: Vec<(PathBuf, Option<Vec<u8>>)>,
    dirs: Vec<PathBuf>,
}

impl Undo {
    /// Put back what was written; `true` when anything had been written.
    fn rollback(&mut self) -> bool {
        let any = !self.files.is_empty() || !self.dirs.is_empty();
        for (path, old) in self.files.drain(..).rev() {
            // Best effort: the error that stopped us is the one reported.
            let _ = match old {
                Some(bytes) => fsio::write_atomic(&path, &bytes),
                None => std::fs::remove_file(&path),
            };
        }
        for dir in self.dirs.drain(..).rev() {
            let _ = std::fs::remove_dir(&dir);
        }
        any
    }
}

#[cfg(test)]
thread_local! {
    /// Test hook: fail the write of the n-th file (0-based) to exercise the rollback.
    pub(crate) static FAIL_AT: std::cell::Cell<Option<usize>> = const { std::cell::Cell::new(None) };
}

fn write_one(f: &FileChange, undo: &mut Undo) -> std::io::Result<()> {
    #[cfg(test)]
    if FAIL_AT.with(|n| n.get()) == Some(undo.files.len()) {
        return Err(std::io::Error::other("injected failure"));
    }
    if let Some(parent) = f.target.parent() {
        let mut missing = Vec::new();
        let mut p = parent;
        while !p.exists() {
            missing.push(p.to_path_buf());
            match p.parent() {
                Some(q) => p = q,
                None => break,
            }
        }
        for dir in missing.into_iter().rev() {
            std::fs::create_dir(&dir)?;
            undo.dirs.push(dir);
        }
    }
    fsio::write_atomic(&f.target, &f.content)?;
    undo.files.push((f.target.clone(), f.local.clone()));
    Ok(())
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
            rolled_back: false,
        }),
    }
}

fn text_pair<'a>(a: &'a [u8], b: &'a [u8]) -> Option<(&'a str, &'a str)> {
    Some((std::str::from_utf8(a).ok()?, std::str::from_utf8(b).ok()?))
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn read_record(root: &Path) -> Result<BTreeMap<String, String>, RestoreError> {
    let path = root.join(RECORD_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => {
            return Err(RestoreError::Record {
                path,
                reason: e.to_string(),
            });
        }
    };
    let bad = |reason: String| RestoreError::Record {
        path: path.clone(),
        reason: format!(
            "{reason} (delete the file to start over; the next pull then asks for --force where local files differ)"
        ),
    };
    let value: Value = serde_json::from_str(&text).map_err(|e| bad(format!("not JSON: {e}")))?;
    let files = value
        .get("files")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("expected {\"files\": {path: sha256}}".into()))?;
    files
        .iter()
        .map(|(k, v)| {
            v.as_str()
                .map(|h| (k.clone(), h.to_string()))
                .ok_or_else(|| bad(format!("the hash of {k:?} is not a string")))
        })
        .collect()
}

fn write_record(root: &Path, record: &BTreeMap<String, String>) -> Result<(), RestoreError> {
    let path = root.join(RECORD_FILE);
    let io = |source: std::io::Error| RestoreError::Io {
        path: path.clone(),
        source,
        rolled_back: true,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut text =
        serde_json::to_string_pretty(&json!({ "version": 1, "files": record })).unwrap_or_default();
    text.push('\n');
    fsio::write_atomic(&path, text.as_bytes()).map_err(io)
}

#[cfg(test)]
#[path = "restore_tests.rs"]
mod tests;
