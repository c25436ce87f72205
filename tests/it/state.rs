//! Three-way state: classification against `lua.sync.json`, its defaults, conflicts,
//! the state written after each resolution, and a corrupt state file.

use crate::support;

use crate::support::{Platform, Project};
use serde_json::{Value, json};

const PERSONA: &str = "You are a helpful agent.\n\nBe brief.";

fn index(persona: &str) -> String {
    format!("const agent = new LuaAgent({{\n  name: \"Bot\",\n  persona: `{persona}`,\n}});\n")
}

fn state(project: &Project) -> Value {
    serde_json::from_str(&project.read("lua.sync.json")).expect("state is JSON")
}

fn json_report(project: &Project, url: &str, args: &[&str]) -> (i32, Value) {
    let run = project.lua(url, args);
    let report = serde_json::from_str(&run.stdout()).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}", run.snapshot());
    });
    (run.code(), report)
}

fn persona_item(report: &Value) -> Value {
    report["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == "persona"))
        .cloned()
        .expect("persona in report")
}

/// A project and server that agree, with the base recorded by a first run (`--check`
/// writes nothing, so `--accept`, which has nothing to pull).
fn synced() -> (Platform, Project) {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    (platform, project)
}

#[test]
fn check_writes_nothing_into_the_project() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    let before = support::files_except_manifest(project.root());
    for args in [
        &["sync", "--check"][..],
        &["sync", "--check", "--format", "json"],
        &["compile", "--sync"],
    ] {
        let run = project.lua(&platform.url(), args);
        assert_eq!(run.code(), 0, "{}", run.snapshot());
    }
    platform.publish(json!("Changed on the server."));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    // Only the compile cache (.lua/manifest.json) may appear.
    assert_eq!(support::files_except_manifest(project.root()), before);
}

#[test]
fn an_in_sync_run_records_the_base() {
    let (_platform, project) = synced();
    let state = state(&project);
    assert_eq!(state["format"], json!(1));
    assert_eq!(state["agentId"], json!(support::AGENT));
    assert_eq!(state["components"]["persona"]["serverVersion"], json!(1));
    assert!(
        state["components"]["persona"]["hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(state["components"]["name"]["hash"].is_string());
    // Deterministic and stable: a second check does not rewrite it.
    let before = project.read("lua.sync.json");
    insta::with_settings!({ filters => vec![(support::AGENT, "[AGENT]")] }, {
        insta::assert_snapshot!(before);
    });
}

#[test]
fn server_changed_is_classified_and_pull_is_the_default() {
    let (platform, project) = synced();
    platform.publish(json!("You are a helpful agent.\n\nBe very brief."));
    let (code, report) = json_report(
        &project,
        &platform.url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(code, 1);
    let persona = persona_item(&report);
    assert_eq!(persona["classification"], json!("server_changed"));
    assert_eq!(
        persona["message"],
        json!("changed on the server since your last sync (v1 -> v2)")
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn local_changed_is_classified() {
    let (platform, project) = synced();
    project.write(
        "src/index.ts",
        &index("You are a helpful agent.\n\nBe kind."),
    );
    let (code, report) = json_report(
        &project,
        &platform.url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        persona_item(&report)["classification"],
        json!("local_changed")
    );
    // Push records the new base with the new server version.
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        state(&project)["components"]["persona"]["serverVersion"],
        json!(2)
    );
    let (code, _) = json_report(
        &project,
        &platform.url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(code, 0);
}

#[test]
fn a_conflict_is_not_resolved_by_accept_or_push_without_force() {
    let (platform, project) = synced();
    platform.publish(json!("Server edit."));
    project.write("src/index.ts", &index("Local edit."));
    let source = project.read("src/index.ts");
    let versions = platform.versions().len();

    let (code, report) = json_report(
        &project,
        &platform.url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(code, 1);
    assert_eq!(
        persona_item(&report)["classification"],
        json!("both_changed")
    );

    let accept = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(accept.code(), 1, "{}", accept.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("conflict_accept", accept.snapshot());
    let push = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(push.code(), 1);
    assert!(push.stdout().contains("CONFLICT"), "{}", push.stdout());
    assert_eq!(project.read("src/index.ts"), source);
    assert_eq!(platform.versions().len(), versions);

    let forced = project.lua(&platform.url(), &["sync", "--accept", "--force"]);
    assert_eq!(forced.code(), 0, "{}", forced.snapshot());
    assert!(project.read("src/index.ts").contains("Server edit."));
    // The pulled value is the new base: in sync now.
    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}

#[test]
fn a_pull_records_the_server_value_as_base() {
    let (platform, project) = synced();
    platform.publish(json!("Pulled persona."));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        state(&project)["components"]["persona"]["serverVersion"],
        json!(2)
    );
    // A later local edit is now "local_changed", not unknown.
    project.write("src/index.ts", &index("Edited after pull."));
    let (_, report) = json_report(
        &project,
        &platform.url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(
        persona_item(&report)["classification"],
        json!("local_changed")
    );
}

#[test]
fn a_corrupt_state_file_is_reported_and_treated_as_no_base() {
    let (platform, project) = synced();
    project.write("lua.sync.json", "{ this is not json");
    project.write("src/index.ts", &index("Changed."));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert!(run.stderr().contains("lua.sync.json"), "{}", run.stderr());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    let (_, report) = json_report(
        &project,
        &platform.url(),
        &["sync", "--check", "--format", "json"],
    );
    assert_eq!(
        persona_item(&report)["classification"],
        json!("unknown_base")
    );
}

#[test]
fn the_agent_object_is_fetched_once_per_run() {
    let platform = Platform::start(Some("Bot"), &[PERSONA]);
    let project = Project::new(&index(PERSONA));
    platform.reset_requests();
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let counts = platform.requests();
    assert_eq!(
        counts["byRoute"]["GET /admin/agents/{agentId}"],
        json!(1),
        "{counts}"
    );
    assert_eq!(
        counts["byRoute"]["GET /developer/agents/{agentId}/persona/versions"],
        json!(1),
        "{counts}"
    );
    // Plus one listing per kind of deployed primitive (six), each once.
    assert_eq!(counts["total"], json!(8), "{counts}");
}
