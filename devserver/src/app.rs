//! Builds the whole application: the route modules merged, with their layers (auth, counter,
//! faults, JSON-only writes, Host check, security headers, JSON errors), the JSON fallbacks
//! and the body limit.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};

use crate::http::auth::require_bearer;
use crate::http::error::{method_not_allowed, not_found};
use crate::http::extract::BODY_LIMIT;
use crate::http::guard::{check_host, json_errors, require_json, security_headers};
use crate::http::observe::{count_requests, inject_faults};
use crate::routes::{api, backup, backup_push, control, dashboard, primitives, signin};
use crate::state::AppState;

/// The whole application. API and dashboard share the `/agents` prefix but never a method and
/// path pair: the API only has `PATCH /agents/{baseAgentId}/sub-agent`.
pub(crate) fn router(state: AppState) -> Router {
    // The last layer added runs first. API: counter, faults, auth, JSON-only, handler.
    let api = api::router()
        .merge(primitives::api_router())
        .merge(backup::api_router())
        .merge(backup_push::api_router())
        .route_layer(from_fn(require_json))
        .route_layer(from_fn_with_state(state.clone(), require_bearer))
        .route_layer(from_fn_with_state(state.clone(), inject_faults))
        .route_layer(from_fn_with_state(state.clone(), count_requests));
    let control = control::router(state.faults_enabled)
        .merge(primitives::control_router())
        .merge(signin::control_router())
        .merge(backup::control_router())
        .route_layer(from_fn(require_json))
        .route_layer(from_fn_with_state(state.clone(), require_bearer));
    // Blob downloads and the sign-in token endpoint are counted and can be faulted like API
    // requests, but carry no Bearer key: their signature (the refresh token) is the credential.
    let blobs = backup::blob_router()
        .merge(backup_push::blob_router())
        .merge(signin::token_router())
        .route_layer(from_fn_with_state(state.clone(), inject_faults))
        .route_layer(from_fn_with_state(state.clone(), count_requests));
    // Every route and the fallbacks: security headers, JSON errors, Host check, body limit.
    Router::new()
        .merge(api)
        .merge(control)
        .merge(blobs)
        .merge(dashboard::router(state.clone()))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn_with_state(state.clone(), check_host))
        .layer(from_fn(json_errors))
        .layer(from_fn(security_headers))
        .with_state(state)
}
