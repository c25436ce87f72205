//! Typed helpers over the endpoints `lua sync` uses, built on `get`/`post`/`patch`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::client::PlatformClient;
use crate::error::{PlatformError, excerpt};
use crate::types::{Agent, PersonaVersion, VersionStatus};
pub(crate) use crate::urls::agent_segment;
use crate::urls::{encode_segment, split_agent_id};

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

    /// All persona versions (drafts too) as the server has them now: bypasses, then
    /// refreshes, the cache (the persona lifecycle's reads before and after a change).
    pub async fn persona_versions_fresh(
        &self,
        agent_id: &str,
    ) -> Result<Vec<PersonaVersion>, PlatformError> {
        self.versions_inner(agent_id, None, true).await
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
        let payload = self.patch(&path, &Value::Object(body.clone())).await?;
        // Only the platform's own answer confirms a push: it must show what was sent.
        if let Some((key, sent)) = body
            .iter()
            .find(|(key, sent)| *key != "id" && payload.get(key.as_str()) != Some(*sent))
        {
            return Err(PlatformError::Protocol {
                url: self.shown_url(&path),
                reason: format!(
                    "the answer does not confirm the update: it does not show {key} = {}",
                    excerpt(&sent.to_string())
                ),
                excerpt: excerpt(&payload.to_string()),
            });
        }
        let agent: Agent = self.decode(&path, "the updated agent", &payload)?;
        Ok(agent.from(self.shown_url(&path)))
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
        let agent: Agent = self.decode(&path, "the agent", &payload)?;
        Ok(agent.from(self.shown_url(&path)))
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
            // The platform's statuses compare case-insensitively; an unknown one is
            // reported, never read as "not published" (that would skip the comparison).
            version.status = VersionStatus::parse(&version.status)
                .ok_or_else(|| {
                    protocol(
                        format!(
                            "versions[{i}].status is {:?}, neither \"draft\" nor \"published\"",
                            version.status
                        ),
                        item,
                    )
                })?
                .as_str()
                .to_owned();
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

#[cfg(test)]
mod tests {
    use super::*;

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
