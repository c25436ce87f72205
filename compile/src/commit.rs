//! Committing files to disk: the one place that changes the user's files.
//!
//! Each file comes with its guard, a *base*: the sha256 it must hold right before it is
//! replaced, or "absent" for a file to create. Write-back and the inserts take their bases
//! from what compile read; [`commit_files`] takes them from its caller.
//!
//! Guarantees, in order:
//! - **Inside the project.** Every file is resolved to its real path (symlinks followed); one
//!   outside the project root (or the folders [`WriteOptions::allowed_outside`] names) is
//!   refused, naming the real target (`resolve.rs`).
//! - **Permissions.** A file whose mode has no write bit, or that this user may not write, is
//!   refused (also as root). The new file gets the old one's mode, owner and group (`chown`
//!   where permitted; otherwise a warning in the report). A file with several hard links is
//!   written in place (same inode, so every name sees the new bytes), after the same check.
//!   A created file gets mode 0644, its missing folders are made (and removed again if the
//!   commit fails), and it is linked in exclusively: an existing file is never replaced.
//! - **Guarded.** Each file is checked against its base right before it is replaced, and a
//!   save by an editor while lua writes is never lost: on Linux the new file is swapped in
//!   with `renameat2(RENAME_EXCHANGE)`, the opens and writes of both inodes are watched, and
//!   the one saved into last ends up at the path (`swap.rs` has the protocol and its
//!   residual). Elsewhere (or on a file system without `RENAME_EXCHANGE`) the check right
//!   before the rename is the guard, so a save landing between that check and the rename is
//!   lost; that window is a few system calls wide.
//! - **Atomic.** New bytes go to a temp file beside the target (fsync, rename, fsync of the
//!   folder). Several files are all written or none: created files are linked in without
//!   replacing anything and removed again if a later step fails; swaps are undone together.
//! - **Across a crash.** Before the first file goes in, a journal (`journal.rs`) lists every
//!   target, its temp names and its old and new sha256. The exchange keeps the old file under
//!   the temp name until the commit is decided; then the journal is marked committed, the
//!   old copies removed, and the journal with them. A run killed anywhere in between is
//!   finished or undone by the next ([`crate::recover`], which every commit calls first).
//!   Files in a folder allowed outside the project are committed the same way but not
//!   journaled (the journal names nothing outside the project).
//!
//! `tests/it/guard.rs` races in-place and rename-style saves against writes.

use std::io;
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::guard::holds;
use crate::journal::{Entry, How, Journal, Record, is_plain_rel};
use crate::options::{FileWrite, WriteOptions, WriteReport};
use crate::resolve::{
    Fence, Replace, TempNames, make_parents, missing_parents, new_file_temp, prepare,
    resolve_create, resolve_replace,
};
use crate::source::{open_regular, sha256_hex};
use crate::swap::io_at;
use crate::temp::{clean_stale, nonce, parent_dir, temp_name};

/// Commit every write together through the guarded writer: all or nothing (see the module
/// doc for what is guaranteed). A write whose base already is the sha256 of its bytes
/// changes nothing (its file is still checked) and is not reported.
pub fn commit_files(
    root: &Path,
    writes: &[FileWrite],
    opts: &WriteOptions,
) -> Result<WriteReport, WriteError> {
    validate(writes)?;
    let warnings = commit_fs(root, writes, opts)?;
    let changed = |w: &&FileWrite| w.base.as_deref() != Some(&sha256_hex(&w.bytes));
    let mut files: Vec<String> = writes
        .iter()
        .filter(changed)
        .map(|w| w.rel.clone())
        .collect();
    files.sort();
    let mut created: Vec<String> = writes
        .iter()
        .filter(|w| w.base.is_none())
        .map(|w| w.rel.clone())
        .collect();
    created.sort();
    Ok(WriteReport {
        files,
        created,
        warnings,
    })
}

