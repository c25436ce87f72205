//! The connections of a run: one reqwest client (one connection pool) with its proxies and
//! trust, shared by every [`crate::PlatformClient`] and [`crate::BlobClient`] built on it, so
//! a run reuses one connection per host however many agents and components it checks.
//!
//! HTTP/2 is negotiated through ALPN where the server offers it; then every request of the
//! run shares one connection. Before the first connection exists, concurrent requests would
//! each open their own (the pool cannot know yet that the server speaks HTTP/2, so each pays
//! a TCP and TLS handshake): the first API request therefore goes alone, and the others wait
//! for its answer (one extra round trip, once per run). Over HTTP/1.1 idle connections are
//! kept alive and reused.
//!
//! Reads the environment only in [`Transport::from_env`]: proxies ([`crate::proxy`]) and
//! extra CAs ([`crate::tls`]).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::proxy::{Proxies, Proxy};
use crate::tls::ExtraCas;

/// One connection pool with the environment's proxies and CAs. Cheap to clone (clones
/// share the pool).
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    proxies: Proxies,
    /// Set once the first API request has its answer (or failed).
    opened: AtomicBool,
    /// Held by the first API request while it runs.
    first: tokio::sync::Mutex<()>,
}

impl fmt::Debug for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transport")
            .field("proxies", &self.inner.proxies)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Proxies from `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` (and lower case), extra CAs
    /// from `SSL_CERT_FILE` / `SSL_CERT_DIR` / `NODE_EXTRA_CA_CERTS` (read at the first TLS
    /// handshake). Fails on a proxy variable that is not a URL, naming it.
    pub fn from_env() -> Result<Transport, String> {
        Transport::new(Proxies::from_env()?, ExtraCas::from_env())
    }

    fn new(proxies: Proxies, extra: ExtraCas) -> Result<Transport, String> {
        // reqwest is built without a bundled crypto provider (avoids the aws-lc C build).
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
        let tls = crate::tls::client_config(provider, extra)
            .map_err(|e| format!("cannot build the TLS configuration: {e}"))?;
        let route = proxies.clone();
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            // Only our matcher decides, so errors name the proxy actually used.
            .no_proxy()
            .proxy(reqwest::Proxy::custom(move |url| route.target(url)))
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Transport {
            inner: Arc::new(Inner {
                http,
                proxies,
                opened: AtomicBool::new(false),
                first: tokio::sync::Mutex::new(()),
            }),
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// The proxy a request to `url` goes through, if any.
    pub(crate) fn proxy_for(&self, url: &str) -> Option<&Proxy> {
        let url = reqwest::Url::parse(url).ok()?;
        self.inner.proxies.for_url(&url)
    }

    /// Sends an API request; the first of the run alone (see the module doc).
    pub(crate) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> reqwest::Result<reqwest::Response> {
        if self.inner.opened.load(Ordering::Acquire) {
            return request.send().await;
        }
        let first = self.inner.first.lock().await;
        if self.inner.opened.load(Ordering::Acquire) {
            drop(first);
            return request.send().await;
        }
        let answer = request.send().await;
        // Opened on a failure too: the others then fail (or succeed) on their own, never
        // one after another behind a dead server.
        self.inner.opened.store(true, Ordering::Release);
        answer
    }
}
