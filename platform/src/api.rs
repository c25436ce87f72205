//! Typed helpers over the endpoints `lua sync` uses, built on `get`/`post`/`patch`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::PlatformClient;
use crate::error::{PlatformError, excerpt};
use crate::types::{Agent, PersonaVersion, VersionStatus};

impl PlatformClient {
    /// The agent (`GET /admin/agents/{agentId}`), cached for the client's lifetime.
    pub async fn agent(&self, agent_id: &str) -> Result<Agent, PlatformError> {
        self.agent_inner(agent_id, false).await
    }

    /// The agent as the server has it now (bypasses, then refreshes, the cache).
    pub async fn agent_fresh(&self, agent_id: &str) -> Result<Agent, PlatformError> {
        self.agent_inner(agent_id, true).await
    }

    /// The agent's persona versions (cached), filtered by the server when `status` is given.
    /// Returned in the server's order, which means nothing.
    pub async fn persona_versions(
        &self,
        agent_id: &str,
        status: Option<VersionStatus>,
    ) -> Result<Vec<PersonaVersion>, PlatformError> {
        self.versions_inner(agent_id, status, false).await
    }

    /// The latest *published* persona version: the greatest `createdDate` (ties: the greatest
    /// version), ignoring list order, `isCurrent` and any draft received. `None` when nothing
    /// is published yet. `fresh` bypasses the cache (the push guard).
    pub async fn latest_published_persona(
        &self,
        agent_id: &str,
        fresh: bool,
    ) -> Result<Option<PersonaVersion>, PlatformError> {
        let versions = self
            .versions_inner(agent_id, Some(VersionStatus::Published), fresh)
            .await?;
        Ok(versions
            .into_iter()
            .filter(PersonaVersion::is_published)
            .max_by(|a, b| {
                a.created_date
                    .cmp(&b.created_date)
                    .then(a.version.cmp(&b.version))
            }))
    }

    /// Creates a persona version (`POST .../persona/version`, body `{"persona": ...}`); on the
    /// platform this also publishes it and makes it current. Returns the new version number.
    pub async fn create_persona_version(
        &self,
        agent_id: &str,
        persona: &Value,
    ) -> Result<u64, PlatformError> {
        let path = format!(
            "/developer/agents/{}/persona/version",
            agent_segment(agent_id)?
        );
        let payload = self.post(&path, &json!({ "persona": persona })).await?;
        payload
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| PlatformError::Protocol {
                url: self.shown_url(&path),
                reason: "the created persona version has no integer \"version\"".to_owned(),
                excerpt: excerpt(&payload.to_string()),
            })
    }

    /// Makes an existing version current (`POST .../persona/version/{version}`, body `{}`):
    /// a rollback when the version is older. "Latest published" does not change.
    pub async fn deploy_persona_version(
        &self,
        agent_id: &str,
        version: u64,
    ) -> Result<(), PlatformError> {
        let path = format!(
            "/developer/agents/{}/persona/version/{version}",
            agent_segment(agent_id)?
        );
        self.post(&path, &json!({})).await.map(drop)
    }

    /// Updates agent fields: `PATCH /agents/{base}/sub-agent` with body `{"id": rest, ...}`,
    /// where `base` is the agent id up to its first `_` and `rest` what follows
    /// (`baseAgent_agent_123` -> `/agents/baseAgent/sub-agent`, `{"id": "agent_123"}`).
    /// An `id` key in `fields` is ignored: the id always comes from `agent_id`.
    /// Returns the updated agent.
    pub async fn update_agent(
        &self,
        agent_id: &str,
        fields: Map<String, Value>,
    ) -> Result<Agent, PlatformError> {
        let (base, rest) = split_agent_id(agent_id)?;
        let path = format!("/agents/{}/sub-agent", encode_segment(base));
        let mut body = Map::with_capacity(fields.len() + 1);
        body.insert("id".to_owned(), Value::String(rest.to_owned()));
        for (key, value) in fields {
            if key != "id" {
                body.insert(key, value);
            }
        }
        let payload = self.patch(&path, &Value::Object(body)).await?;
        self.decode(&path, "the updated agent", &payload)
    }

    async fn agent_inner(&self, agent_id: &str, fresh: bool) -> Result<Agent, PlatformError> {
        let path = format!("/admin/agents/{}", agent_segment(agent_id)?);
        let payload = if fresh {
            self.get_fresh(&path).await?
        } else {
            self.get(&path).await?
        };
        if !payload.is_object() {
            return Err(PlatformError::Protocol {
                url: self.shown_url(&path),
                reason: "the agent is not a JSON object".to_owned(),
                excerpt: excerpt(&payload.to_string()),
            });
        }
        self.decode(&path, "the agent", &payload)
    }

    async fn versions_inner(
        &self,
        agent_id: &str,
        status: Option<VersionStatus>,
        fresh: bool,
    ) -> Result<Vec<PersonaVersion>, PlatformError> {
        let mut path = format!(
            "/developer/agents/{}/persona/versions",
            agent_segment(agent_id)?
        );
        if let Some(status) = status {
            path.push_str("?status=");
            path.push_str(status.as_str());
        }
        let payload = if fresh {
            self.get_fresh(&path).await?
        } else {
            self.get(&path).await?
        };
        let protocol = |reason: String, value: &Value| PlatformError::Protocol {
            url: self.shown_url(&path),
            reason,
            excerpt: excerpt(&value.to_string()),
        };
        let Some(items) = payload.get("versions") else {
            return Err(protocol(
                "expected an object with a \"versions\" list".to_owned(),
                &payload,
            ));
        };
        let Some(items) = items.as_array() else {
            return Err(protocol("\"versions\" is not a list".to_owned(), items));
        };
        let mut versions = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let mut version = PersonaVersion::deserialize(item)
                .map_err(|e| protocol(format!("versions[{i}]: {e}"), item))?;
            version.persona =
                check_persona(std::mem::take(&mut version.persona)).map_err(|persona| {
                    protocol(
                        format!(
                            "versions[{i}]: persona is neither a string nor an object of strings"
                        ),
                        &persona,
                    )
                })?;
            versions.push(version);
        }
        Ok(versions)
    }

    fn decode<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        what: &str,
        payload: &Value,
    ) -> Result<T, PlatformError> {
        T::deserialize(payload).map_err(|e| PlatformError::Protocol {
            url: self.shown_url(path),
            reason: format!("{what} has an unexpected shape: {e}"),
            excerpt: excerpt(&payload.to_string()),
        })
    }
}

