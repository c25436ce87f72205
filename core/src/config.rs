//! Project configuration: defaults < `lua.toml` < environment, merged with `figment`.
//!
//! Components are configured by id (`[components.<id>]`), so a new component needs no
//! code here. `lua.toml` is first validated with `toml` directly so that an unknown key
//! or a bad value is reported with the file, line and column (figment alone loses the
//! position). `LUA_API_URL`, `LUA_API_KEY` and `LUA_AGENT_ID` are read as plain strings
//! (figment would turn `LUA_API_KEY=12345` into an integer). Nested overrides use
//! `LUA_<SECTION>__<KEY>`, e.g. `LUA_COMPONENTS__PERSONA__CHECK=warn`; other `LUA_*`
//! variables (the Lua interpreter's `LUA_PATH`, `LUA_INIT`...) are ignored.
//!
//! The agent id defaults to `agent.agentId` in `lua.skill.yaml` (as the reference CLI
//! reads it) whether or not `lua.toml` exists; `[agent] id` in `lua.toml` and then
//! `LUA_AGENT_ID` override it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::CoreError;

pub const CONFIG_FILE: &str = "lua.toml";
pub const SKILL_FILE: &str = "lua.skill.yaml";
pub const DEFAULT_API_URL: &str = "https://api.heylua.ai";
pub const DEFAULT_ENTRY: &str = "src/index.ts";

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
    /// `[server] url` in `lua.toml`, at this 1-based line.
    File { path: PathBuf, line: usize },
}

impl std::fmt::Display for UrlSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UrlSource::Default => write!(f, "the default"),
            UrlSource::Env(var) => write!(f, "{var}"),
            UrlSource::File { path, line } => write!(f, "{} line {line}", path.display()),
        }
    }
}

/// Positions in `lua.toml` that messages after loading refer to.
#[derive(Clone, Debug, Default)]
struct Positions {
    /// 1-based line of `[server] url`.
    url_line: Option<usize>,
    /// 1-based line and column of each `[components.<id>]` table.
    components: BTreeMap<String, (usize, usize)>,
}

