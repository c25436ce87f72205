//! The machine-readable report (`--format json`): one stable document for CI.
//!
//! Schema (documented in README "JSON report"): `{ "version": 1, "agentId", "serverUrl",
//! "entry", "exitCode", "components": [ { "id", "title", "status", "classification",
//! "policy": {"check","allow"}, "serverVersion", "serverHash", "localHash", "local":
//! {"file","line","column"}, "diff", "message", "action" } ], "warnings": [...] }`.

use serde_json::{Value, json};

use crate::component::Local;
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

fn item_json(item: &Item, outcome: Option<&Outcome>) -> Value {
    let diff = match (&item.status, &item.server_text, &item.local_text) {
        (Status::Drift, Some(server), Some(local)) => {
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
    let local = match &item.local {
        Local::Value { node, .. } => node
            .origin()
            .map(|o| json!({"file": o.file, "line": o.line, "column": o.column})),
        Local::Unreadable(u) => Some(json!({"file": u.file, "line": u.line, "column": u.column})),
        Local::Missing => None,
    };
    let action = outcome
        .and_then(|o| o.resolutions.iter().find(|r| r.id == item.id))
        .map(|r| action_json(&r.action));
    json!({
        "id": item.id,
        "title": item.title,
        "status": item.status.as_str(),
        "classification": item.classification.map(|c| c.as_str()),
        "policy": {
            "check": serde_json::to_value(item.policy.check).unwrap_or(Value::Null),
            "allow": serde_json::to_value(item.policy.allow).unwrap_or(Value::Null),
        },
        "serverVersion": item.remote.as_ref().and_then(|r| r.version),
        "baseVersion": item.base.as_ref().and_then(|b| b.server_version),
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
    match action {
        Action::Pushed { version } => json!({"kind": "pushed", "version": version}),
        Action::Pulled { files } => json!({"kind": "pulled", "files": files}),
        Action::Skipped { reason } => json!({"kind": "skipped", "message": reason}),
        Action::Conflict { message } => json!({"kind": "conflict", "message": message}),
        Action::Refused { message } => json!({"kind": "refused", "message": message}),
        Action::Guarded { message } => json!({"kind": "guarded", "message": message}),
        Action::Failed { message } => json!({"kind": "failed", "message": message}),
    }
}
