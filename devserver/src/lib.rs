//! `lua-devserver`: a local stand-in for the Lua platform.
//!
//! It serves the HTTP API described in `API_CONTRACT.md` (the same routes, envelope and error
//! bodies the real platform uses), persists agents and persona versions in SQLite, enforces the
//! platform's versioning rules (drafts, published, current, rollback), and adds what tests and
//! demos need: an HTML admin dashboard (the "a colleague edited it on the platform" side), a
//! request counter and fault injection under `/_devserver`.
//!
//! The `lua` CLI's end-to-end tests start it in-process with [`start`] (async) or
//! [`BlockingServer::start`] (sync tests); `main.rs` is a thin clap front end over the same API.
//!
//! This crate must not know the `lua` CLI or its crates: it speaks only HTTP, so it stays a
//! faithful stand-in for the platform and cannot hide a client bug by sharing code with it.

#![warn(missing_docs)]

// Layers, lowest first; a module only uses modules above it in this list:
// - leaves: `error` (startup errors), `validate` (ids, personas), `spec` (primitives, backups,
//   governance as given from outside), `secret` (key digest, tokens), `hosts` (Host
//   allow-list), `ratelimit` (token buckets), `store` (SQLite), `sessions` (dashboard sessions
//   over `store`), `faults` and `counter` (test-control data), `config` (what `start` needs),
//   `seed` (startup data);
// - `state`: the shared state (no routes, no HTTP);
// - `http`: plumbing every route module shares (JSON errors and answers, extractors, auth,
//   the counter and fault layers);
// - `routes::{api, primitives, backup, control, dashboard}`: handlers; they never use each
//   other;
// - `app`: builds the router from the route modules and the layers;
// - `tls` (certificates made at start) and `latency` (the modelled network) are leaves too;
// - `serve`: the accept loop (hyper, with JSON bodies for hyper's own 400/414/431 answers;
//   TLS and latency below it);
// - this file: start, stop, the blocking wrapper.
mod app;
mod config;
mod counter;
mod error;
mod faults;
mod hosts;
mod http;
mod latency;
mod ratelimit;
mod routes;
mod secret;
mod seed;
mod serve;
mod sessions;
mod signin;
mod spec;
mod state;
mod store;
mod tls;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{AgentSpec, BackupUpload, Config, Seed, SeedAgent, SeedVersion, Storage};
pub use error::DevServerError;
pub use spec::{ActiveBy, BackupFileSpec, BackupSpec, Encoding, McpServerSpec, PrimitiveSpec};
pub use tls::TlsConfig;

/// How long a graceful shutdown may wait for open requests before the server task is aborted.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A devserver running on the caller's tokio runtime.
///
/// Dropping it without [`RunningServer::shutdown`] still asks the server to stop, but does not
/// wait for it.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    /// The CA certificate clients must trust, when serving HTTPS.
    ca_path: Option<PathBuf>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:40123` or `https://127.0.0.1:40123` (no
    /// trailing `/`).
    pub fn url(&self) -> String {
        base_url(self.addr, self.ca_path.is_some())
    }

    /// The CA certificate (PEM) to trust, when serving HTTPS (`--tls`).
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }

    /// Stops accepting connections, lets open requests finish (up to a few seconds, then aborts
    /// them) and waits for the server task to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
        {
            tracing::warn!("open connections did not finish in time; aborting them");
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Checks what [`start`] and [`router`] need before touching storage; returns the settings
/// the running server uses.
fn checked_settings(config: &Config) -> Result<state::Settings, DevServerError> {
    let auth = match (&config.api_key, config.insecure_no_auth) {
        (_, true) if !config.host.is_loopback() => {
            return Err(DevServerError::InsecureNotLoopback { host: config.host });
        }
        (_, true) => None,
        (Some(key), false) if !key.is_empty() => {
            if !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(DevServerError::UnusableApiKey);
            }
            Some(secret::KeyDigest::of(key))
        }
        _ => return Err(DevServerError::NoApiKey),
    };
    if let Some(seed) = &config.seed {
        seed::validate(seed)?;
    }
    for spec in &config.agents {
        validate::validate_agent_id(&spec.id).map_err(|reason| DevServerError::InvalidAgentId {
            id: spec.id.clone(),
            reason,
        })?;
    }
    for upload in &config.backups {
        validate::validate_agent_id(&upload.agent_id).map_err(|reason| {
            DevServerError::InvalidAgentId {
                id: upload.agent_id.clone(),
                reason,
            }
        })?;
    }
    Ok(state::Settings {
        auth,
        faults_enabled: config.faults,
        hosts: hosts::AllowedHosts::new(config.host, &config.allow_hosts),
        sessions: sessions::SessionPolicy {
            idle: config.session_idle,
            lifetime: config.session_lifetime,
        },
        login_burst: config.login_burst,
        login_refill: config.login_refill,
    })
}

