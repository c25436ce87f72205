//! `lua-platform`: the HTTP client for the Lua platform API.
//!
//! It speaks the contract in `API_CONTRACT.md` exactly (paths, headers, the `{success, data}`
//! envelope or a bare payload, NestJS error bodies, retries), so one binary works against the
//! real platform and against `lua-devserver`. The engine and the components call it; it
//! returns typed payloads ([`Agent`], [`PersonaVersion`]) or a [`PlatformError`] that names
//! the URL, the status and a short excerpt of the answer.
//!
//! Rules it keeps:
//! - every request carries `Authorization: Bearer <key>`, `Content-Type` and `Accept:
//!   application/json`, `X-Lua-Client: cli/<version>`; POST/PATCH also an
//!   `X-Idempotency-Key` reused on every retry of that request;
//! - GETs retry on network errors, 429 and 500-504 with full-jitter backoff, honouring
//!   `Retry-After` (seconds or an HTTP date); writes retry only when they certainly did not
//!   reach the server (connect error) or the server asked for it (429/503 with
//!   `Retry-After`);
//! - redirects are never followed: a 3xx is [`PlatformError::Redirected`], naming both URLs
//!   (a followed write could be "confirmed" by another server);
//! - one network budget per client ([`ClientConfig::deadline`]) bounds every attempt and
//!   backoff sleep, so no `retries` value can make a run hang;
//! - one [`Transport`] (connection pool, proxies, extra CAs) per run, shared by its clients:
//!   one connection per host (HTTP/2 through ALPN where offered); the trust store is loaded
//!   on the first TLS handshake only (never for `http://`); a certificate that fails
//!   verification is [`PlatformError::Tls`], never "unreachable";
//! - GETs are cached per client and single-flight, errors included, so every component of a
//!   run sees the same server state; `*_fresh` reads bypass the cache (the push guard);
//! - response bodies are capped at 4 MiB; the API key never appears in any message or log
//!   (it is scrubbed even from server text that echoes it).
//!
//! It must not know about components, the terminal or config files; of the environment it
//! reads only the proxy and CA variables, in [`Transport::from_env`]. The caller hands it a
//! [`ClientConfig`].

mod api;
mod backup;
mod cache;
mod client;
mod deadline;
mod envelope;
mod error;
mod primitives;
mod proxy;
mod retry;
mod tls;
pub mod token;
mod transport;
mod types;
mod urls;

pub use backup::{
    BackupFile, BackupInfo, BackupManifest, BlobClient, BlobError, LIMITS, Limits, MAX_BLOB_BYTES,
    verify,
};
pub use client::{
    ClientConfig, DEFAULT_BASE_URL, DEFAULT_DEADLINE, DEFAULT_RETRIES, DEFAULT_TIMEOUT,
    MAX_BODY_BYTES, PlatformClient,
};
pub use error::PlatformError;
pub use primitives::{McpServer, Primitive, PrimitiveVersion};
pub use transport::Transport;
pub use types::{Agent, PersonaVersion, VersionStatus};
