//! [`Server`]: the platform as components see it — the client, the agent id, whether
//! reads go through the per-run cache, and state components share for the run
//! ([`Server::shared`]). Knows no component.

use std::any::{Any, TypeId};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use lua_platform::{Agent, PlatformClient, PlatformError};

/// Per-run slots, by key and type.
type Slots = BTreeMap<(String, TypeId), Arc<dyn Any + Send + Sync>>;

/// What a component may use to talk to the platform.
///
/// Reads go through the client's per-run cache (one request per path per run, shared by
/// all components), unless this is a `fresh` view (the push guard), which bypasses it.
#[derive(Clone)]
pub struct Server {
    client: PlatformClient,
    agent_id: String,
    fresh: bool,
    shared: Arc<Mutex<Slots>>,
}

impl Server {
    pub fn new(client: PlatformClient, agent_id: impl Into<String>) -> Self {
        Self {
            client,
            agent_id: agent_id.into(),
            fresh: false,
            shared: Arc::default(),
        }
    }

    /// A view whose reads bypass the per-run cache (used right before a push).
    pub fn fresh(&self) -> Self {
        Self {
            fresh: true,
            ..self.clone()
        }
    }

    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    pub fn client(&self) -> &PlatformClient {
        &self.client
    }

    /// `GET /admin/agents/{agentId}` (cached per run unless fresh).
    pub async fn agent(&self) -> Result<Agent, PlatformError> {
        if self.fresh {
            self.client.agent_fresh(&self.agent_id).await
        } else {
            self.client.agent(&self.agent_id).await
        }
    }

    /// Whether reads bypass the per-run cache (the push guard's view).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }

    /// State several components share for this run (one download of something they all
    /// need, say): the slot `key` of type `T`, created with `T::default()` on first use and
    /// the same afterwards for every clone and [`Server::fresh`] view. A new `Server` (a new
    /// run) starts empty.
    pub fn shared<T: Any + Send + Sync + Default>(&self, key: &str) -> Arc<T> {
        let mut slots = self
            .shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = slots
            .entry((key.to_string(), TypeId::of::<T>()))
            .or_insert_with(|| Arc::new(T::default()));
        // Keyed by `T`'s type id, so the slot holds a `T`.
        Arc::clone(slot)
            .downcast::<T>()
            .unwrap_or_else(|_| Arc::new(T::default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn shared_slots_live_as_long_as_the_run() {
        let client = PlatformClient::new(lua_platform::ClientConfig::default()).unwrap();
        let server = Server::new(client.clone(), "baseAgent_agent_x");
        server
            .shared::<AtomicUsize>("n")
            .fetch_add(1, Ordering::SeqCst);
        server
            .clone()
            .shared::<AtomicUsize>("n")
            .fetch_add(1, Ordering::SeqCst);
        server
            .fresh()
            .shared::<AtomicUsize>("n")
            .fetch_add(1, Ordering::SeqCst);
        assert_eq!(server.shared::<AtomicUsize>("n").load(Ordering::SeqCst), 3);
        // Another key or type is another slot; another run starts empty.
        assert_eq!(server.shared::<AtomicUsize>("m").load(Ordering::SeqCst), 0);
        assert!(
            server
                .shared::<Mutex<Vec<u8>>>("n")
                .lock()
                .unwrap()
                .is_empty()
        );
        let next = Server::new(client, "baseAgent_agent_x");
        assert_eq!(next.shared::<AtomicUsize>("n").load(Ordering::SeqCst), 0);
    }
}
