//! `lua persona versions | view | diff | deploy` and `lua push persona`: the persona's
//! version lifecycle, as lua-cli users know it. Parsing and printing only; the logic
//! (which version is latest or current, the push guard, confirming a deploy from a
//! fresh read) is `lua_components::persona_lifecycle`.
//!
//! This is the one CLI module allowed to name a component (see tests/it/invariants.rs):
//! these commands exist for the persona alone, so there is nothing generic to hide
//! them behind. Nothing else in `cli/` may call into it but `main`'s dispatch.

use clap::{Args, Subcommand, ValueEnum};
use lua_components::persona_lifecycle::{
    self as lifecycle, LifecycleError, Selector, Version, Versions,
};
use lua_core::Server;
use lua_core::config::LoadOptions;
use lua_core::engine::{Engine, Exit};
use serde_json::json;

use crate::CliError;
use crate::printer::Printer;

#[derive(Debug, Subcommand)]
pub enum Lifecycle {
    /// The persona's versions on the platform: list, view, diff, deploy (roll back).
    #[command(after_help = "\
Examples:
  lua persona versions                               # every version
  lua persona view current                           # the text production serves
  lua persona deploy 3                               # roll back to v3
lua-cli's spelling works too:
  lua persona production versions
  lua persona production view
  lua persona production deploy --persona-version 3
  lua persona sandbox view                           # the code's persona")]
    Persona(PersonaArgs),
    /// Push the code's persona as a new published version (lua-cli's `lua push persona`).
    #[command(after_help = "\
Examples:
  lua push persona            # show the diff against the latest published version, confirm, push
  lua push persona --force    # push without asking (scripts, CI)
  lua push persona --deploy   # and make the new version current (lua-cli: --auto-deploy)")]
    Push(PushArgs),
}

#[derive(Debug, Args)]
pub struct PersonaArgs {
    #[command(subcommand)]
    pub command: PersonaCommand,
}

#[derive(Debug, Subcommand)]
pub enum PersonaCommand {
    /// List every version, newest first: draft or published, current, latest published.
    #[command(visible_alias = "list")]
    Versions {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Human)]
        format: ListFormat,
    },
    /// Print the text of a version (default: the current one).
    View {
        /// A version number, `latest` (latest published), `current`, or `code`.
        #[arg(value_name = "N|latest|current", default_value = "current")]
        selector: String,
    },
    /// Show the diff between two versions, or a version and the code.
    #[command(after_help = "\
Examples:
  lua persona diff             # latest published version -> code (what `lua sync` compares)
  lua persona diff current     # the version production serves -> code
  lua persona diff 3 latest    # v3 -> latest published")]
    Diff {
        /// The old side: a version number, `latest`, `current` or `code`.
        #[arg(value_name = "A", default_value = "latest")]
        old: String,
        /// The new side (default: the code).
        #[arg(value_name = "B", default_value = "code")]
        new: String,
    },
    /// Make a version current in production (a rollback when it is older).
    #[command(after_help = "\
Examples:
  lua persona deploy 3          # roll back to v3 (asks first on a terminal)
  lua persona deploy latest     # make the latest published version current again
  lua persona deploy 3 --force  # without asking (scripts, CI)")]
    Deploy {
        /// A version number, or `latest` (the latest published version; never a draft).
        #[arg(value_name = "N|latest")]
        selector: String,
        /// Deploy without asking for confirmation.
        #[arg(long)]
        force: bool,
    },
    /// lua-cli's spelling: `production view` (the current version), `production
    /// versions`, `production deploy --persona-version N|latest`.
    Production(LuaCliPersona),
    /// lua-cli's spelling: `sandbox view` (the code's persona), `sandbox versions`.
    #[command(visible_alias = "staging")]
    Sandbox(LuaCliPersona),
}

/// lua-cli's `lua persona [env] [action]`, beside our spelling (same logic).
#[derive(Debug, Args)]
pub struct LuaCliPersona {
    /// view | versions | deploy.
    #[arg(value_enum)]
    pub action: Option<LuaCliAction>,
    /// The version to deploy: a number or `latest`.
    #[arg(long, value_name = "N|latest")]
    pub persona_version: Option<String>,
    /// Deploy without asking for confirmation.
    #[arg(long)]
    pub force: bool,
}

/// lua-cli's persona actions (with its aliases).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LuaCliAction {
    /// The persona: production's current version, or the code's (sandbox).
    #[value(alias = "show", alias = "info")]
    View,
    /// Every version.
    #[value(alias = "list-versions")]
    Versions,
    /// Make --persona-version current (production only).
    Deploy,
}

