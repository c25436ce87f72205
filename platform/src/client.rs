//! The client: configuration, headers, one logical request (attempts, retries, the run's
//! deadline) and the classification of each answer. The seams live in their own modules:
//! [`crate::retry`] (policy and backoff), [`crate::cache`] (per-run reads),
//! [`crate::envelope`] (bodies and statuses), [`crate::urls`] (URLs), [`crate::deadline`]
//! (the network budget) and [`crate::tls`] (lazily loaded trust store).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, LOCATION, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::debug;

use crate::cache::ReadCache;
use crate::deadline::Budget;
use crate::envelope::{parse_success, read_limited, redact_bytes, status_error};
use crate::error::{PlatformError, excerpt};
use crate::proxy::Proxy;
use crate::retry::{self, Attempt, millis};
use crate::transport::Transport;
use crate::urls::{check_base_url, normalise_path, redirect_target};

/// The real platform, used when nothing else is configured.
pub const DEFAULT_BASE_URL: &str = "https://api.heylua.ai";
/// Per-attempt timeout of the reference CLI.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// GET retries after the first attempt (`server.retries` in `lua.toml`).
pub const DEFAULT_RETRIES: u32 = 2;
/// The network budget of one client (`server.deadline_secs`): enough for the default
/// timeout and retries of a few requests, short enough that CI never hangs.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(120);
/// Largest response body accepted; a bigger one is a protocol error.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// How much of an error response is read for its message: enough for any NestJS body.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

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
    /// The client's network budget: time with at least one request in flight (attempts
    /// and backoff), summed over the client's life. When it runs out, requests fail with
    /// [`PlatformError::DeadlineExceeded`]. `None`: only the per-attempt timeout bounds.
    pub deadline: Option<Duration>,
    /// The connections to share (one per host for a whole run, however many clients).
    /// `None`: a transport of its own, from the environment ([`Transport::from_env`]).
    pub transport: Option<Transport>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            api_key: None,
            timeout: DEFAULT_TIMEOUT,
            retries: DEFAULT_RETRIES,
            client_version: env!("CARGO_PKG_VERSION").to_owned(),
            deadline: Some(DEFAULT_DEADLINE),
            transport: None,
        }
    }
}

struct Inner {
    transport: Transport,
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
    budget: Budget,
    cache: ReadCache,
}

/// The platform client. Cheap to clone (clones share the connection pool, the cache and
/// the network budget); make one per run, so every component reads the same snapshot of
/// the server.
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
            .field("deadline", &self.inner.budget.limit())
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

/// One logical request, as every attempt sends it.
struct Request<'a> {
    method: Method,
    url: String,
    shown: String,
    auth: &'a HeaderValue,
    body: Option<Vec<u8>>,
    /// One key per logical write, reused by every retry, so the server can deduplicate.
    idempotency: Option<HeaderValue>,
}

