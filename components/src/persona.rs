//! `persona`: the agent's persona, compared against the latest *published* version
//! (by `createdDate`; not the current one, not drafts). A string, or the channel-aware
//! object form `{ base, voice, text }`; an object holding only `base` (or `text`) is
//! that string (this equivalence is the persona's, not the engine's).

use lua_compile::Node;
use lua_core::{
    Local, LocalValue, PullCtx, PullError, PullItem, Pulled, Registration, Remote, Remotes, SINGLE,
    Server, Syncable, Version, async_trait,
};
use lua_platform::PlatformError;
use serde_json::Value;

pub struct Persona;

/// `{base: x}` / `{text: x}` is the string `x`.
fn as_plain_string(value: &Value) -> Option<&Value> {
    match value {
        Value::Object(map) if map.len() == 1 => map
            .get("base")
            .or_else(|| map.get("text"))
            .filter(|v| v.is_string()),
        _ => None,
    }
}

#[async_trait]
impl Syncable for Persona {
    fn id(&self) -> &'static str {
        "persona"
    }

    fn title(&self) -> &'static str {
        "Persona"
    }

    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        let latest = server
            .client()
            .latest_published_persona(server.agent_id(), server.is_fresh())
            .await?;
        Ok(latest
            .map(|v| {
                (
                    SINGLE.to_string(),
                    Remote {
                        value: v.persona,
                        version: Some(Version::Number(v.version)),
                        entity_id: None,
                        not_compared: None,
                    },
                )
            })
            .into_iter()
            .collect())
    }

    fn canonical(&self, value: &Value) -> Value {
        as_plain_string(value).unwrap_or(value).clone()
    }

    /// Channel texts are prose: `## key` blocks, keys sorted, each text as written
    /// (not JSON-quoted), so a changed sentence is a changed line.
    fn text(&self, value: &Value) -> String {
        match value {
            Value::Object(map) if map.values().all(Value::is_string) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                keys.into_iter()
                    .map(|k| format!("## {k}\n{}", lua_core::value::canonical_text(&map[k])))
                    .collect::<Vec<_>>()
                    .join("\n\n")
            }
            other => lua_core::value::canonical_text(other),
        }
    }

    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        // A server object that is only `{base}` / `{text}` pulls into a string literal as
        // that string, so a project that keeps a plain string keeps it.
        if let (
            Local::Value(LocalValue {
                node: Some(node @ Node::String { .. }),
                ..
            }),
            Some(remote),
        ) = (item.local, item.remote)
            && let Some(plain) = as_plain_string(&remote.value)
        {
            return Ok(ctx.replace(node, plain)?);
        }
        lua_core::component::default_pull(self, ctx, item)
    }

    fn describe_push(
        &self,
        server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Option<lua_core::PushRequest> {
        Some(lua_core::PushRequest {
            method: "POST",
            path: format!("/developer/agents/{}/persona/version", server.agent_id()),
            body: serde_json::json!({ "persona": local }),
        })
    }

    async fn push(
        &self,
        server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        let Some(local) = local else {
            return Err(PlatformError::Protocol {
                url: server.client().base_url().to_string(),
                reason: "the code has no persona to push".into(),
                excerpt: String::new(),
            });
        };
        let version = server
            .client()
            .create_persona_version(server.agent_id(), local)
            .await?;
        Ok(Some(Version::Number(version)))
    }
}

lua_core::inventory::submit! {
    Registration { id: "persona", order: 20, make: || Box::new(Persona) }
}
