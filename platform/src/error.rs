//! The one error type of this crate.
//!
//! Every variant stores owned strings, never a source error: errors are cached and shared
//! between callers (single-flight reads), so they must be `Clone`. URLs are the base URL plus
//! the path, with any user-info removed; the API key is never part of any variant.

use std::fmt::Write as _;

/// What replaces the API key wherever a server echoed it back.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Longest body excerpt kept in an error, in characters.
pub(crate) const EXCERPT_CHARS: usize = 200;

/// What can go wrong talking to the Lua platform.
///
/// Only [`PlatformError::Unreachable`] (and a [`PlatformError::DeadlineExceeded`] without any
/// answer) means "the server could not be asked"; every other
/// variant means the server (or the caller's input) gave a definite, non-usable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlatformError {
    /// No API key was configured; no request was sent.
    #[error("no API key: set LUA_API_KEY")]
    MissingApiKey,

    /// The client configuration cannot work (bad base URL, a key or version that is not a
    /// valid HTTP header value). Found before any request is sent.
    #[error("invalid platform client configuration: {reason}")]
    InvalidConfig {
        /// What is wrong, naming the setting.
        reason: String,
    },

    /// The agent id cannot be used to build a request; no request was sent.
    #[error("invalid agent id {agent_id:?}: {reason}")]
    InvalidAgentId {
        /// The agent id as given.
        agent_id: String,
        /// Why it is unusable.
        reason: String,
    },

    /// The server could not be asked: connection refused, DNS failure, timeout, connection
    /// dropped before a response arrived.
    #[error("cannot reach the Lua platform at {url}: {reason}")]
    Unreachable {
        /// The URL requested.
        url: String,
        /// Short, human cause ("connection refused", "no response within 30s", ...).
        reason: String,
    },

    /// The server's TLS certificate failed verification (or the TLS handshake failed). Not
    /// "unreachable": something answered, and it could not be trusted. Never retried, never
    /// retried over plain HTTP.
    #[error(
        "cannot trust the Lua platform at {url}: the certificate of {host} {problem}; {remedy}"
    )]
    Tls {
        /// The URL requested.
        url: String,
        /// The host whose certificate it is.
        host: String,
        /// What is wrong, in words ("has expired").
        problem: String,
        /// What to do about it (which variable adds a CA, ...).
        remedy: String,
    },

    /// One request got no answer (timed out, dropped) while the server answered the run's
    /// other requests: not "unreachable" (the server is there), an error of the component
    /// that made it. See [`PlatformError::answered_elsewhere`].
    #[error(
        "no answer from the Lua platform at {url} ({reason}), though it answered this run's other requests; not checked"
    )]
    Unanswered {
        /// The URL requested.
        url: String,
        /// Why there was no answer.
        reason: String,
    },

    /// 401 (bad or expired key) or 403 (no access to this agent).
    #[error("{}", unauthorized_message(url, *status, message))]
    Unauthorized {
        /// The URL requested.
        url: String,
        /// 401 or 403.
        status: u16,
        /// The server's message (NestJS `message`), cut short.
        message: String,
    },

    /// 404: unknown agent or route.
    #[error("not found on the Lua platform (HTTP 404) at {url}{}", detail(message))]
    NotFound {
        /// The URL requested.
        url: String,
        /// The server's message, cut short.
        message: String,
    },

    /// 424 with the code `PROVIDER_REJECTED`: the model provider behind the agent refused
    /// (lua-cli's exit 12). A retry fails the same way.
    #[error(
        "the model provider behind this agent refused the request (HTTP 424) at {url}{}; check the agent's model settings and provider key",
        detail(message)
    )]
    ProviderRejected {
        /// The URL requested.
        url: String,
        /// The server's message, cut short.
        message: String,
    },

    /// 401 with the code `SESSION_REVOKED`: the e-mail sign-in session behind the bearer
    /// was revoked on the platform (the CLI then signs the session out).
    #[error(
        "the Lua platform revoked this sign-in session (HTTP 401) at {url}{}",
        detail(message)
    )]
    SessionRevoked {
        /// The URL requested.
        url: String,
        /// The server's message, cut short.
        message: String,
    },

    /// 5xx, or 429 after the retries ran out.
    #[error("{}", server_message(url, *status, excerpt))]
    Server {
        /// The URL requested.
        url: String,
        /// The last status received.
        status: u16,
        /// The server's message or the start of its body, cut short.
        excerpt: String,
    },

    /// Any other 4xx (400, 409, 413, 422, ...), or a `{"success": false}` envelope.
    #[error(
        "the Lua platform rejected the request (HTTP {status}) at {url}{}",
        detail(message)
    )]
    Rejected {
        /// The URL requested.
        url: String,
        /// The status received.
        status: u16,
        /// The server's message, cut short.
        message: String,
    },

    /// The server answered with a redirect (3xx). Never followed: a write would reach
    /// another server (which could "confirm" it), and a read would compare against another
    /// server's values.
    #[error(
        "the Lua platform at {url} answered HTTP {status}, a redirect to {location}; lua does not follow redirects: set the API URL (LUA_API_URL or server.url) to the server that answers"
    )]
    Redirected {
        /// The URL requested.
        url: String,
        /// The 3xx status.
        status: u16,
        /// Where the server pointed (`Location`, resolved, user-info removed), cut short.
        location: String,
    },

    /// The run's network budget ran out before the request got an answer (retries and
    /// backoff included).
    #[error(
        "gave up on {url}: no answer within this run's network deadline of {} (raise server.deadline_secs in lua.toml, or LUA_SERVER__DEADLINE_SECS){}",
        seconds(*limit),
        last_error(last)
    )]
    DeadlineExceeded {
        /// The URL requested.
        url: String,
        /// The budget.
        limit: std::time::Duration,
        /// The last attempt's error, if an attempt failed before the budget ran out.
        last: String,
        /// True when the server never answered at all (no status received).
        unreachable: bool,
    },

    /// The server answered, but not with something this client understands: not JSON, the
    /// wrong shape, a body over the size limit, a body cut off mid-way.
    #[error(
        "unexpected answer from the Lua platform at {url}: {reason}{}",
        detail(excerpt)
    )]
    Protocol {
        /// The URL requested.
        url: String,
        /// What was wrong with the answer.
        reason: String,
        /// The start of the offending body or value, cut short (may be empty).
        excerpt: String,
    },
}

