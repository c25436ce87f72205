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
//!
//! Files: `settings` (the types), `validate` (`lua.toml` checked with positions, bounds,
//! messages), this file (finding the project and merging the layers).

mod dotenv;
mod settings;
mod validate;

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use secrecy::SecretString;

pub use self::dotenv::{ProjectEnv, VarOrigin};
pub use self::settings::{
    AgentSettings, Allow, CheckPolicy, ComponentPolicy, ConfigSource, DEADLINE_SECS_RANGE,
    DefaultChoice, OnUnreachable, RETRIES_RANGE, ServerSettings, Settings, SyncSettings,
    TIMEOUT_SECS_RANGE, UrlSource,
};
use self::validate::{Positions, check_bounds, config_error_message, positions, validate_toml};
use crate::error::CoreError;

pub const CONFIG_FILE: &str = "lua.toml";
pub const SKILL_FILE: &str = "lua.skill.yaml";
pub const DEFAULT_API_URL: &str = "https://api.heylua.ai";
/// Where lua-cli looks for the agent, in its order, when `agent.entry` names no file.
pub const ENTRY_CANDIDATES: [&str; 6] = [
    "index.ts",
    "src/index.ts",
    "agent.ts",
    "src/agent.ts",
    "main.ts",
    "src/main.ts",
];

/// The entry file: named by `agent.entry`, found among [`ENTRY_CANDIDATES`], or neither.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    Configured(String),
    Found(&'static str),
    NotFound,
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
    /// Where `api_key` came from (for a session: where the bearer will come from).
    pub api_key_source: Option<crate::credentials::KeySource>,
    /// The e-mail sign-in session in use (no key then: the CLI gets a bearer from it).
    pub session: Option<crate::session::Session>,
    /// What was found instead of a usable session, when nothing else was used either.
    pub session_lookup: crate::session::Lookup,
    server_url_source: UrlSource,
    entry: Entry,
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
        let (root, toml_path) = locate(opts)?;
        let files = file_layers(&root, toml_path.as_deref())?;
        let project_env = ProjectEnv::load(env, &root)?;
        let figment = env_layers(files.figment, &project_env, nested_env);
        let mut settings: Settings = figment.extract().map_err(|e| {
            CoreError::ConfigInvalid(config_error_message(&e, toml_path.as_deref()))
        })?;
        with_yaml_agent_id(&mut settings, &root)?;
        check_bounds(&settings.server, &figment, toml_path.as_deref())?;
        let server_url_source = url_source(
            &project_env,
            nested_env,
            toml_path.as_deref(),
            &files.positions,
        );
        let entry = find_entry(&root, settings.agent.entry.as_deref());
        let (api_key, api_key_source, session, session_lookup) =
            credential(env, &project_env, &root)?;
        Ok(Config {
            root,
            source: files.source,
            settings,
            api_key,
            api_key_source,
            session,
            session_lookup,
            server_url_source,
            entry,
            positions: files.positions,
        })
    }

    /// Where `settings.server.url` came from.
    pub fn server_url_source(&self) -> &UrlSource {
        &self.server_url_source
    }

    /// The entry file, relative to the root: `agent.entry` when set (an error naming the
    /// key when that file does not exist), else the first of [`ENTRY_CANDIDATES`] that
    /// exists, else an error listing them.
    pub fn entry(&self) -> Result<&str, CoreError> {
        match &self.entry {
            Entry::Configured(path) if !self.root.join(path).is_file() => {
                Err(CoreError::EntryMissing(path.clone()))
            }
            Entry::Configured(path) => Ok(path),
            Entry::Found(path) => Ok(path),
            Entry::NotFound => Err(CoreError::NoEntry(self.root.clone())),
        }
    }

    /// How the entry was chosen, for `--verbose`.
    pub fn entry_note(&self) -> String {
        match &self.entry {
            Entry::Configured(path) => format!("entry: {path} (agent.entry)"),
            Entry::Found(path) => format!(
                "entry: {path} (the first that exists of {}; set agent.entry in lua.toml to choose)",
                ENTRY_CANDIDATES.join(", ")
            ),
            Entry::NotFound => format!("entry: none of {}", ENTRY_CANDIDATES.join(", ")),
        }
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

type Credential = (
    Option<SecretString>,
    Option<crate::credentials::KeySource>,
    Option<crate::session::Session>,
    crate::session::Lookup,
);

/// lua-cli's credential order: `LUA_API_KEY` (environment, then `.env`), the e-mail
/// sign-in session of the current environment, `~/.lua-cli/credentials`.
fn credential(
    env: &dyn Environment,
    project_env: &ProjectEnv<'_>,
    root: &Path,
) -> Result<Credential, CoreError> {
    use crate::credentials::{self, KeySource};
    use crate::session::{self, Lookup};
    // `resolve_key` reads `.env` itself, to name it as the key's source.
    if let Some(found) = credentials::resolve_key(env, root)? {
        return Ok((Some(found.key), Some(found.source), None, Lookup::None));
    }
    let Some(home) = credentials::home(env) else {
        return Ok((None, None, None, Lookup::None));
    };
    let lookup = session::lookup(&session::SessionEnv::from_env(project_env), &home)?;
    if let Lookup::Found(s) = &lookup {
        let source = KeySource::Session {
            path: s.path.clone(),
            uid: s.uid.clone(),
        };
        return Ok((None, Some(source), Some(s.clone()), lookup));
    }
    let found = credentials::from_file(&credentials::credentials_path(&home))?;
    let (key, source) = found.map(|f| (f.key, f.source)).unzip();
    Ok((key, source, None, lookup))
}

/// `agent.entry`, else the first of lua-cli's candidates that is a file under `root`.
fn find_entry(root: &Path, configured: Option<&str>) -> Entry {
    if let Some(path) = configured.filter(|p| !p.trim().is_empty()) {
        return Entry::Configured(path.to_string());
    }
    ENTRY_CANDIDATES
        .iter()
        .find(|c| root.join(c).is_file())
        .map_or(Entry::NotFound, |c| Entry::Found(c))
}

/// The project root and its `lua.toml`, if any: the `--config` file's folder, or the first
/// folder up from the start that holds `lua.toml` or `lua.skill.yaml`.
fn locate(opts: &LoadOptions) -> Result<(PathBuf, Option<PathBuf>), CoreError> {
    match &opts.config_path {
        Some(path) => {
            if !path.is_file() {
                return Err(CoreError::ConfigMissing(path.clone()));
            }
            let root = path
                .parent()
                .map(Path::to_path_buf)
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or_else(|| PathBuf::from("."));
            Ok((root, Some(path.clone())))
        }
        None => match find_project_root(&opts.start_dir) {
            Some(root) => {
                let toml = root.join(CONFIG_FILE);
                let has_toml = toml.is_file();
                Ok((root, has_toml.then_some(toml)))
            }
            None => Err(CoreError::NoProject(opts.start_dir.clone())),
        },
    }
}

/// The layers read from the project's files, and what they say about themselves.
struct FileLayers {
    figment: Figment,
    source: ConfigSource,
    positions: Positions,
}

/// Defaults < `lua.toml` (validated with positions first); the yaml's agent id comes after
/// extraction ([`with_yaml_agent_id`]).
fn file_layers(root: &Path, toml_path: Option<&Path>) -> Result<FileLayers, CoreError> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    let mut source = ConfigSource::Defaults;
    let mut positions = Positions::default();
    // The yaml's agentId is the default of `agent.id` ([`with_yaml_agent_id`]).
    let skill = root.join(SKILL_FILE);
    if skill.is_file() {
        source = ConfigSource::SkillYaml(skill);
    }
    if let Some(path) = toml_path {
        let text = std::fs::read_to_string(path).map_err(|source| CoreError::ConfigRead {
            path: path.to_path_buf(),
            source,
        })?;
        validate_toml(path, &text)?;
        positions = self::positions(&text);
        figment = figment.merge(Toml::string(&text));
        source = ConfigSource::LuaToml(path.to_path_buf());
    }
    Ok(FileLayers {
        figment,
        source,
        positions,
    })
}

