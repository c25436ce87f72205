//! Shared plumbing for components that live on the agent object (`name`, `model`,
//! `governance`, or one registered from outside): the component names its key, and this
//! reads it from the per-run cached `GET /admin/agents/{id}` (one request for all of them)
//! and pushes it with `PATCH /agents/{base}/sub-agent`. Nothing here, in `lua-platform` or
//! in the devserver knows which keys exist: a new agent field is one component file.
//!
//! Uses `lua-core` (the `Server`, the item types) and `lua-platform` (errors); no other
//! module of this crate.

use lua_core::{Remote, Remotes, SINGLE, Server, Version};
use lua_platform::PlatformError;
use serde_json::{Map, Value};

/// What the field holds, as the component expects it from the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldShape {
    /// A string; anything else (but `null`) is a protocol error naming the URL and key.
    String,
    /// Any JSON value.
    Json,
}

/// The agent's field `key` as the component's one item; empty when the server has none
/// (absent or `null`).
pub async fn fetch(
    server: &Server,
    key: &str,
    shape: FieldShape,
) -> Result<Remotes, PlatformError> {
    let agent = server.agent().await?;
    let value = match shape {
        FieldShape::String => agent.string(key)?.map(|s| Value::String(s.to_owned())),
        FieldShape::Json => agent.get(key).cloned(),
    };
    Ok(value
        .map(|value| (SINGLE.to_string(), Remote::value(value)))
        .into_iter()
        .collect())
}

/// Update the field `key` of the agent (`None` sends `null`). The agent object is not
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
