//! lua-cli's e-mail sign-in sessions (API_CONTRACT "E-mail sign-in sessions"), read and
//! renewed exactly as lua-cli does, so both CLIs can share one session and run at once:
//!
//! - the file `~/.lua-cli/sessions/<K>.json`, K = the first 16 hex characters of SHA-256 of
//!   `apiUrl \n authUrl \n firebaseWebApiKey` (the environment the session belongs to);
//! - the bearer is a fresh ID token from the token endpoint; the rotated refresh token is
//!   written back under lua-cli's lock (a directory `<file>.lock` made with mkdir, holding
//!   an `owner` id; stale after 30 s; give up after 35 s; poll every 50 ms), atomically
//!   (exclusive temp file 0600, fsync, rename);
//! - a refused refresh deletes the file (signed out); a 5xx or a timeout keeps it.
//!
//! Neither token is ever printed, logged or part of an error. It must not know the
//! terminal: it returns data and typed errors, the CLI words them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use lua_platform::token::{self, TokenError};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Environment;
use crate::credentials::{CREDENTIALS_DIR, CredentialsError};

/// The folder of sessions, in `~/.lua-cli`.
pub const SESSIONS_DIR: &str = "sessions";
pub const DEFAULT_API_URL: &str = "https://api.heylua.ai";
pub const DEFAULT_AUTH_URL: &str = "https://auth.heylua.ai";
/// lua-cli's built-in Firebase web API key: a public project id, not a secret.
pub const DEFAULT_WEB_API_KEY: &str = "AIzaSyAGI0AxOz6UmtJgwFIA_UNTuYUEgQRRGhw";
/// Points `lua` at another token endpoint (tests; lua-cli's is fixed).
pub const TOKEN_URL_VAR: &str = "LUA_FIREBASE_TOKEN_URL";

const LOCK_STALE: Duration = Duration::from_secs(30);
const LOCK_TIMEOUT: Duration = Duration::from_secs(35);
const LOCK_POLL: Duration = Duration::from_millis(50);

/// The environment a session belongs to, and where its tokens are renewed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionEnv {
    pub api_url: String,
    pub auth_url: String,
    pub web_api_key: String,
    pub token_url: String,
}

impl SessionEnv {
    /// As lua-cli computes it: `LUA_API_URL`, `LUA_AUTH_URL`, `LUA_FIREBASE_WEB_API_KEY`
    /// or their defaults (the project's `.env` included when `env` reads it).
    pub fn from_env(env: &dyn Environment) -> Self {
        SessionEnv {
            api_url: env
                .var("LUA_API_URL")
                .unwrap_or_else(|| DEFAULT_API_URL.into()),
            auth_url: env
                .var("LUA_AUTH_URL")
                .unwrap_or_else(|| DEFAULT_AUTH_URL.into()),
            web_api_key: env
                .var("LUA_FIREBASE_WEB_API_KEY")
                .unwrap_or_else(|| DEFAULT_WEB_API_KEY.into()),
            token_url: env
                .var(TOKEN_URL_VAR)
                .unwrap_or_else(|| token::DEFAULT_TOKEN_URL.into()),
        }
    }

    /// K: the file's name without `.json`.
    pub fn key(&self) -> String {
        let digest = Sha256::digest(format!(
            "{}\n{}\n{}",
            self.api_url, self.auth_url, self.web_api_key
        ));
        hex::encode(digest)[..16].to_string()
    }

    /// `<home>/.lua-cli/sessions/<K>.json`.
    pub fn path(&self, home: &Path) -> PathBuf {
        home.join(CREDENTIALS_DIR)
            .join(SESSIONS_DIR)
            .join(format!("{}.json", self.key()))
    }
}

/// The stored session, field for field as lua-cli writes it.
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
struct Stored {
    version: u32,
    kind: String,
    generation: String,
    refresh_token: String,
    firebase_uid: String,
    api_url: String,
    auth_url: String,
    firebase_web_api_key: String,
}

