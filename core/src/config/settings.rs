//! What `lua.toml` may contain: the settings types, their defaults and bounds, and where
//! a loaded value came from. Plain data (serde); loading and merging is `config/mod.rs`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::DEFAULT_API_URL;

/// Everything `lua.toml` may contain. Unknown keys are errors.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    pub agent: AgentSettings,
    pub server: ServerSettings,
    pub sync: SyncSettings,
    pub components: BTreeMap<String, ComponentPolicy>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AgentSettings {
    /// The platform's agent id, e.g. `baseAgent_agent_123`.
    pub id: Option<String>,
    /// Entry file, relative to the project root.
    pub entry: Option<String>,
}

#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    pub url: String,
    /// Per-attempt timeout, [`TIMEOUT_SECS_RANGE`].
    pub timeout_secs: u64,
    /// GET retries after the first attempt, [`RETRIES_RANGE`].
    pub retries: u32,
    /// The run's network budget (every attempt and backoff sleep), [`DEADLINE_SECS_RANGE`].
    pub deadline_secs: u64,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            url: DEFAULT_API_URL.to_string(),
            timeout_secs: 30,
            retries: 2,
            deadline_secs: 120,
        }
    }
}

/// Bounds of `server.*`: a hostile or mistyped value must not make a run hang.
pub const RETRIES_RANGE: std::ops::RangeInclusive<u64> = 0..=10;
pub const TIMEOUT_SECS_RANGE: std::ops::RangeInclusive<u64> = 1..=300;
pub const DEADLINE_SECS_RANGE: std::ops::RangeInclusive<u64> = 1..=3600;

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SyncSettings {
    pub on_unreachable: OnUnreachable,
    /// Folders outside the project root that a pull may write to (monorepos keeping
    /// shared text above the root), relative to the root or absolute. Empty: a file whose
    /// real path is outside the root is never written.
    pub allow_write_outside: Vec<std::path::PathBuf>,
}

/// What to do when the platform cannot be reached at all.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum OnUnreachable {
    /// One-line warning on stderr, exit 0 (the reference's behaviour).
    #[default]
    Continue,
    /// Error, exit 2.
    Fail,
}

/// Per-component policy (`[components.<id>]`).
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct ComponentPolicy {
    pub enabled: bool,
    pub check: CheckPolicy,
    pub allow: Allow,
    pub default: DefaultChoice,
}

impl Default for ComponentPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            check: CheckPolicy::Fail,
            allow: Allow::Both,
            default: DefaultChoice::Ask,
        }
    }
}

/// What drift in a component means for `--check`.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CheckPolicy {
    /// Drift makes `--check` exit 1.
    #[default]
    Fail,
    /// Drift is reported as a warning; exit 0.
    Warn,
    /// Not fetched, not compared.
    Off,
}

/// Which directions a component may be synced in.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Allow {
    #[default]
    Both,
    Pull,
    Push,
}

impl Allow {
    pub fn allows_pull(self) -> bool {
        matches!(self, Allow::Both | Allow::Pull)
    }
    pub fn allows_push(self) -> bool {
        matches!(self, Allow::Both | Allow::Push)
    }
}

/// The prompt's preselected choice.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DefaultChoice {
    /// Preselect by classification (server changed: pull; local changed: push; conflict: skip).
    #[default]
    Ask,
    Push,
    Pull,
    Skip,
}

/// Where the configuration came from.
#[derive(Clone, Debug, PartialEq)]
pub enum ConfigSource {
    LuaToml(PathBuf),
    SkillYaml(PathBuf),
    Defaults,
}

/// Where the server URL came from, so messages about it can say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UrlSource {
    /// [`DEFAULT_API_URL`]: set nowhere.
    Default,
    /// An environment variable (`LUA_API_URL` or `LUA_SERVER__URL`).
    Env(&'static str),
    /// `LUA_API_URL` in this `.env` file (the project's; the process environment wins).
    DotEnv(PathBuf),
    /// `[server] url` in `lua.toml`, at this 1-based line.
    File { path: PathBuf, line: usize },
}

impl std::fmt::Display for UrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlSource::Default => write!(f, "the default"),
            UrlSource::Env(var) => write!(f, "{var}"),
            UrlSource::DotEnv(path) => write!(f, "LUA_API_URL in {}", path.display()),
            UrlSource::File { path, line } => write!(f, "{} line {line}", path.display()),
        }
    }
}
