//! [`Server`]: the platform as components see it — the client, the agent id, and whether
//! reads go through the per-run cache. Knows no component.

use lua_platform::{Agent, PlatformClient, PlatformError};

/// What a component may use to talk to the platform.
///
/// Reads go through the client's per-run cache (one request per path per run, shared by
/// all components), unless this is a `fresh` view (the push guard), which bypasses it.
#[derive(Clone)]
pub struct Server {
    client: PlatformClient,
    agent_id: String,
    fresh: bool,
}

impl Server {
    pub fn new(client: PlatformClient, agent_id: impl Into<String>) -> Self {
        Self {
            client,
            agent_id: agent_id.into(),
            fresh: false,
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
}
