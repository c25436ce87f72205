//! Committing a planned write to disk: the one place that changes the user's files.
//!
//! Guarantees, in order:
//! - **Inside the project.** Every file is resolved to its real path (symlinks followed); one
//!   outside the project root (or the folders [`WriteOptions::allowed_outside`] names) is
//!   refused, naming the real target.
//! - **Permissions.** A file whose mode has no write bit, or that this user may not write, is
//!   refused (also as root). The new file gets the old one's mode, owner and group (`chown`
//!   where permitted; otherwise a warning in the report). A file with several hard links is
//!   written in place (same inode, so every name sees the new text), after the same check.
//! - **Guarded.** Each file is checked against the sha256 compile recorded, right before it is
//!   replaced, and a save by an editor while lua writes is never lost: on Linux the new file
//!   is swapped in with `renameat2(RENAME_EXCHANGE)`, the opens and writes of both inodes are
//!   watched, and the one saved into last ends up at the path (`swap.rs` has the protocol and
//!   its residual). Elsewhere (or on a file system without `RENAME_EXCHANGE`) the check right
//!   before the rename is the guard, so a save landing between that check and the rename is
//!   lost; that window is a few system calls wide.
//! - **Atomic.** New text goes to a temp file beside the target (fsync, rename, fsync of the
//!   folder). Several files are all written or none (short of a crash between two renames):
//!   created files are linked in without replacing anything and removed again if a later step
//!   fails; swaps are undone together.
//!
//! `tests/it/guard.rs` races in-place and rename-style saves against writes.

use std::fs::{File, Metadata};
use std::io::{self, Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::fsio::{Changes, FsStore, read_checked};
use crate::model::Compiled;
use crate::source::{MAX_SOURCE_BYTES, sha256_hex};
use crate::swap::{self, io_at, sync_parent};
use crate::temp::{clean_stale, parent_dir, temp_beside};
use crate::watch::Watcher;

/// Options for [`crate::write_back`] and the insert functions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Allow flattening a value built from several pieces (concatenation, template with
    /// substitutions, object with spreads or computed keys) into one literal.
    pub force: bool,
    /// Folders outside the project root that writes may go to (monorepos keeping shared
    /// text above the root), absolute or relative to the root. Without them a file whose
    /// real path is outside the root is refused ([`WriteError::Outside`]).
    pub allowed_outside: Vec<PathBuf>,
}

/// A file to replace, resolved and checked.
struct Replace<'c> {
    rel: &'c str,
    text: &'c str,
    real: PathBuf,
    meta: Metadata,
}

/// A replacement ready to go in.
enum Ready<'c> {
    /// A temp file holding the new text, to swap or rename over `real`.
    Swap {
        rel: &'c str,
        text: &'c str,
        tmp: tempfile::NamedTempFile,
        real: PathBuf,
    },
    /// A hard-linked file, rewritten in place.
    InPlace {
        rel: &'c str,
        text: &'c str,
        real: PathBuf,
    },
}

