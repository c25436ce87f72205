//! lua's temp files: named so they are recognisably ours, and cleaned up when a run was
//! killed before it could remove them.
//!
//! A temp file for `index.ts` is `.index.ts.lua-tmp-<pid>-<random>`, in the same folder (so
//! the final rename stays within one file system). Before lua writes in a folder it removes
//! the temp files there that are stale: made by a process that is no longer running, or
//! older than [`STALE_AFTER`] (a pid may have been reused). The names of earlier versions
//! (`.lua-write-*.tmp`, `.manifest-*.tmp`) are removed by age.

use std::io::{self, Write as _};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What every temp file of lua has in its name.
pub(crate) const TEMP_MARK: &str = ".lua-tmp-";

/// A temp file older than this is stale whoever made it: no lua run takes an hour to write.
pub(crate) const STALE_AFTER: Duration = Duration::from_secs(3600);

/// `.<name>.lua-tmp-<pid>-`: the prefix of a temp file for `target`.
fn prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    format!(".{name}{TEMP_MARK}{}-", std::process::id())
}

/// The folder of `path` (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A temp file beside `target` holding `bytes`, synced; created with mode 0666 less the
/// umask (callers set the final mode where it must match another file's).
pub(crate) fn temp_beside(target: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let prefix = prefix(target);
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix("").rand_bytes(6);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(parent_dir(target))?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// A fresh, unpredictable tag for the temp files of one commit (names chosen before any is
/// made, so the journal can list them first).
pub(crate) fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = crate::source::sha256_hex(
        format!(
            "{nanos}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        )
        .as_bytes(),
    );
    mixed[..8].to_owned()
}

/// The name of a temp file of lua for `target`: `.<name>.lua-tmp-<pid>-<nonce><tag>`, in the
/// same folder. `tag` tells a commit's temps for one target apart (`n`ew bytes, `o`ld ones).
pub(crate) fn temp_name(target: &Path, nonce: &str, tag: &str) -> String {
    format!("{}{nonce}{tag}", prefix(target))
}

/// Whether `name` is a plain file name of one of lua's temp files (what a journal may name).
pub(crate) fn is_temp_name(name: &str) -> bool {
    !name.contains(['/', '\\', '\0']) && matches!(owner_of(name), Some(Owner::Pid(_)))
}

/// Create the temp file `path` (which must not exist) holding `bytes`, synced, mode 0666
/// less the umask; removed when the handle is dropped unless persisted.
pub(crate) fn temp_at(path: &Path, bytes: &[u8]) -> io::Result<tempfile::NamedTempFile> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o666);
    }
    let file = options.open(path)?;
    let path = tempfile::TempPath::try_from_path(path)?;
    let mut tmp = tempfile::NamedTempFile::from_parts(file, path);
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok(tmp)
}

/// Remove the stale temp files of lua in `dir` (best effort: errors are ignored, a file that
/// cannot be removed is tried again next time).
pub(crate) fn clean_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let now = SystemTime::now();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let Some(owner) = owner_of(name) else {
            continue;
        };
        let Ok(meta) = entry.path().symlink_metadata() else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let old = meta
            .modified()
            .ok()
            .and_then(|m| now.duration_since(m).ok())
            .is_some_and(|age| age > STALE_AFTER);
        let orphan = match owner {
            Owner::Pid(pid) => pid != std::process::id() && !is_running(pid),
            Owner::Unknown => false,
        };
        if old || orphan {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

enum Owner {
    Pid(u32),
    /// A temp file of an earlier lua version, which did not record its process.
    Unknown,
}

/// Whether `name` is one of lua's temp files, and which process made it.
fn owner_of(name: &str) -> Option<Owner> {
    if name.starts_with('.')
        && let Some((_, rest)) = name.split_once(TEMP_MARK)
    {
        let (pid, random) = rest.split_once('-')?;
        if random.is_empty() {
            return None;
        }
        return pid.parse().ok().map(Owner::Pid);
    }
    let legacy = (name.starts_with(".lua-write-") || name.starts_with(".manifest-"))
        && name.ends_with(".tmp");
    legacy.then_some(Owner::Unknown)
}

/// Whether process `pid` exists (where that cannot be known, assume it does: the age rule
/// still applies).
pub(crate) fn is_running(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Some(pid) = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
        else {
            return false;
        };
        match rustix::process::test_kill_process(pid) {
            Ok(()) => true,
            Err(e) => e != rustix::io::Errno::SRCH,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lua_temp_names_are_recognised() {
        assert!(matches!(
            owner_of(".index.ts.lua-tmp-123-AbC123"),
            Some(Owner::Pid(123))
        ));
        assert!(matches!(
            owner_of(".lua-write-x1.tmp"),
            Some(Owner::Unknown)
        ));
        assert!(owner_of("index.ts").is_none());
        assert!(owner_of(".index.ts.lua-tmp-abc-x").is_none());
        assert!(owner_of(".index.ts.lua-tmp-12-").is_none());
        assert!(is_running(std::process::id()));
    }
}
