//! The shared server state: the database handle, the key, the counter, the fault queue and the
//! dashboard sessions. State only: no routes, no HTTP.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rusqlite::Connection;

use crate::counter::Counter;
use crate::faults::FaultQueue;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Clone)]
pub(crate) struct AppState(Arc<Inner>);

pub(crate) struct Inner {
    /// One connection, used under its mutex from blocking tasks: writes are serialised, so
    /// version numbering inside a transaction can never hand out a number twice.
    db: Arc<Mutex<Connection>>,
    /// `None` = insecure mode, no authentication anywhere.
    pub api_key: Option<String>,
    pub faults_enabled: bool,
    pub counter: Mutex<Counter>,
    pub faults: Mutex<FaultQueue>,
    /// Dashboard session tokens (random, never the key). Lost on restart: log in again.
    pub sessions: Mutex<HashSet<String>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

/// A database call failed (SQLite error, or the blocking task died).
#[derive(Debug)]
pub(crate) struct DbError(pub String);

impl AppState {
    pub(crate) fn new(conn: Connection, api_key: Option<String>, faults_enabled: bool) -> Self {
        AppState(Arc::new(Inner {
            db: Arc::new(Mutex::new(conn)),
            api_key,
            faults_enabled,
            counter: Mutex::new(Counter::default()),
            faults: Mutex::new(FaultQueue::default()),
            sessions: Mutex::new(HashSet::new()),
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
