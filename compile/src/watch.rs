//! Who else touches a file while lua swaps it: a log of the opens, writes, closes and moves
//! of watched inodes, in the order the kernel saw them (inotify, Linux only; elsewhere
//! [`Watcher::new`] gives `None` and callers keep their content checks).
//!
//! Owns only the log and simple questions about it. It knows nothing of projects, compile
//! or which inode should win: `swap.rs` decides that.

use std::io;
use std::path::Path;

/// A watched inode's handle in the log.
pub(crate) type Wd = i32;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Touch {
    /// Somebody opened it (a save that truncates starts here).
    Open,
    /// Somebody wrote to it.
    Modify,
    /// A handle to it was closed.
    Close,
    /// It was renamed or exchanged (lua's own swaps show up here too).
    Moved,
}

/// The ordered log of what happened to the watched inodes.
pub(crate) struct Watcher {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    fd: rustix::fd::OwnedFd,
    log: Vec<(Wd, Touch)>,
    /// The kernel dropped events: nothing can be concluded from the log.
    overflowed: bool,
}

impl Watcher {
    /// A watcher, or `None` where the system has none (or refuses one).
    pub(crate) fn new() -> Option<Self> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::inotify::{CreateFlags, init};
            init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)
                .ok()
                .map(|fd| Watcher {
                    fd,
                    log: Vec::new(),
                    overflowed: false,
                })
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        None
    }

    /// Watch the inode `path` names now (later renames do not change which inode it is).
    pub(crate) fn watch(&self, path: &Path) -> io::Result<Wd> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::inotify::{WatchFlags, add_watch};
            let flags = WatchFlags::OPEN
                | WatchFlags::MODIFY
                | WatchFlags::CLOSE_WRITE
                | WatchFlags::CLOSE_NOWRITE
                | WatchFlags::MOVE_SELF
                | WatchFlags::DONT_FOLLOW;
            Ok(add_watch(&self.fd, path, flags)?)
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        {
            let _ = path;
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }

    /// Append everything the kernel has queued so far.
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        #[cfg(any(target_os = "linux", target_os = "android"))]
        {
            use rustix::fs::inotify::{ReadFlags, Reader};
            use rustix::io::Errno;
            let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); 4096];
            let mut reader = Reader::new(&self.fd, &mut buf);
            loop {
                let event = match reader.next() {
                    Ok(event) => event,
                    Err(Errno::AGAIN) => return Ok(()),
                    Err(Errno::INTR) => continue,
                    Err(e) => return Err(e.into()),
                };
                let flags = event.events();
                if flags.contains(ReadFlags::QUEUE_OVERFLOW) {
                    self.overflowed = true;
                }
                let wd = event.wd();
                for (flag, touch) in [
                    (ReadFlags::OPEN, Touch::Open),
                    (ReadFlags::MODIFY, Touch::Modify),
                    (ReadFlags::CLOSE_WRITE, Touch::Close),
                    (ReadFlags::CLOSE_NOWRITE, Touch::Close),
                    (ReadFlags::MOVE_SELF, Touch::Moved),
                ] {
                    if flags.contains(flag) {
                        self.log.push((wd, touch));
                    }
                }
            }
        }
        #[cfg(not(any(target_os = "linux", target_os = "android")))]
        Ok(())
    }

    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// Where in the log `wd` was last opened or written (a save into it), if ever.
    pub(crate) fn last_save(&self, wd: Wd) -> Option<usize> {
        self.log
            .iter()
            .rposition(|&(w, t)| w == wd && matches!(t, Touch::Open | Touch::Modify))
    }

    /// Handles opened since the watch began and not yet closed (never negative: handles
    /// opened before the watch close without an open in the log).
    pub(crate) fn still_open(&self, wd: Wd) -> usize {
        let (mut opens, mut closes) = (0usize, 0usize);
        for &(w, t) in &self.log {
            if w == wd {
                match t {
                    Touch::Open => opens += 1,
                    Touch::Close => closes += 1,
                    _ => {}
                }
            }
        }
        opens.saturating_sub(closes)
    }
}
