//! `lua`: the command-line front end. Thin: parse arguments, call the engine, print.
//! Errors become messages and exit codes in one place ([`fail`]).

mod args;
mod commands;
mod delegate;
mod difference;
mod many;
mod printer;
mod prompt;
mod render;
mod sanitize;
mod scrub;
mod spinner;
mod unreachable;

use std::mem::ManuallyDrop;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use lua_compile::{CacheStatus, Compiled};
use lua_core::CoreError;
use lua_core::config::LoadOptions;
use lua_core::engine::{Engine, Exit, Mode, Report, RunOptions, RunResult, Status};
// Links the components crate so its `inventory` registrations are in the binary.
use lua_components as _;

use crate::args::{Cli, Command, Format};
use crate::printer::Printer;

/// Errors only the CLI can have; everything else is the engine's.
#[derive(Debug)]
enum CliError {
    /// A refused action, with the hint that says how to do it.
    Refused(String),
    /// An error with its exit class decided where it was made.
    Classed(Exit, String),
    Core(CoreError),
    Io(String),
}

impl From<CoreError> for CliError {
    fn from(e: CoreError) -> Self {
        CliError::Core(e)
    }
}

fn main() -> ExitCode {
    // lua-cli's `push skill|agent|...` goes to lua-cli before clap sees it (our `push`
    // knows only `persona`).
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if let Some((args, dir)) = delegate::lua_cli_push(&argv) {
        let printer = Printer::new(args::ColorArg::Auto, false, false);
        return delegated(&printer, &args, dir);
    }
    let cli = Cli::parse();
    let printer = Printer::new(cli.global.color, cli.global.quiet, cli.global.verbose > 0);
    init_tracing(cli.global.verbose);
    if let Command::External(args) = &cli.command {
        return delegated(&printer, args, cli.global.directory.clone());
    }
    if let Command::Completions { shell } = cli.command {
        let mut cmd = Cli::command();
        clap_complete::generate(shell, &mut cmd, "lua", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            return fail(
                &printer,
                CliError::Io(format!("cannot start the runtime: {e}")),
            );
        }
    };
    // Not shut down: the process exits next (see `sync` for why nothing is freed).
    let runtime = ManuallyDrop::new(runtime);
    match runtime.block_on(run(cli, &printer)) {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => fail(&printer, e),
    }
}

/// Hand a command we do not implement to lua-cli (see [`delegate`]), in the `-C` folder
/// or the current one.
fn delegated(printer: &Printer, args: &[std::ffi::OsString], dir: Option<PathBuf>) -> ExitCode {
    let dir = match dir.map_or_else(std::env::current_dir, Ok) {
        Ok(dir) => dir,
        Err(e) => {
            return fail(
                printer,
                CliError::Io(format!("cannot read the current folder: {e}")),
            );
        }
    };
    match delegate::run(args, &dir) {
        Ok(code) => ExitCode::from(code),
        Err(e) => fail(printer, e),
    }
}

/// The one place errors become messages and exit codes (2, or the class of a platform
/// or credential error: [`Exit::of_error`]).
fn fail(printer: &Printer, error: CliError) -> ExitCode {
    let (exit, message) = describe(error);
    printer.error(&message);
    ExitCode::from(exit as u8)
}

/// An error's exit class and message.
fn describe(error: CliError) -> (Exit, String) {
    let exit = match &error {
        CliError::Core(e) => Exit::of_error(e),
        CliError::Classed(exit, _) => *exit,
        _ => Exit::Error,
    };
    let message = match error {
        CliError::Refused(e) | CliError::Classed(_, e) => e,
        CliError::Core(e @ CoreError::NoProject(_)) => {
            format!("{e}; run from the project root, or pass -C DIR")
        }
        CliError::Core(e) => e.to_string(),
        CliError::Io(e) => e,
    };
    (exit, message)
}

fn init_tracing(verbose: u8) {
    let level = match verbose {
        0 => return,
        1 => "lua_platform=debug,lua_core=debug,lua_compile=debug,warn",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(level))
        // Log fields carry URLs and server text: cleaned like all output (so no ANSI).
        .with_writer(sanitize::CleanStderr)
        .with_ansi(false)
        .with_target(false)
        .without_time()
        .try_init();
}