/// Write `changes` (see the module doc for what is guaranteed). Returns warnings.
///
/// One function of about 85 lines on purpose: it is the order of the all-or-nothing write
/// (resolve and fence everything, prepare temps, re-check, link new files, install), and
/// each failure undoes exactly what the steps before it did; split, the undo of one step
/// would live far from the step.
pub(crate) fn commit_fs(
    root: &Path,
    compiled: &Compiled,
    changes: &Changes,
    opts: &WriteOptions,
) -> Result<Vec<String>, WriteError> {
    if changes.replace.is_empty() && changes.create.is_empty() {
        return Ok(Vec::new());
    }
    let fence = Fence::new(root, opts)?;
    let mut replaces = Vec::new();
    for (rel, text) in &changes.replace {
        replaces.push(resolve_replace(root, &fence, rel, text)?);
    }
    let mut creates = Vec::new();
    for (rel, text) in &changes.create {
        creates.push((
            rel.as_str(),
            text.as_str(),
            resolve_create(root, &fence, rel)?,
        ));
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
    for (rel, text, real) in &creates {
        made_dirs.extend(make_parents(real)?);
        let tmp = temp_beside(real, text.as_bytes()).map_err(io_at(real))?;
        created_tmps.push((*rel, tmp, real.clone()));
    }
    let undo_dirs = |dirs: &[PathBuf]| {
        for dir in dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
    };
    // Checked right before anything goes in: a file edited while we prepared is not touched.
    let store = FsStore { root };
    for rel in changes.replace.keys() {
        if let Err(e) = read_checked(&store, compiled, rel) {
            undo_dirs(&made_dirs);
            return Err(e);
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
    if let Err(e) = install(compiled, ready) {
        remove_all(&linked);
        undo_dirs(&made_dirs);
        return Err(e);
    }
    for path in &linked {
        sync_parent(path)?;
    }
    Ok(warnings)
}

fn remove_all(paths: &[PathBuf]) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

/// The folders writes may go to: the project root and the explicitly allowed ones, as real
/// paths.
struct Fence {
    allowed: Vec<PathBuf>,
}

impl Fence {
    fn new(root: &Path, opts: &WriteOptions) -> Result<Self, WriteError> {
        let mut allowed = vec![std::fs::canonicalize(root).map_err(io_at(root))?];
        // A folder that does not exist allows nothing, and is not an error.
        allowed.extend(
            opts.allowed_outside
                .iter()
                .filter_map(|p| std::fs::canonicalize(root.join(p)).ok()),
        );
        Ok(Fence { allowed })
    }

    fn check(&self, rel: &str, real: &Path) -> Result<(), WriteError> {
        if self.allowed.iter().any(|dir| real.starts_with(dir)) {
            return Ok(());
        }
        Err(WriteError::Outside {
            file: rel.into(),
            target: real.to_path_buf(),
        })
    }
}

fn resolve_replace<'c>(
    root: &Path,
    fence: &Fence,
    rel: &'c str,
    text: &'c str,
) -> Result<Replace<'c>, WriteError> {
    let path = root.join(rel);
    // Write through symlinks: replacing the link itself would detach it from its target.
    let real = std::fs::canonicalize(&path).map_err(io_at(&path))?;
    fence.check(rel, &real)?;
    let meta = std::fs::metadata(&real).map_err(io_at(&real))?;
    check_writable(rel, &real, &meta)?;
    Ok(Replace {
        rel,
        text,
        real,
        meta,
    })
}

/// The real path a new file will have: its nearest existing folder resolved, the rest kept.
fn resolve_create(root: &Path, fence: &Fence, rel: &str) -> Result<PathBuf, WriteError> {
    let path = root.join(rel);
    let mut existing = parent_dir(&path).to_path_buf();
    let mut rest = vec![path.file_name().map(ToOwned::to_owned).unwrap_or_default()];
    while !existing.exists() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut real = std::fs::canonicalize(&existing).map_err(io_at(&existing))?;
    for part in rest.iter().rev() {
        real.push(part);
    }
    fence.check(rel, &real)?;
    Ok(real)
}

/// Create the missing folders above `path`; the ones made, outermost first.
fn make_parents(path: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let mut missing = Vec::new();
    let mut dir = parent_dir(path);
    while !dir.exists() {
        missing.push(dir.to_path_buf());
        dir = parent_dir(dir);
    }
    missing.reverse();
    for dir in &missing {
        std::fs::create_dir(dir).map_err(io_at(dir))?;
    }
    Ok(missing)
}

/// Refuse a file whose mode has no write bit (root could write it, but its owner said no),
/// or that this user may not write.
fn check_writable(rel: &str, real: &Path, meta: &Metadata) -> Result<(), WriteError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o222 == 0 {
            return Err(WriteError::ReadOnly {
                file: rel.into(),
                reason: format!("its mode is {mode:04o}, which allows no one to write"),
            });
        }
        if rustix::fs::access(real, rustix::fs::Access::WRITE_OK).is_err() {
            return Err(WriteError::ReadOnly {
                file: rel.into(),
                reason: format!("its mode {mode:04o} does not let this user write it"),
            });
        }
    }
    #[cfg(not(unix))]
    {
        let _ = real;
        if meta.permissions().readonly() {
            return Err(WriteError::ReadOnly {
                file: rel.into(),
                reason: "it is read-only".into(),
            });
        }
    }
    Ok(())
}

