//! Subcommands beside `sync` and `compile`, one module each, so that `main` only
//! dispatches to them. Each returns an [`Exit`] or a [`CliError`] for `main::fail`.

pub mod auth;
pub mod persona;

use std::path::{Path, PathBuf};

use lua_core::config::{self, Config, LoadOptions};
use lua_core::credentials::KeySource;

use crate::CliError;
use crate::printer::Printer;

/// Load the configuration and say what the user should know about the key's source
/// (a credentials file others can read).
pub fn load_config(options: &LoadOptions, printer: &Printer) -> Result<Config, CliError> {
    let config = Config::load(options)?;
    // From here on, everything shown is scrubbed of the key (a server may echo it).
    if let Some(key) = &config.api_key {
        use secrecy::ExposeSecret as _;
        crate::scrub::protect(key.expose_secret());
    }
    if let Some(source) = &config.api_key_source {
        warn_loose(source, printer);
    }
    printer.detail(&config.entry_note());
    printer.detail(&format!(
        "server URL: {} (from {})",
        config.settings.server.url,
        config.server_url_source()
    ));
    printer.detail(&match &config.api_key_source {
        Some(source) => format!("API key: from {}", key_source_text(source)),
        None => "API key: none found".to_string(),
    });
    Ok(config)
}

/// Where a key came from, in words (never the key).
pub fn key_source_text(source: &KeySource) -> String {
    match source {
        KeySource::Environment => "LUA_API_KEY (environment)".to_string(),
        KeySource::DotEnv(path) => format!("LUA_API_KEY in {}", path.display()),
        KeySource::File { path, .. } => path.display().to_string(),
        KeySource::Session { path, uid } => {
            format!("e-mail sign-in session {} (user {uid})", path.display())
        }
    }
}

/// The sign-in session whose ID token this run sends, for signing it out when the
/// platform says it was revoked.
static SESSION_IN_USE: std::sync::OnceLock<lua_core::session::Session> = std::sync::OnceLock::new();

/// With lua-cli's e-mail sign-in (no key anywhere before it): a fresh ID token from the
/// token endpoint becomes the run's bearer (the rotated refresh token is written back).
pub async fn sign_in(config: &mut Config, printer: &Printer) -> Result<(), CliError> {
    if config.api_key.is_some() {
        return Ok(());
    }
    let Some(session) = config.session.clone() else {
        return Ok(());
    };
    let token = lua_core::session::bearer(&session)
        .await
        .map_err(lua_core::CoreError::from)?;
    printer.detail(&format!(
        "signed in with the e-mail session of user {} (ID token refreshed)",
        session.uid
    ));
    config.api_key = Some(token);
    let _ = SESSION_IN_USE.set(session);
    Ok(())
}

/// After the platform answered `SESSION_REVOKED`: the session in use is signed out (its
/// file removed) and the error says so. `None` when no session was in use.
pub async fn revoked() -> Option<CliError> {
    let session = SESSION_IN_USE.get()?;
    let e = lua_core::session::revoked(session).await;
    Some(CliError::Core(lua_core::CoreError::Credentials(e)))
}

/// Warn when the credentials file in use is readable or writable by the group or others.
pub fn warn_loose(source: &KeySource, printer: &Printer) {
    if let KeySource::File {
        path,
        loose_mode: Some(mode),
    } = source
    {
        printer.warn(&format!(
            "{} is accessible by other users (mode {mode:04o}); run `chmod 600 {}`",
            path.display(),
            path.display()
        ));
    }
}

/// The project root as config loading finds it, without reading any config file.
pub fn project_root(options: &LoadOptions) -> PathBuf {
    match &options.config_path {
        Some(path) => path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        None => config::find_project_root(&options.start_dir)
            .unwrap_or_else(|| options.start_dir.clone()),
    }
}

/// Whether a prompt may be shown: never under `--ci`, and only with a terminal on
/// stdin and stderr (where inquire reads and draws).
pub fn can_prompt(ci: bool) -> bool {
    use std::io::IsTerminal;
    !ci && std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

#[cfg(test)]
mod tests {
    /// clap's own consistency checks, for every subcommand (they run lazily otherwise).
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory;
        crate::args::Cli::command().debug_assert();
    }
}
