//! Where write-back reads and writes: the project on disk or in memory, the hash guard, and
//! the atomic commit (temp file in the same folder, fsync, rename, fsync of the folder).
//!
//! Planning (in `write` and `insert`) only reads through a [`Store`]; this module is the one
//! place that changes files. It knows nothing of TypeScript.

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::model::Compiled;
use crate::source::sha256_hex;

/// Where files are read from (and, for the hash check, re-read).
pub(crate) trait Store: Sync {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>>;
    /// Whether anything (a file, a folder, a dangling link) has this name.
    fn exists(&self, rel: &str) -> bool;
    /// Whether `rel` is a regular file (following links), as module resolution asks.
    fn is_file(&self, rel: &str) -> bool;
    fn path(&self, rel: &str) -> PathBuf;
}

pub(crate) struct FsStore<'r> {
    pub root: &'r Path,
}

impl Store for FsStore<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        crate::source::read_regular(&self.root.join(rel))
    }
    fn exists(&self, rel: &str) -> bool {
        std::fs::symlink_metadata(self.root.join(rel)).is_ok()
    }
    fn is_file(&self, rel: &str) -> bool {
        self.root.join(rel).is_file()
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

pub(crate) struct MemStore<'m> {
    pub files: &'m BTreeMap<String, String>,
}

impl Store for MemStore<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        self.files
            .get(rel)
            .map(|s| s.as_bytes().to_vec())
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file in memory"))
    }
    fn exists(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
            || self
                .files
                .keys()
                .any(|k| k.strip_prefix(rel).is_some_and(|r| r.starts_with('/')))
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }
    fn path(&self, rel: &str) -> PathBuf {
        PathBuf::from(rel)
    }
}

/// Read `rel` and check it is byte for byte what compile read.
pub(crate) fn read_checked(
    store: &dyn Store,
    compiled: &Compiled,
    rel: &str,
) -> Result<String, WriteError> {
    let changed = || WriteError::Changed {
        file: rel.to_owned(),
    };
    let bytes = match store.read(rel) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(changed()),
        Err(source) => {
            return Err(WriteError::Io {
                path: store.path(rel),
                source,
            });
        }
    };
    if compiled.inputs.get(rel) != Some(&sha256_hex(&bytes)) {
        return Err(changed());
    }
    String::from_utf8(bytes).map_err(|_| changed())
}

/// The files one write changes: new text of existing files, and files to create.
#[derive(Debug, Default)]
pub(crate) struct Changes {
    /// Existing files (checked against compile's hashes) -> new text.
    pub replace: BTreeMap<String, String>,
    /// Files that must not exist yet -> text.
    pub create: BTreeMap<String, String>,
}

impl Changes {
    /// Every file touched, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .replace
            .keys()
            .chain(self.create.keys())
            .cloned()
            .collect();
        all.sort();
        all
    }
}

/// Apply `changes` to an in-memory project (planning already checked every file).
pub(crate) fn commit_mem(files: &mut BTreeMap<String, String>, changes: Changes) {
    files.extend(changes.replace);
    files.extend(changes.create);
}

/// The temp-file name prefix for `target`: `.<name>.lua-tmp-<pid>-`, so a left-over is
/// recognisably ours and names the file it was for.
pub(crate) fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}{TEMP_MARK}{}-", std::process::id())
}

/// What every temp file of lua has in its name.
pub(crate) const TEMP_MARK: &str = ".lua-tmp-";

/// A temp file beside `target` holding `bytes`, synced; created with mode 0666 less the
/// umask (the final mode is set by the caller where it must match another file's).
pub(crate) fn temp_beside(target: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let dir = parent_dir(target);
    let prefix = temp_prefix(target);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix("").rand_bytes(6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// The folder of `path` (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Write `changes` to disk, all or nothing: every new text goes to a temp file first; then
/// every replaced file is checked again against compile's hash; then created files are
/// linked in without replacing anything, then replaced files are renamed over. If a step
/// fails before the first rename, created files are removed and nothing is left changed.
pub(crate) fn commit_fs(
    root: &Path,
    compiled: &Compiled,
    changes: &Changes,
) -> Result<(), WriteError> {
    let store = FsStore { root };
    let mut replaced = Vec::new();
    for (rel, text) in &changes.replace {
        let path = root.join(rel);
        // Write through symlinks: replacing the link itself would detach it from its target.
        let target = std::fs::canonicalize(&path).map_err(|source| WriteError::Io {
            path: path.clone(),
            source,
        })?;
        let io_err = |source| WriteError::Io {
            path: target.clone(),
            source,
        };
        let perms = std::fs::metadata(&target).map_err(io_err)?.permissions();
        let tmp = temp_beside(&target, text.as_bytes()).map_err(io_err)?;
        tmp.as_file().set_permissions(perms).map_err(io_err)?;
        replaced.push((tmp, target));
    }
    let mut created = Vec::new();
    for (rel, text) in &changes.create {
        let target = root.join(rel);
        let io_err = |source| WriteError::Io {
            path: target.clone(),
            source,
        };
        let tmp = temp_beside(&target, text.as_bytes()).map_err(io_err)?;
        created.push((tmp, target, rel));
    }
    // Last check right before renaming: a file edited while we prepared is not overwritten.
    for rel in changes.replace.keys() {
        read_checked(&store, compiled, rel)?;
    }
    let mut linked: Vec<PathBuf> = Vec::new();
    let undo = |linked: &[PathBuf]| {
        for path in linked {
            let _ = std::fs::remove_file(path);
        }
    };
    for (tmp, target, rel) in created {
        match tmp.persist_noclobber(&target) {
            Ok(_) => linked.push(target),
            Err(e) => {
                undo(&linked);
                return Err(if e.error.kind() == io::ErrorKind::AlreadyExists {
                    WriteError::FileExists { file: rel.clone() }
                } else {
                    WriteError::Io {
                        path: target,
                        source: e.error,
                    }
                });
            }
        }
    }
    for (i, (tmp, target)) in replaced.into_iter().enumerate() {
        if let Err(e) = tmp.persist(&target) {
            if i == 0 {
                undo(&linked);
            }
            return Err(WriteError::Io {
                path: target,
                source: e.error,
            });
        }
        sync_parent(&target)?;
    }
    for path in &linked {
        sync_parent(path)?;
    }
    Ok(())
}

fn sync_parent(path: &Path) -> Result<(), WriteError> {
    let dir = parent_dir(path);
    sync_dir(dir).map_err(|source| WriteError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

/// fsync a folder so a rename in it survives a crash (a no-op where folders cannot be opened).
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}
