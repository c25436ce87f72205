//! The interactive prompt, driven through a real pseudo-terminal (rexpect).

use crate::support::{Platform, Project, pty};
use serde_json::json;

const PERSONA: &str = "You are a friendly support agent.\n\nAnswer briefly.";

fn index(persona: &str) -> String {
    format!("const agent = new LuaAgent({{\n  name: \"Bot\",\n  persona: `{persona}`,\n}});\n")
}

const DOWN: &str = "\x1b[B";

#[test]
fn choosing_pull_with_the_arrow_key_rewrites_the_file() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    let server = "You are a friendly support agent.\n\nAnswer in detail.";
    platform.publish(json!(server));

    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    p.exp_string("PERSONA DIFF").expect("diff shown");
    pty::wait_for_menu(&mut p);
    // No base recorded: Push is preselected; one down arrow selects Pull.
    p.send(DOWN).expect("down");
    p.flush().expect("flush");
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("pulled server into src/index.ts")
        .expect("summary");
    p.exp_eof().expect("exit");

    assert!(project.read("src/index.ts").contains("Answer in detail."));
    let state = project.read("lua.sync.json");
    assert!(state.contains("\"persona\""), "{state}");
}

#[test]
fn escape_aborts_and_writes_nothing() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index("Local text"));
    let before = project.read("src/index.ts");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    pty::wait_for_menu(&mut p);
    p.send("\x1b").expect("esc");
    p.flush().expect("flush");
    p.exp_eof().expect("exit");
    assert_eq!(project.read("src/index.ts"), before);
    assert!(!project.path("lua.sync.json").exists());
    assert_eq!(platform.versions().len(), 1);
}

#[test]
fn push_guard_fires_when_the_server_moves_while_the_prompt_is_open() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index("My local persona"));
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    pty::wait_for_menu(&mut p);
    // A colleague publishes while we decide.
    platform.publish(json!("A colleague's persona"));
    // Push is preselected (no base).
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("changed on the server while you were deciding")
        .expect("guard message");
    p.exp_eof().expect("exit");
    let versions = platform.versions();
    assert_eq!(
        versions.len(),
        2,
        "nothing pushed over the colleague's version"
    );
    assert!(
        versions
            .iter()
            .all(|v| v["persona"] != json!("My local persona"))
    );
}

/// Record a base by a first in-sync run (`--check` writes nothing, so `--accept`).
fn synced(platform: &Platform, project: &Project) {
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn server_changed_preselects_pull() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    synced(&platform, &project);
    platform.publish(json!("Edited in the dashboard."));
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    p.exp_string("changed on the server since your last sync (v1 -> v2)")
        .expect("reason shown");
    pty::wait_for_menu(&mut p);
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("pulled server into src/index.ts")
        .expect("pulled");
    p.exp_eof().expect("exit");
    assert!(
        project
            .read("src/index.ts")
            .contains("Edited in the dashboard.")
    );
}

#[test]
fn local_changed_preselects_push() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    synced(&platform, &project);
    project.write("src/index.ts", &index("Edited in the code."));
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    p.exp_string("changed in your code since your last sync")
        .expect("reason shown");
    pty::wait_for_menu(&mut p);
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("pushed local to server (now v2)")
        .expect("pushed");
    p.exp_eof().expect("exit");
    assert_eq!(platform.versions().len(), 2);
}

#[test]
fn a_conflict_preselects_skip() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    synced(&platform, &project);
    project.write("src/index.ts", &index("Edited in the code."));
    platform.publish(json!("Edited in the dashboard."));
    let before = project.read("src/index.ts");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    p.exp_string("changed on BOTH sides")
        .expect("conflict shown");
    pty::wait_for_menu(&mut p);
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("Persona: skipped").expect("skipped");
    p.exp_eof().expect("exit");
    assert_eq!(project.read("src/index.ts"), before);
    assert_eq!(platform.versions().len(), 2);
}