impl Stored {
    fn valid(&self) -> bool {
        self.version == 1
            && self.kind == "firebase-session"
            && ![
                &self.generation,
                &self.refresh_token,
                &self.firebase_uid,
                &self.firebase_web_api_key,
            ]
            .iter()
            .any(|s| s.is_empty())
    }

    fn belongs_to(&self, env: &SessionEnv) -> bool {
        self.api_url == env.api_url
            && self.auth_url == env.auth_url
            && self.firebase_web_api_key == env.web_api_key
    }
}

/// A session that can be used: its file and user (never its token).
#[derive(Clone, Debug)]
pub struct Session {
    pub path: PathBuf,
    pub uid: String,
    env: SessionEnv,
}

/// What looking for a session found.
#[derive(Clone, Debug)]
pub enum Lookup {
    None,
    Found(Session),
    /// The file at this environment's path belongs to another environment: not used.
    OtherEnvironment(PathBuf),
    /// The file cannot be parsed: not used (remedy: `lua auth configure`).
    Invalid(PathBuf),
}

/// The session of the current environment, if any.
pub fn lookup(env: &SessionEnv, home: &Path) -> Result<Lookup, CredentialsError> {
    let path = env.path(home);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::None),
        Err(source) => return Err(CredentialsError::Read { path, source }),
    };
    Ok(match serde_json::from_str::<Stored>(&text) {
        Ok(s) if s.valid() && s.belongs_to(env) => Lookup::Found(Session {
            path,
            uid: s.firebase_uid,
            env: env.clone(),
        }),
        Ok(s) if s.valid() => Lookup::OtherEnvironment(path),
        _ => Lookup::Invalid(path),
    })
}

/// A fresh ID token for `session`: under the lock, the stored refresh token is exchanged
/// and its rotation written back. A refused refresh deletes the file
/// ([`CredentialsError::SignedOut`]); a failure to get an answer keeps it
/// ([`CredentialsError::SessionUnavailable`]).
pub async fn bearer(session: &Session) -> Result<SecretString, CredentialsError> {
    let lock = Lock::acquire(&session.path).await?;
    let result = refresh_locked(session).await;
    lock.release();
    result
}

async fn refresh_locked(session: &Session) -> Result<SecretString, CredentialsError> {
    let path = &session.path;
    // Read again under the lock: another process may have rotated the token meanwhile.
    let stored = match read_stored(path) {
        Ok(s) if s.valid() && s.belongs_to(&session.env) => s,
        Ok(_) | Err(CredentialsError::SessionInvalid { .. }) => {
            return Err(CredentialsError::SessionInvalid { path: path.clone() });
        }
        Err(_) => return Err(signed_out(path, "its file is gone")),
    };
    let refresh_token = SecretString::from(stored.refresh_token.clone());
    match token::refresh(
        &session.env.token_url,
        &stored.firebase_web_api_key,
        &refresh_token,
    )
    .await
    {
        Ok(fresh) => {
            if fresh.user_id != stored.firebase_uid {
                return Err(CredentialsError::SessionIdentity { path: path.clone() });
            }
            let next = Stored {
                refresh_token: fresh.refresh_token.expose_secret().to_string(),
                ..stored
            };
            write_atomic(path, &session.env.key(), &next)?;
            Ok(fresh.id_token)
        }
        Err(TokenError::Rejected { reason }) => {
            remove(path)?;
            Err(signed_out(
                path,
                &format!("the sign-in service said {reason}"),
            ))
        }
        Err(e @ TokenError::Failed { .. }) => Err(CredentialsError::SessionUnavailable {
            path: path.clone(),
            reason: e.to_string(),
        }),
    }
}

