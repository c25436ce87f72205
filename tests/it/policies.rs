//! End-to-end: per-component policies in `lua.toml` (`[components.<id>]`): `check`,
//! `enabled`, `allow` and the prompt's `default`, through the real binary (and a
//! pseudo-terminal for the prompt).

use crate::support::{AGENT, AGENT_ROUTE, PERSONA_VERSIONS_ROUTE, Platform, Project, pty};
use serde_json::json;

const SERVER: &str = "You are a friendly support agent.\n\nAnswer in detail.";
const LOCAL: &str = "You are a friendly support agent.\n\nAnswer briefly.";

fn index(persona: &str) -> String {
    format!("const agent = new LuaAgent({{\n  name: \"Bot\",\n  persona: `{persona}`,\n}});\n")
}

/// A platform whose persona differs from the project's (the name is in sync).
fn platform() -> Platform {
    Platform::start(Some("Bot"), &[SERVER])
}

/// A project with the local persona and `[components.persona]` set to `policy`.
fn project(policy: &str) -> Project {
    Project::with_files(&[
        ("src/index.ts", &index(LOCAL)),
        (
            "lua.toml",
            &format!("[agent]\nid = \"{AGENT}\"\n\n[components.persona]\n{policy}\n"),
        ),
    ])
}

// ---------------------------------------------------------------------------------------
// check

#[test]
fn check_fail_exits_1_on_drift() {
    let platform = platform();
    let project = project("check = \"fail\"");
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert!(run.stdout().contains("PERSONA DIFF"), "{}", run.snapshot());
}

#[test]
fn check_warn_warns_on_stderr_and_exits_0_with_the_diff() {
    let platform = platform();
    let project = project("check = \"warn\"");
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("PERSONA DIFF"), "{}", run.snapshot());
    assert!(
        run.stderr()
            .lines()
            .any(|l| l.starts_with("warning:") && l.contains("persona")),
        "{}",
        run.snapshot()
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());

    // The same in the machine formats: exit 0, the drift reported as a warning.
    let json = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(json.code(), 0, "{}", json.snapshot());
    let report: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(report["exitCode"], json!(0));
    let persona = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "persona")
        .unwrap();
    assert_eq!(persona["status"], json!("drift"));
    assert_eq!(persona["policy"]["check"], json!("warn"));
    let github = project.lua(&platform.url(), &["sync", "--check", "--format", "github"]);
    assert_eq!(github.code(), 0, "{}", github.snapshot());
    assert!(
        github.stdout().contains("::warning") && !github.stdout().contains("::error"),
        "{}",
        github.snapshot()
    );
}

/// `check = "off"` and `enabled = false`: the persona is neither fetched nor resolved, in
/// every mode, while the other components still are.
fn assert_not_fetched(policy: &str) {
    let platform = platform();
    for mode in ["--check", "--accept", "--push"] {
        let project = project(policy);
        let before = project.read("src/index.ts");
        let versions = platform.versions().len();
        // Count only what `lua` asks (`versions()` above is a request too).
        platform.reset_requests();
        let run = project.lua(&platform.url(), &["sync", mode]);
        assert_eq!(run.code(), 0, "{policy} {mode}: {}", run.snapshot());
        assert!(!run.stdout().contains("PERSONA"), "{}", run.snapshot());
        assert_eq!(
            platform.requests_to(PERSONA_VERSIONS_ROUTE),
            0,
            "{policy} {mode}: persona fetched: {}",
            platform.requests()
        );
        assert!(
            platform.requests_to(AGENT_ROUTE) >= 1,
            "{policy} {mode}: the name must still be checked: {}",
            platform.requests()
        );
        assert_eq!(project.read("src/index.ts"), before, "{policy} {mode}");
        assert_eq!(platform.versions().len(), versions, "{policy} {mode}");
    }
}

#[test]
fn check_off_is_not_fetched_at_all() {
    assert_not_fetched("check = \"off\"");
}

#[test]
fn disabled_is_like_check_off() {
    assert_not_fetched("enabled = false");
    // Even with a check policy that would otherwise fail.
    assert_not_fetched("enabled = false\ncheck = \"fail\"");
}

// ---------------------------------------------------------------------------------------
// allow, with --accept and --push

