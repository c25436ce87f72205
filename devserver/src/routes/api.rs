//! The platform API routes (see `API_CONTRACT.md`): agents, persona versions, primitive lists,
//! idempotent writes.
//!
//! Every answer is JSON (the envelope and error body live in `http::error`, the extractors
//! with JSON rejections in `http::extract`). Authentication, the request counter and fault
//! injection are layers `app` puts in front of these routes; this module knows none of them.

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use rusqlite::{Connection, TransactionBehavior};
use serde_json::{Map, Value, json};

use crate::http::error::{Answer, ApiError};
use crate::http::extract::{ApiPath, RawBody, parse_object};
use crate::secret::digest_hex;
use crate::spec::check_governance;
use crate::state::AppState;
use crate::store::{self, Status, StoredAnswer, VersionRefusal};
use crate::validate::check_persona;

/// `createdBy` of versions created through the API.
const CREATED_BY_API: &str = "api";

/// The agent-primitive list routes the reference CLI's compile reads that the devserver does not
/// model; answered with empty lists. (Skills, webhooks, jobs, pre/postprocessors and MCP servers
/// are served by `routes::primitives`.)
const PRIMITIVES: &[(&str, &str)] = &[
    ("/developer/triggers/{agentId}", "triggers"),
    ("/developer/devices/{agentId}", "devices"),
    ("/developer/device-triggers/{agentId}", "triggers"),
    ("/developer/voice-agents/{agentId}", "voices"),
    ("/developer/workflows/{agentId}", "workflows"),
];

/// The API routes, bare: `app` wraps them in the counter, fault and auth layers.
pub(crate) fn router() -> Router<AppState> {
    let mut r = Router::new()
        .route("/admin/agents/{agentId}", get(get_agent))
        .route("/agents/{baseAgentId}/sub-agent", patch(patch_sub_agent))
        .route(
            "/developer/agents/{agentId}/persona/versions",
            get(list_versions),
        )
        .route(
            "/developer/agents/{agentId}/persona/version",
            post(create_version),
        )
        .route(
            "/developer/agents/{agentId}/persona/version/{version}",
            post(deploy_version),
        );
    for &(path, key) in PRIMITIVES {
        r = r.route(
            path,
            get(
                move |state: State<AppState>, p: ApiPath<String>| async move {
                    primitive_list(state, p, key).await
                },
            ),
        );
    }
    r
}

/// The fields a sub-agent PATCH sets: every key but `id`, stored as given, after the checks
/// the platform makes (`API_CONTRACT.md`): `name` a string, `model` a string or null,
/// `governance` an object or null without `apiKey`; `createdDate` is the platform's own.
/// Other fields are data: stored and answered back, never dropped.
fn agent_patch(obj: &Map<String, Value>) -> Result<store::AgentPatch, ApiError> {
    let mut fields = Map::new();
    for (key, value) in obj {
        match (key.as_str(), value) {
            ("id", _) | ("name", Value::String(_)) | ("model", Value::String(_) | Value::Null) => {}
            ("name", _) => return Err(ApiError::bad_request("`name` must be a string")),
            ("model", _) => {
                return Err(ApiError::bad_request("`model` must be a string or null"));
            }
            ("governance", g) => check_governance(g).map_err(ApiError::bad_request)?,
            ("createdDate", _) => {
                return Err(ApiError::bad_request(
                    "`createdDate` is set by the platform and cannot be changed",
                ));
            }
            _ => {}
        }
        if key != "id" {
            fields.insert(key.clone(), value.clone());
        }
    }
    Ok(store::AgentPatch(fields))
}

/// An `X-Idempotency-Key` and the fingerprint of the request that carries it.
struct Idempotency {
    key: String,
    /// SHA-256 of the path and the body: a reuse of the key must repeat both.
    request: String,
}

