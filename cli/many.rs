//! Several agents in one `lua sync`: folders named on the command line, or `--all` (every
//! `lua.skill.yaml` under the current folder). `--check` checks them concurrently on one
//! shared transport ([`lua_core::fleet`]) and prints one combined report: each agent's usual
//! report in order, then a table of agents and verdicts (JSON: one document; GitHub: every
//! agent's annotations, paths from the current folder). Resolving runs (`--accept`,
//! `--push`, the prompt) take the named folders one after another and are refused with
//! `--all`. One agent failing never hides the others; the exit code is the most severe.

use std::path::{Path, PathBuf};

use lua_compile::{CacheStatus, Compiled};
use lua_core::config::LoadOptions;
use lua_core::engine::{Engine, Exit, Mode, Report, RunOptions};
use lua_core::fleet::{self, Prepared};
use lua_platform::Transport;
use serde_json::{Value, json};

use crate::args::{Format, SyncArgs};
use crate::printer::Printer;
use crate::{CliError, Presentation, commands, describe, present, render, spinner, sync};

/// What became of one agent.
struct Verdict {
    label: String,
    agent_id: Option<String>,
    exit: Exit,
    /// Found drift that does not fail the check (a `warn` policy), or could not ask.
    note: Option<&'static str>,
    /// The error that stopped it before a report (config, compile, transport).
    error: Option<String>,
}

pub async fn run(
    args: &SyncArgs,
    options: &LoadOptions,
    ci: bool,
    how: Presentation,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let root = &options.start_dir;
    let dirs: Vec<PathBuf> = if args.all {
        if how.mode != Mode::Check {
            return Err(CliError::Refused(
                "--accept, --push and the prompt change agents, so they do not take --all; name each agent's folder (`lua sync --push agents/a agents/b`), or check them all with `lua sync --check --all`".to_owned(),
            ));
        }
        let found = fleet::discover(root)?;
        if found.is_empty() {
            return Err(CliError::Refused(format!(
                "--all found no lua.skill.yaml under {} (folders in .gitignore, hidden folders and node_modules are skipped)",
                root.display()
            )));
        }
        found
    } else {
        args.projects.iter().map(|dir| root.join(dir)).collect()
    };
    let labels: Vec<String> = dirs.iter().map(|dir| label(root, dir)).collect();
    if how.mode == Mode::Check {
        check(&dirs, &labels, options, how, printer).await
    } else {
        resolve_each(&dirs, &labels, options, how, ci, printer).await
    }
}

/// `agents/a` for `root/agents/a`, `.` for the root itself; other paths as they are.
fn label(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => dir.display().to_string(),
    }
}

fn options_for(options: &LoadOptions, dir: &Path) -> LoadOptions {
    LoadOptions {
        start_dir: dir.to_path_buf(),
        config_path: options.config_path.clone(),
    }
}

/// Loads and compiles one agent (sequentially: each may print its own notes).
async fn prepare(
    options: &LoadOptions,
    printer: &Printer,
) -> Result<(Engine, (Compiled, CacheStatus)), CliError> {
    let mut config = commands::load_config(options, printer)?;
    commands::sign_in(&mut config, printer).await?;
    let engine = Engine::new(config)?;
    let compiled = engine.compile()?;
    Ok((engine, compiled))
}

