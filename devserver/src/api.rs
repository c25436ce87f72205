//! The platform API (see `API_CONTRACT.md`): routes, envelope, NestJS-style errors, auth.
//!
//! Every answer is JSON. Axum's own plain-text rejections (bad path, bad body, too large) are
//! turned into the same error body, so a client never sees a non-JSON answer by accident.

use std::collections::HashMap;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use rusqlite::{Connection, TransactionBehavior};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::control;
use crate::seed::check_persona;
use crate::state::{AppState, DbError, same_secret};
use crate::store::{self, Status, StoredAnswer, VersionRefusal};

/// `createdBy` of versions created through the API.
const CREATED_BY_API: &str = "api";

/// The agent-primitive list routes the reference CLI's compile reads; answered with empty lists.
const PRIMITIVES: &[(&str, &str)] = &[
    ("/developer/skills/{agentId}", "skills"),
    ("/developer/webhooks/{agentId}", "webhooks"),
    ("/developer/triggers/{agentId}", "triggers"),
    ("/developer/jobs/{agentId}", "jobs"),
    ("/developer/preprocessors/{agentId}", "preprocessors"),
    ("/developer/postprocessors/{agentId}", "postprocessors"),
    ("/developer/devices/{agentId}", "devices"),
    ("/developer/device-triggers/{agentId}", "triggers"),
    ("/developer/voice-agents/{agentId}", "voices"),
    ("/developer/workflows/{agentId}", "workflows"),
];

/// The API routes, wrapped (outermost first) in: request counter, fault injection, auth.
pub(crate) fn router(state: AppState) -> Router<AppState> {
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
        )
        .route(
            "/developer/agents/{agentId}/mcp-servers",
            get(|state: State<AppState>, path: ApiPath<String>| async move {
                primitive_list(state, path, None).await
            }),
        );
    for &(path, key) in PRIMITIVES {
        r = r.route(
            path,
            get(
                move |state: State<AppState>, p: ApiPath<String>| async move {
                    primitive_list(state, p, Some(key)).await
                },
            ),
        );
    }
    r.route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_bearer,
    ))
    .route_layer(middleware::from_fn_with_state(
        state.clone(),
        control::inject_faults,
    ))
    .route_layer(middleware::from_fn_with_state(
        state,
        control::count_requests,
    ))
}

/// A NestJS-style error: `{"message", "statusCode", "error", "code"}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    fn agent_not_found(id: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "AGENT_NOT_FOUND",
            format!("Agent {id} not found"),
        )
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    fn internal(e: &DbError) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            format!("Internal server error: {}", e.0),
        )
    }

    /// The JSON error body.
    pub(crate) fn body(&self) -> Value {
        json!({
            "message": self.message,
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "code": self.code,
        })
    }

    fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            body: self.body().to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.answer().into_response()
    }
}

/// A complete JSON answer (status and serialised body): what idempotency stores and replays.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    /// A success in the platform's envelope `{"success": true, "data": ...}`.
    pub(crate) fn ok(status: StatusCode, data: Value) -> Answer {
        Answer {
            status,
            body: json!({"success": true, "data": data}).to_string(),
        }
    }

    fn stored(&self) -> StoredAnswer {
        StoredAnswer {
            status: self.status.as_u16(),
            body: self.body.clone(),
        }
    }

    fn from_stored(s: StoredAnswer) -> Answer {
        Answer {
            status: StatusCode::from_u16(s.status).unwrap_or(StatusCode::OK),
            body: s.body,
        }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            self.body,
        )
            .into_response()
    }
}

/// Answers unknown routes (and known paths with an unknown method) like NestJS does.
pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
        format!("Cannot {method} {}", uri.path()),
    )
}

/// Path parameters with a JSON rejection.
pub(crate) struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e: PathRejection| ApiError::bad_request(e.body_text()))
    }
}

/// The raw body, at most 1 MiB, with JSON rejections (413 when too large).
pub(crate) struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(RawBody)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "PAYLOAD_TOO_LARGE",
                        "Request body is larger than the 1 MiB limit",
                    )
                } else {
                    ApiError::new(e.status(), "INVALID_BODY", e.body_text())
                }
            })
    }
}

/// Parses a body that must be a JSON object. An empty body counts as `{}` when `allow_empty`.
pub(crate) fn parse_object(
    bytes: &[u8],
    allow_empty: bool,
) -> Result<Map<String, Value>, ApiError> {
    if allow_empty && bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(e) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
            format!("Request body is not valid JSON: {e}"),
        )),
    }
}

