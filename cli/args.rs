//! Command-line arguments (clap). Only this module and `main` know clap.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes (3 and 9-12 as lua-cli's):
  0   in sync (or drift only where lua.toml says warn/off, or all drift resolved)
  1   drift found by --check, or left unresolved (conflict, prompt aborted)
  2   usage and other errors (config, compile, protocol, refused action, no terminal, ...)
  3   not found on the platform (unknown agent or version, HTTP 404)
  9   not authenticated (no API key or session, key rejected, signed out)
  10  forbidden (HTTP 403) or another refusal (other 4xx)
  11  platform unavailable (5xx, or no answer under on_unreachable = \"fail\")
  12  the agent's model provider refused (PROVIDER_REJECTED)

lua-cli's other commands (push skill, deploy, init, chat, ...) are handed to lua-cli:
LUA_CLI_FALLBACK (its `lua`), else the project's node_modules/.bin/lua.

Environment:
  LUA_API_KEY   API key for the platform (never printed or logged); else LUA_API_KEY
                in the project's .env, else ~/.lua-cli/credentials (`lua auth`)
  LUA_API_URL   platform base URL (default https://api.heylua.ai)
  LUA_AGENT_ID  agent id (overrides lua.toml / lua.skill.yaml)
  LUA_COMPONENTS__<ID>__CHECK=warn  and other nested lua.toml overrides
  NO_COLOR, CLICOLOR_FORCE  colour control";

/// Keep your agent's name and persona in code and on the Lua platform in step.
#[derive(Debug, Parser)]
#[command(
    name = "lua",
    version,
    about,
    after_help = AFTER_HELP,
    propagate_version = true,
    allow_external_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: Global,
}

/// Options of every command, listed under their own heading in each command's help.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// Run as if started in DIR (the project is found from there, walking up).
    #[arg(short = 'C', long = "directory", value_name = "DIR", global = true)]
    pub directory: Option<PathBuf>,
    /// Use this lua.toml; the project root is its folder.
    #[arg(long, value_name = "PATH", global = true)]
    pub config: Option<PathBuf>,
    /// When to colour output.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, global = true, value_name = "WHEN")]
    pub color: ColorArg,
    /// Print only errors and the report itself.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Show detailed output: compile details and request logs on stderr (-vv for more).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Never prompt (as lua-cli's --ci): a command that would ask exits 2 with a hint.
    /// Only this flag counts; the CI environment variable does not.
    #[arg(long, global = true)]
    pub ci: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect drift between the server and your code, show it, and resolve it.
    #[command(after_help = "\
Examples:
  lua sync             # show drift and choose per component: push, pull or skip
  lua sync --check     # CI: exit 1 if drift is found, change nothing
  lua sync --accept    # pull the server's values into your code
  lua sync --push      # push your code's values to the server
  lua sync --check --format github   # GitHub Actions annotations
  lua sync --check --all             # every agent (lua.skill.yaml) under this folder
  lua sync --check agents/a agents/b # these agents, one combined report")]
    Sync(SyncArgs),
    /// Compile the project to .lua/manifest.json (fast; no server access unless --sync).
    #[command(after_help = "\
Examples:
  lua compile           # compile only (reuses the manifest when no input changed)
  lua compile --sync    # check for drift first; exit 1 on drift
  lua compile --verbose # say which files were read and whether the cache was used")]
    Compile(CompileArgs),
    /// Show or manage the API key (environment, .env, ~/.lua-cli/credentials).
    Auth(crate::commands::auth::AuthArgs),
    #[command(flatten)]
    Lifecycle(crate::commands::persona::Lifecycle),
    /// Print a shell completion script.
    #[command(
        after_help = "Example:\n  lua completions bash > ~/.local/share/bash-completion/completions/lua"
    )]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Any other command is lua-cli's: handed to it (see `delegate`).
    #[command(external_subcommand)]
    External(Vec<OsString>),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Check for drift only; exit 1 if drift is found (for CI).
    #[arg(long, group = "mode")]
    pub check: bool,
    /// Pull the server's values into your code without prompting (lua-cli's --pull).
    #[arg(long, group = "mode", visible_alias = "pull")]
    pub accept: bool,
    /// Push your code's values to the server without prompting.
    #[arg(long, group = "mode")]
    pub push: bool,
    /// Resolve conflicts (changed on both sides) and flatten composite values anyway.
    #[arg(long)]
    pub force: bool,
    /// Output format of the report.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Every agent project (a folder with lua.skill.yaml) under the current folder,
    /// .gitignore respected: checked concurrently, one combined report.
    #[arg(long, conflicts_with = "projects")]
    pub all: bool,
    /// Agent project folders (default: the current one). With several, `--check` checks
    /// them concurrently and prints one combined report; `--accept`/`--push` and the prompt
    /// resolve them one after another.
    #[arg(value_name = "PROJECT")]
    pub projects: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// Check for drift against the server before compiling; exit 1 on drift.
    #[arg(long)]
    pub sync: bool,
    /// Output format of the drift report (with --sync).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable text with coloured diffs.
    Human,
    /// One JSON document on stdout (schema in the README).
    Json,
    /// GitHub Actions annotations (::error file=...,line=...::...).
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    Auto,
    Always,
    Never,
}
