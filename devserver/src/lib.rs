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

mod api;
mod control;
mod dashboard;
mod error;
mod seed;
mod state;
mod store;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::DevServerError;

/// How long a graceful shutdown may wait for open requests before the server task is aborted.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Where the devserver keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// An in-memory database: gone when the server stops.
    Memory,
    /// A SQLite file (its folder is created if missing); state survives restarts.
    File(PathBuf),
}

/// Everything the devserver needs to start. Build it by hand, with [`Config::for_tests`], or
/// from the command line (`main.rs`).
#[derive(Clone)]
pub struct Config {
    /// Address to listen on. Default 127.0.0.1.
    pub host: IpAddr,
    /// Port to listen on; 0 picks a free one (read it back with [`RunningServer::addr`]).
    pub port: u16,
    /// Where data lives.
    pub storage: Storage,
    /// The key every API request must present as `Authorization: Bearer <key>`, and the
    /// dashboard's login password. `None` (or empty) without `insecure_no_auth` refuses to start.
    pub api_key: Option<String>,
    /// Serve without any authentication (API and dashboard). Wins over `api_key`.
    pub insecure_no_auth: bool,
    /// Agents to create at start if missing (from `--agent ID[=NAME]`).
    pub agents: Vec<AgentSpec>,
    /// Initial data, applied at start to agents that do not exist yet (from `--seed FILE.json`).
    pub seed: Option<Seed>,
    /// Enable the fault-injection routes (`/_devserver/faults`).
    pub faults: bool,
}

impl std::fmt::Debug for Config {
    // Hand-written so the key never lands in a log or a test failure message.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("storage", &self.storage)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("insecure_no_auth", &self.insecure_no_auth)
            .field("agents", &self.agents)
            .field("seed", &self.seed)
            .field("faults", &self.faults)
            .finish()
    }
}

impl Default for Config {
    /// The command line's defaults: 127.0.0.1:8787, `.lua-devserver/platform.db`, no key (so
    /// [`start`] refuses until one is set), no faults.
    fn default() -> Config {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8787,
            storage: Storage::File(PathBuf::from(".lua-devserver/platform.db")),
            api_key: None,
            insecure_no_auth: false,
            agents: Vec::new(),
            seed: None,
            faults: false,
        }
    }
}

impl Config {
    /// For tests: in-memory storage, 127.0.0.1 on a free port, the given key, faults enabled.
    pub fn for_tests(api_key: &str) -> Config {
        Config {
            port: 0,
            storage: Storage::Memory,
            api_key: Some(api_key.to_owned()),
            faults: true,
            ..Config::default()
        }
    }
}

/// An agent to create at start if it does not exist: `--agent ID[=NAME]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentSpec {
    /// The full agent id, e.g. `baseAgent_agent_123`.
    pub id: String,
    /// Its name; `None` leaves the name null.
    pub name: Option<String>,
}

impl FromStr for AgentSpec {
    type Err = String;

    /// Parses `ID` or `ID=NAME` (the name may contain `=`; an empty name means none).
    fn from_str(s: &str) -> Result<AgentSpec, String> {
        let (id, name) = match s.split_once('=') {
            Some((id, name)) => (id, (!name.is_empty()).then(|| name.to_owned())),
            None => (s, None),
        };
        seed::validate_agent_id(id)
            .map_err(|reason| format!("invalid agent id {id:?}: {reason}"))?;
        Ok(AgentSpec {
            id: id.to_owned(),
            name,
        })
    }
}

/// Initial data (`--seed FILE.json`): see the crate README for the format.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    /// Agents to create, each only if absent.
    pub agents: Vec<SeedAgent>,
}

impl Seed {
    /// Reads and parses a seed file. Errors name the file and, for bad JSON, the field.
    pub fn from_file(path: &std::path::Path) -> Result<Seed, DevServerError> {
        let text = std::fs::read_to_string(path).map_err(|source| DevServerError::SeedRead {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| DevServerError::SeedParse {
            path: path.to_owned(),
            source,
        })
    }
}

/// One seeded agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedAgent {
    /// Full agent id.
    pub id: String,
    /// Agent name (null if absent).
    pub name: Option<String>,
    /// Model (null if absent).
    pub model: Option<String>,
    /// Persona versions in order: they become versions 1, 2, 3...
    #[serde(default)]
    pub persona_versions: Vec<SeedVersion>,
}

