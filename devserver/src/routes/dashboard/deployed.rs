//! Dashboard handlers for what is deployed beside the persona: edit governance, add an item,
//! publish a version, set the active version, delete; MCP servers likewise. Every form answers
//! `303 See Other` back to the agent page, or an HTML error page that changed nothing.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use rusqlite::Connection;
use serde::Deserialize;
use serde_json::Value;

use super::deployed_views::Deployed;
use super::guard::LoggedIn;
use super::views::{agent_href, error_answer as error_page};
use crate::spec::{self, ActiveBy, Kind, McpServerSpec, PrimitiveSpec};
use crate::state::AppState;
use crate::store::{self, primitives::Refusal};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/agents/{id}/governance", post(set_governance))
        .route("/agents/{id}/primitives/{kind}", post(add_item))
        .route(
            "/agents/{id}/primitives/{kind}/{name}/versions",
            post(publish_version),
        )
        .route(
            "/agents/{id}/primitives/{kind}/{name}/active",
            post(set_active),
        )
        .route(
            "/agents/{id}/primitives/{kind}/{name}/delete",
            post(delete_item),
        )
}

/// Everything the agent page's extra sections show.
pub(super) fn load(conn: &Connection, agent_id: &str) -> rusqlite::Result<Deployed> {
    let governance = store::get_agent(conn, agent_id)?.and_then(|a| a.field("governance").cloned());
    let kinds = Kind::all()
        .map(|k| {
            let items = store::primitives::list_items(conn, agent_id, k)?.unwrap_or_default();
            Ok((k, items))
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Deployed {
        governance,
        kinds,
        mcp_servers: store::primitives::list_mcp_servers(conn, agent_id)?.unwrap_or_default(),
        backup: store::backup::summary(conn, agent_id)?,
        manifest: store::backup::manifest(conn, agent_id)?,
    })
}

/// Why a form was refused before touching the database: the status and the message.
type Refused = (StatusCode, String);

fn refused_page((status, message): Refused) -> Response {
    error_page(status, &message)
}

/// A form's target kind: one of the five, or `mcp-servers`.
fn kind_of(kind: &str) -> Result<Option<Kind>, Refused> {
    if kind == "mcp-servers" {
        return Ok(None);
    }
    Kind::parse(kind)
        .map(Some)
        .ok_or_else(|| (StatusCode::NOT_FOUND, format!("Unknown kind {kind:?}.")))
}

fn versioned(kind: &str) -> Result<Kind, Refused> {
    kind_of(kind)?.ok_or_else(|| {
        (
            StatusCode::BAD_REQUEST,
            "MCP servers have no versions.".to_owned(),
        )
    })
}

/// Runs one change in a transaction; redirects to the agent page, or shows why it was refused.
async fn change<F>(state: &AppState, id: &str, name: &str, op: F) -> Response
where
    F: FnOnce(&Connection) -> rusqlite::Result<Result<(), Refusal>> + Send + 'static,
{
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let r = op(&tx)?;
            tx.commit()?;
            Ok(r)
        })
        .await;
    let (status, message) = match result {
        Ok(Ok(())) => return Redirect::to(&agent_href(id)).into_response(),
        Ok(Err(refusal)) => match refusal {
            Refusal::NoSuchAgent => (StatusCode::NOT_FOUND, format!("No agent {id:?}.")),
            Refusal::NoSuchItem => (StatusCode::NOT_FOUND, format!("No item {name:?}.")),
            Refusal::NoSuchVersion => (
                StatusCode::NOT_FOUND,
                format!("{name:?} has no such version."),
            ),
            Refusal::DuplicateName | Refusal::DuplicateId => (
                StatusCode::CONFLICT,
                format!("An item named {name:?} already exists."),
            ),
            Refusal::DuplicateVersion => (
                StatusCode::CONFLICT,
                format!("{name:?} already has this version."),
            ),
        },
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.0),
    };
    error_page(status, &message)
}

#[derive(Deserialize)]
struct GovernanceForm {
    governance: String,
}

async fn set_governance(
    _: LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<GovernanceForm>, FormRejection>,
) -> Response {
    let text = match form {
        Ok(Form(f)) => f.governance,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let value = match text.trim() {
        "" => Value::Null,
        t => match serde_json::from_str::<Value>(t) {
            Ok(v) => v,
            Err(e) => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    &format!("Governance is not valid JSON ({e}); nothing was changed."),
                );
            }
        },
    };
    if let Err(e) = spec::check_governance(&value) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("{e}; nothing was changed."),
        );
    }
    let patch = store::AgentPatch::from([("governance", value)]);
    let agent = id.clone();
    change(&state, &id, "", move |conn| {
        Ok(store::patch_agent(conn, &agent, &patch)?
            .map(|_| ())
            .ok_or(Refusal::NoSuchAgent))
    })
    .await
}