/// Sign the session out after the platform answered `SESSION_REVOKED`: its file is
/// removed (under the lock), and the error says so.
pub async fn revoked(session: &Session) -> CredentialsError {
    match Lock::acquire(&session.path).await {
        Ok(lock) => {
            let removed = remove(&session.path);
            lock.release();
            if let Err(e) = removed {
                return e;
            }
        }
        Err(e) => return e,
    }
    signed_out(&session.path, "the platform revoked it")
}

fn signed_out(path: &Path, reason: &str) -> CredentialsError {
    CredentialsError::SignedOut {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn read_stored(path: &Path) -> Result<Stored, CredentialsError> {
    let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|_| CredentialsError::SessionInvalid {
        path: path.to_path_buf(),
    })
}

fn remove(path: &Path) -> Result<(), CredentialsError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(CredentialsError::Remove {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// lua-cli's write: `.<K>.<uuid>.tmp` created exclusively with mode 0600, one line of
/// JSON, fsync, rename over the file.
fn write_atomic(path: &Path, key: &str, stored: &Stored) -> Result<(), CredentialsError> {
    let err = |source| CredentialsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".{key}.{}.tmp", uuid::Uuid::new_v4()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(err)?;
    let line = serde_json::to_string(stored).map_err(|e| err(std::io::Error::other(e)))?;
    let written = file
        .write_all(line.as_bytes())
        .and_then(|()| file.write_all(b"\n"))
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    Ok(())
}

/// lua-cli's lock: the directory `<file>.lock`, holding `owner`.
struct Lock {
    dir: PathBuf,
    owner: String,
}

impl Lock {
    async fn acquire(session_file: &Path) -> Result<Lock, CredentialsError> {
        let mut dir = session_file.as_os_str().to_owned();
        dir.push(".lock");
        let dir = PathBuf::from(dir);
        let owner = uuid::Uuid::new_v4().to_string();
        let err = |source| CredentialsError::Write {
            path: dir.clone(),
            source,
        };
        let deadline = Instant::now() + LOCK_TIMEOUT;
        loop {
            match make_private_dir(&dir) {
                Ok(()) => {
                    let file = dir.join("owner");
                    write_private(&file, &owner).map_err(err)?;
                    if std::fs::read_to_string(&file).ok().as_deref() == Some(owner.as_str()) {
                        return Ok(Lock { dir, owner });
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if is_stale(&dir) {
                        let _ = std::fs::remove_dir_all(&dir);
                        continue;
                    }
                }
                Err(e) => return Err(err(e)),
            }
            if Instant::now() >= deadline {
                return Err(CredentialsError::SessionLocked { path: dir });
            }
            tokio::time::sleep(LOCK_POLL).await;
        }
    }

    /// Remove the lock only if it is still ours.
    fn release(self) {
        let file = self.dir.join("owner");
        if std::fs::read_to_string(file).ok().as_deref() == Some(self.owner.as_str()) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn is_stale(dir: &Path) -> bool {
    match std::fs::metadata(dir).and_then(|m| m.modified()) {
        Ok(mtime) => SystemTime::now()
            .duration_since(mtime)
            .is_ok_and(|age| age > LOCK_STALE),
        // Gone meanwhile: try again at once.
        Err(_) => true,
    }
}

fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    if let Some(parent) = dir.parent() {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder.create(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_name_is_lua_clis() {
        let env = SessionEnv {
            api_url: DEFAULT_API_URL.into(),
            auth_url: DEFAULT_AUTH_URL.into(),
            web_api_key: DEFAULT_WEB_API_KEY.into(),
            token_url: String::new(),
        };
        let expected = hex::encode(Sha256::digest(format!(
            "{DEFAULT_API_URL}\n{DEFAULT_AUTH_URL}\n{DEFAULT_WEB_API_KEY}"
        )));
        assert_eq!(env.key(), expected[..16]);
        assert_eq!(
            env.path(Path::new("/h")),
            PathBuf::from(format!("/h/.lua-cli/sessions/{}.json", &expected[..16]))
        );
    }
}