const LUA_CLI_PERSONA: &str =
    "lua persona production view|versions|deploy --persona-version N, or lua persona sandbox view";

impl LuaCliPersona {
    /// The same command in our spelling.
    fn ours(self, production: bool) -> Result<PersonaCommand, CliError> {
        let usage = |what: &str| {
            CliError::Classed(
                Exit::Error,
                format!(
                    "{what}\nhint: lua-cli's spelling: {LUA_CLI_PERSONA}; or ours: lua persona versions | view [N|latest|current|code] | diff | deploy N|latest"
                ),
            )
        };
        Ok(match (self.action, production) {
            (None, _) => {
                return Err(usage(
                    "lua-cli's interactive persona menu is not part of lua; name the action",
                ));
            }
            (Some(LuaCliAction::View), true) => PersonaCommand::View {
                selector: "current".into(),
            },
            (Some(LuaCliAction::View), false) => PersonaCommand::View {
                selector: "code".into(),
            },
            (Some(LuaCliAction::Versions), _) => PersonaCommand::Versions {
                format: ListFormat::Human,
            },
            (Some(LuaCliAction::Deploy), false) => {
                return Err(usage("deploy is a production action (as in lua-cli)"));
            }
            (Some(LuaCliAction::Deploy), true) => match self.persona_version {
                Some(selector) => PersonaCommand::Deploy {
                    selector,
                    force: self.force,
                },
                None => {
                    return Err(usage("--persona-version is required for deploy"));
                }
            },
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// A table.
    Human,
    /// One JSON document on stdout.
    Json,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// What to push.
    #[arg(value_enum)]
    pub what: PushWhat,
    /// Push without asking for confirmation.
    #[arg(long)]
    pub force: bool,
    /// Also make the new version current (and confirm it from the server); lua-cli's
    /// --auto-deploy.
    #[arg(long, visible_alias = "auto-deploy")]
    pub deploy: bool,
}

/// What our `lua push` pushes; any other `lua push X` is lua-cli's (`crate::delegate`).
pub const PUSH_TARGETS: &[&str] = &["persona"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PushWhat {
    /// The persona of the LuaAgent config.
    Persona,
}

impl From<LifecycleError> for CliError {
    fn from(e: LifecycleError) -> Self {
        match e {
            LifecycleError::Platform(e) => CliError::Core(e.into()),
            e @ LifecycleError::NoSuchVersion(_) => {
                CliError::Classed(Exit::NotFound, e.to_string())
            }
            e => CliError::Refused(e.to_string()),
        }
    }
}

pub async fn run(
    command: Lifecycle,
    options: &LoadOptions,
    ci: bool,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let mut config = super::load_config(options, printer)?;
    super::sign_in(&mut config, printer).await?;
    let engine = Engine::new(config)?;
    match command {
        Lifecycle::Persona(args) => {
            let command = match args.command {
                PersonaCommand::Production(lua_cli) => lua_cli.ours(true)?,
                PersonaCommand::Sandbox(lua_cli) => lua_cli.ours(false)?,
                ours => ours,
            };
            let server = engine.server()?;
            match command {
                PersonaCommand::Versions { format } => list(&server, format, printer).await,
                PersonaCommand::View { selector } => {
                    view(&engine, &server, &selector, printer).await
                }
                PersonaCommand::Diff { old, new } => {
                    diff(&engine, &server, &old, &new, printer).await
                }
                PersonaCommand::Deploy { selector, force } => {
                    deploy(&server, &selector, force, ci, printer).await
                }
                PersonaCommand::Production(_) | PersonaCommand::Sandbox(_) => Err(CliError::Io(
                    "lua-cli's persona spelling was not translated".into(),
                )),
            }
        }
        Lifecycle::Push(args) => match args.what {
            PushWhat::Persona => push(&engine, &args, ci, printer).await,
        },
    }
}

/// `2026-12-01 09:10 UTC` for epoch milliseconds (the raw number when out of range).
pub fn date(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map_or_else(
        |_| ms.to_string(),
        |t| t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

fn rfc3339(ms: i64) -> Option<String> {
    jiff::Timestamp::from_millisecond(ms)
        .ok()
        .map(|t| t.to_string())
}

fn status(v: &Version) -> &'static str {
    if v.draft { "draft" } else { "published" }
}

/// `v3 (latest published, current)`.
fn describe(v: &Version) -> String {
    let marks = marks(v);
    if marks.is_empty() {
        format!("v{} ({})", v.version, status(v))
    } else {
        format!("v{} ({})", v.version, marks.join(", "))
    }
}

fn marks(v: &Version) -> Vec<&'static str> {
    let mut out = Vec::new();
    if v.draft {
        out.push("draft");
    }
    if v.latest_published {
        out.push("latest published");
    }
    if v.current {
        out.push("current");
    }
    out
}

async fn list(server: &Server, format: ListFormat, printer: &Printer) -> Result<Exit, CliError> {
    let all = lifecycle::versions(server).await?;
    match format {
        ListFormat::Json => {
            let versions: Vec<_> = all
                .versions
                .iter()
                .map(|v| {
                    json!({
                        "version": v.version,
                        "status": status(v),
                        "current": v.current,
                        "latestPublished": v.latest_published,
                        "createdDate": v.created_ms,
                        "createdAt": rfc3339(v.created_ms),
                        "createdBy": v.created_by,
                        "persona": v.persona,
                    })
                })
                .collect();
            let doc = json!({ "agentId": server.agent_id(), "versions": versions });
            printer.out_json(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        ListFormat::Human => printer.out(&table(server.agent_id(), &all)),
    }
    Ok(Exit::Ok)
}

fn table(agent_id: &str, all: &Versions) -> String {
    if all.versions.is_empty() {
        return format!("No persona versions yet for {agent_id}.");
    }
    let rows: Vec<[String; 5]> = all
        .versions
        .iter()
        .map(|v| {
            [
                format!("v{}", v.version),
                status(v).to_string(),
                date(v.created_ms),
                v.created_by.clone().unwrap_or_else(|| "-".into()),
                {
                    let marks: Vec<_> = marks(v).into_iter().filter(|m| *m != "draft").collect();
                    marks.join(", ")
                },
            ]
        })
        .collect();
    let header = ["VERSION", "STATUS", "CREATED", "BY", ""];
    let width = |i: usize| {
        rows.iter()
            .map(|r| r[i].chars().count())
            .chain([header[i].len()])
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..4).map(width).collect();
    let line = |r: &[String; 5]| {
        let mut s = String::from("  ");
        for (i, w) in widths.iter().enumerate() {
            s.push_str(&format!("{:<w$}  ", r[i]));
        }
        s.push_str(&r[4]);
        s.trim_end().to_string()
    };
    let mut out = vec![format!("Persona versions of {agent_id}, newest first:")];
    out.push(String::new());
    out.push(line(&header.map(String::from)));
    out.extend(rows.iter().map(line));
    out.join("\n")
}

async fn view(
    engine: &Engine,
    server: &Server,
    selector: &str,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let selector: Selector = selector.parse()?;
    if selector == Selector::Code {
        let (compiled, _) = engine.compile()?;
        let (_, text) = lifecycle::local(&compiled)?;
        printer.info(&format!("code ({})", compiled.entry));
        printer.out(&text);
        return Ok(Exit::Ok);
    }
    let all = lifecycle::versions(server).await?;
    let v = all.select(selector)?;
    printer.info(&format!(
        "{} · created {} by {}",
        describe(v),
        date(v.created_ms),
        v.created_by.as_deref().unwrap_or("unknown")
    ));
    printer.out(&v.text);
    Ok(Exit::Ok)
}

/// One side of a diff: its label and text.
async fn side(
    engine: &Engine,
    all: &Versions,
    selector: Selector,
) -> Result<(String, String), CliError> {
    if selector == Selector::Code {
        let (compiled, _) = engine.compile()?;
        let (_, text) = lifecycle::local(&compiled)?;
        return Ok((format!("code ({})", compiled.entry), text));
    }
    let v = all.select(selector)?;
    Ok((describe(v), v.text.clone()))
}

async fn diff(
    engine: &Engine,
    server: &Server,
    old: &str,
    new: &str,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let (old, new): (Selector, Selector) = (old.parse()?, new.parse()?);
    let all = lifecycle::versions(server).await?;
    let (old_label, old_text) = side(engine, &all, old).await?;
    let (new_label, new_text) = side(engine, &all, new).await?;
    if old_text == new_text {
        printer.out(&format!(
            "No differences between {old_label} and {new_label}."
        ));
        return Ok(Exit::Ok);
    }
    printer.out(&render(
        &old_label, &old_text, &new_label, &new_text, printer,
    ));
    Ok(Exit::Ok)
}

fn render(old_label: &str, old: &str, new_label: &str, new: &str, printer: &Printer) -> String {
    lua_diff::render_block_between(
        lifecycle::title(),
        old_label,
        new_label,
        &lua_diff::compute(old, new),
        lua_diff::Style {
            color: printer.color,
        },
    )
}

/// Changes in production are confirmed on a terminal or forced with `--force`; without
/// a terminal (or under `--ci`) and without `--force`, refuse at once, before any request.
fn can_confirm(force: bool, ci: bool, command: &str) -> Result<(), CliError> {
    if force || super::can_prompt(ci) {
        return Ok(());
    }
    Err(CliError::Refused(format!(
        "`{command}` asks for confirmation, which needs a terminal{}.\nhint: add --force to do it without asking",
        if ci {
            " (and --ci says never prompt)"
        } else {
            ""
        }
    )))
}

/// The answer to a yes/no question (no unless `--force`d or answered yes).
fn confirm(question: &str, force: bool) -> bool {
    force
        || inquire::Confirm::new(question)
            .with_default(false)
            .prompt()
            .unwrap_or(false)
}

async fn deploy(
    server: &Server,
    selector: &str,
    force: bool,
    ci: bool,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let selector: Selector = selector.parse()?;
    can_confirm(force, ci, "lua persona deploy")?;
    let all = lifecycle::versions(server).await?;
    let target = lifecycle::deploy_target(&all, selector)?;
    let current = all.current();
    printer.out(&format!(
        "Current:   {}",
        current.map_or_else(|| "none".to_string(), describe)
    ));
    if target.current {
        printer.out(&format!(
            "v{} is already current; nothing to do.",
            target.version
        ));
        return Ok(Exit::Ok);
    }
    printer.out(&format!(
        "Deploying: {} · created {}",
        describe(target),
        date(target.created_ms)
    ));
    let question = format!("Make v{} current in production?", target.version);
    if !confirm(&question, force) {
        printer.out("Nothing deployed.");
        return Ok(Exit::Ok);
    }
    let done = lifecycle::deploy(server, target.version).await?;
    let latest = all.latest_published().map(|v| v.version);
    let rollback = match latest {
        Some(l) if l != done.after => format!(" (a rollback: latest published is still v{l})"),
        _ => String::new(),
    };
    printer.out(&format!(
        "✅ v{} is now current{rollback}; before: {}.",
        done.after,
        done.before
            .map_or_else(|| "none".to_string(), |v| format!("v{v}"))
    ));
    Ok(Exit::Ok)
}

async fn push(
    engine: &Engine,
    args: &PushArgs,
    ci: bool,
    printer: &Printer,
) -> Result<Exit, CliError> {
    can_confirm(args.force, ci, "lua push persona")?;
    let (compiled, _) = engine.compile()?;
    let server = engine.server()?;
    let plan = lifecycle::plan_push(&server, &compiled).await?;
    let code = format!("code ({})", compiled.entry);
    match &plan.latest {
        Some(latest) if !plan.changed() => {
            printer.out(&format!(
                "The persona in the code is the latest published version (v{}); nothing to push.",
                latest.version
            ));
            if args.deploy && plan.current != Some(latest.version) {
                printer.info(&format!(
                    "hint: `lua persona deploy {}` makes it current",
                    latest.version
                ));
            }
            return Ok(Exit::Ok);
        }
        Some(latest) => printer.out(&render(
            &describe(latest),
            &latest.text,
            &code,
            &plan.local_text,
            printer,
        )),
        None => printer.out("Nothing is published yet: this creates the first persona version."),
    }
    if !confirm("Push the code's persona as a new version?", args.force) {
        printer.out("Nothing pushed.");
        return Ok(Exit::Ok);
    }
    let pushed = lifecycle::push(&server, &plan, args.deploy).await?;
    record(engine, &server, &plan.local, pushed.version)?;
    printer.out(&format!(
        "✅ Pushed the persona as v{} (published); current: {}.",
        pushed.version,
        pushed
            .current
            .map_or_else(|| "none".to_string(), |v| format!("v{v}"))
    ));
    Ok(Exit::Ok)
}

/// Record the pushed value as the new three-way base, as a sync push does.
fn record(
    engine: &Engine,
    server: &Server,
    value: &serde_json::Value,
    version: u64,
) -> Result<(), CliError> {
    let root = &engine.config().root;
    let mut state = lua_core::state::load(root, server.agent_id()).state;
    state.components.insert(
        lifecycle::component_id().to_string(),
        lua_core::state::StateEntry {
            hash: lifecycle::base_hash(value),
            server_version: Some(lua_core::Version::Number(version)),
        },
    );
    lua_core::state::save(root, &state)?;
    Ok(())
}
