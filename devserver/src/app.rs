//! Builds the whole application: the route modules merged, with their layers, the JSON
//! fallbacks and the body limit.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;

use crate::http::auth::require_bearer;
use crate::http::error::not_found;
use crate::http::observe::{count_requests, inject_faults};
use crate::routes::{api, backup, control, dashboard, primitives};
use crate::state::AppState;

/// Largest accepted request body; bigger ones get 413.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

/// The whole application. API and dashboard share the `/agents` prefix but never a method and
/// path pair: the API only has `PATCH /agents/{baseAgentId}/sub-agent`.
pub(crate) fn router(state: AppState) -> Router {
    // Route layers run outermost last-added: counter, then faults, then auth, then the handler.
    let api = api::router()
        .merge(primitives::api_router())
        .merge(backup::api_router())
        .route_layer(from_fn_with_state(state.clone(), require_bearer))
        .route_layer(from_fn_with_state(state.clone(), inject_faults))
        .route_layer(from_fn_with_state(state.clone(), count_requests));
    let control = control::router(state.faults_enabled)
        .merge(primitives::control_router())
        .merge(backup::control_router())
        .route_layer(from_fn_with_state(state.clone(), require_bearer));
    // Blob downloads are counted and can be faulted like API requests, but carry no Bearer key:
    // their signature is the credential.
    let blobs = backup::blob_router()
        .route_layer(from_fn_with_state(state.clone(), inject_faults))
        .route_layer(from_fn_with_state(state.clone(), count_requests));
    Router::new()
        .merge(api)
        .merge(control)
        .merge(blobs)
        .merge(dashboard::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}
