//! `name`: the agent's display name (`LuaAgent({ name: "..." })`, `GET /admin/agents/{id}`).
//! Compared only when both sides have one.

use lua_core::{Registration, Remotes, Server, Syncable, Version, async_trait};
use lua_platform::PlatformError;
use serde_json::Value;

use crate::agent_field::{self, FieldShape};

pub struct Name;

#[async_trait]
impl Syncable for Name {
    fn id(&self) -> &'static str {
        "name"
    }

    fn title(&self) -> &'static str {
        "Name"
    }

    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        agent_field::fetch(server, "name", FieldShape::String).await
    }

    async fn push(
        &self,
        server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        agent_field::push(server, "name", local).await
    }
}

lua_core::inventory::submit! {
    Registration { id: "name", order: 10, make: || Box::new(Name) }
}
