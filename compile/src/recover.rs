//! Finishing or undoing a commit that was interrupted (`kill -9`, power loss), from its
//! journal (`journal.rs`).
//!
//! - **Committed** (every file was in and kept): the old copies and temps it names are
//!   removed; the files stay.
//! - **Not committed**: every target that holds lua's new bytes is put back as it was (the old
//!   file, kept under its temp name, is exchanged back; a created file is removed; a file
//!   rewritten in place gets its old bytes back); a target holding anything else (an editor's
//!   save) is left alone; the temps and the folders the commit made are removed.
//!
//! A journal written by a process that still runs is not touched ([`WriteError::Locked`]); a
//! journal naming anything outside the project or not lua's is refused
//! ([`WriteError::Journal`]). With no journal, recovery is one `stat`.
//!
//! Knows the journal and files; not what the commit was for.

use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::WriteError;
use crate::guard::file_sha256;
use crate::journal::{self, Entry, How, Record, State};
use crate::source::open_regular;
use crate::swap::{exchange, io_at};
use crate::temp::{STALE_AFTER, clean_stale, is_running, parent_dir};

/// What [`recover`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovered {
    /// Who was interrupted: "pid 123 (lua sync --accept)".
    pub holder: String,
    /// The commit had been decided: its files stay, only its leftovers were removed.
    pub finished: bool,
    /// Files put back as they were before the commit (created ones removed), project-relative,
    /// sorted.
    pub undone: Vec<String>,
    /// Files holding bytes that are neither the commit's nor the old ones (somebody saved
    /// meanwhile): left as they are. Sorted.
    pub left: Vec<String>,
}

