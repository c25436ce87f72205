//! Swapping a new file in where an editor may be saving the same file, and undoing swaps.
//!
//! The rule: when lua is done, the path holds the newest save, whoever made it. On Linux the
//! new file goes in with `renameat2(RENAME_EXCHANGE)`, so the old inode stays reachable (under
//! the temp name) until lua has decided. An editor's save lands in whichever inode its `open`
//! resolved: the old one (if it resolved the path before the swap, even when it writes after)
//! or lua's. The [`Watcher`] log says which of the two was saved into last; that one is put
//! (or kept) at the path, and the other is removed only once no handle opened on it during
//! the write is still open. lua's text counts only if nobody touched the old file from the
//! moment lua checked it until the end.
//!
//! Where the system cannot watch, what the swap took out is checked against the base (the
//! sha256 the file had to hold) and swapped back if it differs (a save landing in lua's inode just before such a
//! swap-back is then lost; the write is reported refused). Where it cannot exchange, the
//! check right before the rename is the guard.
//!
//! Residual, even on Linux: the kernel logs an open a few instructions after it resolved the
//! path, so an open that resolved the old inode before the swap but is logged more than
//! [`SETTLE`] later is missed; and a program that opened the file before lua started and
//! writes through that handle after lua is done writes into a removed copy.
//!
//! Knows files, inodes and sha256 bases; not projects, compile or fields.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tempfile::NamedTempFile;

use crate::error::WriteError;
use crate::guard::holds;
use crate::source::open_regular;
use crate::temp::parent_dir;
use crate::watch::{Watcher, Wd};

/// How long an open already under way in the kernel gets to reach the log.
const SETTLE: Duration = Duration::from_millis(2);
/// How long to wait for a handle still open on an inode lua is about to remove.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Swaps of one file allowed while saves keep landing, before it is kept aside.
const MAX_SWAPS: usize = 16;

/// A replacement swapped in: the temp name holds the other inode.
pub(crate) struct Swapped<'c> {
    rel: &'c str,
    bytes: &'c [u8],
    tmp: NamedTempFile,
    real: PathBuf,
    /// (the old inode, lua's inode) in the log, when the system can watch.
    watched: Option<(Wd, Wd)>,
    /// What the swap took off the path is the inode checked, holding what compile read.
    out_ok: bool,
    ours_at_path: bool,
    /// Which inodes lua put where: its own, and the one the first swap took out.
    ours_id: Option<FileId>,
    out_id: Option<FileId>,
    /// A save by rename put its own file at the path while lua was swapping: that file is
    /// the newest and stays, whatever the log says.
    foreign: bool,
    /// Opened before the watch began, so lua's own reads of the old file are not in the log.
    _old: File,
}

/// A replacement whose target was checked while watched, ready to swap in.
pub(crate) struct Checked<'c> {
    rel: &'c str,
    bytes: &'c [u8],
    tmp: NamedTempFile,
    real: PathBuf,
    watched: Option<(Wd, Wd)>,
    old: File,
    old_id: FileId,
}

/// Start watching `real` and `tmp` (holding the new bytes), then check `real` still holds
/// `base` (its sha256): any save from here on is in the log.
pub(crate) fn check<'c>(
    base: &str,
    watcher: Option<&Watcher>,
    rel: &'c str,
    bytes: &'c [u8],
    tmp: NamedTempFile,
    real: PathBuf,
) -> Result<Checked<'c>, WriteError> {
    let old = open_regular(&real).map_err(io_at(&real))?;
    let old_id = file_id(&old.metadata().map_err(io_at(&real))?);
    let watched = watcher.and_then(|w| Some((w.watch(&real).ok()?, w.watch(tmp.path()).ok()?)));
    // The watch is on the inode `old` is, and that inode holds the base.
    let at_path = std::fs::symlink_metadata(&real).ok().map(|m| file_id(&m));
    if at_path != Some(old_id) || !holds(&old, base) {
        return Err(WriteError::Changed { file: rel.into() });
    }
    Ok(Checked {
        rel,
        bytes,
        tmp,
        real,
        watched,
        old,
        old_id,
    })
}

