//! Deployed primitives over HTTP: the six API listings of `API_CONTRACT.md` ("Primitives") and
//! the control routes that change them (add an item, publish a version, set the active version,
//! delete), for tests and the dashboard.
//!
//! The API routes get the API's counter, faults and auth from the app; the control routes get
//! auth only. Shapes come from `store::primitives`; this module maps HTTP to store calls.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::http::error::{Answer, ApiError};
use crate::http::extract::{ApiPath, RawBody, parse_body};
use crate::spec::{self, Kind, McpServerSpec, PrimitiveSpec};
use crate::state::AppState;
use crate::store::{self, primitives::Refusal};

/// The path segment of MCP servers in control routes (the other kinds use their listing key).
const MCP: &str = "mcp-servers";

/// `GET /developer/<kind>/{agentId}` for the five versioned kinds, and
/// `GET /developer/agents/{agentId}/mcp-servers`.
pub(crate) fn api_router() -> Router<AppState> {
    let mut r = Router::new().route("/developer/agents/{agentId}/mcp-servers", get(list_mcp));
    for kind in Kind::all() {
        r = r.route(
            &format!("/developer/{}/{{agentId}}", kind.key()),
            get(move |state: State<AppState>, path: ApiPath<String>| list(state, path, kind)),
        );
    }
    r
}

/// `/_devserver/agents/{agentId}/primitives/...` (needs the Bearer key, applied by the app).
pub(crate) fn control_router() -> Router<AppState> {
    Router::new()
        .route(
            "/_devserver/agents/{agentId}/primitives/{kind}",
            post(add_item),
        )
        .route(
            "/_devserver/agents/{agentId}/primitives/{kind}/{name}",
            delete(delete_item),
        )
        .route(
            "/_devserver/agents/{agentId}/primitives/{kind}/{name}/versions",
            post(publish_version),
        )
        .route(
            "/_devserver/agents/{agentId}/primitives/{kind}/{name}/active",
            post(set_active),
        )
}

async fn list(
    State(state): State<AppState>,
    ApiPath(agent): ApiPath<String>,
    kind: Kind,
) -> Response {
    let lookup = agent.clone();
    match state
        .db(move |conn| store::primitives::list_items(conn, &lookup, kind))
        .await
    {
        Ok(Some(items)) => {
            let listing = std::collections::BTreeMap::from([(kind.key(), items)]);
            Answer::ok_serialized(StatusCode::OK, &listing).into_response()
        }
        Ok(None) => ApiError::agent_not_found(&agent).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

async fn list_mcp(State(state): State<AppState>, ApiPath(agent): ApiPath<String>) -> Response {
    let lookup = agent.clone();
    match state
        .db(move |conn| store::primitives::list_mcp_servers(conn, &lookup))
        .await
    {
        Ok(Some(servers)) => Answer::ok_serialized(StatusCode::OK, &servers).into_response(),
        Ok(None) => ApiError::agent_not_found(&agent).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// A control route's `{kind}`: one of the five kinds, or `mcp-servers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Versioned(Kind),
    Mcp,
}

fn target(kind: &str) -> Result<Target, ApiError> {
    if kind == MCP {
        return Ok(Target::Mcp);
    }
    Kind::parse(kind).map(Target::Versioned).ok_or_else(|| {
        let known: Vec<&str> = Kind::all().map(Kind::key).collect();
        ApiError::new(
            StatusCode::NOT_FOUND,
            "KIND_NOT_FOUND",
            format!(
                "Unknown primitive kind {kind:?}: expected one of {}, {MCP}",
                known.join(", ")
            ),
        )
    })
}

fn refused(refusal: &Refusal, agent: &str, name: &str) -> ApiError {
    match refusal {
        Refusal::NoSuchAgent => ApiError::agent_not_found(agent),
        Refusal::NoSuchItem => ApiError::new(
            StatusCode::NOT_FOUND,
            "ITEM_NOT_FOUND",
            format!("Agent {agent} has no item named {name:?} of this kind"),
        ),
        Refusal::NoSuchVersion => ApiError::new(
            StatusCode::NOT_FOUND,
            "VERSION_NOT_FOUND",
            format!("{name:?} has no such version"),
        ),
        Refusal::DuplicateName => ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            format!("An item named {name:?} already exists for agent {agent}"),
        ),
        Refusal::DuplicateId => ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            "An item with this id already exists",
        ),
        Refusal::DuplicateVersion => ApiError::new(
            StatusCode::CONFLICT,
            "ALREADY_EXISTS",
            format!("{name:?} already has this version"),
        ),
    }
}

/// What a change returns: the changed item's JSON, or why it was refused.
type Change = rusqlite::Result<Result<Value, Refusal>>;

/// Runs one change in a transaction and answers the item (or MCP server) it returns.
async fn change<F>(
    state: &AppState,
    agent: String,
    name: String,
    status: StatusCode,
    op: F,
) -> Response
where
    F: FnOnce(&rusqlite::Connection) -> Change + Send + 'static,
{
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let r = op(&tx)?;
            tx.commit()?;
            Ok(r)
        })
        .await;
    match result {
        Ok(Ok(value)) => Answer::ok(status, value).into_response(),
        Ok(Err(refusal)) => refused(&refusal, &agent, &name).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// `POST .../primitives/{kind}`: body a seed item (`{"name", "id"?, "versions"?, "active"?,
/// "activeBy"?}`, or for MCP servers `{"name", "id"?, "source"?, "active"?}`). 201 with the item.
async fn add_item(
    State(state): State<AppState>,
    ApiPath((agent, kind)): ApiPath<(String, String)>,
    RawBody(body): RawBody,
) -> Response {
    let target = match target(&kind) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let op: Box<dyn FnOnce(&rusqlite::Connection) -> Change + Send> = match target {
        Target::Versioned(kind) => {
            let spec = match parse_body::<PrimitiveSpec>(&body)
                .and_then(|s| s.check("body").map(|()| s).map_err(ApiError::bad_request))
            {
                Ok(s) => s,
                Err(e) => return e.into_response(),
            };
            let agent = agent.clone();
            Box::new(move |conn: &rusqlite::Connection| {
                Ok(
                    store::primitives::add_item(conn, &agent, kind, &spec, store::now_ms())?
                        .map(|i| i.to_json()),
                )
            })
        }
        Target::Mcp => {
            let spec = match parse_body::<McpServerSpec>(&body)
                .and_then(|s| s.check("body").map(|()| s).map_err(ApiError::bad_request))
            {
                Ok(s) => s,
                Err(e) => return e.into_response(),
            };
            let agent = agent.clone();
            Box::new(move |conn: &rusqlite::Connection| {
                Ok(store::primitives::add_mcp_server(conn, &agent, &spec)?.map(|m| m.to_json()))
            })
        }
    };
    let name = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_owned))
        .unwrap_or_default();
    change(&state, agent, name, StatusCode::CREATED, op).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewVersion {
    version: String,
    /// Make it the active version (default true, as a deploy does on the platform).
    #[serde(default)]
    activate: Option<bool>,
}

