//! The layers in front of the API routes that tests observe and steer: the request counter
//! (outermost, so refused and faulted requests are counted too) and fault injection.

use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::faults::fault_response;
use crate::state::{AppState, lock};

/// Counts every request that reached an API route, before faults and auth.
pub(crate) async fn count_requests(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    let key = format!("{} {route}", req.method());
    lock(&state.counter).record(key);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    tracing::info!("{method} {path} -> {}", response.status().as_u16());
    response
}

/// Applies the first matching fault, if fault injection is on.
pub(crate) async fn inject_faults(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if !state.faults_enabled {
        return next.run(req).await;
    }
    let (latency, effect) = lock(&state.faults).take(req.method(), req.uri().path());
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    match effect {
        None => next.run(req).await,
        Some(effect) => fault_response(effect),
    }
}
