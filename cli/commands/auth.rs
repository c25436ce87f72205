//! `lua auth status | configure | logout`: where the API key comes from, and the
//! reference CLI's credentials file (`~/.lua-cli/credentials`). The key itself is never
//! printed, not even in part.

use std::io::BufRead;

use clap::{Args, Subcommand};
use lua_core::CoreError;
use lua_core::config::{LoadOptions, ProcessEnv};
use lua_core::credentials::{self, CredentialsError, KeySource};
use lua_core::engine::Exit;

use crate::CliError;
use crate::printer::Printer;

#[derive(Debug, Args)]
pub struct AuthArgs {
    #[command(subcommand)]
    pub command: AuthCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Say which API key source is used (environment, .env or ~/.lua-cli/credentials).
    Status,
    /// Save an API key to ~/.lua-cli/credentials (mode 0600), as lua-cli does.
    #[command(after_help = "\
Examples:
  lua auth configure --api-key KEY      # save KEY
  pass show lua | lua auth configure --api-key -   # read the key from stdin
  lua auth configure                    # ask for it (on a terminal)")]
    Configure {
        /// The key; `-` reads it from stdin. Without it, asked for on a terminal.
        #[arg(long, value_name = "KEY")]
        api_key: Option<String>,
    },
    /// Remove ~/.lua-cli/credentials.
    Logout,
}

pub fn run(
    args: &AuthArgs,
    options: &LoadOptions,
    ci: bool,
    printer: &Printer,
) -> Result<Exit, CliError> {
    match &args.command {
        AuthCommand::Status => status(options, printer),
        AuthCommand::Configure { api_key } => configure(api_key.as_deref(), options, ci, printer),
        AuthCommand::Logout => logout(options, printer),
    }
}

fn home() -> Result<std::path::PathBuf, CliError> {
    credentials::home(&ProcessEnv).ok_or(CliError::Core(CoreError::Credentials(
        CredentialsError::NoHome,
    )))
}

/// One line per source, in the order they are tried; the first one set is used.
fn status(options: &LoadOptions, printer: &Printer) -> Result<Exit, CliError> {
    let root = super::project_root(options);
    let dotenv = root.join(credentials::DOTENV_FILE);
    let file = credentials::home(&ProcessEnv).map(|h| credentials::credentials_path(&h));
    let env_set = std::env::var(credentials::KEY_VAR).is_ok_and(|v| !v.trim().is_empty());
    let dotenv_state = match credentials::from_dotenv(&dotenv) {
        Ok(Some(_)) => Ok(true),
        Ok(None) => Ok(false),
        Err(e) => Err(e),
    };
    let file_state = file.as_deref().map(credentials::from_file);

    let mut rows: Vec<(String, String, bool)> = Vec::new();
    rows.push((
        format!("{} (environment)", credentials::KEY_VAR),
        if env_set { "set" } else { "not set" }.into(),
        env_set,
    ));
    let (text, set) = match &dotenv_state {
        Ok(true) => ("set".to_string(), true),
        Ok(false) if dotenv.is_file() => ("not in the file".to_string(), false),
        Ok(false) => ("no such file".to_string(), false),
        Err(e) => (format!("unreadable: {e}"), false),
    };
    rows.push((
        format!("{} in {}", credentials::KEY_VAR, dotenv.display()),
        text,
        set,
    ));
    let (name, text, set) = match (&file, &file_state) {
        (Some(path), Some(Ok(Some(found)))) => (
            path.display().to_string(),
            match &found.source {
                KeySource::File {
                    loose_mode: Some(mode),
                    ..
                } => format!("set (mode {mode:04o}: others can read it, run `chmod 600`)"),
                _ => "set".to_string(),
            },
            true,
        ),
        (Some(path), Some(Ok(None))) if path.is_file() => {
            (path.display().to_string(), "empty".to_string(), false)
        }
        (Some(path), Some(Ok(None))) => (path.display().to_string(), "no such file".into(), false),
        (Some(path), Some(Err(e))) => (
            path.display().to_string(),
            format!("unreadable: {e}"),
            false,
        ),
        _ => (
            "~/.lua-cli/credentials".to_string(),
            "HOME is not set".to_string(),
            false,
        ),
    };
    // lua-cli's e-mail sign-in session comes before the credentials file.
    let session = session_row(&root);
    let session_used = session.2;
    rows.insert(2, session);
    rows.push((name, text, set));

    let used = rows.iter().position(|(_, _, set)| *set);
    match used {
        Some(2) if session_used => {
            printer.out(&format!("Signed in: {} ({})", rows[2].0, rows[2].1));
        }
        Some(i) => printer.out(&format!("API key: from {}", rows[i].0)),
        None => printer.out("API key: none found"),
    }
    printer.out("Sources, in the order they are tried (the first one set is used):");
    for (i, (name, text, _)) in rows.iter().enumerate() {
        let mark = if Some(i) == used { "  <- used" } else { "" };
        printer.out(&format!("  {}. {name}: {text}{mark}", i + 1));
    }
    // Which server the credential goes to matters as much as which credential: a `.env`
    // may point a staging key at a staging URL. Outside a project there is no URL to say.
    if let Ok(config) = lua_core::config::Config::load(options) {
        printer.out(&format!(
            "Server URL: {} (from {})",
            config.settings.server.url,
            config.server_url_source()
        ));
    }
    if used.is_none() {
        return Err(CliError::Core(CoreError::MissingApiKey));
    }
    Ok(Exit::Ok)
}

