//! `persona`: the agent's persona, compared against the latest *published* version
//! (by `createdDate`; not the current one, not drafts). A string, or the channel-aware
//! object form `{ base, voice, text }`; an object holding only `base` (or `text`) equals
//! that string.

use lua_core::compile::{Node, WriteError, WriteReport};
use lua_core::platform::PlatformError;
use lua_core::{LocalCtx, Registration, Remote, Server, Syncable, async_trait};
use serde_json::Value;

pub struct Persona;

#[async_trait]
impl Syncable for Persona {
    fn id(&self) -> &'static str {
        "persona"
    }

    fn title(&self) -> &'static str {
        "Persona"
    }

    async fn fetch_published(&self, server: &Server) -> Result<Option<Remote>, PlatformError> {
        let latest = server
            .client()
            .latest_published_persona(server.agent_id(), server.is_fresh())
            .await?;
        Ok(latest.map(|v| Remote {
            value: v.persona,
            version: Some(v.version),
        }))
    }

    fn write_local(
        &self,
        ctx: &LocalCtx<'_>,
        local_node: &Node,
        server: &Remote,
    ) -> Result<WriteReport, WriteError> {
        // A server object that is only `{base}` / `{text}` pulls into a string literal as
        // that string, so a project that keeps a plain string keeps it.
        let value = match (&server.value, local_node) {
            (Value::Object(map), Node::String { .. }) if map.len() == 1 => map
                .get("base")
                .or_else(|| map.get("text"))
                .filter(|v| v.is_string())
                .cloned()
                .unwrap_or_else(|| server.value.clone()),
            _ => server.value.clone(),
        };
        lua_core::component::write_value(ctx, local_node, &value)
    }

    async fn push(&self, server: &Server, local: &Value) -> Result<Option<u64>, PlatformError> {
        let version = server
            .client()
            .create_persona_version(server.agent_id(), local)
            .await?;
        Ok(Some(version))
    }
}

lua_core::inventory::submit! {
    Registration { id: "persona", order: 20, make: || Box::new(Persona) }
}
