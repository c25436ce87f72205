//! The platform's payloads, as `lua sync` reads them (see API_CONTRACT.md).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::error::PlatformError;

/// The agent, from `GET /admin/agents/{agentId}` (also the payload of the sub-agent PATCH):
/// its fields as data, read by key. It names no field: which key a component syncs, and
/// which shape it expects, is the component's.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Agent {
    fields: Map<String, Value>,
    /// The URL it was read from, as messages show it (for an error about a field's shape).
    #[serde(skip)]
    source: String,
}

impl Agent {
    /// The field `key`; `None` when absent or `null`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.get(key).filter(|v| !v.is_null())
    }

    /// The field `key` as a string; `None` when absent or `null`, a protocol error naming
    /// the URL and the key when it is something else.
    pub fn string(&self, key: &str) -> Result<Option<&str>, PlatformError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(PlatformError::Protocol {
                url: self.source.clone(),
                reason: format!("the agent's \"{key}\" is not a string"),
                excerpt: crate::error::excerpt(&other.to_string()),
            }),
        }
    }

    /// Every field, as the server sent them.
    pub fn fields(&self) -> &Map<String, Value> {
        &self.fields
    }

    /// Remembers where it was read from, for [`Agent::string`]'s errors.
    pub(crate) fn from(mut self, url: String) -> Self {
        self.source = url;
        self
    }
}

/// One persona version, from `GET /developer/agents/{agentId}/persona/versions`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonaVersion {
    /// Per-agent, increasing version number.
    pub version: u64,
    /// A string, or the channel-aware object form `{"base"?, "voice"?, "text"?}` of strings.
    pub persona: Value,
    /// Creation time, epoch milliseconds. A non-numeric value is a protocol error.
    #[serde(deserialize_with = "epoch_millis")]
    pub created_date: i64,
    /// Whether production serves this version now. Sync ignores it.
    #[serde(default)]
    pub is_current: bool,
    /// `"draft"` or `"published"` (read in any case, kept in lower case).
    pub status: String,
    /// Who created the version, when the server says.
    #[serde(default)]
    pub created_by: Option<String>,
}

impl PersonaVersion {
    /// True for a published version (the only kind sync compares against).
    pub fn is_published(&self) -> bool {
        VersionStatus::parse(&self.status) == Some(VersionStatus::Published)
    }
}

/// The `status` filter of the persona versions list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VersionStatus {
    /// Saved but not published.
    Draft,
    /// Published (possibly not current, after a rollback).
    Published,
}

impl VersionStatus {
    /// The wire form: `"draft"` or `"published"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    /// A status as the platform spells it, in any case (`"PUBLISHED"`); `None` when it is
    /// neither.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Draft, Self::Published]
            .into_iter()
            .find(|s| text.eq_ignore_ascii_case(s.as_str()))
    }
}

/// Epoch milliseconds: an integer, or a float with no fractional part (JavaScript servers
/// may serialise `Date.now()`-derived values as floats). Anything else is an error that
/// names the field, so the caller's protocol error says what was wrong.
fn epoch_millis<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    use serde::de::Error as _;
    let v = Value::deserialize(d)?;
    if let Some(n) = v.as_i64() {
        return Ok(n);
    }
    if let Some(f) = v.as_f64()
        && f.is_finite()
        && f.fract() == 0.0
        && f.abs() < 9.0e15
    {
        // In range and integral, so the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        return Ok(f as i64);
    }
    let shown = crate::error::excerpt(&v.to_string());
    Err(D::Error::custom(format!(
        "createdDate is not a number of epoch milliseconds (got {shown})"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn agent_null_fields_are_none_and_extra_kept() {
        let a: Agent = serde_json::from_value(json!({
            "name": null, "model": "gpt", "governance": null, "id": "x", "skills": []
        }))
        .unwrap();
        assert_eq!(a.string("name").unwrap(), None);
        assert_eq!(a.string("model").unwrap(), Some("gpt"));
        assert_eq!(a.get("governance"), None);
        assert_eq!(a.get("id"), Some(&json!("x")));
        assert!(a.fields().contains_key("name"));
        let b: Agent = serde_json::from_value(json!({})).unwrap();
        assert_eq!(b.string("name").unwrap(), None);
        let g: Agent = serde_json::from_value(json!({"governance": {"a": 1}})).unwrap();
        assert_eq!(g.get("governance"), Some(&json!({"a": 1})));
    }

    #[test]
    fn a_field_of_another_shape_is_an_error_naming_url_and_key() {
        let a: Agent = serde_json::from_value(json!({"name": 5})).unwrap();
        let a = a.from("http://h/admin/agents/x".to_owned());
        let err = a.string("name").unwrap_err().to_string();
        assert!(err.contains("http://h/admin/agents/x"), "{err}");
        assert!(err.contains("\"name\" is not a string"), "{err}");
    }

    #[test]
    fn created_date_accepts_integral_numbers_only() {
        let base = json!({"version": 1, "persona": "p", "status": "published"});
        let with = |d: Value| {
            let mut v = base.clone();
            v["createdDate"] = d;
            serde_json::from_value::<PersonaVersion>(v)
        };
        assert_eq!(
            with(json!(1_700_000_000_000_i64)).unwrap().created_date,
            1_700_000_000_000
        );
        assert_eq!(with(json!(1.7e12)).unwrap().created_date, 1_700_000_000_000);
        let err = with(json!("2024-01-01")).unwrap_err().to_string();
        assert!(err.contains("createdDate is not a number"), "{err}");
        assert!(with(json!(1.5)).is_err());
        assert!(with(Value::Null).is_err());
    }

    #[test]
    fn persona_version_defaults() {
        let v: PersonaVersion = serde_json::from_value(json!({
            "version": 3, "persona": {"base": "b"}, "createdDate": 5, "status": "draft"
        }))
        .unwrap();
        assert!(!v.is_current);
        assert_eq!(v.created_by, None);
        assert!(!v.is_published());
        assert_eq!(VersionStatus::Published.as_str(), "published");
    }

    #[test]
    fn statuses_in_any_case_and_unknown_ones() {
        assert_eq!(
            VersionStatus::parse("PUBLISHED"),
            Some(VersionStatus::Published)
        );
        assert_eq!(VersionStatus::parse("Draft"), Some(VersionStatus::Draft));
        assert_eq!(VersionStatus::parse("archived"), None);
        assert_eq!(VersionStatus::parse(""), None);
    }
}
