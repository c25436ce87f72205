//! `governance` end to end against the devserver: drift by a dashboard-style edit, push,
//! pull into an existing `src/governance.ts` and into a project that has none, type-
//! sensitive comparison; and `model` set on one side only.

use crate::support::{AGENT, KEY, Platform, Project};
use serde_json::{Value, json};

const GOVERNANCE_TS: &str = "export const governance = {\n  mode: 'sdk' as const,\n  rules: {\n    tokenBudget: 5,\n    blockTools: ['rm'],\n  },\n};\n";

fn platform(governance: Value, model: Value) -> Platform {
    let mut config = lua_devserver::Config::for_tests(KEY);
    config.seed = Some(
        serde_json::from_value(json!({"agents": [{
            "id": AGENT, "name": "Bot", "model": model, "governance": governance,
            "personaVersions": [{"persona": "Be brief."}],
        }]}))
        .unwrap(),
    );
    Platform::with_config(config)
}

fn index(extra: &str, import: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n{import}\nexport default new LuaAgent({{\n  name: \"Bot\",\n  persona: \"Be brief.\",\n{extra}}});\n"
    )
}

fn imported_project() -> Project {
    let project = Project::new(&index(
        "  governance,\n",
        "import { governance } from \"./governance\";\n",
    ));
    project.write("src/governance.ts", GOVERNANCE_TS);
    project
}

fn code_governance() -> Value {
    json!({"mode": "sdk", "rules": {"tokenBudget": 5, "blockTools": ["rm"]}})
}

#[test]
fn governance_in_sync_then_drift_by_a_server_edit_shown_key_by_key() {
    let platform = platform(code_governance(), Value::Null);
    let project = imported_project();
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());

    // What the dashboard's governance form does: PATCH the agent.
    let edited = json!({"mode": "sdk", "rules": {"tokenBudget": 9, "blockTools": ["rm"]}});
    platform.patch_agent(json!({"governance": edited}));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn types_matter_five_is_not_the_string_five() {
    let platform = platform(
        json!({"mode": "sdk", "rules": {"tokenBudget": "5", "blockTools": ["rm"]}}),
        Value::Null,
    );
    let project = imported_project();
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let report: Value = serde_json::from_str(&run.stdout()).unwrap();
    let item = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "governance")
        .unwrap()
        .clone();
    assert_eq!(item["status"], json!("drift"));
    assert_ne!(item["serverHash"], item["localHash"]);
    assert!(
        item["diff"]
            .as_str()
            .unwrap()
            .contains("rules.tokenBudget: \"5\""),
        "{item}"
    );
}

#[test]
fn push_sends_the_code_and_then_the_check_is_clean() {
    let platform = platform(json!({"mode": "api"}), Value::Null);
    let project = imported_project();
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(platform.agent()["governance"], code_governance());
    let state = project.read("lua.sync.json");
    assert!(state.contains("\"governance\""), "{state}");
    assert!(state.contains("sha256-json:"), "{state}");
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn push_never_sends_an_api_key() {
    // The devserver refuses a governance with `apiKey` (400), so a push that sent it fails.
    let platform = platform(json!({"mode": "api"}), Value::Null);
    let project = imported_project();
    project.write(
        "src/governance.ts",
        &GOVERNANCE_TS.replace("  mode:", "  apiKey: 'secret-123',\n  mode:"),
    );
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(platform.agent()["governance"], code_governance());
    assert!(!run.stdout().contains("secret-123"), "{}", run.snapshot());
}

#[test]
fn pull_rewrites_the_existing_governance_module() {
    let server = json!({"mode": "api", "rules": {"tokenBudget": 7, "blockTools": ["rm", "exec"]}});
    let platform = platform(server.clone(), Value::Null);
    let project = imported_project();
    let entry = project.read("src/index.ts");
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        project.read("src/index.ts"),
        entry,
        "the entry file is untouched"
    );
    let module = project.read("src/governance.ts");
    assert!(module.contains("tokenBudget: 7"), "{module}");
    assert!(module.contains("'exec'"), "{module}");
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn pull_into_a_project_without_governance_creates_the_module_and_wires_it() {
    let server = json!({"mode": "sdk", "preset": "security"});
    let platform = platform(server, Value::Null);
    let project = Project::new(&index("", ""));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let module = project.read("src/governance.ts");
    assert!(module.contains("export const governance"), "{module}");
    assert!(module.contains("as const"), "{module}");
    let entry = project.read("src/index.ts");
    assert!(
        entry.contains("from './governance'") || entry.contains("from \"./governance\""),
        "{entry}"
    );
    assert!(entry.contains("governance,"), "{entry}");
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn model_on_the_server_only_is_drift_and_pull_adds_the_property() {
    let platform = platform(Value::Null, json!("gpt-4o"));
    let project = Project::new(&index("", ""));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(
        project.read("src/index.ts").contains("model: \"gpt-4o\""),
        "{}",
        project.read("src/index.ts")
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn model_in_the_code_only_is_drift_and_push_sets_it() {
    let platform = platform(Value::Null, Value::Null);
    let project = Project::new(&index("  model: \"gpt-4.1-mini\",\n", ""));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(platform.agent()["model"], json!("gpt-4.1-mini"));
}

#[test]
fn no_model_anywhere_says_nothing() {
    let platform = platform(Value::Null, Value::Null);
    let project = Project::new(&index("", ""));
    let run = project.lua(&platform.url(), &["sync", "--check", "-v"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(!run.stderr().contains("Model"), "{}", run.snapshot());
    assert!(!run.stdout().contains("Model"), "{}", run.snapshot());
}

#[test]
fn inline_and_const_bound_governance_are_compared_and_pulled_in_place() {
    let server = json!({"mode": "sdk", "rules": {"tokenBudget": 8, "blockTools": ["rm"]}});
    for (extra, head) in [
        (
            "  governance: { mode: 'sdk', rules: { tokenBudget: 5, blockTools: ['rm'] } },\n",
            "",
        ),
        (
            "  governance: GOVERNANCE,\n",
            "const GOVERNANCE = { mode: 'sdk' as const, rules: { tokenBudget: 5, blockTools: ['rm'] } };\n",
        ),
    ] {
        let platform = platform(server.clone(), Value::Null);
        let project = Project::new(&index(extra, head));
        let run = project.lua(&platform.url(), &["sync", "--check"]);
        assert_eq!(run.code(), 1, "{}", run.snapshot());
        assert!(
            run.stdout().contains("rules.tokenBudget: 8"),
            "{}",
            run.snapshot()
        );
        let run = project.lua(&platform.url(), &["sync", "--accept"]);
        assert_eq!(run.code(), 0, "{}", run.snapshot());
        let source = project.read("src/index.ts");
        assert!(source.contains("tokenBudget: 8"), "{source}");
        assert!(!project.path("src/governance.ts").exists());
        let run = project.lua(&platform.url(), &["sync", "--check"]);
        assert_eq!(run.code(), 0, "{}", run.snapshot());
    }
}