async fn check(
    dirs: &[PathBuf],
    labels: &[String],
    options: &LoadOptions,
    how: Presentation,
    printer: &Printer,
) -> Result<Exit, CliError> {
    // One pool for every agent: one connection per host for the whole run.
    let transport =
        Transport::from_env().map_err(|reason| CliError::Classed(Exit::Error, reason))?;
    let mut prepared: Vec<Result<_, CliError>> = Vec::with_capacity(dirs.len());
    for dir in dirs {
        let agent = async {
            let (engine, compiled) = prepare(&options_for(options, dir), printer).await?;
            let server = engine.server_on(Some(transport.clone()))?;
            Ok((engine, compiled, server))
        };
        prepared.push(agent.await);
    }
    let ready: Vec<Prepared<'_>> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok())
        .map(|(engine, (compiled, _), server)| Prepared {
            engine,
            compiled,
            server,
        })
        .collect();
    let message = format!("Checking {} agents", ready.len());
    let mut reports = spinner::while_waiting(printer, &message, fleet::check_all(&ready))
        .await
        .into_iter();

    let mut verdicts = Vec::with_capacity(dirs.len());
    let mut documents = Vec::new();
    let mut annotations = Vec::new();
    for (label, prepared) in labels.iter().zip(prepared) {
        let engine = match prepared {
            Ok((engine, _, _)) => engine,
            Err(error) => {
                let (exit, message) = describe(error);
                printer.error(&format!("{label}: {message}"));
                documents.push(json!({
                    "project": label, "agentId": null, "exitCode": exit as u8,
                    "verdict": verdict_word(exit, None), "error": message, "report": null,
                }));
                verdicts.push(Verdict {
                    label: label.clone(),
                    agent_id: None,
                    exit,
                    note: None,
                    error: Some(message),
                });
                continue;
            }
        };
        let Some(report) = reports.next() else {
            break;
        };
        let agent_id = engine.config().agent_id().ok().map(str::to_owned);
        if how.format == Format::Human {
            printer.out(&format!(
                "── {label} ({}) ──",
                agent_id.as_deref().unwrap_or("no agent id")
            ));
        }
        let exit = match present(&engine, printer, &report, how).await {
            Ok(exit) => exit,
            Err(error) => {
                let (exit, message) = describe(error);
                printer.error(&format!("{label}: {message}"));
                exit
            }
        };
        let note = note(&report, exit);
        match how.format {
            Format::Human => printer.out(""),
            Format::Json => {
                let text = lua_core::report::to_json_text(&report, None, None, exit);
                documents.push(json!({
                    "project": label, "agentId": agent_id, "exitCode": exit as u8,
                    "verdict": verdict_word(exit, note),
                    "report": serde_json::from_str::<Value>(&text).unwrap_or(Value::Null),
                }));
            }
            Format::Github => {
                let commands = render::github(&report);
                annotations.extend(commands.lines().map(|line| in_folder(line, label)));
            }
        }
        verdicts.push(Verdict {
            label: label.clone(),
            agent_id,
            exit,
            note,
            error: None,
        });
    }
    let exit = most_severe(verdicts.iter().map(|v| v.exit));
    match how.format {
        Format::Human => printer.out(&table(&verdicts)),
        Format::Json => {
            let doc = json!({ "agents": documents, "exitCode": exit as u8 });
            printer.out_json(&serde_json::to_string_pretty(&doc).unwrap_or_default());
        }
        Format::Github => {
            if !annotations.is_empty() {
                printer.out(&annotations.join("\n"));
            }
        }
    }
    Ok(exit)
}

/// Named folders one after another, each the usual resolving run.
async fn resolve_each(
    dirs: &[PathBuf],
    labels: &[String],
    options: &LoadOptions,
    how: Presentation,
    ci: bool,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let mut verdicts = Vec::with_capacity(dirs.len());
    for (dir, label) in dirs.iter().zip(labels) {
        printer.out(&format!("── {label} ──"));
        let run = async {
            let mut config = commands::load_config(&options_for(options, dir), printer)?;
            commands::sign_in(&mut config, printer).await?;
            let engine = Engine::new(config)?;
            let agent_id = engine.config().agent_id().ok().map(str::to_owned);
            let run = RunOptions {
                mode: how.mode,
                force: how.force,
                dry_run: how.dry_run,
                can_prompt: commands::can_prompt(ci),
                ci,
            };
            let exit = sync(&engine, printer, run, how.format).await?.exit;
            Ok::<_, CliError>((agent_id, exit))
        };
        let (agent_id, exit, error) = match run.await {
            Ok((agent_id, exit)) => (agent_id, exit, None),
            Err(error) => {
                let (exit, message) = describe(error);
                printer.error(&format!("{label}: {message}"));
                (None, exit, Some(message))
            }
        };
        printer.out("");
        verdicts.push(Verdict {
            label: label.clone(),
            agent_id,
            exit,
            note: None,
            error,
        });
    }
    if how.format == Format::Human {
        printer.out(&table(&verdicts));
    }
    Ok(most_severe(verdicts.iter().map(|v| v.exit)))
}

