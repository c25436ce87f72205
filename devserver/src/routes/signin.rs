//! The emulated token endpoint of lua-cli's e-mail sign-in (`POST /_devserver/token?key=`,
//! form-encoded, no Bearer: the refresh token is the credential) and its test controls
//! (`POST /_devserver/signins` `{"uid"}` -> `{"refreshToken"}`, `POST
//! /_devserver/signins/{uid}` `{"state": "active"|"revoked"|"disabled"|"expired"}`, `GET
//! /_devserver/signins` -> `{"refreshes"}`). Data in `signin`.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use crate::http::error::{Answer, ApiError};
use crate::http::extract::{RawBody, parse_object};
use crate::signin::{Refresh, UserState};
use crate::state::{AppState, lock};

/// The token endpoint (outside Bearer auth).
pub(crate) fn token_router() -> Router<AppState> {
    Router::new().route("/_devserver/token", post(token))
}

/// The controls (behind Bearer auth, like every control route).
pub(crate) fn control_router() -> Router<AppState> {
    Router::new()
        .route("/_devserver/signins", post(sign_in).get(stats))
        .route("/_devserver/signins/{uid}", post(set_state))
}

async fn token(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let form: Vec<(String, String)> = form_pairs(&body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    match lock(&state.signins).refresh(field("grant_type"), field("refresh_token")) {
        Refresh::Ok {
            id_token,
            refresh_token,
            expires_in,
            uid,
        } => (
            StatusCode::OK,
            axum::Json(json!({
                "access_token": id_token, "id_token": id_token, "refresh_token": refresh_token,
                "expires_in": expires_in.to_string(), "token_type": "Bearer", "user_id": uid,
            })),
        )
            .into_response(),
        Refresh::Refused(message) => (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}),
            ),
        )
            .into_response(),
    }
}

/// `a=1&b=x%20y` (`+` is a space), as `application/x-www-form-urlencoded` says.
fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8_lossy()
            .into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

async fn sign_in(State(state): State<AppState>, RawBody(body): RawBody) -> Response {
    let obj = match parse_object(&body, false) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let Some(uid) = obj
        .get("uid")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
    else {
        return ApiError::bad_request("`uid` must be a non-empty string").into_response();
    };
    let mut signins = lock(&state.signins);
    if let Some(secs) = obj
        .get("idTokenSeconds")
        .and_then(serde_json::Value::as_u64)
    {
        signins.id_lifetime = secs;
    }
    let refresh_token = signins.sign_in(uid);
    Answer::ok(
        StatusCode::CREATED,
        json!({ "refreshToken": refresh_token }),
    )
    .into_response()
}

async fn set_state(
    State(state): State<AppState>,
    Path(uid): Path<String>,
    RawBody(body): RawBody,
) -> Response {
    let obj = match parse_object(&body, false) {
        Ok(o) => o,
        Err(e) => return e.into_response(),
    };
    let Some(new) = obj
        .get("state")
        .and_then(|v| v.as_str())
        .and_then(UserState::parse)
    else {
        return ApiError::bad_request("`state` must be active, revoked, disabled or expired")
            .into_response();
    };
    match lock(&state.signins).set_state(&uid, new) {
        Some(()) => Answer::ok(StatusCode::OK, json!({ "uid": uid })).into_response(),
        None => ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", format!("no user {uid}"))
            .into_response(),
    }
}

async fn stats(State(state): State<AppState>) -> Answer {
    Answer::ok(
        StatusCode::OK,
        json!({ "refreshes": lock(&state.signins).refreshes }),
    )
}
