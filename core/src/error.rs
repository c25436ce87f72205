//! The engine's typed errors. The binary maps each to a message and exit code 2.

use std::path::PathBuf;

use lua_compile::CompileError;
use lua_platform::PlatformError;

#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("config file {} not found", .0.display())]
    ConfigMissing(PathBuf),
    /// Neither `lua.toml` nor `lua.skill.yaml` in the start folder or above it.
    #[error("no lua.toml or lua.skill.yaml in {} or any parent folder", .0.display())]
    NoProject(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    ConfigRead {
        path: PathBuf,
        source: std::io::Error,
    },
    /// No `agent.entry` and none of lua-cli's entry files exists.
    #[error(
        "no entry file in {}: tried {} (lua-cli's order); name yours with `[agent] entry = \"path/to/agent.ts\"` in lua.toml",
        .0.display(),
        crate::config::ENTRY_CANDIDATES.join(", ")
    )]
    NoEntry(PathBuf),
    /// `agent.entry` names a file that does not exist.
    #[error(
        "the entry file {0} does not exist (it is named by agent.entry, in lua.toml or LUA_AGENT__ENTRY); fix the path or remove the key to use lua-cli's discovery"
    )]
    EntryMissing(String),
    #[error("invalid configuration: {0}")]
    ConfigInvalid(String),
    #[error(
        "no agent id: set `[agent] id` in lua.toml, `agent.agentId` in lua.skill.yaml, or LUA_AGENT_ID"
    )]
    NoAgentId,
    #[error("{file}: unknown component `{id}` in [components]; known components: {known}")]
    UnknownComponent {
        id: String,
        known: String,
        file: String,
    },
    #[error("two components registered with the id `{0}`")]
    DuplicateComponent(String),
    #[error("component registered as `{registered}` reports the id `{actual}`")]
    RegistrationMismatch { registered: String, actual: String },
    #[error(
        "no API key or sign-in session: set LUA_API_KEY in the environment, add LUA_API_KEY=<key> to the project's .env, sign in with lua-cli's `lua auth configure` (e-mail), or run `lua auth configure --api-key <key>` (writes ~/.lua-cli/credentials)"
    )]
    MissingApiKey,
    #[error(transparent)]
    Credentials(#[from] crate::credentials::CredentialsError),
    #[error(transparent)]
    Compile(#[from] CompileError),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// `lua sync --all` could not list the folders under it.
    #[error("cannot look for agents under {}: {reason}", path.display())]
    Discover { path: PathBuf, reason: String },
    #[error("cannot write {}: {source}", path.display())]
    StateWrite {
        path: PathBuf,
        source: std::io::Error,
    },
}
