//! End-to-end: the real `lua` binary against a real `lua-devserver` over loopback TCP.

use crate::support;

use crate::support::{AGENT, Platform, Project};
use serde_json::json;

const PERSONA: &str = "You are a friendly support agent for Acme.\n\nAnswer briefly.\nAlways greet the customer by name.";

fn index(name: &str, persona: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n\n// keep this comment\nconst agent = new LuaAgent({{\n  name: \"{name}\",\n  persona: `{persona}`,\n  skills: [],\n}});\n\nexport default agent;\n"
    )
}

#[test]
fn in_sync_reports_no_drift_and_exits_0() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn dashboard_edit_then_accept_pulls_into_the_literal_only() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let source = index("Support Bot", PERSONA);
    let project = Project::new(&source);
    // A colleague publishes a new persona from the dashboard.
    let edited = "You are a friendly support agent for Acme.\n\nAnswer briefly, with `code` and ${vars}.\nAlways greet the customer by name.";
    platform.publish(json!(edited));

    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 1);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("dashboard_edit_check", check.snapshot());

    let accept = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(accept.code(), 0, "{}", accept.snapshot());
    insta::assert_snapshot!("dashboard_edit_accept", accept.snapshot());

    // Byte-identical outside the replaced literal.
    let after = project.read("src/index.ts");
    let start = source.find('`').unwrap();
    let end = source.rfind('`').unwrap() + 1;
    assert_eq!(&after[..start], &source[..start]);
    let tail = &source[end..];
    assert!(after.ends_with(tail));
    assert!(after.contains("Answer briefly, with \\`code\\` and \\${vars}."));

    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}

#[test]
fn ci_check_then_push_creates_exactly_one_version() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let local = PERSONA.replace("Answer briefly.", "Answer briefly and politely.");
    let project = Project::new(&index("Support Bot", &local));

    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 1);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("ci_check_drift", check.snapshot());

    let before = platform.versions().len();
    let push = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(push.code(), 0, "{}", push.snapshot());
    insta::assert_snapshot!("ci_push", push.snapshot());
    let versions = platform.versions();
    assert_eq!(versions.len(), before + 1);
    let newest = versions
        .iter()
        .max_by_key(|v| v["createdDate"].as_i64())
        .unwrap();
    assert_eq!(newest["persona"], json!(local));
    assert_eq!(newest["status"], json!("published"));

    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}

#[test]
fn name_drift_is_shown_in_short_form_and_pushed_with_the_agent_update() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&index("Support Bot 2", PERSONA));
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 1);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(check.snapshot());
    let push = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(push.code(), 0, "{}", push.snapshot());
    assert_eq!(platform.agent()["name"], json!("Support Bot 2"));
}

#[test]
fn compares_against_latest_published_not_current_after_rollback() {
    let platform = Platform::start(Some("Support Bot"), &["old persona", PERSONA]);
    // Roll production back to v1: sync must still compare with v2, the latest published.
    platform.deploy(1);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn no_published_persona_means_no_persona_drift() {
    let platform = Platform::start(Some("Support Bot"), &[]);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn unreachable_server_warns_and_exits_0_writing_nothing() {
    let project = Project::new(&index("Support Bot", PERSONA));
    let before = project.read("src/index.ts");
    let run = project.lua(&support::dead_url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        run.stderr()
            .lines()
            .filter(|l| l.contains("server unreachable"))
            .count(),
        1,
        "said once"
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    assert_eq!(project.read("src/index.ts"), before);
    assert!(!project.path("lua.sync.json").exists());
}

#[test]
fn bad_key_is_an_error_naming_lua_api_key() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[("LUA_API_KEY", "wrong")],
    );
    assert_eq!(run.code(), 9);
    assert!(run.stderr().contains("LUA_API_KEY"), "{}", run.stderr());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn missing_key_is_an_error_naming_lua_api_key() {
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua_env(
        &support::dead_url(),
        &["sync", "--check"],
        &[("LUA_API_KEY", "")],
    );
    assert_eq!(run.code(), 9);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn no_lua_agent_is_an_error_with_the_file() {
    let project = Project::new("export const x = 1;\n");
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn syntax_error_is_reported_with_file_line_col() {
    let project = Project::new(
        "const agent = new LuaAgent({\n  name: \"x\",\n  persona: `a`\n  oops oops\n});\n",
    );
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2);
    assert!(run.stderr().contains("src/index.ts:4:"), "{}", run.stderr());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn interactive_without_a_terminal_exits_2_with_a_hint() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&index("Other", PERSONA));
    let run = project.lua(&platform.url(), &["sync"]);
    assert_eq!(run.code(), 2);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn agent_id_from_lua_skill_yaml_when_there_is_no_lua_toml() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::with_files(&[
        ("src/index.ts", &index("Support Bot", PERSONA)),
        (
            "lua.skill.yaml",
            &format!("agent:\n  agentId: {AGENT}\n  orgId: org_1\nskills: []\n"),
        ),
    ]);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn compile_writes_the_manifest_and_compile_sync_checks_first() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&index("Support Bot", "Different persona"));
    let run = project.lua(&platform.url(), &["compile"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let manifest: serde_json::Value =
        serde_json::from_str(&project.read(".lua/manifest.json")).unwrap();
    assert_eq!(manifest["fields"]["name"]["value"], json!("Support Bot"));
    // No server access without --sync: a dead URL does not matter.
    let offline = project.lua(&support::dead_url(), &["compile", "--verbose"]);
    assert_eq!(offline.code(), 0);
    assert!(offline.stderr().contains("reused"), "{}", offline.stderr());

    let sync = project.lua(&platform.url(), &["compile", "--sync"]);
    assert_eq!(sync.code(), 1, "{}", sync.snapshot());
    assert!(sync.stdout().contains("PERSONA DIFF"));
}

#[test]
fn compile_warns_only_about_synced_fields_that_are_not_static() {
    let project = Project::new(
        "import { LuaAgent, LuaSkill } from \"lua-cli\";\nconst skill = new LuaSkill({ name: \"s\" });\nconst agent = new LuaAgent({\n  name: \"Bot\",\n  persona: \"Hi\",\n  skills: [skill],\n});\n",
    );
    let run = project.lua(&support::dead_url(), &["compile"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(!run.stderr().contains("warning"), "{}", run.stderr());

    let dynamic = Project::fixture("dynamic-persona");
    let run = dynamic.lua(&support::dead_url(), &["compile"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = dynamic.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn accept_pulls_several_components_from_the_same_file() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let source = index("Old Name", "Old persona\nsecond line");
    let project = Project::new(&source);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(project.read("src/index.ts"), index("Support Bot", PERSONA));
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}