/// The environment over the files: `LUA_<SECTION>__KEY` (when enabled), then the plain
/// strings `LUA_API_URL` and `LUA_AGENT_ID`.
fn env_layers(mut figment: Figment, env: &dyn Environment, nested_env: bool) -> Figment {
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
    figment
}

/// Where the server URL came from, in the order the layers win.
fn url_source(
    env: &ProjectEnv<'_>,
    nested_env: bool,
    toml_path: Option<&Path>,
    positions: &Positions,
) -> UrlSource {
    if let Some(origin) = env.origin("LUA_API_URL") {
        match origin {
            VarOrigin::Process => UrlSource::Env("LUA_API_URL"),
            VarOrigin::DotEnv(path) => UrlSource::DotEnv(path),
        }
    } else if nested_env && ProcessEnv.var("LUA_SERVER__URL").is_some() {
        UrlSource::Env("LUA_SERVER__URL")
    } else if let (Some(path), Some(line)) = (toml_path, positions.url_line) {
        UrlSource::File {
            path: path.to_path_buf(),
            line,
        }
    } else {
        UrlSource::Default
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

/// The yaml's `agent.agentId` is the default of `agent.id`, whatever else lua.toml sets
/// (a lua.toml holding only a policy must not hide it); `lua.toml` and the environment
/// win over it. So the yaml is read only when they set no id: a project that names its
/// agent in lua.toml does not parse a yaml of hundreds of primitives twice per command
/// (their components parse it, and report a syntax error in it).
fn with_yaml_agent_id(settings: &mut Settings, root: &Path) -> Result<(), CoreError> {
    if settings
        .agent
        .id
        .as_deref()
        .is_some_and(|id| !id.trim().is_empty())
    {
        return Ok(());
    }
    let skill = root.join(SKILL_FILE);
    if skill.is_file()
        && let Some(id) = read_skill_agent_id(&skill)?
    {
        settings.agent.id = Some(id);
    }
    Ok(())
}

/// `agent.agentId` of `lua.skill.yaml` (a string, or a number as written), read from the
/// parser's events without building a tree: config loading runs on every command, and the
/// file can list hundreds of primitives (their own component parses it in full, with
/// positions). The whole file is still parsed, so a syntax error anywhere is reported.
fn read_skill_agent_id(path: &Path) -> Result<Option<String>, CoreError> {
    let text = std::fs::read_to_string(path).map_err(|source| CoreError::ConfigRead {
        path: path.to_path_buf(),
        source,
    })?;
    agent_id_in_yaml(&text).map_err(|e| {
        CoreError::ConfigInvalid(format!(
            "{}:{}:{}: {}",
            path.display(),
            e.marker().line(),
            e.marker().col() + 1,
            e.info()
        ))
    })
}

/// An open collection of the walk in [`agent_id_in_yaml`].
enum Open {
    /// A mapping: the key whose value is being read, or `None` while a key is expected.
    Map(Option<String>),
    Seq,
}

fn agent_id_in_yaml(text: &str) -> Result<Option<String>, saphyr_parser::ScanError> {
    use saphyr_parser::{Event, Parser, ScalarStyle};
    // A value was read: its mapping expects a key again.
    fn value_read(stack: &mut [Open]) {
        if let Some(Open::Map(key)) = stack.last_mut() {
            *key = None;
        }
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut found = None;
    let mut documents = 0;
    for event in Parser::new_from_str(text) {
        let (event, _) = event?;
        if documents > 0 {
            continue; // only the first document counts; the rest is only checked
        }
        match event {
            Event::MappingStart(..) => stack.push(Open::Map(None)),
            Event::SequenceStart(..) => stack.push(Open::Seq),
            Event::MappingEnd | Event::SequenceEnd => {
                stack.pop();
                value_read(&mut stack);
            }
            Event::Scalar(value, style, ..) => match stack.as_mut_slice() {
                [.., Open::Map(key @ None)] => *key = Some(value.into_owned()),
                [Open::Map(Some(agent)), Open::Map(Some(agent_id))]
                    if agent == "agent" && agent_id == "agentId" =>
                {
                    let null_or_bool = style == ScalarStyle::Plain
                        && matches!(
                            saphyr::Scalar::parse_from_cow(value.clone()),
                            saphyr::Scalar::Null | saphyr::Scalar::Boolean(_)
                        );
                    if !null_or_bool && found.is_none() {
                        found = Some(value.into_owned());
                    }
                    value_read(&mut stack);
                }
                _ => value_read(&mut stack),
            },
            Event::Alias(_) => value_read(&mut stack),
            Event::DocumentEnd => documents += 1,
            _ => {}
        }
    }
    Ok(found.filter(|id| !id.is_empty()))
}

#[cfg(test)]
mod tests {
    use super::agent_id_in_yaml;

    #[test]
    fn the_agent_id_is_read_where_it_is_and_nowhere_else() {
        let id = |text: &str| agent_id_in_yaml(text).unwrap();
        assert_eq!(id("agent:\n  agentId: a1\n"), Some("a1".into()));
        assert_eq!(
            id("skills:\n  - name: x\n    agentId: no\nagent:\n  name: n\n  agentId: 'q'\n"),
            Some("q".into())
        );
        assert_eq!(id("agent: {agentId: 42}\n"), Some("42".into()));
        // Not under `agent`, nested deeper, empty, null or a boolean: none.
        assert_eq!(id("agentId: top\nother:\n  agentId: x\n"), None);
        assert_eq!(id("agent:\n  inner:\n    agentId: x\n"), None);
        assert_eq!(id("agent:\n  agentId:\n"), None);
        assert_eq!(id("agent:\n  agentId: ~\n"), None);
        assert_eq!(id("agent:\n  agentId: true\n"), None);
        assert_eq!(id("agent:\n  agentId: \"\"\n"), None);
        assert_eq!(id(""), None);
        // Only the first document counts, but a later one must still parse.
        assert_eq!(
            id("agent:\n  agentId: a\n---\nagent:\n  agentId: b\n"),
            Some("a".into())
        );
        let e = agent_id_in_yaml("agent:\n  agentId: a\nskills: [\n").unwrap_err();
        assert_eq!(e.marker().line(), 4);
    }
}
