//! `governance`: the agent's governance object (`LuaAgent({ governance })`, usually
//! imported from `src/governance.ts`; the agent object's `governance`). Compared as JSON
//! (key order ignored, types kept), diffed key by key; set on one side only is drift.
//! Pushed with the agent update, never with an `apiKey` key; pulled into the literal that
//! defines it, or, when the code has none, into a new `src/governance.ts` imported by the
//! entry file.

use lua_compile::NewModule;
use lua_core::{
    Local, OneSided, PullCtx, PullError, PullItem, Pulled, Registration, Remotes, Server, Syncable,
    Version, async_trait,
};
use lua_platform::PlatformError;
use serde_json::Value;

use crate::agent_field::{self, FieldShape};

/// Where a pull puts governance when the code has none (as the reference does).
const MODULE: &str = "src/governance.ts";

pub struct Governance;

/// The value without `apiKey`: never pushed, so never compared.
fn without_api_key(value: &Value) -> Value {
    let mut value = value.clone();
    if let Value::Object(map) = &mut value {
        map.remove("apiKey");
    }
    value
}

#[async_trait]
impl Syncable for Governance {
    fn id(&self) -> &'static str {
        "governance"
    }

    fn title(&self) -> &'static str {
        "Governance"
    }

    fn one_sided(&self) -> OneSided {
        OneSided::Drift
    }

    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        agent_field::fetch(server, "governance", FieldShape::Json).await
    }

    fn canonical(&self, value: &Value) -> Value {
        without_api_key(value)
    }

    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        match (item.local, item.remote) {
            (Local::Missing, Some(remote)) => {
                let value = without_api_key(&remote.value);
                let module = NewModule {
                    path: MODULE,
                    export: "governance",
                    value: &value,
                    as_const: &["mode"],
                };
                Ok(ctx.insert_with_new_module("governance", &module)?)
            }
            (
                Local::Value(lua_core::LocalValue {
                    node: Some(node), ..
                }),
                Some(remote),
            ) => Ok(ctx.replace(node, &without_api_key(&remote.value))?),
            _ => lua_core::component::default_pull(self, ctx, item),
        }
    }

    async fn push(
        &self,
        server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        let value = local.map(without_api_key);
        agent_field::push(server, "governance", value.as_ref()).await
    }
}

lua_core::inventory::submit! {
    Registration { id: "governance", order: 40, make: || Box::new(Governance) }
}
