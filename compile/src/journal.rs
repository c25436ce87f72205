//! The journal of a commit: what it is about to change, written (atomically, synced) under
//! `.lua/journal/` before the first file is installed, so that a run killed half-way can be
//! finished or undone by the next one ([`crate::recover`]).
//!
//! It lists every target (project-relative), the names of its temp files beside it, and the
//! sha256 of its old and new bytes; and the folders the commit makes. `state` is `prepared`
//! until every file is in and settled, then `committed`; once the old copies are removed the
//! journal goes. It never names anything but plain project-relative paths and lua's own temp
//! file names; [`Record::check`] refuses a journal that does.
//!
//! Knows the format and where it lives; not how files are swapped or undone.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::WriteError;
use crate::swap::io_at;
use crate::temp::{is_temp_name, nonce, temp_at, temp_name};

/// Version of the journal format.
pub(crate) const FORMAT: u32 = 1;
/// The folder of a commit's journal, relative to the project root. Its existence is the one
/// thing [`crate::recover`] looks at when there is nothing to recover.
pub(crate) const DIR: &str = ".lua/journal";
const FILE: &str = "journal.json";
/// A journal larger than this is not lua's (300 files take about 100 KiB).
const MAX_BYTES: u64 = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum State {
    /// Files may be going in; undo what went in.
    Prepared,
    /// Every file is in and was kept; only old copies are left to remove.
    Committed,
}

/// How a target is changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum How {
    /// The temp (new bytes) is exchanged with the target: after the exchange the temp name
    /// holds the old file. Where the system cannot exchange, `keep` is a hard link to the old
    /// file made just before the new one is renamed over it.
    Swap,
    /// A hard-linked file rewritten in place: `tmp` holds the new bytes, `keep` a copy of the
    /// old ones.
    InPlace,
    /// A new file: `tmp` holds its bytes until it is linked in.
    Create,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Entry {
    /// The target, project-relative, `/`-separated.
    pub rel: String,
    pub how: How,
    /// File name (in the target's real folder) of the temp holding the new bytes.
    pub tmp: String,
    /// File name of the copy (or link) of the old bytes, if any.
    pub keep: Option<String>,
    /// sha256 of the target before (none for a created file).
    pub old: Option<String>,
    /// sha256 of the new bytes.
    pub new: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Record {
    pub format: u32,
    /// The process that wrote it, and what it was running (for "in use by").
    pub pid: u32,
    pub command: String,
    pub state: State,
    /// Folders the commit makes, project-relative, outermost first.
    pub dirs: Vec<String>,
    pub files: Vec<Entry>,
}

impl Record {
    pub(crate) fn new(dirs: Vec<String>, files: Vec<Entry>) -> Self {
        Record {
            format: FORMAT,
            pid: std::process::id(),
            command: command_line(),
            state: State::Prepared,
            dirs,
            files,
        }
    }

    /// Refuse a journal naming anything but plain project-relative paths and lua's temps.
    pub(crate) fn check(&self, path: &Path) -> Result<(), WriteError> {
        let bad = |what: String| WriteError::Journal {
            path: path.to_path_buf(),
            reason: what,
        };
        if self.format != FORMAT {
            return Err(bad(format!("its format is {}, not {FORMAT}", self.format)));
        }
        for rel in self.dirs.iter().chain(self.files.iter().map(|e| &e.rel)) {
            if !is_plain_rel(rel) {
                return Err(bad(format!(
                    "it names `{rel}`, which is not a plain path inside the project"
                )));
            }
        }
        for e in &self.files {
            for name in std::iter::once(&e.tmp).chain(&e.keep) {
                if !is_temp_name(name) {
                    return Err(bad(format!(
                        "it names `{name}` as a temp file of `{}`, which is not a name lua uses",
                        e.rel
                    )));
                }
            }
        }
        Ok(())
    }

    /// "pid 123 (lua sync --accept)".
    pub(crate) fn holder(&self) -> String {
        format!("pid {} ({})", self.pid, self.command)
    }
}

/// `a/b/c.ts`: relative, `/`-separated, no empty, `.` or `..` part, no backslash or NUL.
pub(crate) fn is_plain_rel(rel: &str) -> bool {
    !rel.is_empty()
        && !rel.contains(['\\', '\0'])
        && rel
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// The program and its subcommand and flags, without values (which could be secrets).
pub(crate) fn command_line() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .and_then(|p| {
            Path::new(&p)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "lua".into());
    let mut words = vec![program];
    let mut subcommand = true;
    for arg in args {
        if arg.starts_with('-') {
            words.push(arg.split('=').next().unwrap_or_default().to_owned());
        } else if subcommand {
            words.push(arg);
            subcommand = false;
        }
    }
    words.join(" ")
}

/// A commit's journal on disk, while the commit runs.
pub(crate) struct Journal {
    dir: PathBuf,
    /// The folder's real path, as registered in [`ACTIVE`].
    key: PathBuf,
    record: Record,
}

/// The journals of this process's commits in flight: a journal of our own pid is only an
/// interrupted one if no thread of ours is still writing it.
static ACTIVE: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

fn active() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    ACTIVE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Whether a commit of this process is writing the journal in `dir` now.
pub(crate) fn in_flight(dir: &Path) -> bool {
    let key = key(dir);
    active().contains(&key)
}

/// The same journal folder however the root was spelled.
fn key(dir: &Path) -> PathBuf {
    std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf())
}

impl Drop for Journal {
    fn drop(&mut self) {
        active().retain(|d| *d != self.key);
    }
}

impl Journal {
    /// Make `.lua/journal/` and write `record` in it. `.lua` must be inside the project.
    pub(crate) fn begin(root: &Path, record: Record) -> Result<Self, WriteError> {
        let lua = root.join(".lua");
        match std::fs::create_dir(&lua) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_at(&lua)(e)),
        }
        fenced_lua(root)?;
        let dir = root.join(DIR);
        if let Err(e) = std::fs::create_dir(&dir) {
            return Err(if e.kind() == io::ErrorKind::AlreadyExists {
                let holder = read(&dir)
                    .ok()
                    .flatten()
                    .map_or_else(|| "another lua".to_owned(), |r| r.holder());
                WriteError::Locked { holder }
            } else {
                io_at(&dir)(e)
            });
        }
        let key = key(&dir);
        active().push(key.clone());
        let journal = Journal { dir, key, record };
        if let Err(e) = journal.write() {
            journal.end_quietly();
            return Err(e);
        }
        Ok(journal)
    }

    /// Every file is in and kept: from here on, recovery finishes instead of undoing.
    pub(crate) fn mark_committed(&mut self) -> Result<(), WriteError> {
        self.record.state = State::Committed;
        self.write()
    }

    /// The commit is over (done or undone): remove the journal.
    pub(crate) fn end(self) -> Result<(), WriteError> {
        let file = self.dir.join(FILE);
        std::fs::remove_file(&file).map_err(io_at(&file))?;
        remove_dir(&self.dir)
    }

    /// [`Journal::end`] after a failure, whose error is the one to report.
    pub(crate) fn end_quietly(self) {
        let _ = std::fs::remove_file(self.dir.join(FILE));
        let _ = remove_dir(&self.dir);
    }

    fn write(&self) -> Result<(), WriteError> {
        let file = self.dir.join(FILE);
        let bytes = serde_json::to_vec_pretty(&self.record).map_err(|e| WriteError::Io {
            path: file.clone(),
            source: io::Error::other(e),
        })?;
        let tmp_path = self.dir.join(temp_name(&file, &nonce(), "j"));
        let tmp = temp_at(&tmp_path, &bytes).map_err(io_at(&tmp_path))?;
        tmp.persist(&file).map_err(|e| WriteError::Io {
            path: file.clone(),
            source: e.error,
        })?;
        crate::fsio::sync_dir(&self.dir).map_err(io_at(&self.dir))
    }
}

