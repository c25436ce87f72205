//! `model`: the agent's model id (`LuaAgent({ model: "..." })`, the agent object's
//! `model`), as the reference compares it: a model set on one side only is drift (its
//! `lua push` sends `model: null` when the code has none); both absent says nothing.
//! Shares the per-run cached agent request with `name`: one GET for both.

use lua_core::{
    Local, OneSided, PullCtx, PullError, PullItem, Pulled, Registration, Remotes, Server, Syncable,
    Version, async_trait,
};
use lua_platform::PlatformError;
use serde_json::Value;

use crate::agent_field::{self, FieldShape};

pub struct Model;

#[async_trait]
impl Syncable for Model {
    fn id(&self) -> &'static str {
        "model"
    }

    fn title(&self) -> &'static str {
        "Model"
    }

    fn one_sided(&self) -> OneSided {
        OneSided::Drift
    }

    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        agent_field::fetch(server, "model", FieldShape::String).await
    }

    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        match (item.local, item.remote) {
            // The code names no model: add the property to the LuaAgent config.
            (Local::Missing, Some(remote)) => Ok(ctx.insert_property("model", &remote.value)?),
            _ => lua_core::component::default_pull(self, ctx, item),
        }
    }

    async fn push(
        &self,
        server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        agent_field::push(server, "model", local).await
    }
}

lua_core::inventory::submit! {
    Registration { id: "model", order: 30, make: || Box::new(Model) }
}