/// The parts of `lua.toml` whose positions are kept; everything else is ignored here
/// (it was validated strictly before).
#[derive(Deserialize)]
struct PositionProbe {
    server: Option<ServerProbe>,
    components: Option<BTreeMap<String, toml::Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
struct ServerProbe {
    url: Option<toml::Spanned<toml::Value>>,
}

fn positions(text: &str) -> Positions {
    let Ok(probe) = toml::from_str::<PositionProbe>(text) else {
        return Positions::default();
    };
    Positions {
        url_line: probe
            .server
            .and_then(|s| s.url)
            .map(|url| line_col(text, url.span().start).0),
        components: probe
            .components
            .unwrap_or_default()
            .into_iter()
            .map(|(id, table)| (id, line_col(text, table.span().start)))
            .collect(),
    }
}

/// The resolved configuration of one project.
#[derive(Clone, Debug)]
pub struct Config {
    /// Project root (where `lua.toml` / `lua.skill.yaml` is, or the `--config` folder).
    pub root: PathBuf,
    pub source: ConfigSource,
    pub settings: Settings,
    /// The API key (see [`crate::credentials`]); never printed, logged or written.
    pub api_key: Option<SecretString>,
    /// Where `api_key` came from.
    pub api_key_source: Option<crate::credentials::KeySource>,
    server_url_source: UrlSource,
    positions: Positions,
}

/// How to find the configuration.
#[derive(Clone, Debug, Default)]
pub struct LoadOptions {
    /// Folder to start the search for `lua.toml` / `lua.skill.yaml` (walking up).
    pub start_dir: PathBuf,
    /// `--config PATH`: use this file; the project root is its folder.
    pub config_path: Option<PathBuf>,
}

/// Environment lookups, injectable for tests.
pub trait Environment {
    fn var(&self, key: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Environment for ProcessEnv {
    fn var(&self, key: &str) -> Option<String> {
        std::env::var(key).ok().filter(|v| !v.is_empty())
    }
}

impl Config {
    /// Load from disk and the process environment.
    pub fn load(opts: &LoadOptions) -> Result<Config, CoreError> {
        Self::load_with(opts, &ProcessEnv, true)
    }

    /// Load with an injected environment. `nested_env` enables `LUA_<SECTION>__KEY`
    /// overrides from the process environment (figment reads it directly).
    pub fn load_with(
        opts: &LoadOptions,
        env: &dyn Environment,
        nested_env: bool,
    ) -> Result<Config, CoreError> {
        let (root, toml_path) = match &opts.config_path {
            Some(path) => {
                if !path.is_file() {
                    return Err(CoreError::ConfigMissing(path.clone()));
                }
                let root = path
                    .parent()
                    .map(Path::to_path_buf)
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or_else(|| PathBuf::from("."));
                (root, Some(path.clone()))
            }
            None => match find_project_root(&opts.start_dir) {
                Some(root) => {
                    let toml = root.join(CONFIG_FILE);
                    let has_toml = toml.is_file();
                    (root, has_toml.then_some(toml))
                }
                None => return Err(CoreError::NoProject(opts.start_dir.clone())),
            },
        };

        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        let mut source = ConfigSource::Defaults;
        let mut positions = Positions::default();
        // The yaml's agentId is the default of `agent.id`, whatever else lua.toml sets: a
        // lua.toml holding only a policy must not hide it.
        let skill = root.join(SKILL_FILE);
        if skill.is_file() {
            if let Some(id) = read_skill_agent_id(&skill)? {
                figment = figment.merge(Serialized::default("agent.id", id));
            }
            source = ConfigSource::SkillYaml(skill);
        }
        if let Some(path) = &toml_path {
            let text = std::fs::read_to_string(path).map_err(|source| CoreError::ConfigRead {
                path: path.clone(),
                source,
            })?;
            validate_toml(path, &text)?;
            positions = self::positions(&text);
            figment = figment.merge(Toml::string(&text));
            source = ConfigSource::LuaToml(path.clone());
        }
        if nested_env {
            figment = figment.merge(
                Env::prefixed("LUA_")
                    .filter(|key| {
                        let key = key.as_str().to_ascii_lowercase();
                        ["agent__", "server__", "sync__", "components__"]
                            .iter()
                            .any(|section| key.starts_with(section))
                    })
                    .split("__"),
            );
        }
        if let Some(url) = env.var("LUA_API_URL") {
            figment = figment.merge(Serialized::default("server.url", url));
        }
        if let Some(id) = env.var("LUA_AGENT_ID") {
            figment = figment.merge(Serialized::default("agent.id", id));
        }
        let settings: Settings = figment.extract().map_err(|e| {
            CoreError::ConfigInvalid(config_error_message(&e, toml_path.as_deref()))
        })?;
        check_bounds(&settings.server, &figment, toml_path.as_deref())?;
        let server_url_source = if env.var("LUA_API_URL").is_some() {
            UrlSource::Env("LUA_API_URL")
        } else if nested_env && ProcessEnv.var("LUA_SERVER__URL").is_some() {
            UrlSource::Env("LUA_SERVER__URL")
        } else if let (Some(path), Some(line)) = (&toml_path, positions.url_line) {
            UrlSource::File {
                path: path.clone(),
                line,
            }
        } else {
            UrlSource::Default
        };
        let found = crate::credentials::resolve(env, &root)?;
        let (api_key, api_key_source) = found.map(|f| (f.key, f.source)).unzip();
        Ok(Config {
            root,
            source,
            settings,
            api_key,
            api_key_source,
            server_url_source,
            positions,
        })
    }

    /// Where `settings.server.url` came from.
    pub fn server_url_source(&self) -> &UrlSource {
        &self.server_url_source
    }

    /// The entry file, relative to the root.
    pub fn entry(&self) -> &str {
        self.settings
            .agent
            .entry
            .as_deref()
            .unwrap_or(DEFAULT_ENTRY)
    }

    /// The agent id, or an error that says where to set it.
    pub fn agent_id(&self) -> Result<&str, CoreError> {
        self.settings
            .agent
            .id
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or(CoreError::NoAgentId)
    }

    /// The policy of a component (defaults when not configured).
    pub fn policy(&self, id: &str) -> ComponentPolicy {
        self.settings
            .components
            .get(id)
            .copied()
            .unwrap_or_default()
    }

    /// Refuse `[components.<id>]` sections that name no registered component.
    pub fn check_component_ids(&self, known: &[&str]) -> Result<(), CoreError> {
        for id in self.settings.components.keys() {
            if !known.contains(&id.as_str()) {
                return Err(CoreError::UnknownComponent {
                    id: id.clone(),
                    known: known.join(", "),
                    file: match (&self.source, self.positions.components.get(id)) {
                        (ConfigSource::LuaToml(p), Some((line, column))) => {
                            format!("{}:{line}:{column}", p.display())
                        }
                        (ConfigSource::LuaToml(p), None) => p.display().to_string(),
                        _ => "environment".to_string(),
                    },
                });
            }
        }
        Ok(())
    }
}

/// Walk up from `start` to the first folder holding `lua.toml` or `lua.skill.yaml`.
pub fn find_project_root(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join(CONFIG_FILE).is_file() || d.join(SKILL_FILE).is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

/// Parse `lua.toml` strictly, reporting file:line:col of the first problem.
fn validate_toml(path: &Path, text: &str) -> Result<(), CoreError> {
    match toml::from_str::<Settings>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let start = e.span().map(|span| span.start);
            let (line, column) = start.map_or((1, 1), |offset| line_col(text, offset));
            // toml names an unknown key but not the key of a bad value: add it.
            let key = start
                .and_then(|offset| key_at(text, offset))
                .map(|key| format!(" (key `{key}`)"))
                .unwrap_or_default();
            Err(CoreError::ConfigInvalid(format!(
                "{}:{line}:{column}: {}{key}",
                path.display(),
                e.message().trim_end()
            )))
        }
    }
}

/// The dotted key set on the line holding `offset` (`[components.persona]` then
/// `check = ...` is `components.persona.check`), or `None` off a `key = value` line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?.trim();
    if line.starts_with('[') {
        return None;
    }
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() {
        return None;
    }
    let section = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            // `[components.persona]  # comment` -> `components.persona`
            l.split('#')
                .next()
                .unwrap_or(l)
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
        });
    Some(match section {
        Some(section) if !section.is_empty() => format!("{section}.{key}"),
        _ => key.to_string(),
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

fn config_error_message(e: &figment::Error, toml: Option<&Path>) -> String {
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.to_lowercase().contains("env"));
    let place = if from_env {
        "environment".to_string()
    } else {
        toml.map_or_else(|| "configuration".to_string(), |p| p.display().to_string())
    };
    let key = if e.path.is_empty() {
        String::new()
    } else {
        format!(" (key `{}`)", e.path.join("."))
    };
    format!("{place}: {}{key}", e.kind)
}

/// Refuses `server.*` values outside their bounds, naming the key and where the value came
/// from (the file, or the environment variable).
fn check_bounds(
    server: &ServerSettings,
    figment: &Figment,
    toml: Option<&Path>,
) -> Result<(), CoreError> {
    let checks = [
        ("retries", u64::from(server.retries), RETRIES_RANGE),
        ("timeout_secs", server.timeout_secs, TIMEOUT_SECS_RANGE),
        ("deadline_secs", server.deadline_secs, DEADLINE_SECS_RANGE),
    ];
    for (key, value, range) in checks {
        if range.contains(&value) {
            continue;
        }
        let path = format!("server.{key}");
        let from_env = figment
            .find_metadata(&path)
            .is_some_and(|m| m.name.to_lowercase().contains("env"));
        let place = if from_env {
            format!(
                "environment variable LUA_SERVER__{}",
                key.to_ascii_uppercase()
            )
        } else {
            toml.map_or_else(|| "configuration".to_string(), |p| p.display().to_string())
        };
        return Err(CoreError::ConfigInvalid(format!(
            "{place}: `{path}` = {value} is out of range: it must be {} to {}",
            range.start(),
            range.end()
        )));
    }
    Ok(())
}

#[derive(Deserialize)]
struct SkillFile {
    agent: Option<SkillAgent>,
}

#[derive(Deserialize)]
struct SkillAgent {
    #[serde(rename = "agentId")]
    agent_id: Option<serde_norway::Value>,
}

fn read_skill_agent_id(path: &Path) -> Result<Option<String>, CoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| CoreError::ConfigRead {
        path: path.to_path_buf(),
        source,
    })?;
    let parsed: SkillFile = serde_norway::from_str(&text)
        .map_err(|e| CoreError::ConfigInvalid(format!("{}: {e}", path.display())))?;
    Ok(parsed.agent.and_then(|a| a.agent_id).and_then(|v| match v {
        serde_norway::Value::String(s) => Some(s),
        serde_norway::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_at_names_the_dotted_key_of_a_line() {
        let text =
            "# c\n[agent]\nid = \"x\"\n\n[components.persona] # p\n  check = \"sometimes\"\n";
        let at = |needle: &str| key_at(text, text.find(needle).unwrap());
        assert_eq!(
            at("\"sometimes\"").as_deref(),
            Some("components.persona.check")
        );
        assert_eq!(at("id =").as_deref(), Some("agent.id"));
        assert_eq!(at("[components"), None);
        assert_eq!(key_at("x = 1", 4).as_deref(), Some("x"));
        assert_eq!(key_at("x = 1", 99), None);
    }

    #[test]
    fn positions_of_the_url_and_of_component_tables() {
        let text = "[agent]\nid = \"x\"\n\n[server]\nurl = \"http://h\"\n\n[components.tone]\ncheck = \"warn\"\n\n[components]\nnmae = { check = \"off\" }\n";
        let p = positions(text);
        assert_eq!(p.url_line, Some(5));
        assert_eq!(p.components.get("tone"), Some(&(7, 1)));
        assert_eq!(p.components.get("nmae"), Some(&(11, 8)));
        let p = positions("components.greeting.check = \"off\"\n");
        assert_eq!(p.components.get("greeting").map(|p| p.0), Some(1));
    }

    #[test]
    fn a_bad_value_names_file_line_and_key() {
        let text = "[components.persona]\ncheck = \"sometimes\"\n";
        let err = validate_toml(Path::new("lua.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("lua.toml:2:9"), "{err}");
        assert!(err.contains("`components.persona.check`"), "{err}");
    }
}