#[test]
fn allow_limits_accept_and_push() {
    // (allow, mode, whether the mode's direction is allowed)
    let cases = [
        ("both", "--accept", true),
        ("both", "--push", true),
        ("pull", "--accept", true),
        ("pull", "--push", false),
        ("push", "--accept", false),
        ("push", "--push", true),
    ];
    for (allow, mode, allowed) in cases {
        let platform = platform();
        let project = project(&format!("allow = \"{allow}\""));
        let source = project.read("src/index.ts");
        let versions = platform.versions().len();

        let run = project.lua(&platform.url(), &["sync", mode]);
        let what = format!("allow = {allow:?}, {mode}");
        assert_eq!(run.code(), 0, "{what}: {}", run.snapshot());
        let pulled = project.read("src/index.ts") != source;
        let pushed = platform.versions().len() != versions;
        match (mode, allowed) {
            ("--accept", true) => {
                assert!(pulled && !pushed, "{what}: {}", run.snapshot());
                assert!(project.read("src/index.ts").contains("Answer in detail."));
            }
            ("--push", true) => {
                assert!(pushed && !pulled, "{what}: {}", run.snapshot());
                assert_eq!(platform.versions().len(), versions + 1);
            }
            (_, false) => {
                assert!(!pulled && !pushed, "{what}: {}", run.snapshot());
                let notice = format!("components.persona.allow = \"{allow}\"");
                assert!(
                    run.stdout().contains(&notice) || run.stderr().contains(&notice),
                    "{what}: no notice naming the policy: {}",
                    run.snapshot()
                );
                let name = if mode == "--push" {
                    "allow_pull_skips_push"
                } else {
                    "allow_push_skips_accept"
                };
                let _filters = project.snapshot_filters();
                insta::assert_snapshot!(name, run.snapshot());
            }
            _ => unreachable!(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// default, through the prompt in a pseudo-terminal

/// The persona menu's text after its question, once the menu reads keys.
fn wait_for_menu(p: &mut rexpect::session::PtySession) -> String {
    let shown = pty::wait_for_menu(p);
    let menu = shown
        .rsplit("What would you like to do with persona?")
        .next();
    menu.unwrap_or_default().to_string()
}

#[test]
fn default_pull_preselects_pull() {
    let platform = platform();
    // Without a recorded base, Push would be preselected; the policy says Pull.
    let project = project("default = \"pull\"");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    wait_for_menu(&mut p);
    pty::enter(&mut p);
    p.exp_string("pulled server into src/index.ts")
        .expect("summary");
    p.exp_eof().expect("exit");
    assert!(project.read("src/index.ts").contains("Answer in detail."));
    assert_eq!(platform.versions().len(), 1);
}

#[test]
fn default_skip_preselects_skip() {
    let platform = platform();
    let project = project("default = \"skip\"");
    let before = project.read("src/index.ts");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    wait_for_menu(&mut p);
    pty::enter(&mut p);
    p.exp_string("Persona: skipped").expect("summary");
    p.exp_eof().expect("exit");
    assert_eq!(project.read("src/index.ts"), before);
    assert_eq!(platform.versions().len(), 1);
}

#[test]
fn allow_pull_removes_push_from_the_menu() {
    let platform = platform();
    let project = project("allow = \"pull\"");
    let before = project.read("src/index.ts");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    let menu = wait_for_menu(&mut p);
    assert!(menu.contains("Pull server to local"), "{menu}");
    assert!(menu.contains("Skip"), "{menu}");
    assert!(!menu.contains("Push local to server"), "{menu}");
    p.send("\x1b").expect("esc");
    p.flush().expect("flush");
    p.exp_eof().expect("exit");
    assert_eq!(project.read("src/index.ts"), before);
    assert_eq!(platform.versions().len(), 1);
}

#[test]
fn allow_push_removes_pull_from_the_menu() {
    let platform = platform();
    let project = project("allow = \"push\"");
    let mut p = pty::lua(&project, &platform.url(), &["sync"]);
    let menu = wait_for_menu(&mut p);
    assert!(menu.contains("Push local to server"), "{menu}");
    assert!(!menu.contains("Pull server to local"), "{menu}");
    p.send("\x1b").expect("esc");
    p.flush().expect("flush");
    p.exp_eof().expect("exit");
    assert_eq!(platform.versions().len(), 1);
}