impl PlatformError {
    /// True when the server could not be asked at all (the only error that the
    /// `on_unreachable` policy may turn into a warning).
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. }
                | Self::DeadlineExceeded {
                    unreachable: true,
                    ..
                }
        )
    }

    /// Whether this error carries an answer of the server (a status, a body, an answer
    /// given before a later attempt failed): proof the server was reachable in this run.
    pub fn server_answered(&self) -> bool {
        match self {
            Self::Unauthorized { .. }
            | Self::NotFound { .. }
            | Self::Server { .. }
            | Self::Rejected { .. }
            | Self::Redirected { .. }
            | Self::ProviderRejected { .. }
            | Self::SessionRevoked { .. }
            | Self::Protocol { .. } => true,
            Self::DeadlineExceeded { unreachable, .. } => !unreachable,
            Self::MissingApiKey
            | Self::InvalidConfig { .. }
            | Self::InvalidAgentId { .. }
            | Self::Unreachable { .. }
            // Something answered the handshake, but not provably the platform.
            | Self::Tls { .. }
            | Self::Unanswered { .. } => false,
        }
    }

    /// This error, for a request made while the server answered others in the same run:
    /// "unreachable" becomes an error of the request ([`PlatformError::Unanswered`], or a
    /// deadline spent without an answer). Other errors are unchanged.
    pub fn answered_elsewhere(self) -> Self {
        match self {
            Self::Unreachable { url, reason } => Self::Unanswered { url, reason },
            Self::DeadlineExceeded {
                url,
                limit,
                last,
                unreachable: true,
            } => Self::Unanswered {
                url,
                reason: format!(
                    "none within this run's network deadline of {}, server.deadline_secs{}",
                    seconds(limit),
                    last_error(&last)
                ),
            },
            other => other,
        }
    }

    /// The URL the failed request went to, when a request was made.
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::MissingApiKey | Self::InvalidConfig { .. } | Self::InvalidAgentId { .. } => None,
            Self::Unreachable { url, .. }
            | Self::Tls { url, .. }
            | Self::Unanswered { url, .. }
            | Self::Unauthorized { url, .. }
            | Self::NotFound { url, .. }
            | Self::Server { url, .. }
            | Self::Rejected { url, .. }
            | Self::ProviderRejected { url, .. }
            | Self::SessionRevoked { url, .. }
            | Self::Redirected { url, .. }
            | Self::DeadlineExceeded { url, .. }
            | Self::Protocol { url, .. } => Some(url),
        }
    }

    /// The HTTP status behind the error, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Unauthorized { status, .. }
            | Self::Server { status, .. }
            | Self::Rejected { status, .. }
            | Self::Redirected { status, .. } => Some(*status),
            Self::NotFound { .. } => Some(404),
            Self::ProviderRejected { .. } => Some(424),
            Self::SessionRevoked { .. } => Some(401),
            _ => None,
        }
    }
}