/// An optional string field: absent is `None`, anything but a string is a 400 naming the field.
fn optional_string(obj: &Map<String, Value>, field: &str) -> Result<Option<String>, ApiError> {
    match obj.get(field) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::bad_request(format!("`{field}` must be a string"))),
    }
}

/// The `X-Idempotency-Key` header, if any.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get("x-idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(s) if !s.trim().is_empty() && s.len() <= 255 => Ok(Some(s.trim().to_owned())),
        _ => Err(ApiError::bad_request(
            "`X-Idempotency-Key` must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// Bearer authentication for API and control routes (a no-op in insecure mode).
pub(crate) async fn require_bearer(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(expected) = state.api_key.as_deref() else {
        return next.run(req).await;
    };
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return ApiError::unauthorized(
            "Missing Authorization header: expected `Bearer <LUA_API_KEY>`",
        )
        .into_response();
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    match token {
        Some(token) if same_secret(token, expected) => next.run(req).await,
        _ => ApiError::unauthorized("Invalid API key").into_response(),
    }
}

/// Runs a write in one immediate transaction, with idempotency: a key already seen for the agent
/// on this route replays the stored answer and `op` is not run; otherwise `op`'s answer is
/// stored with its effects, atomically.
async fn idempotent_write<F>(
    state: &AppState,
    route: &str,
    agent_id: String,
    key: Option<String>,
    op: F,
) -> Response
where
    F: FnOnce(&Connection) -> rusqlite::Result<Answer> + Send + 'static,
{
    // Scoped by route too, so a key reused across endpoints never replays another endpoint's answer.
    let key = key.map(|k| format!("{route} {k}"));
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if let Some(key) = &key
                && let Some(stored) = store::idempotent_get(&tx, &agent_id, key)?
            {
                return Ok((Answer::from_stored(stored), true));
            }
            let answer = op(&tx)?;
            if let Some(key) = &key {
                store::idempotent_put(&tx, &agent_id, key, &answer.stored())?;
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
    RawBody(body): RawBody,
) -> Response {
    let parsed = (|| {
        let key = idempotency_key(&headers)?;
        let obj = parse_object(&body, false)?;
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::String(_)) => return Err(ApiError::bad_request("`id` must not be empty")),
            Some(_) => return Err(ApiError::bad_request("`id` must be a string")),
            None => return Err(ApiError::bad_request("`id` is required")),
        };
        let name = optional_string(&obj, "name")?;
        let model = optional_string(&obj, "model")?;
        Ok((key, format!("{base}_{id}"), name, model))
    })();
    let (key, agent_id, name, model) = match parsed {
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
            Ok(
                match store::update_agent(conn, &id, name.as_deref(), model.as_deref())? {
                    Some(agent) => Answer::ok(StatusCode::OK, agent.to_json()),
                    None => ApiError::agent_not_found(&id).answer(),
                },
            )
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
    RawBody(body): RawBody,
) -> Response {
    let key = match idempotency_key(&headers) {
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
    RawBody(body): RawBody,
) -> Response {
    let key = match idempotency_key(&headers) {
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

/// An empty primitive list: `{"<key>": []}`, or a bare `[]` when `key` is `None` (mcp-servers).
async fn primitive_list(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    key: Option<&'static str>,
) -> Response {
    let lookup = id.clone();
    match state.db(move |conn| store::get_agent(conn, &lookup)).await {
        Ok(Some(_)) => {
            let data = match key {
                Some(k) => json!({ k: [] }),
                None => json!([]),
            };
            Answer::ok(StatusCode::OK, data).into_response()
        }
        Ok(None) => ApiError::agent_not_found(&id).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_nestjs_shape() {
        let e = ApiError::agent_not_found("x_1");
        assert_eq!(
            e.body(),
            json!({"message": "Agent x_1 not found", "statusCode": 404, "error": "Not Found", "code": "AGENT_NOT_FOUND"})
        );
    }

    #[test]
    fn parse_object_messages() {
        assert!(parse_object(b"  ", true).unwrap().is_empty());
        let e = parse_object(b"", false).unwrap_err();
        assert_eq!(e.code, "INVALID_JSON");
        let e = parse_object(b"[1]", false).unwrap_err();
        assert!(e.message.contains("JSON object"));
        let e = parse_object(b"{\"a\":", false).unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
    }
}
