//! What a restore may write: the agent's source, nothing else. A backup's path is
//! normalised first (`\` as `/`, repeated `/`, `.` and `..`, Unicode NFC, case folded where
//! the project's file system ignores case), then checked against rules that hold whatever
//! the flags: nothing under a dot-folder (`.git/`, `.vscode/`, `.lua/`, ...), no dotfile
//! (`.env`, `.npmrc`, ...), not `lua.toml`, `lua.sync.json` or `lua.skill.yaml`, nothing in
//! `node_modules/`, nothing through a symbolic link. An entry that breaks a rule is
//! [`Skipped`] with the rule in words, and the rest of the restore goes on.
//!
//! `external` files (lua-cli writes them under `.lua/external/`) are lua's own area, a
//! dot-folder: skipped and listed like any other.
//!
//! Pure but for two reads of the project folder ([`case_insensitive`], and
//! [`through_symlink`] in [`check`]); it knows nothing of the platform or of writing.

use std::path::Path;

/// Files the project's tooling reads as configuration: never restored.
const TOOL_FILES: [&str; 3] = ["lua.toml", "lua.sync.json", "lua.skill.yaml"];

/// A backup entry not restored, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The path as the backup lists it.
    pub path: String,
    /// The rule that skipped it, in words.
    pub rule: String,
}

/// The project-relative, `/`-separated path a backup entry may be restored to (NFC, its
/// case as listed), or why it is skipped. `fold_case`: the project's file system ignores
/// case ([`case_insensitive`]), so the rules see the path lower-cased.
pub fn check(root: &Path, raw: &str, external: bool, fold_case: bool) -> Result<String, Skipped> {
    let skip = |rule: String| Skipped {
        path: raw.to_owned(),
        rule,
    };
    if external {
        return Err(skip(
            "an external file (lua-cli keeps them under .lua/external/, a dot-folder)".into(),
        ));
    }
    let rel = normalise(raw, false).map_err(skip)?;
    let seen = if fold_case {
        rel.to_lowercase()
    } else {
        rel.clone()
    };
    rule(&seen).map_or(Ok(()), |r| Err(skip(r)))?;
    if let Some(link) = through_symlink(root, &rel) {
        return Err(skip(format!("it goes through the symbolic link {link}")));
    }
    Ok(rel)
}

/// `raw` as a project-relative path: NFC, `\` read as `/`, empty and `.` parts dropped,
/// `..` applied, lower-cased when `fold_case`. An absolute path, a drive, a NUL, or a `..`
/// that leaves the root is an error in words.
pub fn normalise(raw: &str, fold_case: bool) -> Result<String, String> {
    let nfc = icu_normalizer::ComposingNormalizerBorrowed::new_nfc().normalize(raw);
    let text = if fold_case {
        nfc.to_lowercase()
    } else {
        nfc.into_owned()
    };
    if text.contains('\0') {
        return Err("the path holds a NUL character".into());
    }
    let text = text.replace('\\', "/");
    if text.starts_with('/') {
        return Err("an absolute path, outside the project".into());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err("it leaves the project folder".into());
                }
            }
            p if parts.is_empty() && p.len() >= 2 && p.as_bytes()[1] == b':' => {
                return Err("a drive path, outside the project".into());
            }
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Err("it names no file".into());
    }
    Ok(parts.join("/"))
}

/// The rule a normalised path breaks, in words; `None` when it may be restored. Case is
/// ignored (`.GIT/config` is `.git/config` on a case-insensitive disk, and a name that
/// differs only in case is suspicious anywhere).
pub fn rule(rel: &str) -> Option<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let (file, folders) = parts.split_last()?;
    if let Some(dir) = folders.iter().find(|d| d.starts_with('.')) {
        return Some(format!(
            "anything under a dot-folder ({dir}/) belongs to a tool, not the agent's source"
        ));
    }
    if folders
        .iter()
        .any(|d| d.eq_ignore_ascii_case("node_modules"))
    {
        return Some("node_modules/ is installed, not restored".into());
    }
    if file.starts_with('.') {
        return Some(format!(
            "a dotfile ({file}) configures a tool or holds secrets, not the agent's source"
        ));
    }
    if folders.is_empty()
        && let Some(tool) = TOOL_FILES.iter().find(|t| file.eq_ignore_ascii_case(t))
    {
        return Some(format!(
            "{tool} is the project's own configuration, never taken from a backup"
        ));
    }
    None
}

/// The first existing part of `rel` under `root` that is a symbolic link, as a
/// project-relative path.
pub fn through_symlink(root: &Path, rel: &str) -> Option<String> {
    let mut at = root.to_path_buf();
    let mut shown = Vec::new();
    for part in rel.split('/') {
        at.push(part);
        shown.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(shown.join("/")),
            Ok(_) => {}
            // Nothing below a missing part exists yet.
            Err(_) => return None,
        }
    }
    None
}

/// Whether the file system of `root` ignores case: the root's own name with its case
/// swapped names the same folder. A name without letters cannot tell: `false`.
pub fn case_insensitive(root: &Path) -> bool {
    let Ok(real) = std::fs::canonicalize(root) else {
        return false;
    };
    let Some(name) = real.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let swapped: String = name
        .chars()
        .map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect();
    if swapped == name {
        return false;
    }
    let other = real.with_file_name(swapped);
    same_file(&real, &other)
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
#[path = "restore_paths_tests.rs"]
mod tests;
