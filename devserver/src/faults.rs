//! Fault injection's data: the rules a test queues with `POST /_devserver/faults` and the
//! FIFO queue that picks what happens to each API request.
//!
//! A leaf: it uses no module of this crate. The control routes fill the queue (turning a
//! refused rule's message into a JSON error); a layer in `http::observe` consults it in front
//! of the API routes and builds the response a fault answers.

use axum::http::{Method, StatusCode};
use serde_json::{Map, Value, json};

/// Longest latency a fault may add.
const MAX_LATENCY_MS: u64 = 600_000;

/// What a fault does to a request it matches (latency aside).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    /// Answer this status with a JSON error body.
    Status(StatusCode),
    /// Answer with a body that is not JSON.
    Malformed(StatusCode),
    /// Promise more bytes (Content-Length) than are sent, then close.
    Truncated(StatusCode),
    /// Answer this exact body.
    Literal(StatusCode, String),
    /// Close the connection without any response.
    Drop,
}

/// One queued fault.
#[derive(Debug, Clone)]
pub(crate) struct FaultRule {
    /// `None`: persistent until `DELETE /_devserver/faults`.
    remaining: Option<u64>,
    path_prefix: Option<String>,
    method: Option<Method>,
    latency_ms: u64,
    effect: Option<Effect>,
    /// The JSON it was created from, to list it back.
    spec: Value,
}

impl FaultRule {
    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.as_ref().is_none_or(|m| m == method)
            && self
                .path_prefix
                .as_deref()
                .is_none_or(|p| path.starts_with(p))
    }

    /// A persistent rule that only slows requests down: it applies alongside other rules.
    fn is_background_latency(&self) -> bool {
        self.remaining.is_none() && self.effect.is_none()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut v = self.spec.clone();
        if let Value::Object(map) = &mut v {
            map.insert("remaining".to_owned(), json!(self.remaining));
        }
        v
    }
}

/// The FIFO list of fault rules.
#[derive(Debug, Default)]
pub(crate) struct FaultQueue {
    rules: Vec<FaultRule>,
}

impl FaultQueue {
    /// Queues a rule; returns how many are queued now.
    pub(crate) fn push(&mut self, rule: FaultRule) -> usize {
        self.rules.push(rule);
        self.rules.len()
    }

    /// The queued rules as JSON, in queue order.
    pub(crate) fn to_json(&self) -> Vec<Value> {
        self.rules.iter().map(FaultRule::to_json).collect()
    }

    /// Removes every rule; returns how many there were.
    pub(crate) fn clear(&mut self) -> usize {
        let cleared = self.rules.len();
        self.rules.clear();
        cleared
    }

    /// Picks what happens to one request: the summed latency of every matching persistent
    /// latency-only rule, plus the first other matching rule in queue order (which uses up one
    /// of its count).
    pub(crate) fn take(&mut self, method: &Method, path: &str) -> (u64, Option<Effect>) {
        let mut latency: u64 = self
            .rules
            .iter()
            .filter(|r| r.is_background_latency() && r.matches(method, path))
            .map(|r| r.latency_ms)
            .sum();
        let first = self
            .rules
            .iter()
            .position(|r| !r.is_background_latency() && r.matches(method, path));
        let Some(i) = first else {
            return (latency, None);
        };
        let rule = &mut self.rules[i];
        latency = latency.saturating_add(rule.latency_ms);
        let effect = rule.effect.clone();
        if let Some(n) = &mut rule.remaining {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rules.remove(i);
            }
        }
        (latency, effect)
    }
}

const FAULT_FIELDS: &[&str] = &[
    "count",
    "pathPrefix",
    "method",
    "latencyMs",
    "status",
    "body",
    "drop",
];

