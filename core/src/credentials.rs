//! Where the API key comes from, in the reference CLI's order (API_CONTRACT "Credentials"):
//!
//! 1. the environment variable `LUA_API_KEY`;
//! 2. `LUA_API_KEY` in the project's `.env` (dotenv syntax, parsed with `dotenvy`
//!    without touching the process environment);
//! 3. the file `~/.lua-cli/credentials`: the key alone, whitespace-trimmed, mode 0600
//!    (written by [`configure`], removed by [`logout`]).
//!
//! Between 2 and 3, in lua-cli's order, its e-mail sign-in session (`crate::session`,
//! chosen by `Config`: it needs the session's environment). The key is only ever held in a
//! [`SecretString`]; no error or source names it.
//! This module must not know clap or the terminal: it returns data, the CLI words it.

use std::io::Write;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use crate::config::Environment;

/// The variable, in the environment and in `.env`.
pub const KEY_VAR: &str = "LUA_API_KEY";
/// The project's dotenv file, at the project root.
pub const DOTENV_FILE: &str = ".env";
/// The folder of the reference CLI's files, under the home folder.
pub const CREDENTIALS_DIR: &str = ".lua-cli";
/// The credentials file, in [`CREDENTIALS_DIR`].
pub const CREDENTIALS_FILE: &str = "credentials";

/// Where the key was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeySource {
    /// The process environment's `LUA_API_KEY`.
    Environment,
    /// `LUA_API_KEY` in this `.env` file.
    DotEnv(PathBuf),
    /// The credentials file. `loose_mode` is its permission bits when the group or
    /// others may read or write it (the key should be private to its owner).
    File {
        path: PathBuf,
        loose_mode: Option<u32>,
    },
    /// lua-cli's e-mail sign-in session (`crate::session`): the bearer is an ID token got
    /// when the server is first needed.
    Session { path: PathBuf, uid: String },
}

/// A key and where it came from.
#[derive(Clone, Debug)]
pub struct Found {
    pub key: SecretString,
    pub source: KeySource,
}

/// Errors reading or writing credentials. None of them contains the key.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("{}: cannot parse line {line}: {reason}", path.display())]
    DotEnvSyntax {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot remove {}: {source}", path.display())]
    Remove {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no home folder: HOME is not set, so ~/.lua-cli/credentials has no place")]
    NoHome,
    /// The e-mail sign-in session is dead (the token endpoint refused its refresh token,
    /// or the platform revoked it): its file was removed.
    #[error(
        "Your Lua CLI session was signed out ({reason}); {} was removed. Run `lua auth configure` to sign in again",
        path.display()
    )]
    SignedOut { path: PathBuf, reason: String },
    /// The token endpoint gave no usable answer (5xx, 429, timeout): the session is kept.
    #[error("{reason}; the sign-in session {} is kept, try again", path.display())]
    SessionUnavailable { path: PathBuf, reason: String },
    #[error(
        "the sign-in session {} answered for another user; run `lua auth configure` to sign in again",
        path.display()
    )]
    SessionIdentity { path: PathBuf },
    #[error(
        "the stored Lua CLI session {} is invalid; run `lua auth configure` to sign in again",
        path.display()
    )]
    SessionInvalid { path: PathBuf },
    #[error(
        "timed out waiting for another Lua CLI process to finish updating the session (lock {})",
        path.display()
    )]
    SessionLocked { path: PathBuf },
    #[error("the API key is empty")]
    EmptyKey,
    #[error("the API key contains whitespace; pass the key alone")]
    KeyWithWhitespace,
}

impl CredentialsError {
    /// Whether this says the user is no longer signed in (exit class 9).
    pub fn signed_out(&self) -> bool {
        matches!(self, CredentialsError::SignedOut { .. })
    }
}

/// The home folder: `HOME` (on Windows, `USERPROFILE` when `HOME` is unset).
pub fn home(env: &dyn Environment) -> Option<PathBuf> {
    env.var("HOME")
        .or_else(|| {
            if cfg!(windows) {
                env.var("USERPROFILE")
            } else {
                None
            }
        })
        .map(PathBuf::from)
}

/// `<home>/.lua-cli/credentials`.
pub fn credentials_path(home: &Path) -> PathBuf {
    home.join(CREDENTIALS_DIR).join(CREDENTIALS_FILE)
}

