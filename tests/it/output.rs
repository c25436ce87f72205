//! What users read: colour, JSON report, GitHub annotations, quiet/verbose, help, completions.

use crate::support;

use crate::support::{KEY, Platform, Project};
use serde_json::{Value, json};

const PERSONA: &str = "You are a friendly support agent.\n\nAnswer briefly.\nBe kind.";

fn index(name: &str, persona: &str) -> String {
    format!("const agent = new LuaAgent({{\n  name: \"{name}\",\n  persona: `{persona}`,\n}});\n")
}

fn drifted() -> (Platform, Project) {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&index(
        "Support Bot 2",
        "You are a friendly support agent.\n\nAnswer briefly and politely.\nBe kind.",
    ));
    (platform, project)
}

#[test]
fn colour_always_pins_the_escape_codes() {
    let (platform, project) = drifted();
    let run = project.lua(&platform.url(), &["sync", "--check", "--color", "always"]);
    assert_eq!(run.code(), 1);
    assert!(run.stdout().contains("\u{1b}["));
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn no_colour_without_a_terminal_and_clicolor_force_forces_it() {
    let (platform, project) = drifted();
    let plain = project.lua_env(&platform.url(), &["sync", "--check"], &[("NO_COLOR", "")]);
    assert!(!plain.stdout().contains('\u{1b}'), "{}", plain.stdout());
    let forced = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[("NO_COLOR", ""), ("CLICOLOR_FORCE", "1")],
    );
    assert!(forced.stdout().contains("\u{1b}["));
    let never = project.lua_env(
        &platform.url(),
        &["sync", "--check", "--color", "never"],
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!never.stdout().contains('\u{1b}'));
}

fn report(run: &support::Run) -> Value {
    serde_json::from_str(&run.stdout()).unwrap_or_else(|e| panic!("{e}: {}", run.snapshot()))
}

#[test]
fn json_report_for_drift() {
    let (platform, project) = drifted();
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 1);
    let json = report(&run);
    assert_eq!(json["exitCode"], json!(1));
    assert_eq!(json["version"], json!(1));
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.stdout());
}

#[test]
fn json_report_in_sync_and_not_published() {
    let platform = Platform::start(Some("Support Bot"), &[]);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let json = report(&run);
    let statuses: Vec<(String, String)> = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("name".into(), "in_sync".into())),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&("persona".into(), "not_published".into())),
        "{statuses:?}"
    );
    // No model on either side: nothing to say, not even "not in code".
    assert!(
        !statuses.iter().any(|(id, _)| id == "model"),
        "{statuses:?}"
    );
}

#[test]
fn json_report_when_unreachable_and_on_error() {
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(
        &support::dead_url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let json = report(&run);
    assert!(
        json["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "unreachable")
    );

    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check", "--format", "json"],
        &[("LUA_API_KEY", "wrong-key")],
    );
    assert_eq!(run.code(), 9);
    let json = report(&run);
    assert_eq!(json["exitCode"], json!(9));
    assert!(
        json["components"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "error")
    );
}

#[test]
fn json_report_after_push_carries_the_action() {
    let (platform, project) = drifted();
    let run = project.lua(&platform.url(), &["sync", "--push", "--format", "json"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let json = report(&run);
    let persona = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "persona")
        .unwrap();
    assert_eq!(persona["action"], json!({"kind": "pushed", "version": 2}));
}

#[test]
fn github_annotations() {
    let (platform, project) = drifted();
    project.write(
        "lua.toml",
        &format!(
            "[agent]\nid = \"{}\"\n\n[components.name]\ncheck = \"warn\"\n",
            support::AGENT
        ),
    );
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "github"]);
    assert_eq!(run.code(), 1);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn quiet_prints_only_the_report() {
    let platform = Platform::start(Some("Support Bot"), &[]);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(&platform.url(), &["sync", "--check", "--quiet"]);
    assert_eq!(run.code(), 0);
    assert_eq!(run.stderr(), "");
    assert!(run.stdout().contains("No drift detected"));
}

#[test]
fn verbose_logs_requests_without_the_key() {
    let (platform, project) = drifted();
    let run = project.lua(&platform.url(), &["sync", "--check", "-vv"]);
    assert_eq!(run.code(), 1);
    let stderr = run.stderr();
    assert!(stderr.contains("/admin/agents/"), "{stderr}");
    assert!(!stderr.contains(KEY) && !run.stdout().contains(KEY));
}

#[test]
fn help_and_completions() {
    let project = Project::new(&index("Support Bot", PERSONA));
    let help = project.lua(&support::dead_url(), &["sync", "--help"]);
    assert_eq!(help.code(), 0);
    // Global options under their own heading, after sync's own (`-C` among them).
    let out = help.stdout();
    let (own, global) = out.split_once("\nGlobal options:\n").expect("heading");
    let global = global.split("\nExamples:").next().unwrap_or_default();
    assert!(
        own.contains("--push") && !own.contains("--directory"),
        "{out}"
    );
    assert!(
        global.contains("-C, --directory") && !global.contains("--push"),
        "{out}"
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(out);
    for shell in ["bash", "zsh", "fish"] {
        let run = project.lua(&support::dead_url(), &["completions", shell]);
        assert_eq!(run.code(), 0);
        assert!(run.stdout().contains("accept"), "{shell}");
    }
}

#[test]
fn conflicting_mode_flags_are_a_usage_error() {
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(&support::dead_url(), &["sync", "--check", "--push"]);
    assert_eq!(run.code(), 2);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

/// The example: the server has one more last line. The diff shows one removed
/// line (the line before it is unchanged, no ⏎), the summary says the local value has
/// no such line, and the JSON report's unified diff removes exactly that line.
#[test]
fn last_line_removed_on_one_side_and_added_on_the_other() {
    const GREET: &str = "Always greet the customer by name.";
    const BOTH: &str = "Always greet the customer by name.\nNever promise refunds.";
    let platform = Platform::start(Some("Support Bot"), &[BOTH]);
    let project = Project::new(&index("Support Bot", GREET));
    let _removed_filters = project.snapshot_filters();
    let removed = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(removed.code(), 1, "{}", removed.snapshot());
    assert!(!removed.stdout().contains('⏎'), "{}", removed.stdout());
    let json = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    let json = report(&json);
    let persona = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "persona")
        .unwrap();
    assert_eq!(
        persona["diff"],
        json!(format!(
            "--- server\n+++ local\n@@ -1,2 +1 @@\n {GREET}\n-Never promise refunds.\n"
        ))
    );

    let platform = Platform::start(Some("Support Bot"), &[GREET]);
    let project = Project::new(&index("Support Bot", BOTH));
    let added = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(added.code(), 1, "{}", added.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(format!("{}\n{}", removed.snapshot(), added.snapshot()));
}

/// An empty line is named as one; a missing line is not "blank".
#[test]
fn check_summary_names_an_empty_line() {
    let platform = Platform::start(Some("Support Bot"), &["Intro.\n\nRules."]);
    let project = Project::new(&index("Support Bot", "Intro.\nBe kind.\nRules."));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1);
    let stdout = run.stdout();
    assert!(
        stdout.contains(
            "    First difference, line 2 of the value:\n    Local (src/index.ts:3:12): \"Be kind.\"\n    Server (v1): (empty line)\n"
        ),
        "{stdout}"
    );
}
