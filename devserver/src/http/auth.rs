//! Authentication shared by the API and control routes: the `Authorization: Bearer` check.
//!
//! The rule is strict: the header is exactly `Bearer`, one space, then the key (case-sensitive
//! scheme, nothing before or after, no spaces inside). The key is compared by SHA-256 digest
//! in constant time (`secret::KeyDigest`), so neither its bytes nor its length show in timing.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::signin::Bearer;
use crate::state::{AppState, lock};

/// The token of a strict `Bearer <token>` header value, or `None`.
pub(crate) fn bearer_token(value: &HeaderValue) -> Option<&str> {
    let token = value.to_str().ok()?.strip_prefix("Bearer ")?;
    (!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())).then_some(token)
}

/// Bearer authentication for API and control routes (a no-op in insecure mode).
pub(crate) async fn require_bearer(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let Some(expected) = &state.auth else {
        return next.run(req).await;
    };
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return ApiError::unauthorized(
            "Missing Authorization header: expected `Bearer <LUA_API_KEY>`",
        )
        .into_response();
    };
    match bearer_token(value) {
        Some(token) if expected.matches(token) => next.run(req).await,
        // Or an ID token of lua-cli's e-mail sign-in (`signin`).
        Some(token) => {
            // The lock is released before the handler runs (a guard is not `Send`).
            let refused = match lock(&state.signins).bearer(token) {
                Bearer::Valid => None,
                Bearer::Revoked => Some(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "SESSION_REVOKED",
                    "This sign-in session was revoked",
                )),
                Bearer::Unknown => Some(ApiError::unauthorized("Invalid API key")),
            };
            match refused {
                None => next.run(req).await,
                Some(e) => e.into_response(),
            }
        }
        None => ApiError::unauthorized(
            "Malformed Authorization header: expected exactly `Bearer <LUA_API_KEY>` \
             (scheme `Bearer`, one space, the key)",
        )
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::bearer_token;
    use axum::http::HeaderValue;

    #[test]
    fn bearer_parsing_is_strict() {
        let parse = |s: &'static str| bearer_token(&HeaderValue::from_static(s)).map(str::to_owned);
        assert_eq!(parse("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(
            parse("Bearer a.b-c_d~e+f/g=").as_deref(),
            Some("a.b-c_d~e+f/g=")
        );
        for refused in [
            "bearer abc",
            "BEARER abc",
            "Bearer  abc",
            "Bearer\tabc",
            "Bearer abc def",
            "Bearer ",
            "Bearer",
            "Basic abc",
            " Bearer abc",
            "Bearerabc",
        ] {
            assert_eq!(parse(refused), None, "{refused:?}");
        }
    }
}