/// The temp file for a replacement, with the target's mode, owner and group; or the plan to
/// write a hard-linked file in place.
fn prepare<'c>(r: Replace<'c>, warnings: &mut Vec<String>) -> Result<Ready<'c>, WriteError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if r.meta.nlink() > 1 {
            return Ok(Ready::InPlace {
                rel: r.rel,
                text: r.text,
                real: r.real,
            });
        }
    }
    let tmp = temp_beside(&r.real, r.text.as_bytes()).map_err(io_at(&r.real))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let mine = tmp.as_file().metadata().map_err(io_at(tmp.path()))?;
        if (mine.uid(), mine.gid()) != (r.meta.uid(), r.meta.gid())
            && let Err(e) =
                std::os::unix::fs::fchown(tmp.as_file(), Some(r.meta.uid()), Some(r.meta.gid()))
        {
            warnings.push(format!(
                "{}: could not keep its owner and group ({}:{}): {e}; it now belongs to {}:{}",
                r.rel,
                r.meta.uid(),
                r.meta.gid(),
                mine.uid(),
                mine.gid()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = warnings;
    // After chown, which may clear set-id bits.
    tmp.as_file()
        .set_permissions(r.meta.permissions())
        .map_err(io_at(tmp.path()))?;
    Ok(Ready::Swap {
        rel: r.rel,
        text: r.text,
        tmp,
        real: r.real,
    })
}

/// Put every prepared replacement in, then settle the swaps (see `swap.rs`): all kept, or
/// all undone with the newest saves at their paths.
fn install(compiled: &Compiled, ready: Vec<Ready<'_>>) -> Result<(), WriteError> {
    let mut watcher = Watcher::new();
    let mut swapped = Vec::new();
    let mut in_place = Vec::new();
    let mut outcome = Ok(());
    for item in ready {
        match item {
            Ready::InPlace { rel, text, real } => in_place.push((rel, text, real)),
            Ready::Swap {
                rel,
                text,
                tmp,
                real,
            } => match swap::check(compiled, watcher.as_ref(), rel, text, tmp, real)
                .and_then(|checked| checked.swap(compiled))
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
        for (rel, text, real) in in_place {
            match write_in_place(compiled, rel, text, &real) {
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

/// Rewrite a hard-linked file through one open handle: read it, check it is what compile
/// read, then truncate and write. Returns the old bytes (to restore if a later file fails).
fn write_in_place(
    compiled: &Compiled,
    rel: &str,
    text: &str,
    real: &Path,
) -> Result<Vec<u8>, WriteError> {
    let err = io_at(real);
    let mut file = File::options()
        .read(true)
        .write(true)
        .open(real)
        .map_err(&err)?;
    let mut old = Vec::new();
    (&mut file)
        .take(MAX_SOURCE_BYTES + 1)
        .read_to_end(&mut old)
        .map_err(&err)?;
    if !matches_compile(compiled, rel, Some(&old)) {
        return Err(WriteError::Changed { file: rel.into() });
    }
    write_over(&mut file, text.as_bytes()).map_err(&err)?;
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

fn matches_compile(compiled: &Compiled, rel: &str, bytes: Option<&[u8]>) -> bool {
    bytes.is_some_and(|b| compiled.inputs.get(rel) == Some(&sha256_hex(b)))
}