/// Refuse a path that is not plainly inside the project, and a file named twice.
fn validate(writes: &[FileWrite]) -> Result<(), WriteError> {
    let mut seen = std::collections::BTreeSet::new();
    for w in writes {
        let invalid = |reason: &str| WriteError::Invalid {
            file: w.rel.clone(),
            reason: reason.into(),
        };
        if !is_plain_rel(&w.rel) {
            return Err(invalid(
                "not a plain project-relative path ('/'-separated, no '..', '.' or empty parts)",
            ));
        }
        if !seen.insert(w.rel.as_str()) {
            return Err(invalid("it is written twice in one commit"));
        }
    }
    Ok(())
}

/// Write `writes` (see the module doc for what is guaranteed). Returns warnings.
///
/// An interrupted commit's journal is dealt with first ([`crate::recover`]). On failure,
/// what this commit did is undone, and its own journal is then recovered like any other, so
/// nothing of it stays behind even if the undo was cut short.
pub(crate) fn commit_fs(
    root: &Path,
    writes: &[FileWrite],
    opts: &WriteOptions,
) -> Result<Vec<String>, WriteError> {
    crate::recover::recover(root)?;
    let fence = Fence::new(root, opts)?;
    let mut replaces = Vec::new();
    let mut creates = Vec::new();
    let mut unchanged = Vec::new();
    for w in writes {
        match &w.base {
            Some(base) if *base == sha256_hex(&w.bytes) => {
                unchanged.push((w.rel.as_str(), base.as_str(), root.join(&w.rel)));
            }
            Some(base) => replaces.push(resolve_replace(root, &fence, &w.rel, base, &w.bytes)?),
            None => creates.push(Create {
                rel: &w.rel,
                bytes: &w.bytes,
                real: resolve_create(root, &fence, &w.rel)?,
            }),
        }
    }
    for c in &creates {
        if std::fs::symlink_metadata(root.join(c.rel)).is_ok() {
            return Err(WriteError::FileExists { file: c.rel.into() });
        }
    }
    if replaces.is_empty() && creates.is_empty() {
        check_bases(&unchanged)?;
        return Ok(Vec::new());
    }
    let mut folders: Vec<&Path> = replaces
        .iter()
        .map(|r| parent_dir(&r.real))
        .chain(creates.iter().map(|c| parent_dir(&c.real)))
        .collect();
    folders.sort();
    folders.dedup();
    folders.iter().for_each(|dir| clean_stale(dir));

    let plan = Plan::new(fence.root(), &replaces, &creates);
    let mut journal = Journal::begin(root, plan.record)?;
    let mut undo = Undo::default();
    let mut warnings = Vec::new();
    let outcome = apply(
        replaces,
        creates,
        plan.names,
        &unchanged,
        &mut undo,
        &mut warnings,
        || journal.mark_committed(),
    );
    match outcome {
        Ok(()) => {
            let mut folders: Vec<&Path> = undo.linked.iter().map(|p| parent_dir(p)).collect();
            folders.sort();
            folders.dedup();
            for dir in folders {
                if let Err(e) = crate::fsio::sync_dir(dir) {
                    warnings.push(format!(
                        "written, but {} is not yet durable: {e}",
                        dir.display()
                    ));
                }
            }
            if let Err(e) = journal.end() {
                warnings.push(format!(
                    "written; the commit's journal could not be removed ({e}); the next run removes it"
                ));
            }
            Ok(warnings)
        }
        Err(e) => {
            undo.run();
            drop(journal);
            // Whatever the undo could not do, the journal still says: recover it now.
            let _ = crate::recover::recover(root);
            Err(e)
        }
    }
}

/// A file to create, resolved.
struct Create<'c> {
    rel: &'c str,
    bytes: &'c [u8],
    real: PathBuf,
}

/// What a failed commit removes again: the files it linked in and the folders it made.
#[derive(Default)]
struct Undo {
    linked: Vec<PathBuf>,
    made_dirs: Vec<PathBuf>,
}

