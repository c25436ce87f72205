//! Nothing unchecked is ever "in sync": a server version that is absent, empty or of an
//! unknown shape is "not compared" (with the reason); statuses compare case-insensitively
//! and an unknown one is reported; a listing that gets no answer while the server answered
//! the rest is an error of that component, not "server unreachable" for the run.

use serde_json::{Value, json};

use crate::support::{self, AGENT, Platform, Project};

const INDEX: &str = "import { LuaAgent } from \"lua-cli\";\n\nexport default new LuaAgent({\n  name: \"Bot\",\n  persona: \"Be brief.\",\n});\n";

fn platform() -> Platform {
    let mut config = lua_devserver::Config::for_tests(support::KEY);
    config.seed = Some(
        serde_json::from_value(json!({ "agents": [{
            "id": AGENT,
            "name": "Bot",
            "personaVersions": [{"persona": "Be brief."}],
            "skills": [{"id": "skill_a", "name": "a", "versions": ["1.0.0"]}],
        }]}))
        .expect("seed"),
    );
    Platform::with_config(config)
}

fn project() -> Project {
    let p = Project::with_files(&[("src/index.ts", INDEX)]);
    p.write(
        "lua.skill.yaml",
        &format!(
            "agent:\n  agentId: {AGENT}\nskills:\n  - name: a\n    version: 1.0.0\n    skillId: skill_a\n"
        ),
    );
    p
}

/// The skills listing answered with `skill` as its only item (a success envelope).
fn skills_answer(platform: &Platform, skill: Value) {
    let body = json!({"success": true, "data": {"skills": [skill]}}).to_string();
    platform.fault(json!({"pathPrefix": "/developer/skills/", "body": body}));
}

fn item<'r>(report: &'r Value, id: &str) -> &'r Value {
    report["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report}"))
}

#[test]
fn a_version_absent_or_empty_on_the_server_is_not_compared() {
    let platform = platform();
    let project = project();
    // The seeded listing first: in sync, so what follows is the server's answer at work.
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());

    let cases = [
        (
            json!({"id": "skill_a", "name": "a", "versions": []}),
            "`versions` is empty",
        ),
        (json!({"id": "skill_a", "name": "a"}), "`versions` is empty"),
        (
            json!({"id": "skill_a", "name": "a", "versions": [{"version": ""}]}),
            "active version is empty",
        ),
        (
            json!({"id": "skill_a", "name": "a", "versions": [{"version": " "}]}),
            "active version is empty",
        ),
    ];
    for (skill, why) in cases {
        platform.clear_faults();
        skills_answer(&platform, skill.clone());
        let run = project.lua(&platform.url(), &["sync", "--check"]);
        assert_eq!(run.code(), 2, "{skill}: {}", run.snapshot());
        assert!(
            run.stderr().contains("Skill a: not compared")
                && run.stderr().contains(why)
                && run
                    .stderr()
                    .contains("could not be compared, so the check cannot pass"),
            "{skill}: {}",
            run.snapshot()
        );
        assert!(
            !run.stdout().contains("No drift detected"),
            "{}",
            run.snapshot()
        );

        let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
        assert_eq!(run.code(), 2, "{}", run.snapshot());
        let report: Value = serde_json::from_str(&run.stdout()).expect("json");
        let a = item(&report, "skills");
        assert_eq!(a["status"], "not_compared", "{a}");
        assert!(a["message"].as_str().unwrap_or("").contains(why), "{a}");

        let run = project.lua(&platform.url(), &["sync", "--check", "--format", "github"]);
        assert!(
            run.stdout()
                .contains("::error file=lua.skill.yaml,line=4,col=1::skills a not compared: "),
            "{}",
            run.snapshot()
        );
    }

    // `check = "warn"`: said, but the check passes.
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\n\n[components.skills]\ncheck = \"warn\"\n"),
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stderr().contains("not compared"), "{}", run.snapshot());
    assert!(
        !run.stdout().contains("No drift detected"),
        "{}",
        run.snapshot()
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

/// The persona versions list answered with `versions`.
fn persona_answer(platform: &Platform, versions: Value) {
    let body = json!({"success": true, "data": {"versions": versions}}).to_string();
    platform.fault(
        json!({"pathPrefix": format!("/developer/agents/{AGENT}/persona/versions"), "body": body}),
    );
}

#[test]
fn persona_statuses_compare_in_any_case_and_an_unknown_one_is_reported() {
    let platform = platform();
    let project = project();
    let version = |persona: &str, status: &str| json!({"version": 4, "persona": persona, "createdDate": 1_700_000_000_000_u64, "status": status});
    // "PUBLISHED" is published: compared (in sync, then drift).
    persona_answer(&platform, json!([version("Be brief.", "PUBLISHED")]));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(
        run.stdout().contains("No drift detected"),
        "{}",
        run.snapshot()
    );
    platform.clear_faults();
    persona_answer(&platform, json!([version("Be long-winded.", "Published")]));
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let report: Value = serde_json::from_str(&run.stdout()).expect("json");
    assert_eq!(item(&report, "persona")["status"], "drift");
    assert_eq!(item(&report, "persona")["serverVersion"], 4);

    // An unknown status is an error naming it, never "nothing published".
    platform.clear_faults();
    persona_answer(&platform, json!([version("Be long-winded.", "archived")]));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.stderr()
            .contains(r#"versions[0].status is "archived", neither "draft" nor "published""#),
        "{}",
        run.snapshot()
    );
    assert!(
        !run.stderr().contains("nothing published"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn a_listing_that_stalls_while_others_answer_is_an_error_of_its_component() {
    let platform = platform();
    let project = project();
    platform.fault(json!({"pathPrefix": "/developer/skills/", "latencyMs": 5000}));
    let env = [
        ("LUA_SERVER__TIMEOUT_SECS", "1"),
        ("LUA_SERVER__RETRIES", "0"),
    ];
    // The default on_unreachable = "continue" would let an unreachable server through.
    let run = project.lua_env(&platform.url(), &["sync", "--check"], &env);
    // lua-cli's class for a platform that gave no answer (an error, not 0 or 1).
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(
        stderr.contains("no answer from the Lua platform at http://127.0.0.1:")
            && stderr.contains("/developer/skills/")
            && stderr.contains("though it answered this run's other requests"),
        "{}",
        run.snapshot()
    );
    assert!(!stderr.contains("unreachable"), "{}", run.snapshot());

    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check", "--format", "json"],
        &env,
    );
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    let report: Value = serde_json::from_str(&run.stdout()).expect("json");
    assert_eq!(item(&report, "skills")["status"], "error");
    assert_eq!(item(&report, "name")["status"], "in_sync");

    // Nothing answers at all: that is still "unreachable" (and the policy applies).
    let dead = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(dead.code(), 0, "{}", dead.snapshot());
    assert!(
        dead.stderr().contains("server unreachable"),
        "{}",
        dead.snapshot()
    );
}
