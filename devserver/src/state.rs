//! The shared server state: the database handle, the key's digest, the Host allow-list, the
//! session policy, the sign-in rate limiter, the counter and the fault queue. State only: no
//! routes, no HTTP.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::Connection;

use crate::counter::Counter;
use crate::error::DbError;
use crate::faults::FaultQueue;
use crate::hosts::AllowedHosts;
use crate::ratelimit::RateLimiter;
use crate::secret::{KeyDigest, random_token};
use crate::sessions::SessionPolicy;
use crate::signin::SignIns;

/// What the running server was configured with (checked by `lib.rs` from a `Config`).
pub(crate) struct Settings {
    /// `None` = insecure mode, no authentication anywhere.
    pub auth: Option<KeyDigest>,
    pub faults_enabled: bool,
    pub hosts: AllowedHosts,
    pub sessions: SessionPolicy,
    pub login_burst: u32,
    pub login_refill: Duration,
}

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    /// One connection, used under its mutex from blocking tasks: writes are serialised, so
    /// version numbering inside a transaction can never hand out a number twice.
    db: Arc<Mutex<Connection>>,
    /// The key's digest; `None` = insecure mode, no authentication anywhere.
    pub auth: Option<KeyDigest>,
    pub faults_enabled: bool,
    pub hosts: AllowedHosts,
    pub sessions: SessionPolicy,
    /// Sign-in attempts per client address.
    pub login_limiter: Mutex<RateLimiter>,
    /// In insecure mode (no sessions) the dashboard's CSRF token derives from this random
    /// per-process secret.
    pub anonymous_secret: String,
    pub counter: Mutex<Counter>,
    pub faults: Mutex<FaultQueue>,
    /// lua-cli's e-mail sign-in, emulated (in memory).
    pub signins: Mutex<SignIns>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub(crate) fn new(conn: Connection, settings: Settings) -> Self {
        AppState(Arc::new(Inner {
            db: Arc::new(Mutex::new(conn)),
            auth: settings.auth,
            faults_enabled: settings.faults_enabled,
            hosts: settings.hosts,
            sessions: settings.sessions,
            login_limiter: Mutex::new(RateLimiter::new(
                settings.login_burst,
                settings.login_refill,
            )),
            anonymous_secret: random_token(),
            counter: Mutex::new(Counter::default()),
            faults: Mutex::new(FaultQueue::default()),
            signins: Mutex::new(SignIns::new()),
        }))
    }

    /// Runs `f` with the connection on a blocking thread.
    pub(crate) async fn db<T, F>(&self, f: F) -> Result<T, DbError>
    where
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = Arc::clone(&self.db);
        let joined = tokio::task::spawn_blocking(move || {
            let mut conn = lock(&db);
            f(&mut conn)
        })
        .await;
        match joined {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                tracing::error!("database error: {e}");
                Err(DbError(e.to_string()))
            }
            Err(e) => {
                tracing::error!("database task failed: {e}");
                Err(DbError(e.to_string()))
            }
        }
    }
}

/// Locks a mutex, ignoring poisoning: every critical section leaves its data consistent
/// (SQLite rolls back an unfinished transaction when it is dropped).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
