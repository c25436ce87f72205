//! Installing a commit's prepared replacements: each swapped in (or, where the system cannot
//! exchange, renamed over after keeping a link to the old file), hard-linked files rewritten
//! in place, then every swap settled against the log of concurrent saves (`swap.rs`) and the
//! commit decided: all kept, or all undone with the newest saves at their paths.
//!
//! Knows prepared files and the swap protocol; not the journal (it is told how to decide)
//! nor how files were resolved.

use std::fs::File;
use std::io::{self, Seek as _, Write as _};
use std::path::Path;

use crate::error::WriteError;
use crate::resolve::Ready;
use crate::source::sha256_hex;
use crate::swap;
use crate::swap::io_at;
use crate::watch::Watcher;

/// Put every prepared replacement in, then settle the swaps (see `swap.rs`) and `decide`:
/// all kept, or all undone with the newest saves at their paths.
pub(crate) fn install(
    ready: Vec<Ready<'_>>,
    decide: impl FnOnce() -> Result<(), WriteError>,
    warnings: &mut Vec<String>,
) -> Result<(), WriteError> {
    let mut watcher = Watcher::new();
    let mut swapped = Vec::new();
    let mut renamed = Vec::new();
    let mut in_place = Vec::new();
    let mut outcome = Ok(());
    for item in ready {
        match item {
            Ready::InPlace {
                rel,
                base,
                bytes,
                real,
                copies,
            } => in_place.push((rel, base, bytes, real, copies)),
            Ready::Swap {
                rel,
                base,
                bytes,
                tmp,
                keep,
                real,
            } => match swap::check(base, watcher.as_ref(), rel, bytes, tmp, real.clone())
                .and_then(|checked| checked.swap(base, &keep))
            {
                Ok(Some(s)) => swapped.push(s),
                Ok(None) => renamed.push((real, keep)),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            },
        }
    }
    let mut written = Vec::new();
    if outcome.is_ok() {
        for (rel, base, bytes, real, copies) in in_place {
            match write_in_place(base, rel, bytes, &real) {
                Ok(old) => written.push((real, old, copies)),
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
    }
    let mut outcome = swap::converge(watcher.as_mut(), &mut swapped, outcome);
    if outcome.is_ok()
        && let Err(e) = decide()
    {
        // Not recorded as kept: undo, so that what is on disk matches the journal.
        outcome = swap::converge(watcher.as_mut(), &mut swapped, Err(e));
    }
    // The log is closed before the temp files are, which would only add lua's own closes.
    drop(watcher);
    if outcome.is_err() {
        for (path, old, _) in &written {
            let _ = overwrite(path, old);
        }
        for (real, keep) in &renamed {
            let _ = std::fs::rename(keep, real);
        }
    } else {
        for (_, keep) in &renamed {
            let _ = std::fs::remove_file(keep);
        }
    }
    // Dropping the copies of in-place files removes them.
    drop(written);
    match (outcome, swap::finish(swapped)) {
        (Err(e), _) => Err(e),
        (Ok(()), Ok(())) => Ok(()),
        (Ok(()), Err(e)) => {
            warnings.push(format!("written; an old copy could not be removed: {e}"));
            Ok(())
        }
    }
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