impl PlatformClient {
    /// Builds the client. Fails only on a configuration that can never work (a base URL that
    /// is not http(s), a key or version that cannot be an HTTP header, a zero timeout); a
    /// missing key is not an error here, so commands that need no server still run.
    pub fn new(config: ClientConfig) -> Result<Self, PlatformError> {
        let base_url = config.base_url.trim().trim_end_matches('/').to_owned();
        let shown_base = check_base_url(&base_url)?;
        if config.timeout.is_zero() {
            return Err(invalid("the request timeout must be more than zero"));
        }
        if config.deadline.is_some_and(|d| d.is_zero()) {
            return Err(invalid("the network deadline must be more than zero"));
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
                    .map_err(|_| {
                    invalid("LUA_API_KEY contains characters not allowed in an HTTP header")
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
        let transport = match config.transport {
            Some(transport) => transport,
            None => {
                Transport::from_env().map_err(|reason| PlatformError::InvalidConfig { reason })?
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                transport,
                base_url,
                shown_base,
                auth,
                secret,
                lua_client,
                timeout: config.timeout,
                retries: config.retries,
                budget: Budget::new(config.deadline),
                cache: ReadCache::default(),
            }),
        })
    }

    /// The base URL requests go to (trailing `/` trimmed).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The connections this client uses: hand it to other clients of the same run.
    pub fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// GETs `path` (e.g. `/admin/agents/x`, query allowed) and returns the payload, the
    /// envelope removed.
    ///
    /// Cached per client by path: concurrent and later callers of the same path share one
    /// request and its result, errors included, so two components reading the agent see the
    /// same answer. Use [`PlatformClient::get_fresh`] to see the server's current state.
    pub async fn get(&self, path: &str) -> Result<Arc<Value>, PlatformError> {
        if self.inner.auth.is_none() {
            return Err(PlatformError::MissingApiKey);
        }
        let path = normalise_path(path);
        let fetch = async { self.request(Method::Get, &path, None).await.map(Arc::new) };
        self.inner.cache.get_or_fetch(&path, fetch).await
    }

    /// GETs `path` bypassing the cache, then stores a successful answer for later
    /// [`PlatformClient::get`] calls (a failed fresh read leaves the cache as it was).
    pub async fn get_fresh(&self, path: &str) -> Result<Arc<Value>, PlatformError> {
        let path = normalise_path(path);
        let result = self.request(Method::Get, &path, None).await.map(Arc::new);
        if let Ok(value) = &result {
            self.inner.cache.store(path, Arc::clone(value));
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
            self.inner.cache.clear();
        }
        result
    }

    /// One logical request: attempts, retries, backoff, all within the network budget.
    /// Errors are scrubbed of the API key before they are logged or returned.
    async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, PlatformError> {
        let request = self.prepare(method, path, body)?;
        let shown = request.shown.as_str();
        let budget = &self.inner.budget;
        let _in_flight = budget.enter();
        let mut attempt: u32 = 0;
        loop {
            let Some(timeout) = self.attempt_timeout() else {
                return Err(self.deadline_error(shown, None));
            };
            let started = Instant::now();
            let (status, outcome) = self.attempt(&request, timeout).await;
            debug!(
                method = method.as_str(),
                url = %shown,
                status = status.unwrap_or(0),
                attempt = attempt + 1,
                elapsed_ms = millis(started.elapsed()),
                "platform request"
            );
            let (error, retry_after) = match outcome {
                Attempt::Done(Ok(value)) => return Ok(value),
                Attempt::Done(Err(error)) if !(budget.exhausted() && error.is_unreachable()) => {
                    return Err(self.scrub(error));
                }
                Attempt::Done(Err(error)) => (self.scrub(error), None),
                Attempt::Retry { error, retry_after } => (self.scrub(error), retry_after),
            };
            if budget.exhausted() {
                // An attempt the deadline cut short says nothing more than the deadline.
                let cut = timeout < self.inner.timeout
                    && started.elapsed() >= timeout
                    && error.is_unreachable();
                return Err(self.deadline_error(shown, (!cut).then_some(&error)));
            }
            if attempt >= self.inner.retries {
                return Err(error);
            }
            let delay = retry::delay(attempt, retry_after);
            if budget.remaining().is_some_and(|left| left <= delay) {
                return Err(self.deadline_error(shown, Some(&error)));
            }
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

    /// Everything every attempt of one logical request shares.
    fn prepare(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Request<'_>, PlatformError> {
        let auth = self
            .inner
            .auth
            .as_ref()
            .ok_or(PlatformError::MissingApiKey)?;
        let shown = format!("{}{}", self.inner.shown_base, path);
        let body =
            body.map(serde_json::to_vec)
                .transpose()
                .map_err(|e| PlatformError::InvalidConfig {
                    reason: format!("the request body for {shown} is not serialisable: {e}"),
                })?;
        let idempotency = match method {
            Method::Get => None,
            Method::Post | Method::Patch => {
                HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()).ok()
            }
        };
        Ok(Request {
            method,
            url: format!("{}{}", self.inner.base_url, path),
            shown,
            auth,
            body,
            idempotency,
        })
    }

    /// Marks a request outside this client (a blob download) as spending the budget.
    pub(crate) fn enter_budget(&self) -> crate::deadline::InFlight<'_> {
        self.inner.budget.enter()
    }

    /// What is left of the budget and the budget itself; `None` when unbounded.
    pub(crate) fn budget_left(&self) -> Option<(Duration, Duration)> {
        Some((self.inner.budget.remaining()?, self.inner.budget.limit()?))
    }

    /// The per-attempt timeout (`server.timeout_secs`).
    pub(crate) fn attempt_limit(&self) -> Duration {
        self.inner.timeout
    }

    /// The next attempt's timeout: the configured one, shortened to what is left of the
    /// budget; `None` once the budget is spent.
    fn attempt_timeout(&self) -> Option<Duration> {
        match self.inner.budget.remaining() {
            None => Some(self.inner.timeout),
            Some(left) if left.is_zero() => None,
            Some(left) => Some(left.min(self.inner.timeout)),
        }
    }

    fn deadline_error(&self, shown: &str, last: Option<&PlatformError>) -> PlatformError {
        PlatformError::DeadlineExceeded {
            url: shown.to_owned(),
            limit: self.inner.budget.limit().unwrap_or_default(),
            last: last.map(ToString::to_string).unwrap_or_default(),
            unreachable: last.is_none_or(PlatformError::is_unreachable),
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
    async fn attempt(&self, request: &Request<'_>, timeout: Duration) -> (Option<u16>, Attempt) {
        let mut req = self
            .inner
            .transport
            .http()
            .request(request.method.reqwest(), &request.url)
            .timeout(timeout)
            .header(AUTHORIZATION, request.auth.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .header(LUA_CLIENT, self.inner.lua_client.clone());
        if let Some(key) = &request.idempotency {
            req = req.header(IDEMPOTENCY_KEY, key.clone());
        }
        if let Some(bytes) = &request.body {
            req = req.body(bytes.clone());
        }
        let is_get = request.method == Method::Get;
        let mut resp = match self.inner.transport.send(req).await {
            Ok(resp) => resp,
            Err(e) => {
                let error = self.transport_error(&request.shown, &e, timeout);
                // A write is retried only when it never reached the server.
                return (None, Attempt::retry_if(is_get || e.is_connect(), error));
            }
        };
        let status = resp.status().as_u16();
        let outcome = self.classify(request, &mut resp, timeout).await;
        (Some(status), outcome)
    }

    /// Reads the answer of one attempt and decides: done, or worth another try.
    async fn classify(
        &self,
        request: &Request<'_>,
        resp: &mut reqwest::Response,
        timeout: Duration,
    ) -> Attempt {
        let (is_get, shown) = (request.method == Method::Get, request.shown.as_str());
        let status = resp.status().as_u16();
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            // Never followed, never retried: see `PlatformError::Redirected`.
            let location = redirect_target(
                &request.url,
                resp.headers().get(LOCATION).map(HeaderValue::as_bytes),
            );
            return Attempt::Done(Err(PlatformError::Redirected {
                url: shown.to_owned(),
                status,
                location,
            }));
        }
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
                    self.transport_error(shown, &e, timeout)
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
                return Attempt::retry_if(is_get, error);
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
        let retry_after = retry::retry_after(resp.headers().get(RETRY_AFTER), &body);
        retry::for_status(is_get, status, error, retry_after)
    }

    fn transport_error(&self, shown: &str, e: &reqwest::Error, timeout: Duration) -> PlatformError {
        if e.is_builder() {
            return PlatformError::InvalidConfig {
                reason: format!(
                    "cannot build a request for {shown}: {}",
                    innermost_message(e)
                ),
            };
        }
        let proxy = self
            .inner
            .transport
            .proxy_for(&self.inner.base_url)
            .map(Proxy::describe);
        if let Some(tls) = crate::tls::rustls_error(e) {
            if let Some(reason) = crate::tls::trust_store_failure(tls) {
                return PlatformError::InvalidConfig { reason };
            }
            let host = reqwest::Url::parse(&self.inner.base_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or_default();
            let refusal = crate::tls::refusal(tls, &host, proxy.as_deref());
            return PlatformError::Tls {
                url: shown.to_owned(),
                host,
                problem: refusal.problem,
                remedy: refusal.remedy,
            };
        }
        let reason = if e.is_timeout() {
            format!("no response within {timeout:?}")
        } else {
            network_reason(e)
        };
        PlatformError::Unreachable {
            url: shown.to_owned(),
            reason: match proxy {
                Some(proxy) => format!("through {proxy}: {reason}"),
                None => reason,
            },
        }
    }
}

fn invalid(reason: &str) -> PlatformError {
    PlatformError::InvalidConfig {
        reason: reason.to_owned(),
    }
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
