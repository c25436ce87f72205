//! Transport: headers, envelope, retries, body limit, and the per-client read cache.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::OnceCell;
use tracing::debug;

use crate::error::{PlatformError, body_message, excerpt};

/// The real platform, used when nothing else is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.heylua.ai";
/// Per-attempt timeout of the reference CLI.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// GET retries after the first attempt (`server.retries` in `lua.toml`).
pub const DEFAULT_RETRIES: u32 = 2;
/// Largest response body accepted; a bigger one is a protocol error.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How much of an error response is read for its message: enough for any NestJS body.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// First backoff bound; doubled per retry, never above the reference's caps.
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The reference's backoff caps for retries 1, 2 and 3+.
const BACKOFF_CAPS: [Duration; 3] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
];
/// A `Retry-After` longer than this is shortened: a CLI run must not stall for minutes.
const RETRY_AFTER_CAP: Duration = Duration::from_secs(5);

const IDEMPOTENCY_KEY: &str = "x-idempotency-key";
const LUA_CLIENT: &str = "x-lua-client";

/// How to reach the platform. Built by the caller from `lua.toml` and the environment.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://api.heylua.ai`; a trailing `/` is trimmed.
    pub base_url: String,
    /// The API key (`LUA_API_KEY`). `None` (or blank): every request fails with
    /// [`PlatformError::MissingApiKey`] before anything is sent.
    pub api_key: Option<SecretString>,
    /// Timeout of one attempt, response body included.
    pub timeout: Duration,
    /// How many times a GET is retried after the first attempt.
    pub retries: u32,
    /// The CLI's version, sent as `X-Lua-Client: cli/<version>`.
    pub client_version: String,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A cached GET: every caller of one path awaits the same cell, so the request is made once.
type Slot = Arc<OnceCell<Result<Value, PlatformError>>>;

struct Inner {
    http: reqwest::Client,
    /// Trimmed base URL, as requests use it.
    base_url: String,
    /// The base URL as errors and logs show it (user-info removed).
    shown_base: String,
    /// `Bearer <key>`, marked sensitive; `None` when no key is configured.
    auth: Option<HeaderValue>,
    /// The trimmed key, kept only to scrub it from error text (a server may echo it back).
    secret: Option<SecretString>,
    lua_client: HeaderValue,
    timeout: Duration,
    retries: u32,
    cache: Mutex<HashMap<String, Slot>>,
}

/// The platform client. Cheap to clone (clones share the connection pool and the cache);
/// make one per run, so every component reads the same snapshot of the server.
#[derive(Clone)]
pub struct PlatformClient {
    inner: Arc<Inner>,
}

impl fmt::Debug for PlatformClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformClient")
            .field("base_url", &self.inner.shown_base)
            .field("api_key", &self.inner.auth.as_ref().map(|_| "[REDACTED]"))
            .field("timeout", &self.inner.timeout)
            .field("retries", &self.inner.retries)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Get,
    Post,
    Patch,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Patch => "PATCH",
        }
    }

    fn reqwest(self) -> reqwest::Method {
        match self {
            Self::Get => reqwest::Method::GET,
            Self::Post => reqwest::Method::POST,
            Self::Patch => reqwest::Method::PATCH,
        }
    }
}

/// The result of one attempt: final, or worth another try (after the given delay, if the
/// server asked for one).
enum Attempt {
    Done(Result<Value, PlatformError>),
    Retry {
        error: PlatformError,
        retry_after: Option<Duration>,
    },
}

