//! Shared plumbing for components that live on the agent object (`name`, `model`,
//! `governance`): read with the per-run cached `GET /admin/agents/{id}` (one request
//! for all of them), pushed with `PATCH /agents/{base}/sub-agent`.

use lua_core::platform::{Agent, PlatformError};
use lua_core::{PushRequest, Remote, Remotes, SINGLE, Server, Version};
use serde_json::{Map, Value};

/// The agent's field as the component's one item; empty when the server has none.
pub async fn fetch(
    server: &Server,
    field: impl FnOnce(Agent) -> Option<Value>,
) -> Result<Remotes, PlatformError> {
    let agent = server.agent().await?;
    Ok(field(agent)
        .filter(|v| !v.is_null())
        .map(|value| (SINGLE.to_string(), Remote::value(value)))
        .into_iter()
        .collect())
}

/// Update one field of the agent (`None` sends `null`). The agent object is not
/// versioned: no version.
pub async fn push(
    server: &Server,
    key: &str,
    value: Option<&Value>,
) -> Result<Option<Version>, PlatformError> {
    let mut fields = Map::new();
    fields.insert(key.to_string(), value.cloned().unwrap_or(Value::Null));
    server
        .client()
        .update_agent(server.agent_id(), fields)
        .await?;
    Ok(None)
}

/// The request [`push`] sends, for the plan: `PATCH /agents/{base}/sub-agent`.
pub fn describe_push(server: &Server, key: &str, value: Option<&Value>) -> Option<PushRequest> {
    let agent_id = server.agent_id();
    let (base, rest) = agent_id.split_once('_').unwrap_or((agent_id, ""));
    let mut body = Map::new();
    body.insert("id".into(), Value::String(rest.to_string()));
    body.insert(key.to_string(), value.cloned().unwrap_or(Value::Null));
    Some(PushRequest {
        method: "PATCH",
        path: format!("/agents/{base}/sub-agent"),
        body: Value::Object(body),
    })
}
