//! One `lua` changing a project at a time: an exclusive advisory lock (`flock`) on
//! `.lua/lock`, which records the holder's pid and command for the one who has to wait.
//!
//! The kernel releases the lock when the holder's file is closed, so also when the holder is
//! killed: a lock file left behind means nothing by itself. Knows the lock file only.

use std::fs::{File, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::WriteError;
use crate::journal::{command_line, fenced_lua};
use crate::swap::io_at;

/// How often a waiting `lua` tries again.
const POLL: Duration = Duration::from_millis(25);

/// The project's lock, held until dropped (or the process ends).
#[derive(Debug)]
pub struct ProjectLock {
    file: File,
    path: PathBuf,
}

impl ProjectLock {
    /// Take the project's lock, waiting up to `wait` for another `lua` to release it; then
    /// [`WriteError::Locked`] naming the holder.
    pub fn acquire(root: &Path, wait: Duration) -> Result<Self, WriteError> {
        let lua = root.join(".lua");
        match std::fs::create_dir(&lua) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(io_at(&lua)(e)),
        }
        fenced_lua(root)?;
        let path = lua.join("lock");
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_at(&path))?;
        let deadline = Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(POLL);
                }
                Err(TryLockError::WouldBlock) => {
                    let mut holder = String::new();
                    let _ = file
                        .rewind()
                        .and_then(|()| file.read_to_string(&mut holder));
                    let holder = holder.trim();
                    return Err(WriteError::Locked {
                        holder: if holder.is_empty() {
                            "another lua".into()
                        } else {
                            holder.to_owned()
                        },
                    });
                }
                Err(TryLockError::Error(e)) => return Err(io_at(&path)(e)),
            }
        }
        let who = format!("pid {} ({})\n", std::process::id(), command_line());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(who.as_bytes()))
            .map_err(io_at(&path))?;
        Ok(ProjectLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Nobody holds it now; closing the file releases the lock.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