/// Finish or undo an interrupted commit (the journal under `.lua/`), and remove every temp
/// file of ours it names. `Ok(None)` when there was nothing to recover.
pub fn recover(root: &Path) -> Result<Option<Recovered>, WriteError> {
    let dir = root.join(journal::DIR);
    if std::fs::symlink_metadata(&dir).is_err() {
        return Ok(None);
    }
    journal::fenced_lua(root)?;
    let Some(record) = journal::read(&dir)? else {
        // Killed while its journal was being written: nothing was installed yet.
        clear_journal_dir(&dir)?;
        return Ok(Some(Recovered {
            holder: "an earlier lua".into(),
            ..Recovered::default()
        }));
    };
    let ours = record.pid == std::process::id();
    if (ours && journal::in_flight(&dir)) || (!ours && is_running(record.pid) && !is_stale(&dir)) {
        return Err(WriteError::Locked {
            holder: record.holder(),
        });
    }
    let root_real = std::fs::canonicalize(root).map_err(io_at(root))?;
    let mut done = Recovered {
        holder: record.holder(),
        finished: record.state == State::Committed,
        ..Recovered::default()
    };
    let journal_path = dir.join("journal.json");
    // Every path first, so that a hostile journal changes nothing at all.
    let targets = record
        .files
        .iter()
        .map(|e| Ok((e, locate(&root_real, &e.rel, &journal_path)?)))
        .collect::<Result<Vec<_>, WriteError>>()?;
    let mut folders = Vec::new();
    for (entry, target) in targets {
        if let Some(target) = target {
            recover_entry(&record, entry, &target, &mut done)?;
            folders.push(parent_dir(&target).to_path_buf());
        }
    }
    folders.sort();
    folders.dedup();
    for folder in &folders {
        // Temps of ours in this folder that no journal names (older versions, killed runs).
        clean_stale(folder);
        crate::fsio::sync_dir(folder).map_err(io_at(folder))?;
    }
    if record.state == State::Prepared {
        for rel in record.dirs.iter().rev() {
            if let Some(dir) = locate(&root_real, rel, &journal_path)? {
                // Only if empty: something else may have been put there since.
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
    done.undone.sort();
    done.left.sort();
    clear_journal_dir(&dir)?;
    Ok(Some(done))
}

/// The real path of `rel` in the project: its folder resolved (and required to be inside
/// the root), its name kept. `None` when the folder is gone (nothing of the commit is there).
fn locate(root_real: &Path, rel: &str, journal: &Path) -> Result<Option<PathBuf>, WriteError> {
    let path = root_real.join(rel);
    let Some(name) = path.file_name() else {
        return Ok(None);
    };
    let Ok(folder) = std::fs::canonicalize(parent_dir(&path)) else {
        return Ok(None);
    };
    if !folder.starts_with(root_real) {
        return Err(WriteError::Journal {
            path: journal.to_path_buf(),
            reason: format!(
                "`{rel}` resolves to {}, outside the project",
                folder.display()
            ),
        });
    }
    Ok(Some(folder.join(name)))
}

fn recover_entry(
    record: &Record,
    e: &Entry,
    target: &Path,
    done: &mut Recovered,
) -> Result<(), WriteError> {
    let folder = parent_dir(target);
    let tmp = folder.join(&e.tmp);
    let keep = e.keep.as_ref().map(|k| folder.join(k));
    if record.state == State::Prepared {
        let now = hash_of(target);
        let ours = now.as_deref() == Some(e.new.as_str());
        let old = now.is_some() && now == e.old;
        match e.how {
            How::Swap if ours => {
                // The temp name holds the old file (with whatever was saved into it).
                if is_file(&tmp) {
                    if !exchange(&tmp, target).map_err(io_at(target))? {
                        std::fs::rename(&tmp, target).map_err(io_at(target))?;
                    }
                    done.undone.push(e.rel.clone());
                } else if let Some(keep) = keep.as_ref().filter(|k| is_file(k)) {
                    std::fs::rename(keep, target).map_err(io_at(target))?;
                    done.undone.push(e.rel.clone());
                } else {
                    done.left.push(e.rel.clone());
                }
            }
            How::InPlace if !old && now.is_some() => {
                let current = std::fs::read(target).map_err(io_at(target))?;
                let new = read_if_file(&tmp);
                let before = keep.as_deref().and_then(read_if_file);
                // Cut short while writing (ours, or the undo's): the file is a prefix of one.
                let cut =
                    |of: &Option<Vec<u8>>| of.as_ref().is_some_and(|b| b.starts_with(&current));
                match before {
                    Some(before) if cut(&new) || cut(&Some(before.clone())) => {
                        overwrite_in_place(target, &before)?;
                        done.undone.push(e.rel.clone());
                    }
                    _ => done.left.push(e.rel.clone()),
                }
            }
            How::Create if ours => {
                std::fs::remove_file(target).map_err(io_at(target))?;
                done.undone.push(e.rel.clone());
            }
            // Somebody else's bytes are there: theirs are the newest.
            How::Swap | How::Create if now.is_some() && !old => done.left.push(e.rel.clone()),
            How::Swap | How::InPlace | How::Create => {}
        }
    }
    for path in std::iter::once(&tmp).chain(keep.as_ref()) {
        if is_file(path) {
            std::fs::remove_file(path).map_err(io_at(path))?;
        }
    }
    Ok(())
}

fn hash_of(path: &Path) -> Option<String> {
    if !is_file(path) {
        return None;
    }
    open_regular(path).and_then(|f| file_sha256(&f)).ok()
}

/// A regular file, not a link to one.
fn is_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())
}

fn read_if_file(path: &Path) -> Option<Vec<u8>> {
    is_file(path).then(|| std::fs::read(path).ok()).flatten()
}

fn overwrite_in_place(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    use std::io::Write as _;
    let mut file = std::fs::File::options()
        .write(true)
        .truncate(true)
        .open(path)
        .map_err(io_at(path))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_at(path))
}

/// A journal untouched for longer than any commit takes is stale even if its pid runs (the
/// pid was reused).
fn is_stale(dir: &Path) -> bool {
    std::fs::metadata(dir.join("journal.json"))
        .and_then(|m| m.modified())
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age > STALE_AFTER)
}

/// Remove the journal, the temps of ours in its folder, and the folder.
fn clear_journal_dir(dir: &Path) -> Result<(), WriteError> {
    let entries = std::fs::read_dir(dir).map_err(io_at(dir))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == "journal.json" || crate::temp::is_temp_name(&name) {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_at(&path)(e)),
            }
        }
    }
    journal::remove_dir(dir)
}
