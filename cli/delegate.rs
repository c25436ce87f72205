//! lua-cli's other commands: `lua` is installed under the same name as lua-cli, so a
//! subcommand we do not implement (`lua push skill`, `lua deploy`, `lua init`, `lua chat`,
//! ...) is handed to lua-cli when it can be found, as cargo runs `cargo-foo` for an
//! unknown `cargo foo`. Our own commands always win: clap only reports a subcommand as
//! external when it is none of ours, and `push` is ours only for `push persona`.
//!
//! Where lua-cli is looked for: `LUA_CLI_FALLBACK` (a path to its `lua`), else the first
//! `node_modules/.bin/lua` walking up from the start folder. On Unix the process becomes
//! lua-cli (`exec`): arguments, standard streams, signals and the exit code are simply its
//! own. A candidate that is `lua` itself (our npm launcher also installs a `.bin/lua`) is
//! skipped, and `LUA_SYNC_DELEGATED` in the child's environment stops any loop.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use lua_core::engine::Exit;

use crate::CliError;

/// The variable pointing `lua` at an installed lua-cli.
pub const FALLBACK_VAR: &str = "LUA_CLI_FALLBACK";
/// Set in lua-cli's environment: a `lua` started under it never delegates again.
const DELEGATED_VAR: &str = "LUA_SYNC_DELEGATED";

/// Global options of ours that take a value (skipped when looking for the subcommand).
const VALUE_OPTIONS: [&str; 4] = ["-C", "--directory", "--config", "--color"];

/// When the command line is `lua [global options] push <something other than persona>`,
/// the arguments from `push` on (lua-cli's `push skill|agent|webhook|...|all`, or its
/// interactive `push`), and the `-C` folder if one was given. `--help` stays ours.
pub fn lua_cli_push(argv: &[OsString]) -> Option<(Vec<OsString>, Option<PathBuf>)> {
    let mut dir = None;
    let mut i = 1;
    let mut positionals = Vec::new();
    while i < argv.len() {
        let arg = argv[i].to_string_lossy();
        if arg == "-h" || arg == "--help" {
            return None;
        }
        if VALUE_OPTIONS.contains(&arg.as_ref()) {
            if arg == "-C" || arg == "--directory" {
                dir = argv.get(i + 1).map(PathBuf::from);
            }
            i += 2;
            continue;
        }
        if let Some(d) = arg.strip_prefix("--directory=") {
            dir = Some(PathBuf::from(d));
        } else if !arg.starts_with('-') {
            positionals.push(i);
            if positionals.len() == 2 {
                break;
            }
        }
        i += 1;
    }
    let first = *positionals.first()?;
    if argv[first] != "push" {
        return None;
    }
    match positionals.get(1) {
        Some(&second)
            if crate::commands::persona::PUSH_TARGETS
                .iter()
                .any(|t| argv[second] == *t) =>
        {
            None
        }
        _ => Some((argv[first..].to_vec(), dir)),
    }
}

/// Run lua-cli with `args` (the subcommand and everything after it) in `dir`. On Unix this
/// only returns on failure; elsewhere it returns lua-cli's exit code.
pub fn run(args: &[OsString], dir: &Path) -> Result<u8, CliError> {
    let command = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    if std::env::var_os(DELEGATED_VAR).is_some() {
        return Err(not_found(
            &command,
            "lua-cli started `lua` again (its node_modules/.bin/lua is this program)",
        ));
    }
    let Some(lua_cli) = find(dir) else {
        return Err(not_found(&command, "lua-cli was not found"));
    };
    let mut child = std::process::Command::new(&lua_cli);
    child.args(args).current_dir(dir).env(DELEGATED_VAR, "1");
    exec(child, &lua_cli)
}

#[cfg(unix)]
fn exec(mut child: std::process::Command, path: &Path) -> Result<u8, CliError> {
    use std::os::unix::process::CommandExt;
    let e = child.exec();
    Err(CliError::Io(format!(
        "cannot run lua-cli at {}: {e}",
        path.display()
    )))
}

#[cfg(not(unix))]
fn exec(mut child: std::process::Command, path: &Path) -> Result<u8, CliError> {
    let status = child
        .status()
        .map_err(|e| CliError::Io(format!("cannot run lua-cli at {}: {e}", path.display())))?;
    Ok(status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1)))
}

/// `LUA_CLI_FALLBACK`, else the nearest `node_modules/.bin/lua` that is not this program.
fn find(start: &Path) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(FALLBACK_VAR).filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(path));
    }
    let me = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok());
    let start = start.canonicalize().unwrap_or_else(|_| start.to_path_buf());
    start
        .ancestors()
        .map(|d| d.join("node_modules").join(".bin").join("lua"))
        .filter(|p| p.is_file())
        .find(|p| !is_ours(p, me.as_deref()))
}

/// Whether a `.bin/lua` is this program: the binary itself, or our npm launcher.
fn is_ours(candidate: &Path, me: Option<&Path>) -> bool {
    let real = candidate.canonicalize().ok();
    real.as_deref() == me
        || real
            .as_deref()
            .is_some_and(|r| r.components().any(|c| c.as_os_str() == "@lua-sync"))
}

fn not_found(command: &str, why: &str) -> CliError {
    CliError::Classed(
        Exit::Error,
        format!(
            "`lua {command}` is a lua-cli command, which this `lua` does not implement, and {why}.\n\
             hint: run it with `npx lua-cli {command}`, or point lua at an installed lua-cli: \
             install it in the project (`npm install lua-cli`: node_modules/.bin/lua is used), \
             or set {FALLBACK_VAR} to its `lua` (e.g. /usr/local/lib/node_modules/lua-cli/dist/index.js or a node_modules/.bin/lua)"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(args: &[&str]) -> Vec<OsString> {
        std::iter::once("lua")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect()
    }

    #[test]
    fn push_is_ours_only_for_persona_and_help() {
        let push = |args: &[&str]| lua_cli_push(&argv(args));
        let ours = crate::commands::persona::PUSH_TARGETS[0];
        assert_eq!(push(&["push", ours, "--force"]), None);
        assert_eq!(push(&["-C", "push", "push", ours]), None);
        assert_eq!(push(&["push", "--help"]), None);
        assert_eq!(push(&["sync", "skill"]), None);
        assert_eq!(push(&[]), None);
        let (args, dir) = push(&[
            "-C", "/p", "--color", "never", "push", "--force", "skill", "--name", "x",
        ])
        .unwrap();
        assert_eq!(
            args,
            argv(&["push", "--force", "skill", "--name", "x"])[1..]
        );
        assert_eq!(dir, Some(PathBuf::from("/p")));
        let (args, dir) = push(&["push"]).unwrap();
        assert_eq!(args, argv(&["push"])[1..]);
        assert_eq!(dir, None);
    }
}