/// [`run_command`], and a session the platform revoked signed out (lua-cli's rule).
async fn run(cli: Cli, printer: &Printer) -> Result<Exit, CliError> {
    match run_command(cli, printer).await {
        Err(CliError::Core(CoreError::Platform(
            e @ lua_platform::PlatformError::SessionRevoked { .. },
        ))) => Err(commands::revoked()
            .await
            .unwrap_or(CliError::Core(CoreError::Platform(e)))),
        other => other,
    }
}

async fn run_command(cli: Cli, printer: &Printer) -> Result<Exit, CliError> {
    let start_dir = match &cli.global.directory {
        Some(dir) => dir.clone(),
        None => std::env::current_dir()
            .map_err(|e| CliError::Io(format!("cannot read the current folder: {e}")))?,
    };
    let options = LoadOptions {
        start_dir,
        config_path: cli.global.config.clone(),
    };
    match cli.command {
        Command::Sync(args) => {
            let resolving = args.accept || args.push;
            let mode = if args.check {
                if resolving {
                    printer.warn(&format!(
                        "--check wins over --{}: checking only, nothing is resolved",
                        if args.push { "push" } else { "accept" }
                    ));
                }
                Mode::Check
            } else if args.accept {
                Mode::Accept
            } else if args.push {
                Mode::Push
            } else {
                Mode::Interactive
            };
            if args.all || args.projects.len() > 1 {
                let how = Presentation {
                    mode,
                    force: args.force,
                    dry_run: args.dry_run,
                    format: args.format,
                    emit_machine: false,
                };
                return many::run(&args, &options, cli.global.ci, how, printer).await;
            }
            let options = match args.projects.first() {
                Some(dir) => LoadOptions {
                    start_dir: options.start_dir.join(dir),
                    ..options
                },
                None => options,
            };
            // The project first: outside one, that is the thing to say, in every mode.
            let mut config = commands::load_config(&options, printer)?;
            commands::sign_in(&mut config, printer).await?;
            let engine = Engine::new(config)?;
            let run = RunOptions {
                mode,
                force: args.force,
                dry_run: args.dry_run,
                can_prompt: commands::can_prompt(cli.global.ci),
                ci: cli.global.ci,
            };
            sync(&engine, printer, run, args.format)
                .await
                .map(|r| r.exit)
        }
        Command::Compile(args) => {
            let mut config = commands::load_config(&options, printer)?;
            if args.sync {
                commands::sign_in(&mut config, printer).await?;
            }
            let engine = Engine::new(config)?;
            if args.sync {
                let result =
                    sync(&engine, printer, RunOptions::new(Mode::Check), args.format).await?;
                if !result.exit.is_error() {
                    report_compile(&engine, printer, &result.compiled, result.cache);
                }
                Ok(result.exit)
            } else {
                let (compiled, cache) = engine.compile()?;
                report_compile(&engine, printer, &compiled, cache);
                Ok(Exit::Ok)
            }
        }
        Command::Auth(args) => commands::auth::run(&args, &options, cli.global.ci, printer),
        Command::Lifecycle(command) => {
            commands::persona::run(command, &options, cli.global.ci, printer).await
        }
        Command::Completions { .. } | Command::External(_) => Ok(Exit::Ok),
    }
}

fn report_compile(engine: &Engine, printer: &Printer, compiled: &Compiled, cache: CacheStatus) {
    let manifest = PathBuf::from(".lua").join("manifest.json");
    let how = match cache {
        CacheStatus::Reused => "no input changed, manifest reused",
        CacheStatus::Compiled => "compiled",
    };
    printer.detail(&format!(
        "read {} file(s): {}",
        compiled.inputs.len(),
        compiled
            .inputs
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    printer.detail(&format!(
        "fields: {}",
        compiled
            .fields
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    ));
    // Synced fields that cannot be read deserve a warning; other config (skills built
    // with `new Skill(...)`, say) is runtime code by design: only mentioned with -v.
    let synced = engine.active_ids();
    for (key, node) in &compiled.fields {
        if let lua_compile::Node::Unreadable(u) = node {
            if synced.contains(&key.as_str()) {
                printer.warn(&u.to_string());
            } else {
                printer.detail(&format!("`{key}` is not static (not synced): {}", u.reason));
            }
        }
    }
    printer.info(&format!(
        "✅ {} -> {} ({how})",
        compiled.entry,
        manifest.display()
    ));
}

/// What a run shows before anything is resolved: errors first, then notes and the drift.
struct Front<'a> {
    engine: &'a Engine,
    printer: &'a Printer,
    format: Format,
    mode: Mode,
    terminal: Option<prompt::TerminalDecider<'a>>,
}

impl lua_core::engine::Decider for Front<'_> {
    fn checked(&mut self, report: &Report) {
        for w in &report.warnings {
            self.printer.warn(w);
        }
        if report_errors(self.engine, self.printer, report, self.format) {
            // What the other components found is still worth seeing (JSON and GitHub
            // output carry it too); nothing is resolved while part of the check failed.
            if self.format == Format::Human && report.has_drift() {
                print_headline(self.printer, report, Mode::Check);
                self.printer.out(&render::not_resolved_after_errors(report));
            }
            return;
        }
        report_notes(self.printer, report, self.mode);
        if self.format == Format::Human {
            let shown = match (&self.terminal, self.mode) {
                (None, Mode::Interactive) => Mode::Check,
                (_, mode) => mode,
            };
            print_headline(self.printer, report, shown);
        }
    }

    fn decide(
        &mut self,
        prompt: &lua_core::engine::Prompt<'_>,
    ) -> Result<lua_core::engine::Decision, lua_core::engine::Aborted> {
        match &mut self.terminal {
            Some(terminal) => terminal.decide(prompt),
            None => Err(lua_core::engine::Aborted),
        }
    }
}

