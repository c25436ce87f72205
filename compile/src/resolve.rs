//! Getting one commit's files ready, before anything is changed: each target resolved to its
//! real path and fenced to the project, its permissions checked, and the temp file holding
//! its new bytes made with the target's mode, owner and group (or the plan to rewrite a
//! hard-linked file in place).
//!
//! Knows paths, permissions and temp files; not the order of a commit (`commit.rs`) nor how
//! a file is swapped in (`swap.rs`).

use std::fs::Metadata;
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::options::WriteOptions;
use crate::swap::io_at;
use crate::temp::{parent_dir, temp_at};

/// A file to replace, resolved and checked.
pub(crate) struct Replace<'c> {
    pub rel: &'c str,
    pub base: &'c str,
    pub bytes: &'c [u8],
    pub real: PathBuf,
    pub meta: Metadata,
}

impl Replace<'_> {
    /// A file with several names is rewritten in place, so that every name sees the change.
    pub(crate) fn in_place(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            self.meta.nlink() > 1
        }
        #[cfg(not(unix))]
        false
    }
}

/// Where a target's temp files go: the new bytes, and the old ones (a copy, or a link made
/// only where the system cannot exchange).
pub(crate) struct TempNames {
    pub tmp: PathBuf,
    pub keep: PathBuf,
}

/// A replacement ready to go in.
pub(crate) enum Ready<'c> {
    /// A temp file holding the new bytes, to swap or rename over `real`.
    Swap {
        rel: &'c str,
        base: &'c str,
        bytes: &'c [u8],
        tmp: tempfile::NamedTempFile,
        keep: PathBuf,
        real: PathBuf,
    },
    /// A hard-linked file, rewritten in place; `copies` hold its new and old bytes until the
    /// commit is decided.
    InPlace {
        rel: &'c str,
        base: &'c str,
        bytes: &'c [u8],
        real: PathBuf,
        copies: (tempfile::NamedTempFile, tempfile::NamedTempFile),
    },
}

/// The folders writes may go to: the project root and the explicitly allowed ones, as real
/// paths.
pub(crate) struct Fence {
    allowed: Vec<PathBuf>,
}

impl Fence {
    pub(crate) fn new(root: &Path, opts: &WriteOptions) -> Result<Self, WriteError> {
        let mut allowed = vec![std::fs::canonicalize(root).map_err(io_at(root))?];
        // A folder that does not exist allows nothing, and is not an error.
        allowed.extend(
            opts.allowed_outside
                .iter()
                .filter_map(|p| std::fs::canonicalize(root.join(p)).ok()),
        );
        Ok(Fence { allowed })
    }

    /// The project root's real path.
    pub(crate) fn root(&self) -> &Path {
        self.allowed
            .first()
            .map_or(Path::new("."), PathBuf::as_path)
    }

    pub(crate) fn check(&self, rel: &str, real: &Path) -> Result<(), WriteError> {
        if self.allowed.iter().any(|dir| real.starts_with(dir)) {
            return Ok(());
        }
        Err(WriteError::Outside {
            file: rel.into(),
            target: real.to_path_buf(),
        })
    }
}

pub(crate) fn resolve_replace<'c>(
    root: &Path,
    fence: &Fence,
    rel: &'c str,
    base: &'c str,
    bytes: &'c [u8],
) -> Result<Replace<'c>, WriteError> {
    let path = root.join(rel);
    // Write through symlinks: replacing the link itself would detach it from its target.
    let real = std::fs::canonicalize(&path).map_err(|source| {
        // Gone since its base was taken: that is a change like any other.
        if source.kind() == std::io::ErrorKind::NotFound {
            WriteError::Changed { file: rel.into() }
        } else {
            WriteError::Io { path, source }
        }
    })?;
    fence.check(rel, &real)?;
    let meta = std::fs::metadata(&real).map_err(io_at(&real))?;
    check_writable(rel, &real, &meta)?;
    Ok(Replace {
        rel,
        base,
        bytes,
        real,
        meta,
    })
}

/// The real path a new file will have: its nearest existing folder resolved, the rest kept.
pub(crate) fn resolve_create(root: &Path, fence: &Fence, rel: &str) -> Result<PathBuf, WriteError> {
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
pub(crate) fn make_parents(path: &Path) -> Result<Vec<PathBuf>, WriteError> {
    let missing = missing_parents(path);
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

/// The temp file for a replacement, with the target's mode, owner and group; or, for a
/// hard-linked file to rewrite in place, copies of its new and old bytes (the journal's way
/// back). `names` are the temp and keep paths the journal lists for it.
pub(crate) fn prepare<'c>(
    r: Replace<'c>,
    names: TempNames,
    warnings: &mut Vec<String>,
) -> Result<Ready<'c>, WriteError> {
    if r.in_place() {
        let old = crate::source::open_regular(&r.real)
            .and_then(|f| {
                let mut old = Vec::new();
                std::io::Read::read_to_end(&mut &f, &mut old).map(|_| old)
            })
            .map_err(io_at(&r.real))?;
        if crate::source::sha256_hex(&old) != r.base {
            return Err(WriteError::Changed { file: r.rel.into() });
        }
        let new_copy = temp_at(&names.tmp, r.bytes).map_err(io_at(&names.tmp))?;
        let old_copy = temp_at(&names.keep, &old).map_err(io_at(&names.keep))?;
        return Ok(Ready::InPlace {
            rel: r.rel,
            base: r.base,
            bytes: r.bytes,
            real: r.real,
            copies: (new_copy, old_copy),
        });
    }
    let tmp = temp_at(&names.tmp, r.bytes).map_err(io_at(&names.tmp))?;
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
        base: r.base,
        bytes: r.bytes,
        tmp,
        keep: names.keep,
        real: r.real,
    })
}

/// The temp file of a file to create: its bytes, mode 0644.
pub(crate) fn new_file_temp(
    tmp: &Path,
    bytes: &[u8],
) -> Result<tempfile::NamedTempFile, WriteError> {
    let file = temp_at(tmp, bytes).map_err(io_at(tmp))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .map_err(io_at(tmp))?;
    }
    Ok(file)
}

/// The folders above `path` that do not exist yet, outermost first.
pub(crate) fn missing_parents(path: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut dir = parent_dir(path);
    while !dir.exists() {
        missing.push(dir.to_path_buf());
        dir = parent_dir(dir);
    }
    missing.reverse();
    missing
}
