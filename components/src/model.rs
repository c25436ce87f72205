//! `model`: the agent's model id (`LuaAgent({ model: "..." })`, the agent object's
//! `model`), pushed with the same agent update call as the name. It shares the per-run
//! cached agent request with `name`: one GET for both.

use lua_core::platform::PlatformError;
use lua_core::{Registration, Remote, Server, Syncable, async_trait};
use serde_json::Value;

use crate::agent_field;

pub struct Model;

#[async_trait]
impl Syncable for Model {
    fn id(&self) -> &'static str {
        "model"
    }

    fn title(&self) -> &'static str {
        "Model"
    }

    async fn fetch_published(&self, server: &Server) -> Result<Option<Remote>, PlatformError> {
        agent_field::fetch(server, |agent| agent.model).await
    }

    async fn push(&self, server: &Server, local: &Value) -> Result<Option<u64>, PlatformError> {
        agent_field::push(server, "model", local).await
    }
}

lua_core::inventory::submit! {
    Registration { id: "model", order: 30, make: || Box::new(Model) }
}