/// The first key found, in the reference's order; `Ok(None)` when none of the three
/// places has one. Later sources are not read once a key is found.
pub fn resolve(
    env: &dyn Environment,
    project_root: &Path,
) -> Result<Option<Found>, CredentialsError> {
    if let Some(found) = resolve_key(env, project_root)? {
        return Ok(Some(found));
    }
    match home(env) {
        Some(home) => from_file(&credentials_path(&home)),
        None => Ok(None),
    }
}

/// The key set as `LUA_API_KEY`: the environment's, else the project `.env`'s (what lua-cli
/// sees as `process.env.LUA_API_KEY`, tried before a sign-in session).
pub fn resolve_key(
    env: &dyn Environment,
    project_root: &Path,
) -> Result<Option<Found>, CredentialsError> {
    if let Some(key) = env.var(KEY_VAR).filter(|k| !k.trim().is_empty()) {
        return Ok(Some(Found {
            key: SecretString::from(key.trim().to_string()),
            source: KeySource::Environment,
        }));
    }
    let dotenv = project_root.join(DOTENV_FILE);
    Ok(from_dotenv(&dotenv)?.map(|key| Found {
        key,
        source: KeySource::DotEnv(dotenv),
    }))
}

/// `LUA_API_KEY` from a dotenv file (`None` when the file or the variable is absent or
/// empty). A line that cannot be parsed before the variable is found is an error
/// naming the file and line; lines after it are not looked at.
pub fn from_dotenv(path: &Path) -> Result<Option<SecretString>, CredentialsError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(dotenv_error(path, e)),
    };
    for item in iter {
        let (name, value) = item.map_err(|e| dotenv_error(path, e))?;
        if name == KEY_VAR {
            let value = value.trim();
            if value.is_empty() {
                // An empty entry says nothing; the credentials file may still have one.
                return Ok(None);
            }
            return Ok(Some(SecretString::from(value.to_string())));
        }
    }
    Ok(None)
}

/// Every variable of a dotenv file, in order (empty when the file does not exist). A line
/// that cannot be parsed is an error naming the file and line.
pub fn dotenv_vars(path: &Path) -> Result<Vec<(String, String)>, CredentialsError> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(dotenvy::Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Vec::new());
        }
        Err(e) => return Err(dotenv_error(path, e)),
    };
    iter.map(|item| item.map_err(|e| dotenv_error(path, e)))
        .collect()
}

fn dotenv_error(path: &Path, e: dotenvy::Error) -> CredentialsError {
    match e {
        dotenvy::Error::LineParse(line, index) => CredentialsError::DotEnvSyntax {
            path: path.to_path_buf(),
            line: line_number(path, &line),
            reason: format!("unexpected character at column {}", index + 1),
        },
        dotenvy::Error::Io(source) => CredentialsError::Read {
            path: path.to_path_buf(),
            source,
        },
        other => CredentialsError::DotEnvSyntax {
            path: path.to_path_buf(),
            line: 0,
            reason: other.to_string(),
        },
    }
}

/// The 1-based line of `text` in the file (dotenvy reports the line's text, not its number).
fn line_number(path: &Path, text: &str) -> usize {
    let first = text.lines().next().unwrap_or("");
    std::fs::read_to_string(path)
        .ok()
        .and_then(|all| all.lines().position(|l| l == first))
        .map_or(0, |i| i + 1)
}

/// The key in a credentials file (`None` when absent or empty).
pub fn from_file(path: &Path) -> Result<Option<Found>, CredentialsError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(CredentialsError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let key = text.trim();
    if key.is_empty() {
        return Ok(None);
    }
    Ok(Some(Found {
        key: SecretString::from(key.to_string()),
        source: KeySource::File {
            path: path.to_path_buf(),
            loose_mode: loose_mode(path),
        },
    }))
}

/// The permission bits when the group or others have any access (Unix only).
#[cfg(unix)]
fn loose_mode(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then_some(mode)
}

#[cfg(not(unix))]
fn loose_mode(_: &Path) -> Option<u32> {
    None
}

/// Write `key` to `<home>/.lua-cli/credentials`: the folder is created with mode 0700,
/// the file written atomically (temp file in the same folder, fsync, rename) with mode
/// 0600. Returns the file's path.
pub fn configure(home: &Path, key: &str) -> Result<PathBuf, CredentialsError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(CredentialsError::EmptyKey);
    }
    if key.chars().any(char::is_whitespace) {
        return Err(CredentialsError::KeyWithWhitespace);
    }
    let path = credentials_path(home);
    let dir = home.join(CREDENTIALS_DIR);
    let err = |source| CredentialsError::Write {
        path: path.clone(),
        source,
    };
    create_private_dir(&dir).map_err(err)?;
    // NamedTempFile is created 0600 on Unix, so the key is never readable by others,
    // not even for a moment.
    // writer-ok: ~/.lua-cli/credentials is outside any project (the guarded writer is fenced to the project root) and must be created 0600 from the first byte
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(err)?;
    tmp.write_all(key.as_bytes()).map_err(err)?;
    tmp.write_all(b"\n").map_err(err)?;
    set_private(tmp.path(), 0o600).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(&path).map_err(|e| err(e.error))?;
    Ok(path)
}