async fn sync(
    engine: &Engine,
    printer: &Printer,
    options: RunOptions,
    format: Format,
) -> Result<RunResult, CliError> {
    let mut front = Front {
        engine,
        printer,
        format,
        mode: options.mode,
        terminal: (options.mode == Mode::Interactive && options.can_prompt)
            .then_some(prompt::TerminalDecider { printer }),
    };
    let result = spinner::while_waiting(
        printer,
        "Fetching the published state",
        engine.run(options, &mut front),
    )
    .await?;
    printer.detail(&format!(
        "compiled {} ({})",
        result.compiled.entry,
        match result.cache {
            CacheStatus::Reused => "manifest reused",
            CacheStatus::Compiled => "manifest written",
        }
    ));
    let report = &result.report;
    if report.has_errors() {
        if report.items.iter().any(|i| {
            matches!(
                i.status,
                Status::Error(lua_platform::PlatformError::SessionRevoked { .. })
            )
        }) && let Some(signed_out) = commands::revoked().await
        {
            return Err(signed_out);
        }
        emit_machine(printer, format, &result);
        return Ok(result);
    }
    if options.dry_run && format == Format::Human {
        printer.out_rendered(&render::plan(&result.plan, printer.color));
        if let Some(outcome) = &result.outcome
            && !outcome.resolutions.is_empty()
        {
            printer.out(&render::outcome_summary(outcome));
        }
    }
    if result.read_only && !options.dry_run || options.mode == Mode::Check {
        finish_check(printer, format, &result);
        return Ok(result);
    }
    if options.dry_run {
        emit_machine(printer, format, &result);
        return Ok(result);
    }
    if format == Format::Human
        && let Some(outcome) = &result.outcome
        && (!outcome.resolutions.is_empty() || outcome.aborted)
    {
        printer.out(&render::outcome_summary(outcome));
    }
    emit_machine(printer, format, &result);
    Ok(result)
}

/// How a checked agent's report is shown (several agents: `many`).
#[derive(Clone, Copy)]
struct Presentation {
    mode: Mode,
    force: bool,
    dry_run: bool,
    format: Format,
    /// Print the JSON or GitHub output here (several agents print theirs combined).
    emit_machine: bool,
}

/// A check's report shown as `lua sync --check` shows it (errors and notes, the headline,
/// the summary, the machine output if `how` says so); returns the exit code. Used for
/// several agents checked at once, which share one pool and are never resolved here.
async fn present(
    engine: &Engine,
    printer: &Printer,
    report: &Report,
    how: Presentation,
) -> Result<Exit, CliError> {
    let format = how.format;
    for w in &report.warnings {
        printer.warn(w);
    }
    let exit = lua_core::engine::exit::code(report, None, Mode::Check, true);
    if report_errors(engine, printer, report, format) {
        if report.items.iter().any(|i| {
            matches!(
                i.status,
                Status::Error(lua_platform::PlatformError::SessionRevoked { .. })
            )
        }) && let Some(signed_out) = commands::revoked().await
        {
            return Err(signed_out);
        }
        if format == Format::Human && report.has_drift() {
            print_headline(printer, report, Mode::Check);
            printer.out(&render::not_resolved_after_errors(report));
        }
    } else {
        report_notes(printer, report, Mode::Check);
        if format == Format::Human {
            print_headline(printer, report, Mode::Check);
        }
        check_summary(printer, format, report);
    }
    if how.emit_machine {
        emit(printer, format, report, None, None, exit);
    }
    Ok(exit)
}

