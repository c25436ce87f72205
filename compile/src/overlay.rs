//! An [`Overlay`]: the project as a resolution will leave it, composed in memory before
//! anything is written. Reads fall through to the disk; writes stay in memory, each file
//! remembering the bytes it had on disk when it was first touched (its *base*). A whole
//! resolution (a backup restore, then field edits that may land in restored files) is
//! planned on one overlay, then committed once through the guarded writer with those bases
//! as the guard: an edit never trips over an earlier edit of the same run, and a save by
//! anyone else since the comparison is never overwritten.
//!
//! Uses `source` (reading regular files) and the planners' [`Store`]/[`Loader`] traits; it
//! knows nothing of components, the platform or the terminal.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::WriteError;
use crate::fsio::Store;
use crate::source::{Loader, read_regular, sha256_hex};

/// One file the overlay changed: what was on disk (its base) and what it will hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverlayFile {
    /// Project-relative path, `/` separators.
    pub rel: String,
    /// The bytes on disk when the overlay first touched the file (`None`: no such file).
    pub old: Option<Vec<u8>>,
    /// The new bytes.
    pub new: Vec<u8>,
}

impl OverlayFile {
    /// Hex sha256 of [`OverlayFile::old`]: the guard of the commit.
    pub fn base(&self) -> Option<String> {
        self.old.as_deref().map(sha256_hex)
    }
}

/// The project's files with a resolution's edits on top (see the module doc).
#[derive(Clone, Debug)]
pub struct Overlay {
    root: PathBuf,
    /// What each file held when it was compared (compile's inputs, the snapshots components
    /// read): a file found otherwise on first touch changed since, and is refused.
    expected: BTreeMap<String, Option<String>>,
    /// Touched files: base bytes and new bytes.
    files: BTreeMap<String, (Option<Vec<u8>>, Vec<u8>)>,
}

impl Overlay {
    /// An overlay over `root`. `expected` maps files to the sha256 they held when compared
    /// (`None`: compared as absent).
    pub fn new(root: impl Into<PathBuf>, expected: BTreeMap<String, Option<String>>) -> Self {
        Self {
            root: root.into(),
            expected,
            files: BTreeMap::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Also expect `rel` to hold `sha256` (`None`: absent) on disk when first touched.
    pub fn expect(&mut self, rel: &str, sha256: Option<String>) {
        self.expected.entry(rel.to_string()).or_insert(sha256);
    }

    /// The bytes of `rel` as the resolution will leave it (`None`: no such file).
    pub fn read(&self, rel: &str) -> io::Result<Option<Vec<u8>>> {
        if let Some((_, new)) = self.files.get(rel) {
            return Ok(Some(new.clone()));
        }
        read_disk(&self.root, rel)
    }

    /// Whether the overlay holds new bytes for `rel`.
    pub fn touched(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
    }

    /// Put `bytes` at `rel`. The first time a file is touched its disk bytes become its base,
    /// and must be what the file held when compared ([`WriteError::Changed`] otherwise).
    pub fn put(&mut self, rel: &str, bytes: Vec<u8>) -> Result<(), WriteError> {
        if let Some((_, new)) = self.files.get_mut(rel) {
            *new = bytes;
            return Ok(());
        }
        let old = read_disk(&self.root, rel).map_err(|source| WriteError::Io {
            path: self.root.join(rel),
            source,
        })?;
        if let Some(expected) = self.expected.get(rel)
            && *expected != old.as_deref().map(sha256_hex)
        {
            return Err(WriteError::Changed { file: rel.into() });
        }
        self.files.insert(rel.to_string(), (old, bytes));
        Ok(())
    }

    /// Whether any file's new bytes differ from its base (without copying them).
    pub fn has_changes(&self) -> bool {
        self.files
            .values()
            .any(|(old, new)| old.as_deref() != Some(new.as_slice()))
    }

    /// The files whose new bytes differ from their base, sorted by path.
    pub fn changes(&self) -> Vec<OverlayFile> {
        self.files
            .iter()
            .filter(|(_, (old, new))| old.as_deref() != Some(new.as_slice()))
            .map(|(rel, (old, new))| OverlayFile {
                rel: rel.clone(),
                old: old.clone(),
                new: new.clone(),
            })
            .collect()
    }

    /// The new bytes of every touched file, by path (what a [`crate::Compiled`] of the
    /// overlay reads instead of the disk).
    pub fn contents(&self) -> BTreeMap<String, Vec<u8>> {
        self.files
            .iter()
            .map(|(rel, (_, new))| (rel.clone(), new.clone()))
            .collect()
    }
}

fn read_disk(root: &Path, rel: &str) -> io::Result<Option<Vec<u8>>> {
    match std::fs::symlink_metadata(root.join(rel)) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        _ => match read_regular(&root.join(rel)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        },
    }
}

impl Store for Overlay {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        Overlay::read(self, rel)?
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
    fn exists(&self, rel: &str) -> bool {
        self.files.contains_key(rel) || std::fs::symlink_metadata(self.root.join(rel)).is_ok()
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel) || self.root.join(rel).is_file()
    }
    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

impl Loader for Overlay {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        Store::read(self, rel)
    }
    fn is_file(&self, rel: &str) -> bool {
        self.files.contains_key(rel)
            || std::fs::metadata(self.root.join(rel)).is_ok_and(|m| !m.is_dir())
    }
    fn display_path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_stay_in_memory_with_the_disk_bytes_as_base() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "one").unwrap();
        let mut overlay = Overlay::new(
            dir.path(),
            BTreeMap::from([("a.txt".to_string(), Some(sha256_hex(b"one")))]),
        );
        overlay.put("a.txt", b"two".to_vec()).unwrap();
        overlay.put("a.txt", b"three".to_vec()).unwrap();
        overlay.put("new/b.txt", b"b".to_vec()).unwrap();
        assert_eq!(overlay.read("a.txt").unwrap().unwrap(), b"three");
        assert_eq!(std::fs::read(dir.path().join("a.txt")).unwrap(), b"one");
        let changes = overlay.changes();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].old.as_deref(), Some(&b"one"[..]));
        assert_eq!(changes[1].base(), None);
        // Put back as it was: no change left.
        overlay.put("a.txt", b"one".to_vec()).unwrap();
        assert_eq!(overlay.changes().len(), 1);
    }

    #[test]
    fn a_file_changed_since_compared_is_refused_on_first_touch() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "edited by someone").unwrap();
        let mut overlay = Overlay::new(
            dir.path(),
            BTreeMap::from([("a.txt".to_string(), Some(sha256_hex(b"one")))]),
        );
        assert!(matches!(
            overlay.put("a.txt", b"x".to_vec()),
            Err(WriteError::Changed { .. })
        ));
    }
}