#[derive(Deserialize)]
struct ItemForm {
    name: String,
    /// First version (versioned kinds; optional).
    #[serde(default)]
    version: String,
    /// MCP servers: `""`, `manual`, `integration`.
    #[serde(default)]
    source: String,
    /// MCP servers: `""`, `true`, `false`.
    #[serde(default)]
    active: String,
}

async fn add_item(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, kind)): Path<(String, String)>,
    form: Result<Form<ItemForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let kind = match kind_of(&kind) {
        Ok(k) => k,
        Err(refused) => return refused_page(refused),
    };
    let name = form.name.trim().to_owned();
    let agent = id.clone();
    match kind {
        Some(kind) => {
            let version = form.version.trim();
            let spec = PrimitiveSpec {
                id: None,
                name: name.clone(),
                versions: (!version.is_empty())
                    .then(|| version.to_owned())
                    .into_iter()
                    .collect(),
                active: None,
                active_by: ActiveBy::Id,
            };
            if let Err(e) = spec.check("item") {
                return error_page(StatusCode::BAD_REQUEST, &e);
            }
            change(&state, &id, &name, move |conn| {
                let added =
                    store::primitives::add_item(conn, &agent, kind, &spec, store::now_ms())?;
                Ok(added.map(|_| ()))
            })
            .await
        }
        None => {
            let active = match form.active.as_str() {
                "" => None,
                "true" => Some(true),
                "false" => Some(false),
                other => {
                    return error_page(
                        StatusCode::BAD_REQUEST,
                        &format!("`active` must be true, false or empty, not {other:?}."),
                    );
                }
            };
            let source = Some(form.source.trim().to_owned()).filter(|s| !s.is_empty());
            let spec = McpServerSpec {
                id: None,
                name: name.clone(),
                source,
                active,
            };
            if let Err(e) = spec.check("server") {
                return error_page(StatusCode::BAD_REQUEST, &e);
            }
            change(&state, &id, &name, move |conn| {
                Ok(store::primitives::add_mcp_server(conn, &agent, &spec)?.map(|_| ()))
            })
            .await
        }
    }
}

#[derive(Deserialize)]
struct VersionForm {
    version: String,
}

async fn publish_version(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, kind, name)): Path<(String, String, String)>,
    form: Result<Form<VersionForm>, FormRejection>,
) -> Response {
    version_action(state, id, kind, name, form, true).await
}

async fn set_active(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, kind, name)): Path<(String, String, String)>,
    form: Result<Form<VersionForm>, FormRejection>,
) -> Response {
    version_action(state, id, kind, name, form, false).await
}

/// Publish a new version (it becomes active, as a deploy does) or make an existing one active.
async fn version_action(
    state: AppState,
    id: String,
    kind: String,
    name: String,
    form: Result<Form<VersionForm>, FormRejection>,
    publish: bool,
) -> Response {
    let version = match form {
        Ok(Form(f)) => f.version.trim().to_owned(),
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let kind = match versioned(&kind) {
        Ok(k) => k,
        Err(refused) => return refused_page(refused),
    };
    let probe = PrimitiveSpec {
        id: None,
        name: name.clone(),
        versions: vec![version.clone()],
        active: None,
        active_by: ActiveBy::Id,
    };
    if let Err(e) = probe.check("item") {
        return error_page(
            StatusCode::BAD_REQUEST,
            &e.replace("item.versions[0]", "version"),
        );
    }
    let (agent, item) = (id.clone(), name.clone());
    change(&state, &id, &name, move |conn| {
        let done = if publish {
            store::primitives::publish_version(
                conn,
                &agent,
                kind,
                &item,
                &version,
                true,
                store::now_ms(),
            )?
        } else {
            store::primitives::set_active(conn, &agent, kind, &item, &version)?
        };
        Ok(done.map(|_| ()))
    })
    .await
}

async fn delete_item(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, kind, name)): Path<(String, String, String)>,
) -> Response {
    let kind = match kind_of(&kind) {
        Ok(k) => k,
        Err(refused) => return refused_page(refused),
    };
    let (agent, item) = (id.clone(), name.clone());
    change(&state, &id, &name, move |conn| match kind {
        Some(kind) => store::primitives::delete_item(conn, &agent, kind, &item),
        None => store::primitives::delete_mcp_server(conn, &agent, &item),
    })
    .await
}
