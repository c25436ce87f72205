//! The machine-readable report (`--format json`): one stable document for CI.
//!
//! Schema (documented in README "JSON report"): `{ "version": 1, "agentId", "serverUrl",
//! "entry", "exitCode", "components": [ { "id", "key", "title", "shape", "status",
//! "presence", "classification", "policy": {"check","allow"}, "serverVersion",
//! "localVersion", "baseVersion", "entityId", "serverHash", "localHash", "baseHash",
//! "local": {"file","line","column"}, "diff", "message", "action": {"kind", "reason",
//! ...} } ], "warnings": [...] }`. One entry per item: a keyed set (skills) has one
//! entry per item, with its `key`; a single value has `"key": null`.

use serde_json::{Value, json};

use crate::component::{Shape, Version};
use crate::engine::{Action, Exit, Item, Outcome, Report, Status};

pub const REPORT_VERSION: u32 = 1;

/// The JSON report of a run.
pub fn to_json(report: &Report, outcome: Option<&Outcome>, exit: Exit) -> Value {
    let components: Vec<Value> = report
        .items
        .iter()
        .map(|item| item_json(item, outcome))
        .collect();
    json!({
        "version": REPORT_VERSION,
        "agentId": report.agent_id,
        "serverUrl": report.server_url,
        "entry": report.entry,
        "exitCode": exit as i32,
        "components": components,
        "warnings": report.warnings,
    })
}

fn version_json(v: Option<&Version>) -> Value {
    match v {
        Some(Version::Number(n)) => json!(n),
        Some(Version::Text(s)) => json!(s),
        None => Value::Null,
    }
}

fn item_json(item: &Item, outcome: Option<&Outcome>) -> Value {
    let diff = match &item.status {
        Status::Drift { .. } => {
            let server = item.server_text.as_deref().unwrap_or("");
            let local = item.local_text.as_deref().unwrap_or("");
            // Canonical text has no final newline; add one so the diff has no
            // "\ No newline at end of file" noise.
            Value::String(lua_diff::unified(
                &format!("{server}\n"),
                &format!("{local}\n"),
                "server",
                "local",
            ))
        }
        _ => Value::Null,
    };
    let message = match &item.status {
        Status::Unreadable(u) => Some(u.to_string()),
        Status::Unreachable(e) | Status::Error(e) => Some(e.to_string()),
        _ => item.reason(),
    };
    let local = item
        .local
        .place()
        .map(|p| json!({"file": p.file, "line": p.line, "column": p.column}));
    let action = outcome
        .and_then(|o| o.find(item))
        .map(|r| action_json(&r.action));
    json!({
        "id": item.id,
        "key": item.key,
        "title": item.title,
        "shape": match item.shape { Shape::Single => "single", Shape::Keyed => "keyed" },
        "status": item.status.as_str(),
        "presence": item.presence().map(|p| p.as_str()),
        "classification": item.classification().map(|c| c.as_str()),
        "policy": {
            "check": serde_json::to_value(item.policy.check).unwrap_or(Value::Null),
            "allow": serde_json::to_value(item.policy.allow).unwrap_or(Value::Null),
        },
        "serverVersion": version_json(item.server_version()),
        "localVersion": version_json(item.local_version()),
        "baseVersion": version_json(item.base.as_ref().and_then(|b| b.server_version.as_ref())),
        "entityId": item.remote.as_ref().and_then(|r| r.entity_id.clone()).or_else(|| match &item.local {
            crate::component::Local::Value(v) => v.entity_id.clone(),
            _ => None,
        }),
        "serverHash": item.server_hash,
        "localHash": item.local_hash,
        "baseHash": item.base.as_ref().map(|b| b.hash.clone()),
        "local": local,
        "diff": diff,
        "message": message,
        "action": action,
    })
}

fn action_json(action: &Action) -> Value {
    let reason = action.reason().map(|r| r.as_str());
    match action {
        Action::Pushed { version } => {
            json!({"kind": "pushed", "version": version_json(version.as_ref())})
        }
        Action::Pulled { files, notes } => {
            json!({"kind": "pulled", "files": files, "notes": notes})
        }
        Action::Skipped { message, .. } => {
            json!({"kind": "skipped", "reason": reason, "message": message})
        }
        Action::Conflict { message } => {
            json!({"kind": "conflict", "reason": reason, "message": message})
        }
        Action::Unresolved { message, .. } => {
            json!({"kind": "unresolved", "reason": reason, "message": message})
        }
        Action::Refused { message, .. } => {
            json!({"kind": "refused", "reason": reason, "message": message})
        }
        Action::Guarded { message } => {
            json!({"kind": "guarded", "reason": reason, "message": message})
        }
        Action::Failed { message, .. } => {
            json!({"kind": "failed", "reason": reason, "message": message})
        }
    }
}
