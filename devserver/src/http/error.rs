//! The JSON answers every route and layer shares: the NestJS-style error body and the
//! success envelope. A leaf of the HTTP layer: it knows no route.

use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::error::DbError;

/// A NestJS-style error: `{"message", "statusCode", "error", "code"}`.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub(crate) fn agent_not_found(id: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "AGENT_NOT_FOUND",
            format!("Agent {id} not found"),
        )
    }

    pub(crate) fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
    }

    pub(crate) fn internal(e: &DbError) -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL_ERROR",
            format!("Internal server error: {}", e.0),
        )
    }

    /// The JSON error body.
    pub(crate) fn body(&self) -> Value {
        json!({
            "message": self.message,
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "code": self.code,
        })
    }

    /// The error as a complete answer (what idempotency stores).
    pub(crate) fn answer(&self) -> Answer {
        Answer {
            status: self.status,
            body: self.body().to_string(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.answer().into_response()
    }
}

/// A complete JSON answer (status and serialised body): what idempotency stores and replays.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    /// A success in the platform's envelope `{"success": true, "data": ...}`.
    pub(crate) fn ok(status: StatusCode, data: Value) -> Answer {
        Answer {
            status,
            body: json!({"success": true, "data": data}).to_string(),
        }
    }

    /// The same envelope around `data` serialised directly, without a `Value` in between
    /// (listings of hundreds of items); a value that cannot be serialised is a plain 500,
    /// never a success envelope.
    pub(crate) fn ok_serialized<T: serde::Serialize>(
        status: StatusCode,
        data: &T,
    ) -> Result<Answer, ApiError> {
        #[derive(serde::Serialize)]
        struct Envelope<'a, T> {
            success: bool,
            data: &'a T,
        }
        let envelope = Envelope {
            success: true,
            data,
        };
        serde_json::to_string(&envelope)
            .map(|body| Answer { status, body })
            .map_err(|e| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_ERROR",
                    format!("Internal server error: cannot serialise the answer: {e}"),
                )
            })
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json; charset=utf-8"),
            )],
            self.body,
        )
            .into_response()
    }
}

/// Answers a known path asked with another method: 405, JSON (axum adds `Allow`).
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        format!(
            "Cannot {method} {}: the path exists, the method does not",
            uri.path()
        ),
    )
}

/// Answers unknown routes like NestJS does.
pub(crate) async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "ROUTE_NOT_FOUND",
        format!("Cannot {method} {}", uri.path()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_the_nestjs_shape() {
        let e = ApiError::agent_not_found("x_1");
        assert_eq!(
            e.body(),
            json!({"message": "Agent x_1 not found", "statusCode": 404, "error": "Not Found", "code": "AGENT_NOT_FOUND"})
        );
    }
}