#[test]
fn pull_guard_refuses_when_the_file_changed_while_the_prompt_is_open() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index("My local persona"));
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    pty::wait_for_menu(&mut p);
    // Someone (an editor, a teammate's script) edits the file while we decide.
    let edited = index("Edited while the prompt was open");
    project.write("src/index.ts", &edited);
    p.send(DOWN).expect("down");
    p.flush().expect("flush");
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    p.exp_string("changed since compile read it")
        .expect("guard message");
    p.exp_eof().expect("exit");
    assert_eq!(project.read("src/index.ts"), edited, "the edit is not lost");
}

#[test]
fn pulling_a_composite_value_warns_and_asks_before_flattening() {
    let platform = Platform::start(
        Some("Acme Support"),
        &["You are the Acme support agent.\nAnswer in detail."],
    );
    let project = Project::fixture("interpolated-brand");
    let before = project.read("src/index.ts");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    p.exp_string("built from several pieces")
        .expect("warning shown");
    pty::wait_for_menu(&mut p);
    p.send(DOWN).expect("down");
    p.flush().expect("flush");
    p.send("\r").expect("enter");
    p.flush().expect("flush");
    pty::wait_for_prompt(&mut p, &["Replace the pieces with one literal?"]);
    p.send("n\r").expect("no");
    p.flush().expect("flush");
    p.exp_string("Persona: skipped").expect("skipped");
    p.exp_eof().expect("exit");
    assert_eq!(project.read("src/index.ts"), before);
}

#[test]
fn ctrl_c_at_the_prompt_writes_nothing_and_fails() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index("Local text"));
    let before = project.read("src/index.ts");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    pty::wait_for_menu(&mut p);
    p.send_control('c').expect("ctrl-c");
    p.exp_eof().expect("exit");
    let status = p.process().wait().expect("status");
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 1)),
        "aborting leaves drift unresolved: exit 1, got {status:?}"
    );
    assert_eq!(project.read("src/index.ts"), before);
    assert!(!project.path("lua.sync.json").exists());
    assert_eq!(platform.versions().len(), 1);
}

/// rexpect hands bytes over one char per byte; put the UTF-8 back together.
fn utf8(latin1: &str) -> String {
    let bytes: Vec<u8> = latin1.chars().map(|c| c as u8).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// What the terminal shows after the menu is drawn and `key` is pressed, through an
/// in-memory terminal emulator (vt100): the screen, not the bytes. Also returns the raw
/// output up to the drawn menu.
fn screen_after(key: &str) -> (String, String) {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index("Local text"));
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    let mut all = pty::wait_for_menu(&mut p);
    let menu = utf8(&all);
    p.send(key).expect("key");
    p.flush().expect("flush");
    all += &p.exp_eof().expect("exit");
    let size = |n: u16| std::num::NonZeroU16::new(n).expect("non-zero");
    let mut terminal = vt100::Parser::new(size(500), size(80), 0);
    terminal.process(utf8(&all).replace('\n', "\r\n").as_bytes());
    let screen = terminal.screen().contents();
    (screen.trim_end().to_string(), menu)
}

#[test]
fn the_pointer_is_the_reference_chevron_and_ctrl_c_leaves_the_screen_as_esc_does() {
    let (esc, menu) = screen_after("\x1b");
    assert!(menu.contains("❯ 📤 Push local to server"), "{menu}");
    let (ctrl_c, _) = screen_after("\x03");
    let tail = |screen: &str| {
        let lines: Vec<&str> = screen.lines().collect();
        let from = lines
            .iter()
            .position(|l| l.contains("What would you like to do"))
            .expect("question on screen");
        lines[from..]
            .iter()
            .map(|l| l.trim_end())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        tail(&esc).starts_with("? What would you like to do with persona? <canceled>\n"),
        "{esc}"
    );
    assert!(
        !ctrl_c.contains("Push local to server"),
        "menu left drawn:\n{ctrl_c}"
    );
    assert!(
        !ctrl_c.contains("esc to abort"),
        "help left drawn:\n{ctrl_c}"
    );
    assert_eq!(tail(&ctrl_c), tail(&esc));
}