/// The `X-Idempotency-Key` header, if any, with the request's fingerprint.
fn idempotency(
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = headers.get("x-idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(s) if !s.trim().is_empty() && s.len() <= 255 => Ok(Some(Idempotency {
            key: s.trim().to_owned(),
            request: digest_hex(&[uri.path().as_bytes(), body]),
        })),
        _ => Err(ApiError::bad_request(
            "`X-Idempotency-Key` must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// Runs a write in one immediate transaction, with idempotency: a key already seen for the agent
/// on this route replays the stored answer and `op` is not run (or, when the first request had
/// another path or body, answers 422 `IDEMPOTENCY_KEY_REUSED`); otherwise `op`'s answer is
/// stored with its effects, atomically.
async fn idempotent_write<F>(
    state: &AppState,
    route: &str,
    agent_id: String,
    idempotency: Option<Idempotency>,
    op: F,
) -> Response
where
    F: FnOnce(&Connection) -> rusqlite::Result<Answer> + Send + 'static,
{
    // Scoped by route too, so a key reused across endpoints never replays another endpoint's answer.
    let scoped = idempotency.map(|i| (format!("{route} {}", i.key), i));
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some((key, idem)) = &scoped
                && let Some(stored) = store::idempotent_get(&tx, &agent_id, key)?
            {
                if stored.request.as_ref().is_some_and(|r| *r != idem.request) {
                    return Ok((reused_key(&idem.key).answer(), false));
                }
                return Ok((from_stored(stored), true));
            }
            let answer = op(&tx)?;
            if let Some((key, idem)) = &scoped {
                store::idempotent_put(&tx, &agent_id, key, &stored(&answer, &idem.request))?;
            }
            tx.commit()?;
            Ok((answer, false))
        })
        .await;
    match result {
        Ok((answer, replayed)) => {
            let mut response = answer.into_response();
            if replayed {
                response
                    .headers_mut()
                    .insert("x-idempotent-replayed", HeaderValue::from_static("true"));
            }
            response
        }
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

async fn get_agent(State(state): State<AppState>, ApiPath(id): ApiPath<String>) -> Response {
    let lookup = id.clone();
    match state.db(move |conn| store::get_agent(conn, &lookup)).await {
        Ok(Some(agent)) => Answer::ok(StatusCode::OK, agent.to_json()).into_response(),
        Ok(None) => ApiError::agent_not_found(&id).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

async fn patch_sub_agent(
    State(state): State<AppState>,
    ApiPath(base): ApiPath<String>,
    headers: HeaderMap,
    uri: Uri,
    RawBody(body): RawBody,
) -> Response {
    let parsed = (|| {
        let key = idempotency(&headers, &uri, &body)?;
        let obj = parse_object(&body, false)?;
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => return Err(ApiError::bad_request("`id` must not be empty")),
            Some(_) => return Err(ApiError::bad_request("`id` must be a string")),
            None => return Err(ApiError::bad_request("`id` is required")),
        };
        let patch = agent_patch(&obj)?;
        Ok((key, format!("{base}_{id}"), patch))
    })();
    let (key, agent_id, patch) = match parsed {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let id = agent_id.clone();
    idempotent_write(
        &state,
        "PATCH /agents/{baseAgentId}/sub-agent",
        agent_id,
        key,
        move |conn| {
            Ok(match store::patch_agent(conn, &id, &patch)? {
                Some(agent) => Answer::ok(StatusCode::OK, agent.to_json()),
                None => ApiError::agent_not_found(&id).answer(),
            })
        },
    )
    .await
}

async fn list_versions(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(q)) => q,
        Err(e) => return ApiError::bad_request(e.body_text()).into_response(),
    };
    let only = match query.get("status").map(String::as_str) {
        None => None,
        Some(s) => match Status::parse(s) {
            Some(status) => Some(status),
            None => {
                return ApiError::bad_request(format!(
                    "Invalid `status` {s:?}: expected \"published\" or \"draft\""
                ))
                .into_response();
            }
        },
    };
    let lookup = id.clone();
    let result = state
        .db(move |conn| {
            let Some(agent) = store::get_agent(conn, &lookup)? else {
                return Ok(None);
            };
            store::list_versions(conn, &agent, only).map(Some)
        })
        .await;
    match result {
        Ok(Some(versions)) => {
            let list: Vec<Value> = versions.iter().map(store::Version::to_json).collect();
            Answer::ok(StatusCode::OK, json!({ "versions": list })).into_response()
        }
        Ok(None) => ApiError::agent_not_found(&id).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

async fn create_version(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    uri: Uri,
    RawBody(body): RawBody,
) -> Response {
    let key = match idempotency(&headers, &uri, &body) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    // Validated inside the transaction so a replayed key answers exactly as the first time.
    let persona = parse_object(&body, false).and_then(|obj| match obj.get("persona") {
        None => Err(ApiError::bad_request(
            "`persona` is required: a string or an object of strings",
        )),
        Some(p) => check_persona(p)
            .map(|()| p.clone())
            .map_err(ApiError::bad_request),
    });
    let agent_id = id.clone();
    idempotent_write(
        &state,
        "POST /developer/agents/{agentId}/persona/version",
        id,
        key,
        move |conn| {
            let persona = match persona {
                Ok(p) => p,
                Err(e) => return Ok(e.answer()),
            };
            let created = store::create_version(
                conn,
                &agent_id,
                &persona,
                Status::Published,
                CREATED_BY_API,
                store::now_ms(),
            )?;
            Ok(match created {
                Some(v) => Answer::ok(
                    StatusCode::CREATED,
                    json!({
                        "version": v.version,
                        "createdDate": v.created_date,
                        "status": v.status.as_str(),
                        "isCurrent": v.is_current,
                    }),
                ),
                None => ApiError::agent_not_found(&agent_id).answer(),
            })
        },
    )
    .await
}

async fn deploy_version(
    State(state): State<AppState>,
    ApiPath((id, version)): ApiPath<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    RawBody(body): RawBody,
) -> Response {
    let key = match idempotency(&headers, &uri, &body) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let checked = parse_object(&body, true).and_then(|_| {
        version
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "`version` must be a positive integer, not {version:?}"
                ))
            })
    });
    let agent_id = id.clone();
    idempotent_write(
        &state,
        "POST /developer/agents/{agentId}/persona/version/{version}",
        id,
        key,
        move |conn| {
            let n = match checked {
                Ok(n) => n,
                Err(e) => return Ok(e.answer()),
            };
            Ok(match store::deploy(conn, &agent_id, n)? {
                Ok(v) => Answer::ok(StatusCode::OK, v.to_json()),
                Err(VersionRefusal::NoSuchAgent) => ApiError::agent_not_found(&agent_id).answer(),
                Err(VersionRefusal::NoSuchVersion) => ApiError::new(
                    StatusCode::NOT_FOUND,
                    "VERSION_NOT_FOUND",
                    format!("Persona version {n} not found for agent {agent_id}"),
                )
                .answer(),
                Err(VersionRefusal::IsDraft | VersionRefusal::AlreadyPublished) => ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "VERSION_NOT_PUBLISHED",
                    format!("Persona version {n} is a draft: publish it before deploying it"),
                )
                .answer(),
            })
        },
    )
    .await
}

/// An empty primitive list: `{"<key>": []}`.
async fn primitive_list(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    key: &'static str,
) -> Response {
    let lookup = id.clone();
    match state.db(move |conn| store::get_agent(conn, &lookup)).await {
        Ok(Some(_)) => Answer::ok(StatusCode::OK, json!({ key: [] })).into_response(),
        Ok(None) => ApiError::agent_not_found(&id).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

fn stored(answer: &Answer, request: &str) -> StoredAnswer {
    StoredAnswer {
        status: answer.status.as_u16(),
        body: answer.body.clone(),
        request: Some(request.to_owned()),
    }
}

fn reused_key(key: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
        format!(
            "X-Idempotency-Key {key:?} was already used for a different request on this route \
             (another path or body): send a new key for a new request"
        ),
    )
}

fn from_stored(s: StoredAnswer) -> Answer {
    Answer {
        status: StatusCode::from_u16(s.status).unwrap_or(StatusCode::OK),
        body: s.body,
    }
}
