//! `lua` in a real pseudo-terminal (rexpect), and waits on what the terminal shows: a
//! text on the screen, then the terminal in raw mode (the prompt reads keys one by one).
//! No fixed sleeps: each wait ends as soon as its condition holds, and fails after a
//! bounded time with what was seen.

use std::process::Command;
use std::time::{Duration, Instant};

use rexpect::session::PtySession;

use super::{KEY, Project};

/// How long any one wait may take: generous for two loaded cores; a wait that holds
/// returns at once, so this costs nothing when the test passes.
const TIMEOUT: Duration = Duration::from_secs(30);

/// `lua <args>` in `project` against `url` on a terminal, with the same clean environment
/// as [`Project::lua_env`] (no colour).
pub fn lua(project: &Project, url: &str, args: &[&str]) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lua"));
    cmd.args(args)
        .current_dir(project.root())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", project.root())
        .env("LUA_API_URL", url)
        .env("LUA_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .env("TERM", "xterm");
    let timeout = u64::try_from(TIMEOUT.as_millis()).expect("timeout fits");
    rexpect::session::spawn_command(cmd, Some(timeout)).expect("spawn lua in a pty")
}

/// Waits until each of `texts` has been shown, in order, and then until the terminal is
/// in raw mode, i.e. the prompt is reading keys: a key sent before that would be read by
/// the line discipline, not by the prompt. Returns the output up to the last text.
pub fn wait_for_prompt(p: &mut PtySession, texts: &[&str]) -> String {
    let mut shown = String::new();
    for text in texts {
        shown += &p
            .exp_string(text)
            .unwrap_or_else(|e| panic!("waiting for {text:?} on the terminal: {e}"));
        shown += text;
    }
    wait_for_raw_mode(p);
    shown
}

/// Waits until the program on `p`'s terminal has switched it to raw mode (no canonical
/// line editing), as a prompt does before it reads its first key.
pub fn wait_for_raw_mode(p: &PtySession) {
    // On Linux the master side reports the terminal's (the slave's) modes.
    let master = p.process().get_file_handle().expect("pty master");
    let start = Instant::now();
    loop {
        let modes = rustix::termios::tcgetattr(&master).expect("terminal modes");
        if !modes
            .local_modes
            .contains(rustix::termios::LocalModes::ICANON)
        {
            return;
        }
        assert!(
            start.elapsed() < TIMEOUT,
            "the terminal never left line mode: no prompt is reading keys"
        );
        // The poll interval of this wait: a terminal's modes change without an event.
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The menu `lua sync` shows for the persona, fully drawn and reading keys; returns what
/// was shown up to its help line.
pub fn wait_for_menu(p: &mut PtySession) -> String {
    wait_for_prompt(
        p,
        &["What would you like to do with persona?", "esc to abort"],
    )
}

/// Presses Enter.
pub fn enter(p: &mut PtySession) {
    p.send("\r").expect("enter");
    p.flush().expect("flush");
}

/// The exit code of the finished process.
pub fn exit_code(p: &mut PtySession) -> i32 {
    match p.process().wait().expect("wait") {
        rexpect::process::WaitStatus::Exited(_, code) => code,
        other => panic!("not exited: {other:?}"),
    }
}
