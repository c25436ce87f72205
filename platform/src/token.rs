//! The token endpoint of lua-cli's e-mail sign-in sessions (API_CONTRACT "E-mail sign-in
//! sessions"): a refresh token in, a short-lived ID token (the bearer) and the next refresh
//! token out. One POST, no retries (a retry of a consumed refresh token would be refused),
//! 15 s timeout, redirects never followed.
//!
//! It only speaks HTTP: where the session lives, its lock and what to do with the answer
//! are the caller's. Secrets (both tokens) are held in [`SecretString`]s and never appear in
//! an error.

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use secrecy::{ExposeSecret, SecretString};

/// lua-cli's fixed token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://securetoken.googleapis.com/v1/token";
/// lua-cli's per-request timeout of the token endpoint.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(15);

/// The messages (in `error.message`) that mean the refresh token is dead.
const REJECTED: [&str; 6] = [
    "TOKEN_EXPIRED",
    "USER_DISABLED",
    "USER_NOT_FOUND",
    "INVALID_REFRESH_TOKEN",
    "INVALID_GRANT_TYPE",
    "MISSING_REFRESH_TOKEN",
];

/// A successful refresh.
#[derive(Debug)]
pub struct Refreshed {
    pub id_token: SecretString,
    /// The rotated refresh token: it replaces the stored one.
    pub refresh_token: SecretString,
    /// Seconds the ID token is valid for.
    pub expires_in: u64,
    pub user_id: String,
}

/// Why a refresh gave no token.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// The endpoint refused the refresh token for good: the session is dead.
    #[error("the sign-in service refused the session ({reason})")]
    Rejected { reason: String },
    /// No usable answer now (5xx, 429, another 4xx, a timeout, no connection): the session
    /// is kept, a later run may succeed.
    #[error("cannot refresh the sign-in session at {url}: {reason}")]
    Failed { url: String, reason: String },
}

/// Exchange `refresh_token` for an ID token at `token_url` (`?key=<web_api_key>` appended).
pub async fn refresh(
    token_url: &str,
    web_api_key: &str,
    refresh_token: &SecretString,
) -> Result<Refreshed, TokenError> {
    let shown = token_url.to_owned();
    let failed = |reason: String| TokenError::Failed {
        url: shown.clone(),
        reason,
    };
    // The run's transport: the environment's proxies and CAs apply here too.
    let transport = crate::transport::Transport::from_env().map_err(failed)?;
    let client = transport.http();
    let url = format!(
        "{token_url}?key={}",
        utf8_percent_encode(web_api_key, NON_ALPHANUMERIC)
    );
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        utf8_percent_encode(refresh_token.expose_secret(), NON_ALPHANUMERIC)
    );
    let response = client
        .post(&url)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .timeout(TOKEN_TIMEOUT)
        .send()
        .await
        .map_err(|e| {
            failed(if e.is_timeout() {
                format!("no answer within {}s", TOKEN_TIMEOUT.as_secs())
            } else {
                "no answer (connection failed)".to_owned()
            })
        })?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|_| failed(format!("HTTP {status}, the answer was cut off")))?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    if !(200..300).contains(&status) {
        let message = json
            .as_ref()
            .and_then(|j| j["error"]["message"].as_str())
            .map(|m| m.split(':').next().unwrap_or(m).trim().to_owned())
            .unwrap_or_default();
        let upper = message.to_ascii_uppercase();
        if status < 500
            && let Some(reason) = REJECTED.iter().find(|r| upper.contains(*r))
        {
            return Err(TokenError::Rejected {
                reason: (*reason).to_owned(),
            });
        }
        let message = crate::error::excerpt(&message);
        return Err(failed(if message.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {message}")
        }));
    }
    let json = json.ok_or_else(|| failed("the answer is not JSON".to_owned()))?;
    let text = |key: &str| {
        json[key]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| failed(format!("the answer has no \"{key}\"")))
    };
    // `expires_in` is seconds as a string (a number is accepted too).
    let expires_in = match &json["expires_in"] {
        serde_json::Value::String(s) => s.trim().parse::<u64>().ok(),
        v => v.as_u64(),
    }
    .filter(|s| *s > 0)
    .ok_or_else(|| failed("the answer's \"expires_in\" is not a positive number".to_owned()))?;
    Ok(Refreshed {
        id_token: SecretString::from(text("id_token")?),
        refresh_token: SecretString::from(text("refresh_token")?),
        expires_in,
        user_id: text("user_id")?,
    })
}
