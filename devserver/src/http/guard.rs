//! Layers that guard every route: the Host allow-list (DNS rebinding), the security headers on
//! every response, JSON bodies for every error answer, and `application/json` for API writes.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::state::AppState;

/// The headers every response carries, also hyper's own error answers (`serve`).
///
/// The CSP allows only same-origin styles, images and form targets: no script at all (the
/// dashboard has none), no framing.
pub(crate) const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
];

/// Adds [`SECURITY_HEADERS`] to every response.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(*name, HeaderValue::from_static(value));
    }
    response
}

/// The host the request addressed: the URI authority (HTTP/2, absolute-form) or `Host`.
pub(crate) fn request_host(req: &Request) -> Option<&str> {
    req.uri()
        .authority()
        .map(|a| a.as_str())
        .or_else(|| req.headers().get(header::HOST)?.to_str().ok())
}

/// Refuses requests whose Host is not allowed (421, JSON), before any route runs.
pub(crate) async fn check_host(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    match request_host(&req) {
        Some(host) if state.hosts.allows(host) => next.run(req).await,
        Some(host) => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "HOST_NOT_ALLOWED",
            format!(
                "Host {host:?} is not allowed: use localhost or 127.0.0.1, or start the \
                 devserver with --allow-host NAME"
            ),
        )
        .into_response(),
        None => ApiError::new(
            StatusCode::MISDIRECTED_REQUEST,
            "HOST_NOT_ALLOWED",
            "The request has no Host header",
        )
        .into_response(),
    }
}

/// Turns any error answer that is neither JSON nor a dashboard HTML page (axum's plain-text
/// rejections, empty bodies) into the JSON error body, keeping status and headers.
pub(crate) async fn json_errors(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if kind.starts_with("application/json") || kind.starts_with("text/html") {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("Error").to_owned()
    } else {
        text
    };
    let json = ApiError::new(status, "HTTP_ERROR", message)
        .body()
        .to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(json))
}

/// Whether a `Content-Type` value is JSON: `application/json`, any case, parameters allowed.
fn is_json(value: &HeaderValue) -> bool {
    value.to_str().is_ok_and(|v| {
        v.split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    })
}

/// API and control writes (POST, PUT, PATCH) must say `Content-Type: application/json`, even
/// with an empty body: a cross-site page can send `text/plain` or a form without a CORS
/// preflight, but not JSON. Otherwise 415, JSON.
pub(crate) async fn require_json(req: Request, next: Next) -> Response {
    let writes = matches!(*req.method(), Method::POST | Method::PUT | Method::PATCH);
    if !writes || req.headers().get(header::CONTENT_TYPE).is_some_and(is_json) {
        return next.run(req).await;
    }
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
        "Request bodies must be JSON: send `Content-Type: application/json`",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::is_json;
    use axum::http::HeaderValue;

    #[test]
    fn json_content_types() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            "application/json;",
        ] {
            assert!(is_json(&HeaderValue::from_static(ok)), "{ok}");
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/jsonp",
            "text/plain; application/json",
        ] {
            assert!(!is_json(&HeaderValue::from_static(refused)), "{refused}");
        }
    }
}
