//! Test-control routes under `/_devserver`: the API request counter and fault injection.
//!
//! Both only ever apply to API routes (never the dashboard nor these routes themselves).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::counter::Counter;
use crate::faults::parse_rule;
use crate::http::error::{Answer, ApiError};
use crate::http::extract::{RawBody, parse_object};
use crate::state::{AppState, lock};

/// `/_devserver/*`: the counter always, faults only when enabled. `app` puts Bearer auth in
/// front of all of them.
pub(crate) fn router(faults_enabled: bool) -> Router<AppState> {
    let mut r = Router::new().route(
        "/_devserver/requests",
        get(get_requests).delete(reset_requests),
    );
    if faults_enabled {
        r = r.route(
            "/_devserver/faults",
            post(add_fault).get(list_faults).delete(clear_faults),
        );
    }
    r
}

async fn get_requests(State(state): State<AppState>) -> Answer {
    Answer::ok(StatusCode::OK, lock(&state.counter).to_json())
}

async fn reset_requests(State(state): State<AppState>) -> Answer {
    let mut counter = lock(&state.counter);
    *counter = Counter::default();
    Answer::ok(StatusCode::OK, counter.to_json())
}

async fn add_fault(State(state): State<AppState>, RawBody(body): RawBody) -> Response {
    let rule = match parse_object(&body, false)
        .and_then(|obj| parse_rule(obj).map_err(ApiError::bad_request))
    {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let queued = lock(&state.faults).push(rule);
    Answer::ok(StatusCode::CREATED, json!({ "queued": queued })).into_response()
}

async fn list_faults(State(state): State<AppState>) -> Answer {
    let list = lock(&state.faults).to_json();
    Answer::ok(StatusCode::OK, json!({ "faults": list }))
}

async fn clear_faults(State(state): State<AppState>) -> Answer {
    let cleared = lock(&state.faults).clear();
    Answer::ok(StatusCode::OK, json!({ "cleared": cleared }))
}