/// Parses the body of `POST /_devserver/faults`; errors name the field.
pub(crate) fn parse_rule(obj: Map<String, Value>) -> Result<FaultRule, String> {
    if let Some(unknown) = obj.keys().find(|k| !FAULT_FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{unknown}`: expected one of {}",
            FAULT_FIELDS.join(", ")
        ));
    }
    let count = uint_field(&obj, "count")?;
    let latency_ms = uint_field(&obj, "latencyMs")?.unwrap_or(0);
    if latency_ms > MAX_LATENCY_MS {
        return Err(format!("`latencyMs` must be at most {MAX_LATENCY_MS}"));
    }
    let path_prefix = string_field(&obj, "pathPrefix")?.map(str::to_owned);
    if path_prefix.as_deref().is_some_and(|p| !p.starts_with('/')) {
        return Err("`pathPrefix` must start with `/`".to_owned());
    }
    let method = string_field(&obj, "method")?
        .map(parse_method)
        .transpose()?;
    let effect = parse_effect(&obj)?;
    if effect.is_none() && latency_ms == 0 {
        return Err(
            "a fault needs at least one of `status`, `body`, `drop` or `latencyMs`".to_owned(),
        );
    }
    Ok(FaultRule {
        remaining: count.filter(|n| *n > 0),
        path_prefix,
        method,
        latency_ms,
        effect,
        spec: Value::Object(obj),
    })
}

/// What the matched request gets instead of its answer: `drop`, or `status` and `body`.
fn parse_effect(obj: &Map<String, Value>) -> Result<Option<Effect>, String> {
    let status = uint_field(obj, "status")?
        .map(|s| {
            u16::try_from(s)
                .ok()
                .filter(|s| (200..=599).contains(s))
                .and_then(|s| StatusCode::from_u16(s).ok())
                .ok_or_else(|| "`status` must be between 200 and 599".to_owned())
        })
        .transpose()?;
    let body = string_field(obj, "body")?;
    let drop = match obj.get("drop") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("`drop` must be a boolean".to_owned()),
    };
    if drop {
        if status.is_some() || body.is_some() {
            return Err("`drop` cannot be combined with `status` or `body`".to_owned());
        }
        return Ok(Some(Effect::Drop));
    }
    Ok(match (body, status) {
        (Some("malformed"), s) => Some(Effect::Malformed(s.unwrap_or(StatusCode::OK))),
        (Some("truncated"), s) => Some(Effect::Truncated(s.unwrap_or(StatusCode::OK))),
        (Some(literal), s) => Some(Effect::Literal(
            s.unwrap_or(StatusCode::OK),
            literal.to_owned(),
        )),
        (None, Some(s)) => Some(Effect::Status(s)),
        (None, None) => None,
    })
}

fn parse_method(m: &str) -> Result<Method, String> {
    Method::from_bytes(m.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("`method` {m:?} is not an HTTP method"))
}

/// An optional non-negative integer field.
fn uint_field(obj: &Map<String, Value>, field: &str) -> Result<Option<u64>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{field}` must be a non-negative integer")),
    }
}

/// An optional string field.
fn string_field<'o>(obj: &'o Map<String, Value>, field: &str) -> Result<Option<&'o str>, String> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(format!("`{field}` must be a string")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: Value) -> Result<FaultRule, String> {
        match json {
            Value::Object(m) => parse_rule(m),
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn counted_rules_are_consumed_in_order() {
        let mut q = FaultQueue::default();
        q.rules
            .push(rule(json!({"count": 1, "status": 500})).unwrap());
        q.rules
            .push(rule(json!({"count": 2, "status": 503, "method": "get"})).unwrap());
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(
            q.take(&post, "/x"),
            (0, Some(Effect::Status(StatusCode::INTERNAL_SERVER_ERROR)))
        );
        // The GET-only rule does not match a POST.
        assert_eq!(q.take(&post, "/x"), (0, None));
        assert_eq!(
            q.take(&get, "/x").1,
            Some(Effect::Status(StatusCode::SERVICE_UNAVAILABLE))
        );
        assert_eq!(
            q.take(&get, "/x").1,
            Some(Effect::Status(StatusCode::SERVICE_UNAVAILABLE))
        );
        assert_eq!(q.take(&get, "/x"), (0, None));
        assert!(q.rules.is_empty());
    }

    #[test]
    fn persistent_latency_applies_alongside_other_rules() {
        let mut q = FaultQueue::default();
        q.rules.push(rule(json!({"latencyMs": 30})).unwrap());
        q.rules.push(
            rule(json!({"count": 1, "latencyMs": 5, "drop": true, "pathPrefix": "/developer"}))
                .unwrap(),
        );
        assert_eq!(q.take(&Method::GET, "/admin/agents/a"), (30, None));
        assert_eq!(
            q.take(&Method::GET, "/developer/x"),
            (35, Some(Effect::Drop))
        );
        assert_eq!(q.take(&Method::GET, "/developer/x"), (30, None));
        assert_eq!(q.rules.len(), 1);
    }

    #[test]
    fn bad_rules_name_the_field() {
        let cases = [
            (json!({"count": -1, "status": 500}), "`count`"),
            (json!({"status": 99}), "`status`"),
            (json!({"status": "500"}), "`status`"),
            (json!({"drop": true, "status": 500}), "`drop`"),
            (json!({"drop": "yes"}), "`drop`"),
            (
                json!({"pathPrefix": "developer", "status": 500}),
                "`pathPrefix`",
            ),
            (json!({"method": "G T", "status": 500}), "`method`"),
            (json!({"latency": 5}), "`latency`"),
            (json!({"count": 3}), "at least one"),
        ];
        for (input, needle) in cases {
            let err = rule(input.clone()).unwrap_err();
            assert!(err.contains(needle), "{input}: {err}");
        }
    }
}
