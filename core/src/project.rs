//! [`Project`]: the local side as components read it — the compiled entry file and
//! snapshots of other project files (`lua.skill.yaml`), each read once per run, before
//! anything could rewrite it; and [`PullCtx`], what a pull may use to write.
//!
//! Reads are confined: regular files only, inside the project root (symlinks resolved),
//! at most [`MAX_FILE_BYTES`]. Knows no component and no file format.
//!
//! What components derive from those snapshots (a parsed `lua.skill.yaml` that several
//! components read) can be kept with the project, computed once: [`Project::derived`].

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use lua_compile::{Compiled, Node, Overlay, WriteOptions};
use sha2::{Digest, Sha256};

use crate::component::Pulled;
use crate::server::Server;

/// The largest project file read through [`Project::read`].
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A project file as read once in this run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Project-relative path, `/` separators.
    pub path: String,
    pub bytes: Arc<[u8]>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

impl Snapshot {
    /// The content as UTF-8.
    pub fn text(&self) -> Result<&str, ReadError> {
        std::str::from_utf8(&self.bytes).map_err(|e| ReadError {
            path: self.path.clone(),
            message: format!("not UTF-8 text ({e})"),
        })
    }
}

/// A project file that could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {path}: {message}")]
pub struct ReadError {
    pub path: String,
    pub message: String,
}

/// Reads of this run, by project-relative path.
type Snapshots = BTreeMap<String, Result<Option<Snapshot>, ReadError>>;

/// Values derived from the snapshots, by key and type.
type Derived = BTreeMap<(String, TypeId), Arc<dyn Any + Send + Sync>>;

/// The project as this run sees it. Clones share the snapshots and what was derived
/// from them; a new `Project` (after a pull rewrote files) starts afresh.
#[derive(Clone)]
pub struct Project {
    root: PathBuf,
    compiled: Compiled,
    /// The files a resolution has changed in memory so far ([`lua_compile::Overlay`]):
    /// read instead of the disk.
    planned: Arc<BTreeMap<String, Vec<u8>>>,
    files: Arc<Mutex<Snapshots>>,
    derived: Arc<Mutex<Derived>>,
}

impl fmt::Debug for Project {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Project")
            .field("root", &self.root)
            .field("compiled", &self.compiled)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

impl Project {
    pub fn new(root: impl Into<PathBuf>, compiled: Compiled) -> Self {
        Self {
            root: root.into(),
            compiled,
            planned: Arc::default(),
            files: Arc::default(),
            derived: Arc::default(),
        }
    }

