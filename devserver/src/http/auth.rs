//! Authentication shared by the API and control routes: the `Authorization: Bearer` check.

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::state::AppState;

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

/// Compares secrets without an early exit on the first differing byte.
pub(crate) fn same_secret(given: &str, expected: &str) -> bool {
    let (a, b) = (given.as_bytes(), expected.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::same_secret;

    #[test]
    fn same_secret_needs_equal_bytes() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc"));
        assert!(!same_secret("ab", "abc"));
        assert!(!same_secret("", "abc"));
    }
}
