//! The platform's payloads, as `lua sync` reads them (see API_CONTRACT.md).

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The agent, from `GET /admin/agents/{agentId}` (also the payload of the sub-agent PATCH).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Agent {
    /// The agent's display name; `None` when the server has none (`null` or absent).
    #[serde(default)]
    pub name: Option<String>,
    /// The model id; `None` when `null` or absent.
    #[serde(default)]
    pub model: Option<String>,
    /// Governance settings, kept as raw JSON; `None` when `null` or absent.
    #[serde(default, deserialize_with = "null_as_none")]
    pub governance: Option<Value>,
    /// Every other field, untouched.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
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

/// `Option<Value>` where JSON `null` means `None` (serde would otherwise give `Some(Null)`).
fn null_as_none<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    let v = Value::deserialize(d)?;
    Ok(if v.is_null() { None } else { Some(v) })
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
        assert_eq!(a.name, None);
        assert_eq!(a.model.as_deref(), Some("gpt"));
        assert_eq!(a.governance, None);
        assert_eq!(a.extra.get("id"), Some(&json!("x")));
        assert!(!a.extra.contains_key("name"));
        let b: Agent = serde_json::from_value(json!({})).unwrap();
        assert_eq!(b.name, None);
        let g: Agent = serde_json::from_value(json!({"governance": {"a": 1}})).unwrap();
        assert_eq!(g.governance, Some(json!({"a": 1})));
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
