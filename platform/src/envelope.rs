//! The answer's body: read with a size cap, the `{success, data}` envelope or a bare
//! payload, and the typed error of a non-2xx status. Knows nothing about retries.

use serde_json::Value;

use crate::error::{PlatformError, body_code, body_message, excerpt};

/// Reads at most `limit` bytes, chunk by chunk; the flag says the body was longer.
pub(crate) async fn read_limited(
    resp: &mut reqwest::Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut buf = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - buf.len();
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            return Ok((buf, true));
        }
        buf.extend_from_slice(&chunk);
    }
    Ok((buf, false))
}

/// `body` with every occurrence of `secret` replaced (lossy UTF-8 only when it occurs).
pub(crate) fn redact_bytes(body: Vec<u8>, secret: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(&body);
    if secret.is_empty() || !text.contains(secret) {
        return body;
    }
    text.replace(secret, crate::error::REDACTED).into_bytes()
}

/// A 2xx body: empty means no payload; a JSON object with `success` is the envelope;
/// anything else is the bare payload.
pub(crate) fn parse_success(body: &[u8], status: u16, url: &str) -> Result<Value, PlatformError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| PlatformError::Protocol {
        url: url.to_owned(),
        reason: format!("the response is not JSON ({e})"),
        excerpt: excerpt(&String::from_utf8_lossy(body)),
    })?;
    unwrap_envelope(value, status, url)
}

pub(crate) fn unwrap_envelope(
    value: Value,
    status: u16,
    url: &str,
) -> Result<Value, PlatformError> {
    let Value::Object(mut map) = value else {
        return Ok(value);
    };
    match map.get("success") {
        None => Ok(Value::Object(map)),
        Some(Value::Bool(true)) => Ok(map.remove("data").unwrap_or(Value::Null)),
        Some(Value::Bool(false)) => {
            let body = Value::Object(map).to_string();
            let message = body_message(body.as_bytes());
            Err(PlatformError::Rejected {
                url: url.to_owned(),
                status,
                message: if message.is_empty() {
                    "the platform answered success: false".to_owned()
                } else {
                    message
                },
            })
        }
        Some(_) => Err(PlatformError::Protocol {
            url: url.to_owned(),
            reason: "the envelope's \"success\" is neither true nor false".to_owned(),
            excerpt: excerpt(&Value::Object(map).to_string()),
        }),
    }
}

/// The error for a non-2xx, non-3xx status.
pub(crate) fn status_error(status: u16, url: &str, body: &[u8]) -> PlatformError {
    let message = body_message(body);
    let url = url.to_owned();
    let code = body_code(body);
    match (status, code.as_deref()) {
        (401, Some("SESSION_REVOKED")) => return PlatformError::SessionRevoked { url, message },
        (424, Some("PROVIDER_REJECTED")) => {
            return PlatformError::ProviderRejected { url, message };
        }
        _ => {}
    }
    match status {
        401 | 403 => PlatformError::Unauthorized {
            url,
            status,
            message,
        },
        404 => PlatformError::NotFound { url, message },
        429 | 500..=599 => PlatformError::Server {
            url,
            status,
            excerpt: message,
        },
        400..=499 => PlatformError::Rejected {
            url,
            status,
            message,
        },
        _ => PlatformError::Protocol {
            url,
            reason: format!("unexpected HTTP status {status}"),
            excerpt: message,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn envelope_and_bare_payloads() {
        let url = "http://h/x";
        assert_eq!(
            unwrap_envelope(json!({"success": true, "data": {"a": 1}}), 200, url).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            unwrap_envelope(json!({"success": true}), 200, url).unwrap(),
            Value::Null
        );
        assert_eq!(
            unwrap_envelope(json!({"a": 1}), 200, url).unwrap(),
            json!({"a": 1})
        );
        assert_eq!(
            unwrap_envelope(json!([1, 2]), 200, url).unwrap(),
            json!([1, 2])
        );
        let err =
            unwrap_envelope(json!({"success": false, "message": "nope"}), 200, url).unwrap_err();
        assert_eq!(
            err,
            PlatformError::Rejected {
                url: url.into(),
                status: 200,
                message: "nope".into()
            }
        );
        assert!(matches!(
            unwrap_envelope(json!({"success": "yes"}), 200, url),
            Err(PlatformError::Protocol { .. })
        ));
    }

    #[test]
    fn status_mapping() {
        let body = br#"{"statusCode":409,"message":"conflict here"}"#;
        assert!(matches!(
            status_error(409, "u", body),
            PlatformError::Rejected { status: 409, .. }
        ));
        assert!(matches!(
            status_error(403, "u", body),
            PlatformError::Unauthorized { status: 403, .. }
        ));
        assert!(matches!(
            status_error(429, "u", body),
            PlatformError::Server { status: 429, .. }
        ));
        assert!(matches!(
            status_error(505, "u", body),
            PlatformError::Server { status: 505, .. }
        ));
        assert!(matches!(
            status_error(304, "u", body),
            PlatformError::Protocol { .. }
        ));
    }
}