/// The end of `--check`: the summary, the drift a `warn` policy lets through, the machine
/// output.
fn finish_check(printer: &Printer, format: Format, result: &RunResult) {
    check_summary(printer, format, &result.report);
    emit_machine(printer, format, result);
}

/// The summary of a check, and the drift a `warn` policy lets through.
fn check_summary(printer: &Printer, format: Format, report: &Report) {
    if format == Format::Human && report.has_drift() {
        printer.out_rendered(&render::check_summary(report, printer.color));
    }
    // Drift that does not fail the check must still be said where CI logs look.
    for item in report
        .drifted()
        .filter(|i| i.policy.check == lua_core::config::CheckPolicy::Warn)
    {
        printer.warn(&format!(
            "{} drifted; not failing the check because components.{}.check = \"warn\"",
            item.label(),
            item.id
        ));
    }
}

/// Errors first: a failed fetch is never "no drift". The same kind of failure in several
/// components (a bad key, say) is said once. True when the run cannot go on.
fn report_errors(engine: &Engine, printer: &Printer, report: &Report, format: Format) -> bool {
    let mut kinds = Vec::new();
    for item in &report.items {
        if let Status::Error(e) = &item.status {
            let kind = std::mem::discriminant(e);
            if !kinds.contains(&kind) {
                kinds.push(kind);
                printer.error(&e.to_string());
            }
        }
    }
    if let Some(e) = report.unreachable() {
        let config = engine.config();
        let text = unreachable::message(
            &e.to_string(),
            &config.settings.server.url,
            config.server_url_source(),
            report.on_unreachable,
        );
        let fails = report.on_unreachable == lua_core::config::OnUnreachable::Fail;
        match (format, fails) {
            (Format::Github, _) => printer.out(&render::github_command(
                if fails { "error" } else { "warning" },
                &text,
            )),
            (_, false) => printer.warn(&text),
            (_, true) => printer.error(&text),
        }
    }
    report.has_errors()
}

/// Notes about items that are not drift: not compared (loud), nothing published,
/// not in the code (verbose only).
fn report_notes(printer: &Printer, report: &Report, mode: Mode) {
    for item in &report.items {
        if item.status.is_not_compared() {
            // Said loudly: the user may believe this component is checked.
            printer.warn(&render::notes_for(item).unwrap_or_default());
            if mode == Mode::Check && item.policy.check == lua_core::config::CheckPolicy::Fail {
                printer.error(&render::not_compared_hint(item));
            }
        } else if let Some(note) = render::notes_for(item) {
            printer.info(&note);
        }
    }
    for item in &report.items {
        if matches!(item.status, Status::NotInCode) {
            printer.detail(&format!(
                "{}: not set in the code; nothing to compare",
                item.label()
            ));
        }
    }
}

/// The drift listing (or the "in sync" line: only when everything was compared).
fn print_headline(printer: &Printer, report: &Report, mode: Mode) {
    if report.has_drift() {
        printer.out(render::DRIFT);
        if mode != Mode::Interactive {
            printer.out("");
            printer.out_rendered(&render::drift_listing(report, printer.color));
            printer.out("");
        }
    } else if let Some(headline) = render::not_compared_headline(report) {
        printer.out(&headline);
    } else if report.unreachable().is_none() {
        printer.out(render::NO_DRIFT);
    }
}

fn emit_machine(printer: &Printer, format: Format, result: &RunResult) {
    emit(
        printer,
        format,
        &result.report,
        result.outcome.as_ref(),
        Some(&result.plan),
        result.exit,
    );
}

fn emit(
    printer: &Printer,
    format: Format,
    report: &Report,
    outcome: Option<&lua_core::engine::Outcome>,
    plan: Option<&lua_core::engine::Plan>,
    exit: Exit,
) {
    match format {
        Format::Human => {}
        Format::Json => {
            printer.out_json(&lua_core::report::to_json_text(report, outcome, plan, exit));
        }
        Format::Github => {
            let commands = render::github(report);
            if !commands.is_empty() {
                printer.out(&commands);
            }
        }
    }
}