fn note(report: &Report, exit: Exit) -> Option<&'static str> {
    if exit != Exit::Ok {
        None
    } else if report.unreachable().is_some() {
        Some("not checked: server unreachable")
    } else if report.has_drift() {
        Some("drift (warn only)")
    } else {
        None
    }
}

/// An error beats drift beats in sync; of several errors, the first agent's (in the order
/// listed) decides the class.
fn most_severe(exits: impl Iterator<Item = Exit>) -> Exit {
    let mut worst = Exit::Ok;
    for exit in exits {
        if exit.is_error() {
            if !worst.is_error() {
                worst = exit;
            }
        } else if exit == Exit::Drift && worst == Exit::Ok {
            worst = exit;
        }
    }
    worst
}

fn verdict_word(exit: Exit, note: Option<&'static str>) -> String {
    match exit {
        Exit::Ok => note.unwrap_or("in sync").to_owned(),
        Exit::Drift => "drift".to_owned(),
        Exit::Error => "error".to_owned(),
        Exit::NotFound => "not found".to_owned(),
        Exit::NotAuthenticated => "not authenticated".to_owned(),
        Exit::Forbidden => "forbidden".to_owned(),
        Exit::Unavailable => "unavailable".to_owned(),
        Exit::ProviderRejected => "provider rejected".to_owned(),
    }
}

/// `3 agents: 1 in sync, 1 drift, 1 failed`, then one line per agent.
fn table(verdicts: &[Verdict]) -> String {
    let count = |f: &dyn Fn(&Verdict) -> bool| verdicts.iter().filter(|v| f(v)).count();
    let mut out = format!(
        "{} agents: {} in sync, {} drift, {} failed",
        verdicts.len(),
        count(&|v| v.exit == Exit::Ok),
        count(&|v| v.exit == Exit::Drift),
        count(&|v| v.exit.is_error()),
    );
    let rows: Vec<[String; 3]> = verdicts
        .iter()
        .map(|v| {
            let mut verdict = verdict_word(v.exit, v.note);
            if v.exit != Exit::Ok {
                verdict.push_str(&format!(" (exit {})", v.exit as u8));
            }
            if v.error.is_some() {
                verdict.push_str(": see the error above");
            }
            [
                v.label.clone(),
                v.agent_id.clone().unwrap_or_else(|| "-".to_owned()),
                verdict,
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0);
    let (w0, w1) = (width(0), width(1));
    for [project, agent, verdict] in rows {
        out.push_str(&format!("\n  {project:<w0$}  {agent:<w1$}  {verdict}"));
    }
    out
}

/// A GitHub annotation with its file under the agent's folder (annotations name files from
/// the repository root; each agent's report names them from its own).
fn in_folder(line: &str, label: &str) -> String {
    if label == "." {
        return line.to_owned();
    }
    for level in ["error", "warning", "notice"] {
        let head = format!("::{level} file=");
        if let Some(rest) = line.strip_prefix(&head) {
            return format!("{head}{label}/{rest}");
        }
    }
    line.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_beat_drift_and_the_first_error_decides() {
        use Exit::*;
        assert_eq!(most_severe([Ok, Ok].into_iter()), Ok);
        assert_eq!(most_severe([Ok, Drift, Ok].into_iter()), Drift);
        assert_eq!(most_severe([Drift, NotFound, Error].into_iter()), NotFound);
        assert_eq!(most_severe([Error, Unavailable].into_iter()), Error);
    }

    #[test]
    fn annotations_are_moved_under_the_agents_folder() {
        assert_eq!(
            in_folder(
                "::error file=src/index.ts,line=1,col=2::name drifted",
                "agents/a"
            ),
            "::error file=agents/a/src/index.ts,line=1,col=2::name drifted"
        );
        assert_eq!(
            in_folder("::warning::x file=y", "agents/a"),
            "::warning::x file=y"
        );
        assert_eq!(
            in_folder("::error file=a,line=1::m", "."),
            "::error file=a,line=1::m"
        );
    }
}