impl<'c> Checked<'c> {
    /// Swap the new file in. `None` when the system cannot exchange and the file was
    /// renamed over instead (the check was the guard), after linking the old one to `keep`.
    pub(crate) fn swap(self, base: &str, keep: &Path) -> Result<Option<Swapped<'c>>, WriteError> {
        let (tmp, real) = (self.tmp, self.real);
        match exchange(tmp.path(), &real) {
            Ok(true) => {
                let out = std::fs::symlink_metadata(tmp.path())
                    .ok()
                    .map(|m| file_id(&m));
                let out_ok = out == Some(self.old_id) && holds(&self.old, base);
                let ours_id = tmp.as_file().metadata().ok().map(|m| file_id(&m));
                Ok(Some(Swapped {
                    rel: self.rel,
                    bytes: self.bytes,
                    tmp,
                    real,
                    watched: self.watched,
                    out_ok,
                    ours_at_path: true,
                    ours_id,
                    out_id: out,
                    foreign: false,
                    _old: self.old,
                }))
            }
            Ok(false) => {
                // The old file stays reachable under `keep` until the commit is decided.
                std::fs::hard_link(&real, keep).map_err(io_at(keep))?;
                tmp.persist(&real).map_err(|e| WriteError::Io {
                    path: real.clone(),
                    source: e.error,
                })?;
                sync_parent(&real)?;
                Ok(None)
            }
            Err(source) => Err(WriteError::Io { path: real, source }),
        }
    }
}

/// Settle every swap: keep lua's text at each path when `outcome` is fine and nobody saved,
/// else put back (or keep) the newest save. Returns `outcome`, or why lua's text did not stay.
pub(crate) fn converge(
    watcher: Option<&mut Watcher>,
    swaps: &mut [Swapped<'_>],
    outcome: Result<(), WriteError>,
) -> Result<(), WriteError> {
    let keep = outcome.is_ok();
    let settled = match watcher {
        Some(w) if swaps.iter().all(|s| s.watched.is_some()) => by_log(w, swaps, keep),
        _ => by_content(swaps, keep),
    };
    match (outcome, settled) {
        (_, Err(e)) | (Err(e), Ok(())) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
    }
}

/// Remove what each temp name holds now (the superseded inode) and make it durable.
pub(crate) fn finish(swaps: Vec<Swapped<'_>>) -> Result<(), WriteError> {
    let mut folders: Vec<PathBuf> = swaps
        .iter()
        .map(|s| parent_dir(&s.real).to_path_buf())
        .collect();
    drop(swaps);
    folders.sort();
    folders.dedup();
    for dir in &folders {
        crate::fsio::sync_dir(dir).map_err(io_at(dir))?;
    }
    Ok(())
}

fn by_log(w: &mut Watcher, swaps: &mut [Swapped<'_>], keep: bool) -> Result<(), WriteError> {
    let deadline = Instant::now() + CLOSE_WAIT;
    // Moves per file: saves that keep landing in one file must not stop the others.
    let mut moves = vec![0usize; swaps.len()];
    loop {
        std::thread::sleep(SETTLE);
        w.drain()
            .map_err(io_at(swaps.first().map_or(Path::new("."), |s| &s.real)))?;
        let untouched = |s: &Swapped<'_>| {
            s.out_ok && !s.foreign && s.watched.is_some_and(|(old, _)| w.last_save(old).is_none())
        };
        let clean = keep && !w.overflowed() && swaps.iter().all(untouched);
        let mut moved = false;
        for (s, moves) in swaps.iter_mut().zip(moves.iter_mut()) {
            let want_ours = want_ours(w, s, clean);
            if want_ours != s.ours_at_path && !s.foreign {
                if *moves == MAX_SWAPS {
                    return Err(keep_aside(s));
                }
                swap_checked(s)?;
                *moves += 1;
                moved = true;
            }
        }
        if moved {
            continue;
        }
        // A handle opened during the write on an inode about to be removed may still write.
        let busy = swaps.iter().filter(|s| !s.foreign).any(|s| {
            s.watched
                .is_some_and(|(old, new)| w.still_open(if s.ours_at_path { old } else { new }) > 0)
        });
        if busy && Instant::now() < deadline {
            continue;
        }
        if clean || !keep {
            // Not keeping: another step failed, and its error is the one to report.
            return Ok(());
        }
        let rel = swaps
            .iter()
            .find(|s| !untouched(s))
            .or(swaps.first())
            .map_or("", |s| s.rel);
        return Err(WriteError::Changed { file: rel.into() });
    }
}

/// Exchange the two inodes of `s`, checking that what leaves the path is what lua left
/// there. If it is not, a save by rename put that file there meanwhile: it is the newest, so
/// it goes back to the path (checked the same way) and stays.
fn swap_checked(s: &mut Swapped<'_>) -> Result<(), WriteError> {
    let id_at = |path: &Path| std::fs::symlink_metadata(path).ok().map(|m| file_id(&m));
    let mut expect_out = if s.ours_at_path { s.ours_id } else { s.out_id };
    let mut placing = id_at(s.tmp.path());
    for round in 0..MAX_SWAPS {
        exchange(s.tmp.path(), &s.real).map_err(io_at(&s.real))?;
        let out = id_at(s.tmp.path());
        if out.is_some() && out == expect_out {
            if round == 0 {
                s.ours_at_path = !s.ours_at_path;
            } else {
                s.foreign = true;
            }
            return Ok(());
        }
        (expect_out, placing) = (placing, out);
    }
    Err(keep_aside(s))
}

/// Which inode belongs at the path: the one saved into last; lua's only if nothing was.
fn want_ours(w: &Watcher, s: &Swapped<'_>, clean: bool) -> bool {
    let Some((old, new)) = s.watched else {
        return clean;
    };
    match (w.last_save(old), w.last_save(new)) {
        (Some(o), Some(n)) => n > o,
        (None, Some(_)) => true,
        (Some(_), None) => false,
        (None, None) => clean,
    }
}

/// Without a log: keep lua's bytes if every swapped-out file held its base.
fn by_content(swaps: &mut [Swapped<'_>], keep: bool) -> Result<(), WriteError> {
    let first_bad = swaps.iter().find(|s| !s.out_ok).map(|s| s.rel);
    if keep && first_bad.is_none() {
        return Ok(());
    }
    for s in swaps.iter_mut() {
        swap_back(s)?;
    }
    match first_bad {
        Some(rel) => Err(WriteError::Changed { file: rel.into() }),
        None => Ok(()),
    }
}

/// Put back what `s` swapped out, by content: if someone saved again after the swap, the
/// newest save is what must stay, so each exchange is checked and repeated while what comes
/// out is not what was put in.
fn swap_back(s: &mut Swapped<'_>) -> Result<(), WriteError> {
    let mut expect = s.bytes.to_vec();
    for _ in 0..MAX_SWAPS {
        let putting = read_back(s.tmp.path()).unwrap_or_default();
        exchange(s.tmp.path(), &s.real).map_err(io_at(&s.real))?;
        s.ours_at_path = !s.ours_at_path;
        if read_back(s.tmp.path()).is_some_and(|out| out == expect) {
            return Ok(());
        }
        expect = putting;
    }
    Err(keep_aside(s))
}

/// Saves keep landing: keep what the temp name holds under a name lua never cleans up.
fn keep_aside(s: &Swapped<'_>) -> WriteError {
    let keep = s.real.with_file_name(format!(
        "{}.lua-saved-{}",
        s.real
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        std::process::id()
    ));
    let _ = std::fs::hard_link(s.tmp.path(), &keep);
    WriteError::Changed {
        file: format!(
            "{} (an editor kept saving; a copy is in {})",
            s.rel,
            keep.display()
        ),
    }
}

fn read_back(path: &Path) -> Option<Vec<u8>> {
    crate::source::read_regular(path).ok()
}

/// Which inode a file is: (device, inode).
type FileId = (u64, u64);

fn file_id(meta: &std::fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        // No inode numbers: the content check is the guard.
        let _ = meta;
        (0, 0)
    }
}

/// Swap `a` and `b` atomically. `Ok(false)` where the system cannot (not Linux, or a file
/// system without `RENAME_EXCHANGE`): nothing happened.
pub(crate) fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        use rustix::io::Errno;
        match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
            Ok(()) => Ok(true),
            Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = (a, b);
        Ok(false)
    }
}

