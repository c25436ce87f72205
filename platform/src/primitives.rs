//! Deployed primitives: the listings of versioned kinds (one generic reader over any
//! [`PrimitiveKind`], a row of `lua-contract`'s table or one a caller builds: path and payload
//! key are its plural) and the agent's MCP servers, as `API_CONTRACT.md` ("Primitives")
//! defines them.
//!
//! A listing that fails, or answers with the wrong shape, is an error: never an empty
//! list (the reference CLI's empty list on failure reports false "local only" drift).

use std::fmt::{self, Display};

use serde_json::Value;

use lua_contract::PrimitiveKind;

use crate::api::agent_segment;
use crate::client::PlatformClient;
use crate::error::{PlatformError, excerpt};

/// `GET /developer/<plural>/{agentId}`.
fn listing_path(kind: &PrimitiveKind, agent_id: &str) -> Result<String, PlatformError> {
    Ok(format!(
        "/developer/{}/{}",
        kind.plural,
        agent_segment(agent_id)?
    ))
}

/// One deployed primitive with its versions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Primitive {
    pub id: String,
    pub name: String,
    pub versions: Vec<PrimitiveVersion>,
    pub active_version_id: Option<String>,
}

/// One version of a primitive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrimitiveVersion {
    pub id: Option<String>,
    pub version_id: Option<String>,
    /// The version text (`1.0.1`); a number on the wire keeps its JSON text.
    pub version: String,
    pub active: Option<bool>,
}

impl Primitive {
    /// The active version, by the contract's rule: the entry whose `id` or `versionId`
    /// equals `activeVersionId`; else the first with `active: true`; else the last entry;
    /// else none.
    pub fn active_version(&self) -> Option<&PrimitiveVersion> {
        let by_id = self.active_version_id.as_deref().and_then(|want| {
            self.versions
                .iter()
                .find(|v| v.id.as_deref() == Some(want) || v.version_id.as_deref() == Some(want))
        });
        by_id
            .or_else(|| self.versions.iter().find(|v| v.active == Some(true)))
            .or_else(|| self.versions.last())
    }

    /// The active version's text, or why there is none to compare with: no versions
    /// listed, or an empty version text. Never a guess: the caller reports the item as not
    /// compared.
    pub fn compared_version(&self) -> Result<&str, String> {
        let Some(active) = self.active_version() else {
            return Err("the server lists no version for it (`versions` is empty)".to_owned());
        };
        if active.version.trim().is_empty() {
            return Err("the server's active version is empty".to_owned());
        }
        Ok(&active.version)
    }
}

/// One MCP server of the agent (they have no versions).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct McpServer {
    pub id: String,
    pub name: String,
    pub source: Option<String>,
    pub active: Option<bool>,
}

impl McpServer {
    /// Whether it counts for sync: added by hand (`source` absent or `"manual"`) and not
    /// switched off (`active` not `false`). Others come from integrations.
    pub fn counts(&self) -> bool {
        matches!(self.source.as_deref(), None | Some("manual")) && self.active != Some(false)
    }
}

impl PlatformClient {
    /// The primitives of one kind (cached per run; `fresh` bypasses the cache).
    pub async fn primitives(
        &self,
        agent_id: &str,
        kind: &PrimitiveKind,
        fresh: bool,
    ) -> Result<Vec<Primitive>, PlatformError> {
        let path = listing_path(kind, agent_id)?;
        let payload = self.read(&path, fresh).await?;
        let shape = Shape {
            client: self,
            path: &path,
        };
        let key = kind.plural;
        let list = payload.get(key).ok_or_else(|| {
            shape.error(
                format!("expected an object with a \"{key}\" list"),
                &payload,
            )
        })?;
        let items = list
            .as_array()
            .ok_or_else(|| shape.error(format!("\"{key}\" is not a list"), list))?;
        items
            .iter()
            .enumerate()
            .map(|(i, item)| shape.primitive(Indexed(key, i), item))
            .collect()
    }

    /// The MCP servers that count for sync ([`McpServer::counts`]), in server order.
    pub async fn mcp_servers(
        &self,
        agent_id: &str,
        fresh: bool,
    ) -> Result<Vec<McpServer>, PlatformError> {
        let path = format!("/developer/agents/{}/mcp-servers", agent_segment(agent_id)?);
        let payload = self.read(&path, fresh).await?;
        let shape = Shape {
            client: self,
            path: &path,
        };
        let items = payload
            .as_array()
            .ok_or_else(|| shape.error("expected a list of MCP servers".into(), &payload))?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = Indexed("", i);
            let server = McpServer {
                id: shape.string(at, item, "id")?,
                name: shape.string(at, item, "name")?,
                source: shape.opt_string(at, item, "source")?,
                active: shape.opt_bool(at, item, "active")?,
            };
            if server.counts() {
                out.push(server);
            }
        }
        Ok(out)
    }

    pub(crate) async fn read(
        &self,
        path: &str,
        fresh: bool,
    ) -> Result<std::sync::Arc<Value>, PlatformError> {
        if fresh {
            self.get_fresh(path).await
        } else {
            self.get(path).await
        }
    }
}

/// Where an item is in a listing (`skills[3]`): spelled out only when an error names it,
/// so a listing of hundreds of items formats nothing on the way.
#[derive(Clone, Copy)]
pub(crate) struct Indexed<'a>(pub &'a str, pub usize);

