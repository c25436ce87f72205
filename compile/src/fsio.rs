//! Where write-back reads: the project on disk or in memory, and the hash guard. Planning
//! (in `plan` and `insert`) only reads through a [`Store`]; `commit` is the one place that
//! changes files on disk, [`commit_mem`] the one for projects in memory. No TypeScript here.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::model::Compiled;
use crate::options::{FileWrite, WriteReport};
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

    /// What these changes did, once committed.
    pub fn report(&self, warnings: Vec<String>) -> WriteReport {
        WriteReport {
            files: self.files(),
            created: self.create.keys().cloned().collect(),
            warnings,
        }
    }

    /// The writes that commit these changes, each replaced file guarded by the sha256
    /// compile recorded for it (a file compile did not read gets a base nothing matches).
    pub fn writes(&self, compiled: &Compiled) -> Vec<FileWrite> {
        let replace = self.replace.iter().map(|(rel, text)| FileWrite {
            rel: rel.clone(),
            base: Some(compiled.inputs.get(rel).cloned().unwrap_or_default()),
            bytes: text.as_bytes().to_vec(),
        });
        let create = self.create.iter().map(|(rel, text)| FileWrite {
            rel: rel.clone(),
            base: None,
            bytes: text.as_bytes().to_vec(),
        });
        replace.chain(create).collect()
    }
}

/// Apply `changes` to an in-memory project (planning already checked every file).
pub(crate) fn commit_mem(files: &mut BTreeMap<String, String>, changes: Changes) {
    files.extend(changes.replace);
    files.extend(changes.create);
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