pub(crate) fn io_at(path: &Path) -> impl Fn(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn sync_parent(path: &Path) -> Result<(), WriteError> {
    let dir = parent_dir(path);
    crate::fsio::sync_dir(dir).map_err(io_at(dir))
}

// Two attributes, not `cfg(all(test, ...))`: clippy sees a plain `cfg(test)` as test code.
#[cfg(test)]
#[cfg(any(target_os = "linux", target_os = "android"))]
mod tests {
    //! The two orphan cases, made deterministic: an editor whose handle resolved one inode
    //! before a swap moved it off the path, and who writes after lua is done. Settling by
    //! content alone loses both saves; the log keeps them.

    use std::io::{Seek as _, Write as _};
    use std::sync::mpsc;

    use super::*;
    use crate::model::Compiled;

    const OLD: &str = "import { LuaAgent } from 'lua-cli';\nnew LuaAgent({ persona: 'old' });\n";

    const EDITOR: &str =
        "import { LuaAgent } from 'lua-cli';\nnew LuaAgent({ persona: 'editor' });\n";
    const LUA: &str = "import { LuaAgent } from 'lua-cli';\nnew LuaAgent({ persona: 'lua' });\n";

    fn setup() -> (tempfile::TempDir, PathBuf, Compiled) {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("index.ts");
        std::fs::write(&real, OLD).unwrap();
        let compiled = crate::evaluate(dir.path(), "index.ts").unwrap();
        let real = std::fs::canonicalize(real).unwrap();
        (dir, real, compiled)
    }

    /// An editor that opens `path` now and writes `text` through that handle when told.
    fn editor(path: &Path, truncate: bool) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
        let mut file = File::options()
            .write(true)
            .truncate(truncate)
            .open(path)
            .unwrap();
        let (go, wait) = mpsc::channel::<()>();
        let handle = std::thread::spawn(move || {
            wait.recv().unwrap();
            file.set_len(0).unwrap();
            file.rewind().unwrap();
            file.write_all(EDITOR.as_bytes()).unwrap();
        });
        (go, handle)
    }

    /// lua settles and finishes; only then does the editor write through its handle.
    fn settle_then_editor_writes(
        mut watcher: Watcher,
        mut swaps: Vec<Swapped<'_>>,
        outcome: Result<(), WriteError>,
        go: mpsc::Sender<()>,
        editor: std::thread::JoinHandle<()>,
    ) -> Result<(), WriteError> {
        let outcome = converge(Some(&mut watcher), &mut swaps, outcome);
        drop(watcher);
        finish(swaps).unwrap();
        go.send(()).unwrap();
        editor.join().unwrap();
        outcome
    }

    fn checked(compiled: &Compiled, watcher: &Watcher, real: &Path) -> Checked<'static> {
        let tmp = crate::temp::temp_beside(real, LUA.as_bytes()).unwrap();
        check(
            &compiled.inputs["index.ts"],
            Some(watcher),
            "index.ts",
            LUA.as_bytes(),
            tmp,
            real.to_path_buf(),
        )
        .unwrap()
    }

    fn swap(compiled: &Compiled, watcher: &Watcher, real: &Path) -> Swapped<'static> {
        checked(compiled, watcher, real)
            .swap(&compiled.inputs["index.ts"], &real.with_extension("keep"))
            .unwrap()
            .unwrap()
    }

    #[test]
    fn a_save_into_the_old_file_after_the_swap_ends_up_at_the_path() {
        let (_dir, real, compiled) = setup();
        let watcher = Watcher::new().unwrap();
        // The editor opens the path after lua's check, before the swap: its handle is on the
        // old inode, and it writes when lua is done.
        let ready = checked(&compiled, &watcher, &real);
        let (go, handle) = editor(&real, false);
        let swaps = vec![
            ready
                .swap(&compiled.inputs["index.ts"], &real.with_extension("keep"))
                .unwrap()
                .unwrap(),
        ];
        let outcome = settle_then_editor_writes(watcher, swaps, Ok(()), go, handle);
        assert!(
            matches!(outcome, Err(WriteError::Changed { .. })),
            "{outcome:?}"
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), EDITOR);
    }

    #[test]
    fn a_save_into_luas_file_before_an_undo_ends_up_at_the_path() {
        let (_dir, real, compiled) = setup();
        let watcher = Watcher::new().unwrap();
        let swaps = vec![swap(&compiled, &watcher, &real)];
        // The editor opens the path after the swap: its handle is on lua's inode. Then another
        // file of the same write fails, so every swap is undone. (It opens without truncating,
        // as editors that truncate after writing do, so the content shows nothing yet.)
        let (go, handle) = editor(&real, false);
        let failed = Err(WriteError::Changed {
            file: "other.ts".into(),
        });
        let outcome = settle_then_editor_writes(watcher, swaps, failed, go, handle);
        assert!(
            matches!(&outcome, Err(WriteError::Changed { file }) if file == "other.ts"),
            "{outcome:?}"
        );
        assert_eq!(std::fs::read_to_string(&real).unwrap(), EDITOR);
    }

    #[test]
    fn a_save_by_rename_before_an_undo_stays_at_the_path() {
        let (_dir, real, compiled) = setup();
        let mut watcher = Watcher::new().unwrap();
        let mut swaps = vec![swap(&compiled, &watcher, &real)];
        // The editor saves by rename after the swap; then another file fails, so lua undoes
        // its swap, which must not take the editor's file off the path.
        let saved = real.with_extension("editor-tmp");
        std::fs::write(&saved, EDITOR).unwrap();
        std::fs::rename(&saved, &real).unwrap();
        let failed = Err(WriteError::Changed {
            file: "other.ts".into(),
        });
        let outcome = converge(Some(&mut watcher), &mut swaps, failed);
        drop(watcher);
        finish(swaps).unwrap();
        assert!(outcome.is_err(), "{outcome:?}");
        assert_eq!(std::fs::read_to_string(&real).unwrap(), EDITOR);
    }

    #[test]
    fn nobody_saving_keeps_luas_text_and_removes_the_old_file() {
        let (dir, real, compiled) = setup();
        let mut watcher = Watcher::new().unwrap();
        let mut swaps = vec![swap(&compiled, &watcher, &real)];
        let outcome = converge(Some(&mut watcher), &mut swaps, Ok(()));
        drop(watcher);
        finish(swaps).unwrap();
        assert!(outcome.is_ok(), "{outcome:?}");
        assert_eq!(std::fs::read_to_string(&real).unwrap(), LUA);
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