impl PlatformError {
    /// The same error with every occurrence of `secret` replaced by [`REDACTED`].
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        if secret.is_empty() {
            return self;
        }
        for text in self.texts_mut() {
            if text.contains(secret) {
                *text = text.replace(secret, REDACTED);
            }
        }
        self
    }

    /// Every text the error carries (URLs, reasons, messages, excerpts): what [`redact`]
    /// must see. The match is exhaustive so a new variant cannot be forgotten.
    ///
    /// [`redact`]: Self::redact
    fn texts_mut(&mut self) -> Vec<&mut String> {
        match self {
            Self::MissingApiKey => Vec::new(),
            Self::InvalidConfig { reason } => vec![reason],
            Self::InvalidAgentId {
                agent_id: a,
                reason: b,
            }
            | Self::Unreachable { url: a, reason: b }
            | Self::Unanswered { url: a, reason: b } => vec![a, b],
            Self::Unauthorized {
                url, message: b, ..
            }
            | Self::NotFound { url, message: b }
            | Self::ProviderRejected { url, message: b }
            | Self::SessionRevoked { url, message: b }
            | Self::Server {
                url, excerpt: b, ..
            }
            | Self::Rejected {
                url, message: b, ..
            }
            | Self::Redirected {
                url, location: b, ..
            }
            | Self::DeadlineExceeded { url, last: b, .. } => vec![url, b],
            Self::Protocol {
                url,
                reason,
                excerpt,
            } => vec![url, reason, excerpt],
            Self::Tls {
                url,
                host,
                problem,
                remedy,
            } => vec![url, host, problem, remedy],
        }
    }
}

fn unauthorized_message(url: &str, status: u16, message: &str) -> String {
    if status == 401 {
        format!(
            "the Lua platform rejected the API key (HTTP 401) at {url}{}; check LUA_API_KEY",
            detail(message)
        )
    } else {
        format!(
            "the API key has no access to this agent (HTTP {status}) at {url}{}",
            detail(message)
        )
    }
}

fn server_message(url: &str, status: u16, excerpt: &str) -> String {
    let what = if status == 429 {
        "the Lua platform is rate limiting this client"
    } else {
        "the Lua platform failed"
    };
    format!("{what} (HTTP {status}) at {url}{}", detail(excerpt))
}