impl PlatformClient {
    /// Builds the client. Fails only on a configuration that can never work (a base URL that
    /// is not http(s), a key or version that cannot be an HTTP header, a zero timeout); a
    /// missing key is not an error here, so commands that need no server still run.
    pub fn new(config: ClientConfig) -> Result<Self, PlatformError> {
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        let shown_base = check_base_url(&base_url)?;
        if config.timeout.is_zero() {
            return Err(PlatformError::InvalidConfig {
                reason: "the request timeout must be more than zero".to_owned(),
            });
        }
        let secret = config
            .api_key
            .as_ref()
            .map(|key| key.expose_secret().trim())
            .filter(|key| !key.is_empty())
            .map(|key| SecretString::from(key.to_owned()));
        let auth = match &secret {
            Some(key) => {
                let mut value = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| PlatformError::InvalidConfig {
                    reason: "LUA_API_KEY contains characters not allowed in an HTTP header"
                        .to_owned(),
                })?;
                value.set_sensitive(true);
                Some(value)
            }
            None => None,
        };
        let lua_client = HeaderValue::from_str(&format!("cli/{}", config.client_version.trim()))
            .map_err(|_| PlatformError::InvalidConfig {
                reason: format!(
                    "client version {:?} cannot be sent in an HTTP header",
                    config.client_version
                ),
            })?;

        // reqwest is built without a bundled crypto provider (avoids the aws-lc C build);
        // without one installed, building the client panics. Err means one is already set.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .tls_backend_rustls()
            .timeout(config.timeout)
            .build()
            .map_err(|e| PlatformError::InvalidConfig {
                reason: format!("cannot build the HTTP client: {e}"),
            })?;

        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url,
                shown_base,
                auth,
                secret,
                lua_client,
                timeout: config.timeout,
                retries: config.retries,
                cache: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The base URL requests go to (trailing `/` trimmed).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// GETs `path` (e.g. `/admin/agents/x`, query allowed) and returns the payload, the
    /// envelope removed.
    ///
    /// Cached per client by path: concurrent and later callers of the same path share one
    /// request and its result, errors included, so two components reading the agent see the
    /// same answer. Use [`PlatformClient::get_fresh`] to see the server's current state.
    pub async fn get(&self, path: &str) -> Result<Value, PlatformError> {
        if self.inner.auth.is_none() {
            return Err(PlatformError::MissingApiKey);
        }
        let path = normalise_path(path);
        let slot: Slot = Arc::clone(self.cache().entry(path.clone()).or_default());
        slot.get_or_init(|| self.request(Method::Get, &path, None))
            .await
            .clone()
    }

    /// GETs `path` bypassing the cache, then stores a successful answer for later
    /// [`PlatformClient::get`] calls (a failed fresh read leaves the cache as it was).
    pub async fn get_fresh(&self, path: &str) -> Result<Value, PlatformError> {
        let path = normalise_path(path);
        let result = self.request(Method::Get, &path, None).await;
        if let Ok(value) = &result {
            let slot = Arc::new(OnceCell::new_with(Some(Ok(value.clone()))));
            self.cache().insert(path, slot);
        }
        result
    }