/// `POST .../primitives/{kind}/{name}/versions` body `{"version", "activate"?}`: 201 with the item.
async fn publish_version(
    State(state): State<AppState>,
    ApiPath((agent, kind, name)): ApiPath<(String, String, String)>,
    RawBody(body): RawBody,
) -> Response {
    let kind = match versioned(&kind) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let body = match parse_body::<NewVersion>(&body).and_then(|b| {
        let probe = PrimitiveSpec {
            id: None,
            name: name.clone(),
            versions: vec![b.version.clone()],
            active: None,
            active_by: spec::ActiveBy::Id,
        };
        probe
            .check("body")
            .map(|()| b)
            .map_err(|e| ApiError::bad_request(e.replace("body.versions[0]", "`version`")))
    }) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let (a, n) = (agent.clone(), name.clone());
    change(&state, agent, name, StatusCode::CREATED, move |conn| {
        Ok(store::primitives::publish_version(
            conn,
            &a,
            kind,
            &n,
            &body.version,
            body.activate.unwrap_or(true),
            store::now_ms(),
        )?
        .map(|i| i.to_json()))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActiveVersion {
    version: String,
}

/// `POST .../primitives/{kind}/{name}/active` body `{"version"}`: 200 with the item.
async fn set_active(
    State(state): State<AppState>,
    ApiPath((agent, kind, name)): ApiPath<(String, String, String)>,
    RawBody(body): RawBody,
) -> Response {
    let kind = match versioned(&kind) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let body = match parse_body::<ActiveVersion>(&body) {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let (a, n) = (agent.clone(), name.clone());
    change(&state, agent, name, StatusCode::OK, move |conn| {
        let item = store::primitives::set_active(conn, &a, kind, &n, &body.version)?;
        Ok(item.map(|i| {
            tracing::info!(
                "{} {n:?} of {a}: active version now {:?}",
                kind.key(),
                i.active_version()
            );
            i.to_json()
        }))
    })
    .await
}

/// `DELETE .../primitives/{kind}/{name}`: 200 `{"deleted": name}`.
async fn delete_item(
    State(state): State<AppState>,
    ApiPath((agent, kind, name)): ApiPath<(String, String, String)>,
) -> Response {
    let target = match target(&kind) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    let (a, n) = (agent.clone(), name.clone());
    change(&state, agent, name, StatusCode::OK, move |conn| {
        let done = match target {
            Target::Versioned(kind) => store::primitives::delete_item(conn, &a, kind, &n)?,
            Target::Mcp => store::primitives::delete_mcp_server(conn, &a, &n)?,
        };
        Ok(done.map(|()| json!({ "deleted": n })))
    })
    .await
}

fn versioned(kind: &str) -> Result<Kind, ApiError> {
    match target(kind)? {
        Target::Versioned(k) => Ok(k),
        Target::Mcp => Err(ApiError::bad_request(
            "MCP servers have no versions: add or delete them instead",
        )),
    }
}