/// Remove the (emptied) journal folder and make that durable.
pub(crate) fn remove_dir(dir: &Path) -> Result<(), WriteError> {
    std::fs::remove_dir(dir).map_err(io_at(dir))?;
    let lua = crate::temp::parent_dir(dir);
    crate::fsio::sync_dir(lua).map_err(io_at(lua))
}

/// `.lua` must be a folder inside the project, not a link out of it.
pub(crate) fn fenced_lua(root: &Path) -> Result<(), WriteError> {
    let lua = root.join(".lua");
    let real = std::fs::canonicalize(&lua).map_err(io_at(&lua))?;
    let root_real = std::fs::canonicalize(root).map_err(io_at(root))?;
    if real.parent() != Some(root_real.as_path()) {
        return Err(WriteError::Outside {
            file: ".lua".into(),
            target: real,
        });
    }
    Ok(())
}

/// The journal in `dir`, if its file exists (a folder without one: the run was killed
/// before its journal was complete, so nothing was installed).
pub(crate) fn read(dir: &Path) -> Result<Option<Record>, WriteError> {
    let file = dir.join(FILE);
    let bytes = match crate::source::read_regular_capped(&file, MAX_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_at(&file)(e)),
    };
    let record: Record = serde_json::from_slice(&bytes).map_err(|e| WriteError::Journal {
        path: file.clone(),
        reason: format!("it is not a journal lua wrote ({e})"),
    })?;
    record.check(&file)?;
    Ok(Some(record))
}
