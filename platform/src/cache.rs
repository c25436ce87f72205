//! The per-run read cache: GETs by path, single-flight, errors included, so every
//! component of a run sees the same server state and each path is requested once.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::error::PlatformError;

/// Shared, so a cached listing of hundreds of items is not copied for every reader.
type Answer = Result<Arc<Value>, PlatformError>;

/// A cached GET: every caller of one path awaits the same cell, so the request is made once.
type Slot = Arc<OnceCell<Answer>>;

#[derive(Debug, Default)]
pub(crate) struct ReadCache {
    slots: Mutex<HashMap<String, Slot>>,
}

impl ReadCache {
    /// The cached answer for `path`, or the answer of `fetch` (run once for all concurrent
    /// callers, and kept).
    pub(crate) async fn get_or_fetch<F>(&self, path: &str, fetch: F) -> Answer
    where
        F: Future<Output = Answer>,
    {
        let slot: Slot = Arc::clone(self.slots().entry(path.to_owned()).or_default());
        slot.get_or_init(|| fetch).await.clone()
    }

    /// Replaces the cached answer for `path` with a fresh successful one.
    pub(crate) fn store(&self, path: String, value: Arc<Value>) {
        let slot = Arc::new(OnceCell::new_with(Some(Ok(value))));
        self.slots().insert(path, slot);
    }

    /// Forgets everything (after a write: what was read may have changed).
    pub(crate) fn clear(&self) {
        self.slots().clear();
    }

    fn slots(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // The map is only ever left consistent (single inserts), so a poisoned lock is usable.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_fetch_per_path_until_cleared() {
        let cache = ReadCache::default();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let fetch = || async {
            calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok(Arc::new(Value::from(1)))
        };
        let one = Ok(Arc::new(Value::from(1)));
        assert_eq!(cache.get_or_fetch("/a", fetch()).await, one);
        assert_eq!(cache.get_or_fetch("/a", fetch()).await, one);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        cache.store("/a".into(), Arc::new(Value::from(2)));
        assert_eq!(
            cache.get_or_fetch("/a", fetch()).await,
            Ok(Arc::new(Value::from(2)))
        );
        cache.clear();
        assert_eq!(cache.get_or_fetch("/a", fetch()).await, one);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
