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
//!
//! `tests/it/guard.rs` races in-place and rename-style saves against writes.

use std::fs::File;
use std::io::{self, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::guard::holds;
use crate::options::{FileWrite, WriteOptions, WriteReport};
use crate::resolve::{Fence, Ready, make_parents, prepare, resolve_create, resolve_replace};
use crate::source::{open_regular, sha256_hex};
use crate::swap::{self, io_at, sync_parent};
use crate::temp::{clean_stale, parent_dir, temp_beside};
use crate::watch::Watcher;

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

/// `a/b/c.ts`: relative, `/`-separated, no empty, `.` or `..` part, no backslash or NUL.
pub(crate) fn is_plain_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains(['\\', '\0'])
        && rel
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// Write `writes` (see the module doc for what is guaranteed). Returns warnings.
///
/// One function of about 90 lines on purpose: it is the order of the all-or-nothing write
/// (resolve and fence everything, prepare temps, re-check, link new files, install), and
/// each failure undoes exactly what the steps before it did; split, the undo of one step
/// would live far from the step.
pub(crate) fn commit_fs(
    root: &Path,
    writes: &[FileWrite],
    opts: &WriteOptions,
) -> Result<Vec<String>, WriteError> {
    let fence = Fence::new(root, opts)?;
    let mut replaces = Vec::new();
    let mut creates = Vec::new();
    let mut unchanged = Vec::new();
    for w in writes {
        match &w.base {
            Some(base) if *base == sha256_hex(&w.bytes) => unchanged.push((w.rel.as_str(), base)),
            Some(base) => replaces.push(resolve_replace(root, &fence, &w.rel, base, &w.bytes)?),
            None => creates.push((
                w.rel.as_str(),
                w.bytes.as_slice(),
                resolve_create(root, &fence, &w.rel)?,
            )),
        }
    }
    for (rel, _, _) in &creates {
        if std::fs::symlink_metadata(root.join(rel)).is_ok() {
            return Err(WriteError::FileExists {
                file: (*rel).into(),
            });
        }
    }
    let mut folders: Vec<&Path> = replaces
        .iter()
        .map(|r| parent_dir(&r.real))
        .chain(creates.iter().map(|(_, _, real)| parent_dir(real)))
        .collect();
    folders.sort();
    folders.dedup();
    folders.iter().for_each(|dir| clean_stale(dir));

    let mut warnings = Vec::new();
    let mut ready = Vec::new();
    for r in replaces {
        ready.push(prepare(r, &mut warnings)?);
    }
    let mut created_tmps = Vec::new();
    let mut made_dirs = Vec::new();
    let undo_dirs = |dirs: &[PathBuf]| {
        for dir in dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    };
    for (rel, bytes, real) in &creates {
        match make_parents(real).and_then(|made| {
            made_dirs.extend(made);
            new_file_temp(real, bytes)
        }) {
            Ok(tmp) => created_tmps.push((*rel, tmp, real.clone())),
            Err(e) => {
                drop(created_tmps);
                undo_dirs(&made_dirs);
                return Err(e);
            }
        }
    }
    // Checked right before anything goes in: a file edited while we prepared is not touched.
    let guard = ready
        .iter()
        .map(|r| match r {
            Ready::Swap {
                rel, base, real, ..
            }
            | Ready::InPlace {
                rel, base, real, ..
            } => (*rel, *base, real.clone()),
        })
        .chain(
            unchanged
                .iter()
                .map(|(rel, base)| (*rel, base.as_str(), root.join(rel))),
        );
    for (rel, base, path) in guard {
        if !open_regular(&path).is_ok_and(|f| holds(&f, base)) {
            drop(created_tmps);
            undo_dirs(&made_dirs);
            return Err(WriteError::Changed { file: rel.into() });
        }
    }
    let mut linked = Vec::new();
    for (rel, tmp, real) in created_tmps {
        match tmp.persist_noclobber(&real) {
            Ok(_) => linked.push(real),
            Err(e) => {
                remove_all(&linked);
                undo_dirs(&made_dirs);
                return Err(if e.error.kind() == io::ErrorKind::AlreadyExists {
                    WriteError::FileExists { file: rel.into() }
                } else {
                    WriteError::Io {
                        path: real,
                        source: e.error,
                    }
                });
            }
        }
    }
    if let Err(e) = install(ready) {
        remove_all(&linked);
        undo_dirs(&made_dirs);
        return Err(e);
    }
    for path in &linked {
        sync_parent(path)?;
    }
    Ok(warnings)
}

/// The temp file of a file to create: its bytes, mode 0644.
fn new_file_temp(real: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile, WriteError> {
    let tmp = temp_beside(real, bytes).map_err(io_at(real))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_at(tmp.path()))?;
    }
    Ok(tmp)
}

fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// Put every prepared replacement in, then settle the swaps (see `swap.rs`): all kept, or
/// all undone with the newest saves at their paths.
fn install(ready: Vec<Ready<'_>>) -> Result<(), WriteError> {
    let mut watcher = Watcher::new();
    let mut swapped = Vec::new();
    let mut in_place = Vec::new();
    let mut outcome = Ok(());
    for item in ready {
        match item {
            Ready::InPlace {
                rel,
                base,
                bytes,
                real,
            } => in_place.push((rel, base, bytes, real)),
            Ready::Swap {
                rel,
                base,
                bytes,
                tmp,
                real,
            } => match swap::check(base, watcher.as_ref(), rel, bytes, tmp, real)
                .and_then(|checked| checked.swap(base))
            {
                Ok(Some(s)) => swapped.push(s),
                Ok(None) => {}
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            },
        }
    }
    let mut written: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    if outcome.is_ok() {
        for (rel, base, bytes, real) in in_place {
            match write_in_place(base, rel, bytes, &real) {
                Ok(old) => written.push((real, old)),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
    }
    let outcome = swap::converge(watcher.as_mut(), &mut swapped, outcome);
    // The log is closed before the temp files are, which would only add lua's own closes.
    drop(watcher);
    if outcome.is_err() {
        for (path, old) in &written {
            let _ = overwrite(path, old);
        }
    }
    swap::finish(swapped)?;
    outcome
}

/// Rewrite a hard-linked file through one open handle: read it, check it holds its base,
/// then truncate and write. Returns the old bytes (to restore if a later file fails).
fn write_in_place(base: &str, rel: &str, bytes: &[u8], real: &Path) -> Result<Vec<u8>, WriteError> {
    let err = io_at(real);
    let mut file = File::options()
        .read(true)
        .write(true)
        .open(real)
        .map_err(&err)?;
    let mut old = Vec::new();
    io::Read::read_to_end(&mut file, &mut old).map_err(&err)?;
    if sha256_hex(&old) != base {
        return Err(WriteError::Changed { file: rel.into() });
    }
    write_over(&mut file, bytes).map_err(&err)?;
    Ok(old)
}

fn write_over(file: &mut File, bytes: &[u8]) -> io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn overwrite(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = File::options().write(true).open(path)?;
    write_over(&mut file, bytes)
}
