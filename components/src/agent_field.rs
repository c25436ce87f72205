//! Shared plumbing for components that live on the agent object (`name`, `model`, ...):
//! read with the per-run cached `GET /admin/agents/{id}`, pushed with
//! `PATCH /agents/{base}/sub-agent`.

use lua_core::platform::{Agent, PlatformError};
use lua_core::{Remote, Server};
use serde_json::{Map, Value};

/// The agent's field as a [`Remote`]; `None` when the server has no value (null).
pub async fn fetch(
    server: &Server,
    field: impl FnOnce(Agent) -> Option<String>,
) -> Result<Option<Remote>, PlatformError> {
    let agent = server.agent().await?;
    Ok(field(agent).map(|value| Remote {
        value: Value::String(value),
        version: None,
    }))
}

/// Update one field of the agent. The agent object is not versioned: no version.
pub async fn push(server: &Server, key: &str, value: &Value) -> Result<Option<u64>, PlatformError> {
    let mut fields = Map::new();
    fields.insert(key.to_string(), value.clone());
    server
        .client()
        .update_agent(server.agent_id(), fields)
        .await?;
    Ok(None)
}