/// One seeded persona version.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedVersion {
    /// A string, or an object of strings (`{"base": "...", "voice": "..."}`).
    pub persona: serde_json::Value,
    /// `"published"` (default) or `"draft"`.
    #[serde(default)]
    pub status: Option<String>,
    /// `true` makes this (published) version current even if later ones are published.
    /// Otherwise the last published version is current.
    #[serde(default)]
    pub current: Option<bool>,
}

/// A devserver running on the caller's tokio runtime.
///
/// Dropping it without [`RunningServer::shutdown`] still asks the server to stop, but does not
/// wait for it.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address actually bound (the real port when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:40123` (no trailing `/`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
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

/// Checks what [`start`] and [`router`] need before touching storage: returns the key to
/// require (`None` in insecure mode).
fn checked_key(config: &Config) -> Result<Option<String>, DevServerError> {
    let api_key = match (&config.api_key, config.insecure_no_auth) {
        (_, true) => None,
        (Some(key), false) if !key.is_empty() => Some(key.clone()),
        _ => return Err(DevServerError::NoApiKey),
    };
    if let Some(seed) = &config.seed {
        seed::validate(seed)?;
    }
    for spec in &config.agents {
        seed::validate_agent_id(&spec.id).map_err(|reason| DevServerError::InvalidAgentId {
            id: spec.id.clone(),
            reason,
        })?;
    }
    Ok(api_key)
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
    let api_key = checked_key(config)?;
    let conn = seed::open_and_seed(&config.storage, config.seed.as_ref(), &config.agents)?;
    Ok(state::router(state::AppState::new(
        conn,
        api_key,
        config.faults,
    )))
}

/// Starts the devserver on the current tokio runtime: opens the storage, applies `agents` and
/// `seed`, binds the socket and spawns the server task. Returns once it accepts connections.
pub async fn start(config: Config) -> Result<RunningServer, DevServerError> {
    let api_key = checked_key(&config)?;

    let storage = config.storage.clone();
    let seed_data = config.seed.clone();
    let agents = config.agents.clone();
    let conn = tokio::task::spawn_blocking(move || {
        seed::open_and_seed(&storage, seed_data.as_ref(), &agents)
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

    let state = state::AppState::new(conn, api_key, config.faults);
    let app = state::router(state);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // A dropped sender also means "stop".
                let _ = stopped.await;
            })
            .await;
        if let Err(e) = served {
            tracing::error!("server stopped with an error: {e}");
        }
    });
    tracing::info!("lua-devserver listening on http://{addr}");
    Ok(RunningServer {
        addr,
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
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockingServer {
    /// Starts the server on its own runtime thread; returns once it accepts connections.
    pub fn start(config: Config) -> Result<BlockingServer, DevServerError> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<SocketAddr, DevServerError>>();
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
                            let _ = ready_tx.send(Ok(server.addr()));
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
            Ok(Ok(addr)) => Ok(BlockingServer {
                addr,
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

    /// The base URL, e.g. `http://127.0.0.1:40123` (no trailing `/`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_spec_parses_id_and_optional_name() {
        let a: AgentSpec = "baseAgent_agent_1=Support Bot".parse().unwrap();
        assert_eq!(a.id, "baseAgent_agent_1");
        assert_eq!(a.name.as_deref(), Some("Support Bot"));
        let b: AgentSpec = "x_1".parse().unwrap();
        assert_eq!(b.name, None);
        let c: AgentSpec = "x_1=a=b".parse().unwrap();
        assert_eq!(c.name.as_deref(), Some("a=b"));
        assert!("=name".parse::<AgentSpec>().is_err());
        assert!("a b".parse::<AgentSpec>().is_err());
    }

    #[test]
    fn config_debug_never_shows_the_key() {
        let c = Config::for_tests("super-secret-key");
        let shown = format!("{c:?}");
        assert!(!shown.contains("super-secret-key"), "{shown}");
        assert!(shown.contains("<redacted>"));
    }
}