impl Display for Indexed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.0, self.1)
    }
}

/// A version of an item (`skills[3].versions[0]`).
#[derive(Clone, Copy)]
struct VersionAt<'a>(Indexed<'a>, usize);

impl Display for VersionAt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.versions[{}]", self.0, self.1)
    }
}

/// Shape checks that name the field and the URL.
pub(crate) struct Shape<'a> {
    pub client: &'a PlatformClient,
    pub path: &'a str,
}

impl Shape<'_> {
    pub fn error(&self, reason: String, value: &Value) -> PlatformError {
        PlatformError::Protocol {
            url: self.client.shown_url(self.path),
            reason,
            excerpt: excerpt(&value.to_string()),
        }
    }

    fn primitive(&self, at: Indexed<'_>, item: &Value) -> Result<Primitive, PlatformError> {
        let versions = match item.get("versions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    let at = VersionAt(at, j);
                    Ok(PrimitiveVersion {
                        id: self.opt_string(at, v, "id")?,
                        version_id: self.opt_string(at, v, "versionId")?,
                        version: self.version_text(at, v)?,
                        active: self.opt_bool(at, v, "active")?,
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(other) => return Err(self.error(format!("{at}.versions is not a list"), other)),
        };
        Ok(Primitive {
            id: self.string(at, item, "id")?,
            name: self.string(at, item, "name")?,
            versions,
            active_version_id: self.opt_string(at, item, "activeVersionId")?,
        })
    }

    fn version_text(&self, at: impl Display, v: &Value) -> Result<String, PlatformError> {
        match v.get("version") {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            other => Err(self.error(
                format!("{at}.version is not a string"),
                other.unwrap_or(&Value::Null),
            )),
        }
    }

    pub fn string(
        &self,
        at: impl Display,
        item: &Value,
        key: &str,
    ) -> Result<String, PlatformError> {
        match item.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            other => Err(self.error(format!("{at}.{key} is not a string"), other.unwrap_or(item))),
        }
    }

    pub fn opt_string(
        &self,
        at: impl Display,
        item: &Value,
        key: &str,
    ) -> Result<Option<String>, PlatformError> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(self.error(format!("{at}.{key} is not a string"), other)),
        }
    }

    fn opt_bool(
        &self,
        at: impl Display,
        item: &Value,
        key: &str,
    ) -> Result<Option<bool>, PlatformError> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.error(format!("{at}.{key} is not a boolean"), other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(
        id: Option<&str>,
        version_id: Option<&str>,
        version: &str,
        active: Option<bool>,
    ) -> PrimitiveVersion {
        PrimitiveVersion {
            id: id.map(Into::into),
            version_id: version_id.map(Into::into),
            version: version.into(),
            active,
        }
    }

    fn p(versions: Vec<PrimitiveVersion>, active: Option<&str>) -> Primitive {
        Primitive {
            id: "s".into(),
            name: "n".into(),
            versions,
            active_version_id: active.map(Into::into),
        }
    }

    #[test]
    fn active_version_rule() {
        let versions = vec![
            v(Some("a"), None, "1.0.0", None),
            v(None, Some("b"), "1.1.0", Some(true)),
            v(Some("c"), None, "1.2.0", Some(true)),
            v(Some("d"), None, "2.0.0", None),
        ];
        let ver = |p: &Primitive| p.active_version().map(|v| v.version.clone());
        // By id, then by versionId.
        assert_eq!(
            ver(&p(versions.clone(), Some("a"))).as_deref(),
            Some("1.0.0")
        );
        assert_eq!(
            ver(&p(versions.clone(), Some("b"))).as_deref(),
            Some("1.1.0")
        );
        // An unknown activeVersionId falls through to the first active, then the last.
        assert_eq!(
            ver(&p(versions.clone(), Some("zz"))).as_deref(),
            Some("1.1.0")
        );
        let inactive: Vec<_> = versions
            .iter()
            .map(|x| PrimitiveVersion {
                active: None,
                ..x.clone()
            })
            .collect();
        assert_eq!(ver(&p(inactive, None)).as_deref(), Some("2.0.0"));
        assert_eq!(ver(&p(Vec::new(), Some("a"))), None);
    }

    #[test]
    fn a_version_absent_or_empty_is_not_compared() {
        assert!(p(Vec::new(), None).compared_version().is_err());
        assert!(
            p(vec![v(None, None, " ", None)], None)
                .compared_version()
                .is_err()
        );
        assert_eq!(
            p(vec![v(None, None, "1.0.0", None)], None).compared_version(),
            Ok("1.0.0")
        );
    }

    #[test]
    fn mcp_counts() {
        let m = |source: Option<&str>, active: Option<bool>| McpServer {
            id: "i".into(),
            name: "n".into(),
            source: source.map(Into::into),
            active,
        };
        assert!(m(None, None).counts());
        assert!(m(Some("manual"), Some(true)).counts());
        assert!(!m(Some("integration"), None).counts());
        assert!(!m(None, Some(false)).counts());
    }

    #[test]
    fn paths() {
        assert_eq!(
            listing_path(&lua_contract::JOB, "a_b").unwrap(),
            "/developer/jobs/a_b"
        );
        assert_eq!(
            listing_path(&lua_contract::POSTPROCESSOR, "a/b").unwrap(),
            "/developer/postprocessors/a%2Fb"
        );
        assert!(listing_path(&lua_contract::SKILL, " ").is_err());
    }
}