/// `120s`, or `0.3s` for a budget that is not whole seconds.
fn seconds(d: std::time::Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

fn last_error(last: &str) -> String {
    if last.is_empty() {
        String::new()
    } else {
        format!("; last error: {last}")
    }
}

/// `": text"`, or nothing when there is no text, so messages never end in a dangling colon.
fn detail(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// One line of at most [`EXCERPT_CHARS`] characters: whitespace runs (newlines included)
/// collapse to one space, control characters are dropped, and a cut is marked with `…`.
pub(crate) fn excerpt(text: &str) -> String {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut pending_space = false;
    for c in text.trim().chars() {
        if c.is_whitespace() {
            pending_space = true;
            continue;
        }
        if c.is_control() {
            continue;
        }
        let needed = usize::from(pending_space) + 1;
        if chars + needed > EXCERPT_CHARS {
            out.push('…');
            return out;
        }
        if pending_space {
            out.push(' ');
            chars += 1;
            pending_space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// The human message of a NestJS-style error body: `message` (a string, or a list of strings
/// for validation errors), else `error`, else the start of the raw body.
/// The body's machine-readable code: NestJS `code`, else `error` when it is UPPER_SNAKE.
pub(crate) fn body_code(body: &[u8]) -> Option<String> {
    let serde_json::Value::Object(map) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    ["code", "error"].iter().find_map(|k| match map.get(*k) {
        Some(serde_json::Value::String(s))
            if !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
        {
            Some(s.clone())
        }
        _ => None,
    })
}

pub(crate) fn body_message(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text) {
        match map.get("message") {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => return excerpt(s),
            Some(serde_json::Value::Array(items)) if !items.is_empty() => {
                let mut joined = String::new();
                for item in items {
                    if !joined.is_empty() {
                        joined.push_str("; ");
                    }
                    match item {
                        serde_json::Value::String(s) => joined.push_str(s),
                        other => {
                            let _ = write!(joined, "{other}");
                        }
                    }
                }
                return excerpt(&joined);
            }
            _ => {}
        }
        if let Some(serde_json::Value::String(s)) = map.get("error")
            && !s.trim().is_empty()
        {
            return excerpt(s);
        }
    }
    excerpt(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_is_one_line_and_cut() {
        assert_eq!(excerpt("  a\n\n b\tc  "), "a b c");
        let long = "x".repeat(500);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
        assert!(cut.ends_with('…'));
        assert_eq!(
            excerpt(&"y".repeat(EXCERPT_CHARS)),
            "y".repeat(EXCERPT_CHARS)
        );
        assert_eq!(excerpt("a\u{7}b"), "ab");
    }

    #[test]
    fn body_message_prefers_nest_message() {
        assert_eq!(
            body_message(br#"{"statusCode":404,"message":"Agent not found","error":"Not Found"}"#),
            "Agent not found"
        );
        assert_eq!(
            body_message(br#"{"message":["name must be a string","id is required"]}"#),
            "name must be a string; id is required"
        );
        assert_eq!(body_message(br#"{"error":"Bad Request"}"#), "Bad Request");
        assert_eq!(body_message(b"<html>oops</html>"), "<html>oops</html>");
        assert_eq!(body_message(b""), "");
    }

    #[test]
    fn display_has_no_dangling_colon() {
        let e = PlatformError::NotFound {
            url: "http://h/x".into(),
            message: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "not found on the Lua platform (HTTP 404) at http://h/x"
        );
    }

    #[test]
    fn no_answer_while_others_answered_is_not_unreachable() {
        let unreachable = PlatformError::Unreachable {
            url: "u".into(),
            reason: "no response within 1s".into(),
        };
        assert!(!unreachable.server_answered());
        let e = unreachable.answered_elsewhere();
        assert!(!e.is_unreachable());
        assert!(e.to_string().contains("though it answered"), "{e}");
        let deadline = PlatformError::DeadlineExceeded {
            url: "u".into(),
            limit: std::time::Duration::from_secs(2),
            last: String::new(),
            unreachable: true,
        };
        let e = deadline.answered_elsewhere();
        assert!(!e.is_unreachable());
        assert!(e.to_string().contains("deadline of 2s"), "{e}");
        let answered = PlatformError::Server {
            url: "u".into(),
            status: 500,
            excerpt: String::new(),
        };
        assert!(answered.server_answered());
        assert_eq!(answered.clone().answered_elsewhere(), answered);
    }

    #[test]
    fn redact_replaces_the_secret_everywhere() {
        let e = PlatformError::Protocol {
            url: "http://h/sk-1".into(),
            reason: "saw sk-1".into(),
            excerpt: "sk-1 sk-1".into(),
        }
        .redact("sk-1");
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains("sk-1"), "{shown}");
        assert!(shown.contains("[REDACTED] [REDACTED]"), "{shown}");
    }

    #[test]
    fn url_and_status_accessors() {
        let e = PlatformError::Server {
            url: "http://h/x".into(),
            status: 502,
            excerpt: "bad".into(),
        };
        assert_eq!(e.url(), Some("http://h/x"));
        assert_eq!(e.status(), Some(502));
        assert!(!e.is_unreachable());
        assert_eq!(PlatformError::MissingApiKey.url(), None);
        let u = PlatformError::Unreachable {
            url: "http://h/x".into(),
            reason: "r".into(),
        };
        assert!(u.is_unreachable());
        assert_eq!(u.status(), None);
    }
}