    /// The project as a resolution will leave it: `compiled` is the overlay's compile, and
    /// reads see the overlay's files first.
    pub fn planned(root: impl Into<PathBuf>, compiled: Compiled, overlay: &Overlay) -> Self {
        Self {
            planned: Arc::new(overlay.contents()),
            ..Self::new(root, compiled)
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn compiled(&self) -> &Compiled {
        &self.compiled
    }

    /// The project file at `rel` (`None`: it does not exist), read once per run: later
    /// calls return the same snapshot even if the file changed since.
    pub fn read(&self, rel: &str) -> Result<Option<Snapshot>, ReadError> {
        let mut files = self
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        files
            .entry(rel.to_string())
            .or_insert_with(|| match self.planned.get(rel) {
                Some(bytes) => Ok(Some(Snapshot {
                    path: rel.to_string(),
                    sha256: hex::encode(Sha256::digest(bytes)),
                    bytes: bytes.as_slice().into(),
                })),
                None => read_confined(&self.root, rel),
            })
            .clone()
    }

    /// What every file read so far held (sha256; `None`: absent), compile's inputs
    /// included: the base a resolution's writes are guarded by.
    pub fn compared(&self) -> BTreeMap<String, Option<String>> {
        let mut out: BTreeMap<String, Option<String>> = self
            .compiled
            .inputs
            .iter()
            .map(|(rel, sha)| (rel.clone(), Some(sha.clone())))
            .collect();
        let files = self
            .files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (rel, read) in files.iter() {
            if let Ok(snapshot) = read {
                out.insert(rel.clone(), snapshot.as_ref().map(|s| s.sha256.clone()));
            }
        }
        out
    }

    /// A value derived from this project's snapshots (a parsed file, say), computed by
    /// `make` the first time `key` is asked for with this type and shared afterwards, by
    /// every clone of this project. `make` should read only through `self`, so what it
    /// derives is as stable as the snapshots. It runs without a lock held: it may read
    /// files and ask for other derived values (two threads racing may both compute; the
    /// first stored value wins and both get it).
    pub fn derived<T: Any + Send + Sync>(
        &self,
        key: &str,
        make: impl FnOnce(&Project) -> T,
    ) -> Arc<T> {
        let slot = (key.to_string(), TypeId::of::<T>());
        let lock = || {
            self.derived
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(found) = lock().get(&slot).cloned().and_then(downcast) {
            return found;
        }
        let made = Arc::new(make(self));
        let mut derived = lock();
        let stored = derived
            .entry(slot)
            .or_insert_with(|| Arc::clone(&made) as Arc<dyn Any + Send + Sync>);
        // Keyed by `T`'s type id, so the stored value is a `T`: the first one stored wins.
        downcast(Arc::clone(stored)).unwrap_or(made)
    }
}

fn downcast<T: Any + Send + Sync>(value: Arc<dyn Any + Send + Sync>) -> Option<Arc<T>> {
    value.downcast::<T>().ok()
}

/// Read `rel` under `root`: a regular file, inside the root after resolving symlinks, at
/// most [`MAX_FILE_BYTES`].
pub fn read_confined(root: &Path, rel: &str) -> Result<Option<Snapshot>, ReadError> {
    let fail = |message: String| ReadError {
        path: rel.to_string(),
        message,
    };
    let path = root.join(rel);
    let real = match std::fs::canonicalize(&path) {
        Ok(real) => real,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e.to_string())),
    };
    let real_root = std::fs::canonicalize(root).map_err(|e| fail(e.to_string()))?;
    if !real.starts_with(&real_root) {
        return Err(fail(format!(
            "it resolves to {}, outside the project root {}",
            real.display(),
            real_root.display()
        )));
    }
    let meta = std::fs::metadata(&real).map_err(|e| fail(e.to_string()))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".into()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!(
            "{} bytes, more than the {} MiB limit",
            meta.len(),
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let file = std::fs::File::open(&real).map_err(|e| fail(e.to_string()))?;
    // Checked again on the open file: the path may have been swapped since.
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(fail("not a regular file".into()));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(e.to_string()))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(fail(format!(
            "more than the {} MiB limit",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    Ok(Some(Snapshot {
        path: rel.to_string(),
        bytes: bytes.into(),
        sha256,
    }))
}

/// What a pull may use: the project as the resolution has it so far (earlier pulls of this
/// run included), the server, and the resolution's [`Overlay`], where every write goes. Nothing
/// reaches the disk here: the engine commits the overlay once, through the guarded writer.
pub struct PullCtx<'a> {
    pub project: &'a Project,
    pub server: &'a Server,
    /// Resolve conflicts and flatten composite values (`--force`, or confirmed).
    pub force: bool,
    overlay: &'a Mutex<Overlay>,
}

impl<'a> PullCtx<'a> {
    pub fn new(
        project: &'a Project,
        server: &'a Server,
        force: bool,
        overlay: &'a Mutex<Overlay>,
    ) -> Self {
        Self {
            project,
            server,
            force,
            overlay,
        }
    }

    pub fn root(&self) -> &Path {
        self.project.root()
    }

    pub fn compiled(&self) -> &Compiled {
        self.project.compiled()
    }

    fn overlay(&self) -> std::sync::MutexGuard<'_, Overlay> {
        self.overlay
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replace the literal(s) defining `node` with `value` (exact; guarded when committed).
    pub fn replace(
        &self,
        node: &Node,
        value: &serde_json::Value,
    ) -> Result<Pulled, lua_compile::WriteError> {
        let report = lua_compile::write_back_overlay(
            &mut self.overlay(),
            self.compiled(),
            node,
            value,
            self.options(),
        )?;
        Ok(pulled(report))
    }

    fn options(&self) -> WriteOptions {
        WriteOptions {
            force: self.force,
            ..WriteOptions::default()
        }
    }

    /// Add `key: value` to the LuaAgent config object (the code does not set `key`), in
    /// the file's style.
    pub fn insert_property(
        &self,
        key: &str,
        value: &serde_json::Value,
    ) -> Result<Pulled, lua_compile::WriteError> {
        let report =
            lua_compile::insert_property_overlay(&mut self.overlay(), self.compiled(), key, value)?;
        Ok(pulled(report))
    }

    /// Create `module` (`export const <export> = <value>`), import it into the file that holds
    /// the config object and add the property `key`: all or nothing.
    pub fn insert_with_new_module(
        &self,
        key: &str,
        module: &lua_compile::NewModule<'_>,
    ) -> Result<Pulled, lua_compile::WriteError> {
        let report = lua_compile::insert_with_new_module_overlay(
            &mut self.overlay(),
            self.compiled(),
            key,
            module,
        )?;
        Ok(pulled(report))
    }

    /// The bytes of a project file as the resolution has it so far (`None`: no such file).
    pub fn read_file(&self, rel: &str) -> Result<Option<Vec<u8>>, lua_compile::WriteError> {
        self.overlay()
            .read(rel)
            .map_err(|source| lua_compile::WriteError::Io {
                path: self.root().join(rel),
                source,
            })
    }

    /// Write a whole file (a restored source, an edited `lua.skill.yaml`). `compared` is the
    /// sha256 the file held when it was compared (`None`: absent): if the disk holds
    /// something else, the write is refused as changed since compared.
    pub fn write_file(
        &self,
        rel: &str,
        bytes: Vec<u8>,
        compared: Option<String>,
    ) -> Result<(), lua_compile::WriteError> {
        let mut overlay = self.overlay();
        overlay.expect(rel, compared);
        overlay.put(rel, bytes)
    }
}

fn pulled(report: lua_compile::WriteReport) -> Pulled {
    Pulled {
        files: report.files,
        notes: report.warnings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_values_are_computed_once_per_project_and_shared_by_clones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), "x: 1\n").unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        // writer-ok: test fixture: the project compiled here
        std::fs::write(
            dir.path().join("src/index.ts"),
            "import { LuaAgent } from \"lua-cli\";\nexport default new LuaAgent({ name: \"a\" });\n",
        )
        .unwrap();
        let (compiled, _) = lua_compile::compile(dir.path(), "src/index.ts").unwrap();
        let project = Project::new(dir.path(), compiled);
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let parse = |p: &Project| {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            p.read("a.yaml").unwrap().unwrap().bytes.len()
        };
        let first = project.derived("a", parse);
        let again = project.clone().derived("a", parse);
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(
            (*first, calls.load(std::sync::atomic::Ordering::SeqCst)),
            (5, 1)
        );
        // Another key, or another type under the same key, is another value.
        assert_eq!(*project.derived("b", |_| 7usize), 7);
        assert_eq!(*project.derived("a", |_| "text"), "text");
        // A new project (after a pull rewrote files) derives afresh.
        let fresh = Project::new(dir.path(), project.compiled().clone());
        fresh.derived("a", parse);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

    #[test]
    fn reads_are_snapshots_confined_to_regular_files_in_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("p");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.yaml"), "x: 1\n").unwrap();
        std::fs::write(dir.path().join("outside.yaml"), "y: 2\n").unwrap();
        std::fs::create_dir(root.join("d")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(dir.path().join("outside.yaml"), root.join("link.yaml"))
            .unwrap();

        let snap = read_confined(&root, "a.yaml").unwrap().unwrap();
        assert_eq!(&*snap.bytes, b"x: 1\n");
        assert_eq!(read_confined(&root, "missing.yaml").unwrap(), None);
        assert!(
            read_confined(&root, "d")
                .unwrap_err()
                .to_string()
                .contains("not a regular file")
        );
        #[cfg(unix)]
        assert!(
            read_confined(&root, "link.yaml")
                .unwrap_err()
                .to_string()
                .contains("outside the project root")
        );
    }
}
