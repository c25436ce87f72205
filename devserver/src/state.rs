//! Shared server state and the router that ties the API, control routes and dashboard together.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use rusqlite::Connection;

use crate::control::{Counter, FaultQueue};
use crate::{api, control, dashboard};

/// Largest accepted request body; bigger ones get 413.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

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

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The whole application. API and dashboard share the `/agents` prefix but never a method and
/// path pair: the API only has `PATCH /agents/{baseAgentId}/sub-agent`.
pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router(state.clone()))
        .merge(control::router(state.clone()))
        .merge(dashboard::router())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn same_secret_needs_equal_bytes() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }
}
