//! The devserver's configuration: what [`crate::start`] needs, built by hand, by
//! [`Config::for_tests`], or by `main.rs` from the command line; and the seed file format.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use serde::Deserialize;

use crate::DevServerError;
use crate::spec::{self, BackupSpec, McpServerSpec, PrimitiveSpec};
use crate::tls::TlsConfig;
use crate::validate::validate_agent_id;

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
    /// Host names accepted in the `Host` header besides `localhost`, `127.0.0.1`, `::1` and the
    /// bound address (from `--allow-host NAME`). Anything else is refused (DNS rebinding).
    pub allow_hosts: Vec<String>,
    /// A dashboard session unused this long ends. Default 2 hours.
    pub session_idle: Duration,
    /// A dashboard session ends this long after sign-in, however busy (the cookie's Max-Age).
    /// Default 24 hours.
    pub session_lifetime: Duration,
    /// Sign-in attempts a client address may make at once. Default 10.
    pub login_burst: u32,
    /// After the burst, one more sign-in attempt per client address every this long.
    /// Default 6 seconds (10 a minute).
    pub login_refill: Duration,
    /// Backups to upload at start, replacing the agent's backup (from `--backup-from DIR
    /// --backup-agent ID`). The agent must exist (from the database, the seed or `agents`).
    pub backups: Vec<BackupUpload>,
    /// Serve HTTPS with certificates made at start (`--tls`); `None`: plain HTTP.
    pub tls: Option<TlsConfig>,
    /// A modelled network round trip (`--latency MS`): one before a new connection's first
    /// byte, half of it on each chunk in each direction. Zero: none.
    pub latency: Duration,
}

/// A backup to upload at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupUpload {
    /// The agent whose backup it becomes.
    pub agent_id: String,
    /// The files.
    pub backup: BackupSpec,
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
            .field("backups", &self.backups.len())
            .field("allow_hosts", &self.allow_hosts)
            .field("session_idle", &self.session_idle)
            .field("session_lifetime", &self.session_lifetime)
            .field("login_burst", &self.login_burst)
            .field("login_refill", &self.login_refill)
            .field("tls", &self.tls)
            .field("latency", &self.latency)
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
            backups: Vec::new(),
            allow_hosts: Vec::new(),
            session_idle: Duration::from_secs(2 * 3600),
            session_lifetime: Duration::from_secs(24 * 3600),
            login_burst: 10,
            login_refill: Duration::from_secs(6),
            tls: None,
            latency: Duration::ZERO,
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
        validate_agent_id(id).map_err(|reason| format!("invalid agent id {id:?}: {reason}"))?;
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
    /// Governance: a JSON object (null or absent for none).
    #[serde(default)]
    pub governance: Option<serde_json::Value>,
    /// Deployed skills.
    #[serde(default)]
    pub skills: Vec<PrimitiveSpec>,
    /// Deployed webhooks.
    #[serde(default)]
    pub webhooks: Vec<PrimitiveSpec>,
    /// Deployed jobs.
    #[serde(default)]
    pub jobs: Vec<PrimitiveSpec>,
    /// Deployed preprocessors.
    #[serde(default)]
    pub preprocessors: Vec<PrimitiveSpec>,
    /// Deployed postprocessors.
    #[serde(default)]
    pub postprocessors: Vec<PrimitiveSpec>,
    /// MCP servers.
    #[serde(default)]
    pub mcp_servers: Vec<McpServerSpec>,
    /// The agent's source backup (inline files).
    #[serde(default)]
    pub backup: Option<BackupSpec>,
}

impl SeedAgent {
    /// The versioned primitives per kind, in the contract's order.
    pub(crate) fn primitives(&self) -> [(spec::Kind, &[PrimitiveSpec]); 5] {
        use spec::Kind;
        [
            (Kind::SKILLS, &self.skills),
            (Kind::WEBHOOKS, &self.webhooks),
            (Kind::JOBS, &self.jobs),
            (Kind::PREPROCESSORS, &self.preprocessors),
            (Kind::POSTPROCESSORS, &self.postprocessors),
        ]
    }
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