/// Remove the credentials file. `Ok(false)` when there was none.
pub fn logout(home: &Path) -> Result<bool, CredentialsError> {
    let path = credentials_path(home);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(CredentialsError::Remove { path, source }),
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn set_private(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_private(_: &Path, _: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    struct Env(HashMap<&'static str, String>);

    impl Environment for Env {
        fn var(&self, key: &str) -> Option<String> {
            self.0.get(key).cloned().filter(|v| !v.is_empty())
        }
    }

    fn env(home: &Path, key: Option<&str>) -> Env {
        let mut map = HashMap::new();
        map.insert("HOME", home.display().to_string());
        if let Some(key) = key {
            map.insert(KEY_VAR, key.to_string());
        }
        Env(map)
    }

    fn found(env: &Env, root: &Path) -> Option<(String, KeySource)> {
        resolve(env, root)
            .unwrap()
            .map(|f| (f.key.expose_secret().to_string(), f.source))
    }

    #[test]
    fn precedence_is_environment_then_dotenv_then_file() {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        assert_eq!(found(&env(home.path(), None), root.path()), None);

        let file = configure(home.path(), "  from-file \n").unwrap();
        assert_eq!(
            found(&env(home.path(), None), root.path()),
            Some((
                "from-file".into(),
                KeySource::File {
                    path: file,
                    loose_mode: None
                }
            ))
        );

        let dotenv = root.path().join(".env");
        // writer-ok: test fixture: the project's .env
        std::fs::write(
            &dotenv,
            "# c\nOTHER=1\nLUA_API_KEY=\"from-dotenv\" # note\n",
        )
        .unwrap();
        assert_eq!(
            found(&env(home.path(), None), root.path()),
            Some(("from-dotenv".into(), KeySource::DotEnv(dotenv)))
        );

        assert_eq!(
            found(&env(home.path(), Some("from-env")), root.path()),
            Some(("from-env".into(), KeySource::Environment))
        );
        // The process environment is never changed by reading `.env`.
        assert!(std::env::var("OTHER").is_err());
    }

    #[test]
    fn empty_entries_fall_through() {
        let home = tempfile::tempdir().unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(".env"), "LUA_API_KEY=\n").unwrap();
        configure(home.path(), "k").unwrap();
        let (key, source) = found(&env(home.path(), Some("  ")), root.path()).unwrap();
        assert_eq!(key, "k");
        assert!(matches!(source, KeySource::File { .. }));
        std::fs::write(credentials_path(home.path()), " \n").unwrap();
        assert_eq!(found(&env(home.path(), None), root.path()), None);
    }

    #[test]
    fn a_broken_dotenv_names_file_and_line() {
        let root = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join(".env"), "A=1\nB C\nLUA_API_KEY=k\n").unwrap();
        let err = resolve(&env(home.path(), None), root.path())
            .unwrap_err()
            .to_string();
        assert!(err.contains(".env: cannot parse line 2"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn configure_is_private_and_loose_files_are_flagged() {
        use std::os::unix::fs::PermissionsExt;
        let home = tempfile::tempdir().unwrap();
        let path = configure(home.path(), "k1").unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "k1\n");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let found = from_file(&path).unwrap().unwrap();
        assert_eq!(
            found.source,
            KeySource::File {
                path: path.clone(),
                loose_mode: Some(0o644)
            }
        );
        // Rewriting replaces the file, so it is private again.
        configure(home.path(), "k2").unwrap();
        assert_eq!(mode(&path), 0o600);
        assert!(logout(home.path()).unwrap());
        assert!(!logout(home.path()).unwrap());
        assert!(!path.exists());
    }

    #[test]
    fn configure_refuses_empty_and_spaced_keys() {
        let home = tempfile::tempdir().unwrap();
        assert!(matches!(
            configure(home.path(), " \n"),
            Err(CredentialsError::EmptyKey)
        ));
        assert!(matches!(
            configure(home.path(), "a b"),
            Err(CredentialsError::KeyWithWhitespace)
        ));
        assert!(!credentials_path(home.path()).exists());
    }
}
