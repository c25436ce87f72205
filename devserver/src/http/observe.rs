//! The layers in front of the API routes that tests observe and steer: the request counter
//! (outermost, so refused and faulted requests are counted too) and fault injection, with
//! the responses a fault answers instead of the route.

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use serde_json::json;

use crate::faults::Effect;
use crate::http::error::ApiError;
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

fn json_response(status: StatusCode, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// The response a fault answers instead of the route.
fn fault_response(effect: Effect) -> Response {
    match effect {
        Effect::Status(status) => ApiError::new(
            status,
            "INJECTED_FAULT",
            format!("Injected fault: status {}", status.as_u16()),
        )
        .into_response(),
        Effect::Malformed(status) => json_response(
            status,
            "<!doctype html><title>Bad Gateway</title>injected malformed body, not JSON",
        ),
        Effect::Literal(status, body) => json_response(status, body),
        Effect::Truncated(status) => {
            let full = json!({"success": true, "data": {"versions": [{"version": 1, "persona": "this document was cut short by lua-devserver fault injection", "createdDate": 0, "isCurrent": true, "status": "published", "createdBy": "fault"}]}}).to_string();
            let cut = Bytes::from(full[..full.len() / 2].to_owned());
            // Send half, pause so hyper flushes it, then fail the body: hyper closes the
            // connection short of the promised Content-Length.
            let stream = futures::stream::iter([Ok::<_, std::io::Error>(cut)]).chain(
                futures::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err(std::io::Error::other("injected truncation"))
                }),
            );
            let mut r = json_response(status, Body::from_stream(stream));
            r.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(full.len()));
            r
        }
        Effect::Drop => {
            // A body that fails before yielding anything: hyper aborts the connection with the
            // response head still unsent, so the client sees a closed connection, no status.
            let stream = futures::stream::once(async {
                Err::<Bytes, _>(std::io::Error::other("injected connection drop"))
            });
            Response::new(Body::from_stream(stream))
        }
    }
}
