//! The crate's one error type: everything that can stop the server from starting.
//!
//! Errors inside a running server are answers (JSON or HTML), not `DevServerError`s; the one
//! they start from, a failed database call, is [`DbError`].

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the devserver could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DevServerError {
    /// No API key was configured and unauthenticated mode was not asked for.
    #[error(
        "no API key: pass --api-key KEY or set LUA_API_KEY \
         (or pass --insecure-no-auth to serve without authentication)"
    )]
    NoApiKey,
    /// The API key cannot be sent as a Bearer token.
    #[error(
        "the API key must be visible ASCII characters without spaces \
         (it is sent as `Authorization: Bearer KEY`)"
    )]
    UnusableApiKey,
    /// `--insecure-no-auth` was asked for on an address other machines can reach.
    #[error(
        "--insecure-no-auth only listens on a loopback address (127.0.0.1 or ::1), not {host}: \
         anyone who can reach {host} could change your agents. Set an API key instead."
    )]
    InsecureNotLoopback {
        /// The address asked for.
        host: std::net::IpAddr,
    },
    /// `--tls`: the certificates could not be made or the CA file written.
    #[error("cannot set up HTTPS: {reason}")]
    Tls {
        /// What failed.
        reason: String,
    },
    /// The folder for the database file could not be created.
    #[error("cannot create the database folder {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The database could not be opened, created or written.
    #[error("database error ({location}): {source}")]
    Storage {
        /// The file path, or "memory".
        location: String,
        /// The underlying error.
        source: rusqlite::Error,
    },
    /// The seed file could not be read.
    #[error("cannot read the seed file {}: {source}", path.display())]
    SeedRead {
        /// The seed file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The seed file is not valid seed JSON.
    #[error("invalid seed file {}: {source}", path.display())]
    SeedParse {
        /// The seed file.
        path: PathBuf,
        /// What serde found wrong (names the field, line and column).
        source: serde_json::Error,
    },
    /// The seed parsed but describes something the platform would not allow.
    #[error("invalid seed: {0}")]
    InvalidSeed(String),
    /// A backup folder (`--backup-from`) could not be read.
    #[error("cannot read the backup folder {}: {source}", path.display())]
    BackupRead {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A backup to upload at start is unusable (bad file, unknown agent).
    #[error("invalid backup for agent {agent:?}: {reason}")]
    InvalidBackup {
        /// The agent the backup was for.
        agent: String,
        /// What is wrong, naming the file or field.
        reason: String,
    },
    /// An agent id given with `--agent` (or in a seed) is not usable.
    #[error("invalid agent id {id:?}: {reason}")]
    InvalidAgentId {
        /// The id as given.
        id: String,
        /// Why it is refused.
        reason: &'static str,
    },
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The background runtime or thread of a [`crate::BlockingServer`] could not be started.
    #[error("cannot start the server runtime: {0}")]
    Runtime(std::io::Error),
    /// A startup task panicked or was cancelled.
    #[error("the server stopped unexpectedly while starting: {0}")]
    Internal(String),
}

/// A database call failed (SQLite error, or the blocking task died).
#[derive(Debug)]
pub(crate) struct DbError(pub String);