impl Undo {
    fn run(&self) {
        for path in &self.linked {
            let _ = std::fs::remove_file(path);
        }
        for dir in self.made_dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The journal of a commit and the temp names it lists, chosen before any file is made.
struct Plan {
    record: Record,
    /// Per replacement, then per created file (its `tmp`), in order.
    names: Vec<TempNames>,
}

impl Plan {
    fn new(root_real: &Path, replaces: &[Replace<'_>], creates: &[Create<'_>]) -> Self {
        let nonce = nonce();
        let name = |real: &Path, tag: String| parent_dir(real).join(temp_name(real, &nonce, &tag));
        // Only what is inside the project is journaled (a file in a folder allowed outside
        // it is committed like the others but not recovered after a crash).
        let inside = |real: &Path| {
            real.strip_prefix(root_real)
                .ok()
                .and_then(Path::to_str)
                .map(|rel| rel.replace(std::path::MAIN_SEPARATOR, "/"))
                .filter(|rel| is_plain_rel(rel))
        };
        let file_name = |path: &Path| {
            path.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        let mut names = Vec::new();
        let mut files = Vec::new();
        for (i, r) in replaces.iter().enumerate() {
            let tmp = name(&r.real, format!("n{i}"));
            let keep = name(&r.real, format!("o{i}"));
            if let Some(rel) = inside(&r.real) {
                files.push(Entry {
                    rel,
                    how: if r.in_place() {
                        How::InPlace
                    } else {
                        How::Swap
                    },
                    tmp: file_name(&tmp),
                    keep: Some(file_name(&keep)),
                    old: Some(r.base.to_owned()),
                    new: sha256_hex(r.bytes),
                });
            }
            names.push(TempNames { tmp, keep });
        }
        let mut dirs = Vec::new();
        for (i, c) in creates.iter().enumerate() {
            let tmp = name(&c.real, format!("c{i}"));
            if let Some(rel) = inside(&c.real) {
                files.push(Entry {
                    rel,
                    how: How::Create,
                    tmp: file_name(&tmp),
                    keep: None,
                    old: None,
                    new: sha256_hex(c.bytes),
                });
                dirs.extend(missing_parents(&c.real).iter().filter_map(|d| inside(d)));
            }
            names.push(TempNames {
                keep: tmp.clone(),
                tmp,
            });
        }
        dirs.sort();
        dirs.dedup();
        Plan {
            record: Record::new(dirs, files),
            names,
        }
    }
}

/// Every target must still hold its base.
fn check_bases(targets: &[(&str, &str, PathBuf)]) -> Result<(), WriteError> {
    for (rel, base, path) in targets {
        if !open_regular(path).is_ok_and(|f| holds(&f, base)) {
            return Err(WriteError::Changed {
                file: (*rel).into(),
            });
        }
    }
    Ok(())
}

/// The steps of a commit once its journal is written: prepare temps, re-check every base,
/// link the new files in, install the replacements; `decide` marks the commit kept.
fn apply(
    replaces: Vec<Replace<'_>>,
    creates: Vec<Create<'_>>,
    names: Vec<TempNames>,
    unchanged: &[(&str, &str, PathBuf)],
    undo: &mut Undo,
    warnings: &mut Vec<String>,
    decide: impl FnOnce() -> Result<(), WriteError>,
) -> Result<(), WriteError> {
    let mut names = names.into_iter();
    let mut ready = Vec::new();
    let mut guard = Vec::new();
    for r in replaces {
        guard.push((r.rel, r.base, r.real.clone()));
        let Some(n) = names.next() else { break };
        ready.push(prepare(r, n, warnings)?);
    }
    let mut created = Vec::new();
    for c in creates {
        let Some(n) = names.next() else { break };
        undo.made_dirs.extend(make_parents(&c.real)?);
        created.push((c.rel, new_file_temp(&n.tmp, c.bytes)?, c.real));
    }
    // Checked right before anything goes in: a file edited while we prepared is not touched.
    check_bases(&guard)?;
    check_bases(unchanged)?;
    for (rel, tmp, real) in created {
        match tmp.persist_noclobber(&real) {
            Ok(_) => undo.linked.push(real),
            Err(e) if e.error.kind() == io::ErrorKind::AlreadyExists => {
                return Err(WriteError::FileExists { file: rel.into() });
            }
            Err(e) => return Err(io_at(&real)(e.error)),
        }
    }
    crate::install::install(ready, decide, warnings)
}