/// The whole application (API, control routes, dashboard) as an axum [`Router`], without a
/// socket: for driving requests in-process with `tower::ServiceExt::oneshot`, as the fuzz
/// target `fuzz/fuzz_targets/devserver_json.rs` does. Opens the storage and applies `agents`
/// and `seed` synchronously (use [`Storage::Memory`] for tests); `host` and `port` are
/// ignored. Requests must be served inside a tokio runtime (database calls use
/// `spawn_blocking`).
///
/// [`Router`]: axum::Router
pub fn router(config: &Config) -> Result<axum::Router, DevServerError> {
    let settings = checked_settings(config)?;
    let conn = seed::open_and_seed(
        &config.storage,
        config.seed.as_ref(),
        &config.agents,
        &config.backups,
    )?;
    Ok(app::router(state::AppState::new(conn, settings)))
}

/// Starts the devserver on the current tokio runtime: opens the storage, applies `agents` and
/// `seed`, binds the socket and spawns the server task. Returns once it accepts connections.
pub async fn start(config: Config) -> Result<RunningServer, DevServerError> {
    let settings = checked_settings(&config)?;

    let storage = config.storage.clone();
    let seed_data = config.seed.clone();
    let agents = config.agents.clone();
    let backups = config.backups.clone();
    let conn = tokio::task::spawn_blocking(move || {
        seed::open_and_seed(&storage, seed_data.as_ref(), &agents, &backups)
    })
    .await
    .map_err(|e| DevServerError::Internal(e.to_string()))??;

    let addr = SocketAddr::new(config.host, config.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| DevServerError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| DevServerError::Bind { addr, source })?;

    let tls = config
        .tls
        .as_ref()
        .map(|tls| tls::prepare(tls, config.host))
        .transpose()?;
    let ca_path = tls.as_ref().map(|served| served.ca_path.clone());

    let state = state::AppState::new(conn, settings);
    let app = app::router(state.clone());
    let transport = serve::Transport {
        tls: tls.map(|served| served.acceptor),
        latency: config.latency,
        on_connection: Box::new(move || state::lock(&state.counter).connection()),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        // A dropped sender also means "stop".
        serve::run(listener, app, transport, async {
            let _ = stopped.await;
        })
        .await;
    });
    tracing::info!(
        "lua-devserver listening on {}",
        base_url(addr, ca_path.is_some())
    );
    Ok(RunningServer {
        addr,
        ca_path,
        stop: Some(stop),
        task: Some(task),
    })
}

/// A devserver for synchronous tests: it owns a tokio runtime on a background thread.
///
/// Dropping it shuts the server down gracefully and joins the thread.
#[derive(Debug)]
pub struct BlockingServer {
    addr: SocketAddr,
    ca_path: Option<PathBuf>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockingServer {
    /// Starts the server on its own runtime thread; returns once it accepts connections.
    pub fn start(config: Config) -> Result<BlockingServer, DevServerError> {
        type Ready = Result<(SocketAddr, Option<PathBuf>), DevServerError>;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Ready>();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("lua-devserver".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(DevServerError::Runtime(e)));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match start(config).await {
                        Ok(server) => {
                            let ready = (server.addr(), server.ca_path().map(Path::to_owned));
                            let _ = ready_tx.send(Ok(ready));
                            let _ = stopped.await;
                            server.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .map_err(DevServerError::Runtime)?;
        match ready_rx.recv() {
            Ok(Ok((addr, ca_path))) => Ok(BlockingServer {
                addr,
                ca_path,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(DevServerError::Internal(
                    "the server thread ended before reporting".to_owned(),
                ))
            }
        }
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:40123` (no trailing `/`; `https` with TLS).
    pub fn url(&self) -> String {
        base_url(self.addr, self.ca_path.is_some())
    }

    /// The CA certificate (PEM) to trust, when serving HTTPS.
    pub fn ca_path(&self) -> Option<&Path> {
        self.ca_path.as_deref()
    }
}

fn base_url(addr: SocketAddr, tls: bool) -> String {
    format!("{}://{addr}", if tls { "https" } else { "http" })
}

impl Drop for BlockingServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
