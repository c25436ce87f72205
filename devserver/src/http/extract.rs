//! Request extractors with JSON rejections (so axum's plain-text rejections never reach a
//! client) and the body parsing every JSON route shares.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{StatusCode, request::Parts};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::http::error::ApiError;

/// Largest accepted request body; bigger ones get 413.
pub(crate) const BODY_LIMIT: usize = 1024 * 1024;

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

/// Parses a JSON body into `T`; serde's message names the field, line and column.
pub(crate) fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_JSON",
                format!("Request body is not valid JSON: {e}"),
            )
        } else {
            ApiError::bad_request(format!("Invalid request body: {e}"))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