/// The session row of `status`: lua-cli's session file of the current environment (the
/// project's `.env` counts for it), what it holds (kind, user id; never a token).
fn session_row(root: &std::path::Path) -> (String, String, bool) {
    use lua_core::session::{Lookup, SessionEnv, lookup};
    let Some(home) = credentials::home(&ProcessEnv) else {
        return (
            "e-mail sign-in session".into(),
            "HOME is not set".into(),
            false,
        );
    };
    let env = match lua_core::config::ProjectEnv::load(&ProcessEnv, root) {
        Ok(project_env) => SessionEnv::from_env(&project_env),
        Err(_) => SessionEnv::from_env(&ProcessEnv),
    };
    let path = env.path(&home);
    let name = format!("e-mail sign-in session {}", path.display());
    match lookup(&env, &home) {
        Ok(Lookup::Found(s)) => (name, format!("user {}, for {}", s.uid, env.api_url), true),
        Ok(Lookup::None) => (name, format!("none for {}", env.api_url), false),
        Ok(Lookup::OtherEnvironment(_)) => (
            name,
            "a session for a different environment (not used)".into(),
            false,
        ),
        Ok(Lookup::Invalid(_)) => (
            name,
            "invalid (not used); run `lua auth configure` to sign in again".into(),
            false,
        ),
        Err(e) => (name, format!("unreadable: {e}"), false),
    }
}

fn configure(
    api_key: Option<&str>,
    options: &LoadOptions,
    ci: bool,
    printer: &Printer,
) -> Result<Exit, CliError> {
    let home = home()?;
    let key = match api_key {
        Some("-") => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| CliError::Io(format!("cannot read the key from stdin: {e}")))?;
            line
        }
        Some(key) => key.to_string(),
        None if super::can_prompt(ci) => inquire::Password::new("Lua API key:")
            .without_confirmation()
            .with_display_mode(inquire::PasswordDisplayMode::Masked)
            .prompt()
            .map_err(|e| CliError::Io(format!("no key entered: {e}")))?,
        None => {
            return Err(CliError::Refused(
                "`lua auth configure` needs the key: pass `--api-key KEY`, or `--api-key -` to read it from stdin".into(),
            ));
        }
    };
    let path = credentials::configure(&home, &key).map_err(CoreError::from)?;
    printer.out(&format!(
        "✅ API key saved to {} (mode 0600)",
        path.display()
    ));
    shadowed_note(options, printer);
    Ok(Exit::Ok)
}

fn logout(options: &LoadOptions, printer: &Printer) -> Result<Exit, CliError> {
    let home = home()?;
    let path = credentials::credentials_path(&home);
    if credentials::logout(&home).map_err(CoreError::from)? {
        printer.out(&format!("✅ Removed {}", path.display()));
    } else {
        printer.out(&format!(
            "No credentials file at {}; nothing to remove",
            path.display()
        ));
    }
    shadowed_note(options, printer);
    Ok(Exit::Ok)
}

/// The file is the last place tried: say when an earlier one wins.
fn shadowed_note(options: &LoadOptions, printer: &Printer) {
    let root = super::project_root(options);
    let dotenv = root.join(credentials::DOTENV_FILE);
    if std::env::var(credentials::KEY_VAR).is_ok_and(|v| !v.trim().is_empty()) {
        printer.info(
            "note: LUA_API_KEY is set in the environment; it is used before the credentials file",
        );
    } else if matches!(credentials::from_dotenv(&dotenv), Ok(Some(_))) {
        printer.info(&format!(
            "note: {} sets LUA_API_KEY; it is used before the credentials file",
            dotenv.display()
        ));
    }
}