/// A persona is a string or an object of strings; `null` entries of the object mean "absent"
/// and are dropped. Anything else is returned as the error.
fn check_persona(persona: Value) -> Result<Value, Value> {
    match persona {
        Value::String(_) => Ok(persona),
        Value::Object(map) => {
            if map.values().all(|v| v.is_string() || v.is_null()) {
                Ok(Value::Object(
                    map.into_iter().filter(|(_, v)| !v.is_null()).collect(),
                ))
            } else {
                Err(Value::Object(map))
            }
        }
        other => Err(other),
    }
}

/// The agent id as one URL path segment; an empty id is refused before any request.
pub(crate) fn agent_segment(agent_id: &str) -> Result<String, PlatformError> {
    if agent_id.trim().is_empty() {
        return Err(PlatformError::InvalidAgentId {
            agent_id: agent_id.to_owned(),
            reason: "it is empty".to_owned(),
        });
    }
    Ok(encode_segment(agent_id))
}

/// `baseAgent_agent_123` -> (`baseAgent`, `agent_123`): split at the first `_`.
fn split_agent_id(agent_id: &str) -> Result<(&str, &str), PlatformError> {
    let invalid = |reason: &str| PlatformError::InvalidAgentId {
        agent_id: agent_id.to_owned(),
        reason: format!("{reason}; expected <baseAgentId>_<rest>, e.g. baseAgent_agent_123"),
    };
    let Some((base, rest)) = agent_id.split_once('_') else {
        return Err(invalid("it has no '_'"));
    };
    if base.trim().is_empty() {
        return Err(invalid("nothing before the first '_'"));
    }
    if rest.trim().is_empty() {
        return Err(invalid("nothing after the first '_'"));
    }
    Ok((base, rest))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id can never change
/// the path (`/`, `?`, `#`, `..`) it is put into.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    if out == "." || out == ".." {
        // Dot segments would be resolved away by the URL parser.
        return out.replace('.', "%2E");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_agent_id_at_first_underscore() {
        assert_eq!(
            split_agent_id("baseAgent_agent_123").unwrap(),
            ("baseAgent", "agent_123")
        );
        for bad in ["noUnderscore", "_agent", "base_", ""] {
            let err = split_agent_id(bad).unwrap_err();
            assert!(
                matches!(&err, PlatformError::InvalidAgentId { agent_id, .. } if agent_id == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(
            encode_segment("baseAgent_agent-1.x~"),
            "baseAgent_agent-1.x~"
        );
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert!(agent_segment("  ").is_err());
    }

    #[test]
    fn persona_shapes() {
        assert_eq!(check_persona(json!("p")), Ok(json!("p")));
        assert_eq!(
            check_persona(json!({"base": "b", "voice": null})),
            Ok(json!({"base": "b"}))
        );
        assert!(check_persona(json!({"base": 1})).is_err());
        assert!(check_persona(json!(null)).is_err());
        assert!(check_persona(json!(["a"])).is_err());
    }
}
