//! `name`: the agent's display name (`LuaAgent({ name: "..." })`, `GET /admin/agents/{id}`).

use lua_core::platform::PlatformError;
use lua_core::{Registration, Remote, Server, Syncable, async_trait};
use serde_json::Value;

use crate::agent_field;

pub struct Name;

#[async_trait]
impl Syncable for Name {
    fn id(&self) -> &'static str {
        "name"
    }

    fn title(&self) -> &'static str {
        "Name"
    }

    async fn fetch_published(&self, server: &Server) -> Result<Option<Remote>, PlatformError> {
        agent_field::fetch(server, |agent| agent.name).await
    }

    async fn push(&self, server: &Server, local: &Value) -> Result<Option<u64>, PlatformError> {
        agent_field::push(server, "name", local).await
    }
}

lua_core::inventory::submit! {
    Registration { id: "name", order: 10, make: || Box::new(Name) }
}