    /// POSTs `body` as JSON to `path` and returns the payload. Sent with one idempotency key
    /// for all its attempts; retried only when the server certainly did not act on it
    /// (connect error) or asked for a retry (429/503 with `Retry-After`).
    /// Empties the read cache: what was read before may have changed.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, PlatformError> {
        self.write(Method::Post, path, body).await
    }

    /// PATCHes `body` as JSON to `path` and returns the payload. Same rules as
    /// [`PlatformClient::post`].
    pub async fn patch(&self, path: &str, body: &Value) -> Result<Value, PlatformError> {
        self.write(Method::Patch, path, body).await
    }

    /// The URL of `path` as errors show it.
    pub(crate) fn shown_url(&self, path: &str) -> String {
        format!("{}{}", self.inner.shown_base, normalise_path(path))
    }

    async fn write(
        &self,
        method: Method,
        path: &str,
        body: &Value,
    ) -> Result<Value, PlatformError> {
        let path = normalise_path(path);
        let result = self.request(method, &path, Some(body)).await;
        if !matches!(result, Err(PlatformError::MissingApiKey)) {
            // Even a failed write may have reached the server.
            self.cache().clear();
        }
        result
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // The map is only ever left consistent (single inserts), so a poisoned lock is usable.
        self.inner
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One logical request: attempts, retries, backoff. Errors are scrubbed of the API key
    /// before they are logged or returned.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PlatformError> {
        let auth = self
            .inner
            .auth
            .as_ref()
            .ok_or(PlatformError::MissingApiKey)?;
        let url = format!("{}{}", self.inner.base_url, path);
        let shown = format!("{}{}", self.inner.shown_base, path);
        let body = match body {
            Some(value) => {
                Some(
                    serde_json::to_vec(value).map_err(|e| PlatformError::InvalidConfig {
                        reason: format!("the request body for {shown} is not serialisable: {e}"),
                    })?,
                )
            }
            None => None,
        };
        // One key per logical write, reused by every retry, so the server can deduplicate.
        let idempotency = match method {
            Method::Get => None,
            Method::Post | Method::Patch => {
                HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).ok()
            }
        };
        // Writes use the same bound, but `attempt` allows them far fewer reasons to retry.
        let retries = self.inner.retries;

        let mut attempt: u32 = 0;
        loop {
            let started = Instant::now();
            let mut req = self
                .inner
                .http
                .request(method.reqwest(), &url)
                .header(AUTHORIZATION, auth.clone())
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .header(ACCEPT, HeaderValue::from_static("application/json"))
                .header(LUA_CLIENT, self.inner.lua_client.clone());
            if let Some(key) = &idempotency {
                req = req.header(IDEMPOTENCY_KEY, key.clone());
            }
            if let Some(bytes) = &body {
                req = req.body(bytes.clone());
            }
            let (status, outcome) = self.attempt(method, &shown, req).await;
            debug!(
                method = method.as_str(),
                url = %shown,
                status = status.unwrap_or(0),
                attempt = attempt + 1,
                elapsed_ms = millis(started.elapsed()),
                "platform request"
            );
            match outcome {
                Attempt::Done(Ok(value)) => return Ok(value),
                Attempt::Done(Err(error)) => return Err(self.scrub(error)),
                Attempt::Retry { error, retry_after } => {
                    let error = self.scrub(error);
                    if attempt >= retries {
                        return Err(error);
                    }
                    let delay =
                        retry_after.map_or_else(|| backoff(attempt), |d| d.min(RETRY_AFTER_CAP));
                    debug!(
                        method = method.as_str(),
                        url = %shown,
                        attempt = attempt + 1,
                        delay_ms = millis(delay),
                        error = %error,
                        "retrying platform request"
                    );
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
            }
        }
    }

    /// The error with the API key replaced, wherever the server may have echoed it.
    fn scrub(&self, error: PlatformError) -> PlatformError {
        match &self.inner.secret {
            Some(secret) => error.redact(secret.expose_secret()),
            None => error,
        }
    }

    /// Sends one attempt and classifies what came back (with the status, when one came).
    async fn attempt(
        &self,
        method: Method,
        shown: &str,
        req: reqwest::RequestBuilder,
    ) -> (Option<u16>, Attempt) {
        let is_get = method == Method::Get;
        let mut resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) => {
                let error = self.transport_error(shown, &e);
                // A write is retried only when it never reached the server.
                let outcome = if is_get || e.is_connect() {
                    Attempt::Retry {
                        error,
                        retry_after: None,
                    }
                } else {
                    Attempt::Done(Err(error))
                };
                return (None, outcome);
            }
        };
        let status = resp.status().as_u16();
        (Some(status), self.classify(is_get, shown, &mut resp).await)
    }

    /// Reads the answer of one attempt and decides: done, or worth another try.
    async fn classify(&self, is_get: bool, shown: &str, resp: &mut reqwest::Response) -> Attempt {
        let status = resp.status().as_u16();
        let success = resp.status().is_success();
        let limit = if success {
            MAX_BODY_BYTES
        } else {
            MAX_ERROR_BODY_BYTES
        };
        let (body, over) = match read_limited(resp, limit).await {
            Ok(read) => read,
            Err(e) => {
                let error = if e.is_timeout() {
                    self.transport_error(shown, &e)
                } else {
                    PlatformError::Protocol {
                        url: shown.to_owned(),
                        reason: format!(
                            "the response body was cut off (HTTP {status}): {}",
                            innermost_message(&e)
                        ),
                        excerpt: String::new(),
                    }
                };
                // The answer is lost; only a GET may safely ask again.
                return if is_get {
                    Attempt::Retry {
                        error,
                        retry_after: None,
                    }
                } else {
                    Attempt::Done(Err(error))
                };
            }
        };

        if success {
            if over {
                return Attempt::Done(Err(PlatformError::Protocol {
                    url: shown.to_owned(),
                    reason: "response body over 4 MiB".to_owned(),
                    excerpt: String::new(),
                }));
            }
            let parsed = parse_success(&body, status, shown);
            return Attempt::Done(match (&parsed, &self.inner.secret) {
                // Excerpt a scrubbed body, so a cut can never leave part of the key behind.
                (Err(_), Some(secret)) => {
                    parse_success(&redact_bytes(body, secret.expose_secret()), status, shown)
                }
                _ => parsed,
            });
        }

        // Scrub before excerpting, so a cut can never leave part of the key behind.
        let body = match &self.inner.secret {
            Some(secret) => redact_bytes(body, secret.expose_secret()),
            None => body,
        };
        let error = status_error(status, shown, &body);
        let retryable_status = status == 429 || (500..=504).contains(&status);
        if !retryable_status {
            return Attempt::Done(Err(error));
        }
        let retry_after = retry_after(resp.headers().get(RETRY_AFTER), &body);
        if is_get || ((status == 429 || status == 503) && retry_after.is_some()) {
            Attempt::Retry { error, retry_after }
        } else {
            Attempt::Done(Err(error))
        }
    }

    fn transport_error(&self, shown: &str, e: &reqwest::Error) -> PlatformError {
        if e.is_builder() {
            return PlatformError::InvalidConfig {
                reason: format!(
                    "cannot build a request for {shown}: {}",
                    innermost_message(e)
                ),
            };
        }
        if e.is_redirect() {
            return PlatformError::Protocol {
                url: shown.to_owned(),
                reason: format!("bad redirect: {}", innermost_message(e)),
                excerpt: String::new(),
            };
        }
        let reason = if e.is_timeout() {
            format!("no response within {:?}", self.inner.timeout)
        } else {
            network_reason(e)
        };
        PlatformError::Unreachable {
            url: shown.to_owned(),
            reason,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Validates the (already trimmed) base URL and returns the form errors may show.
fn check_base_url(base: &str) -> Result<String, PlatformError> {
    let invalid = |why: String| PlatformError::InvalidConfig {
        reason: format!("base URL {base:?} {why} (check LUA_API_URL)"),
    };
    let mut url = reqwest::Url::parse(base)
        .map_err(|_| invalid("is not a URL like https://api.heylua.ai".to_owned()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("must start with http:// or https://".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment".to_owned()));
    }
    if url.username().is_empty() && url.password().is_none() {
        return Ok(base.to_owned());
    }
    // Credentials in the URL must not reach error messages or logs.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// `body` with every occurrence of `secret` replaced (lossy UTF-8 only when it occurs).
fn redact_bytes(body: Vec<u8>, secret: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(&body);
    if secret.is_empty() || !text.contains(secret) {
        return body;
    }
    text.replace(secret, crate::error::REDACTED).into_bytes()
}

/// Paths always start with exactly one `/`, whatever the caller passed.
fn normalise_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// Reads at most `limit` bytes, chunk by chunk; the flag says the body was longer.
async fn read_limited(
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

/// A 2xx body: empty means no payload; a JSON object with `success` is the envelope;
/// anything else is the bare payload.
fn parse_success(body: &[u8], status: u16, url: &str) -> Result<Value, PlatformError> {
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

fn unwrap_envelope(value: Value, status: u16, url: &str) -> Result<Value, PlatformError> {
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

/// The error for a non-2xx status.
fn status_error(status: u16, url: &str, body: &[u8]) -> PlatformError {
    let message = body_message(body);
    let url = url.to_owned();
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

/// `Retry-After` in integer seconds (the HTTP-date form is ignored), else the NestJS body's
/// `retryAfterSeconds`.
fn retry_after(header: Option<&HeaderValue>, body: &[u8]) -> Option<Duration> {
    if let Some(secs) = header
        .and_then(|h| h.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
    {
        return Some(Duration::from_secs(secs));
    }
    serde_json::from_slice::<Value>(body)
        .ok()?
        .get("retryAfterSeconds")?
        .as_u64()
        .map(Duration::from_secs)
}

/// Upper bound of the full-jitter delay before retry number `attempt + 1`.
fn backoff_bound(attempt: u32) -> Duration {
    let cap = BACKOFF_CAPS[usize::try_from(attempt)
        .unwrap_or(usize::MAX)
        .min(BACKOFF_CAPS.len() - 1)];
    BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(cap)
}

/// Full jitter: uniform in `[0, bound]`, so clients that failed together do not retry
/// together.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(fastrand::u64(0..=millis(backoff_bound(attempt))))
}

/// A short cause for a failure to get a response at all.
fn network_reason(e: &reqwest::Error) -> String {
    use std::io::ErrorKind;
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            let known = match io.kind() {
                ErrorKind::ConnectionRefused => Some("connection refused"),
                ErrorKind::ConnectionReset => Some("connection reset by the server"),
                ErrorKind::ConnectionAborted => Some("connection aborted"),
                ErrorKind::UnexpectedEof => Some("connection closed before a response"),
                ErrorKind::HostUnreachable | ErrorKind::NetworkUnreachable => {
                    Some("host unreachable")
                }
                _ => None,
            };
            if let Some(known) = known {
                return known.to_owned();
            }
        }
        source = err.source();
    }
    if e.is_dns() {
        return format!("DNS lookup failed: {}", innermost_message(e));
    }
    innermost_message(e)
}

/// The deepest error message in the chain: the specific cause, without reqwest's wrapper
/// text (which repeats the URL).
fn innermost_message(e: &reqwest::Error) -> String {
    let mut last: Option<&(dyn std::error::Error + 'static)> = None;
    let mut source = std::error::Error::source(e);
    while let Some(err) = source {
        last = Some(err);
        source = err.source();
    }
    // Without a cause, reqwest's own text would only repeat the URL.
    last.map_or_else(
        || "request failed".to_owned(),
        |err| excerpt(&err.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn backoff_bounds_follow_the_caps() {
        assert_eq!(backoff_bound(0), Duration::from_millis(200));
        assert_eq!(backoff_bound(1), Duration::from_millis(400));
        assert_eq!(backoff_bound(2), Duration::from_millis(800));
        assert_eq!(backoff_bound(3), Duration::from_millis(1600));
        assert_eq!(
            backoff_bound(4),
            Duration::from_secs(3).saturating_add(Duration::from_millis(200))
        );
        assert_eq!(backoff_bound(5), Duration::from_secs(4));
        assert_eq!(backoff_bound(u32::MAX), Duration::from_secs(4));
        for attempt in 0..6 {
            assert!(backoff(attempt) <= backoff_bound(attempt));
        }
    }

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
    fn retry_after_header_then_body() {
        let h = HeaderValue::from_static(" 3 ");
        assert_eq!(retry_after(Some(&h), b""), Some(Duration::from_secs(3)));
        let date = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(retry_after(Some(&date), b""), None);
        assert_eq!(
            retry_after(None, br#"{"retryAfterSeconds": 2}"#),
            Some(Duration::from_secs(2))
        );
        assert_eq!(retry_after(None, b"not json"), None);
    }

    #[test]
    fn base_url_checks() {
        assert_eq!(
            check_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            check_base_url("https://user:pw@example.com/api").unwrap(),
            "https://example.com/api"
        );
        for bad in ["api.heylua.ai", "ftp://x", "http://h/?a=1", ""] {
            assert!(
                matches!(
                    check_base_url(bad),
                    Err(PlatformError::InvalidConfig { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn paths_get_one_leading_slash() {
        assert_eq!(normalise_path("admin/x"), "/admin/x");
        assert_eq!(normalise_path("//admin/x"), "/admin/x");
        assert_eq!(
            normalise_path("/admin/x?status=draft"),
            "/admin/x?status=draft"
        );
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
