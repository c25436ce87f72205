//! Real project shapes end to end: imported, object, interpolated, dynamic and CRLF personas.

use crate::support;

use crate::support::{Platform, Project};
use serde_json::json;

#[test]
fn imported_persona_is_pulled_into_the_module_that_defines_it() {
    let platform = Platform::start(
        Some("Support Bot"),
        &["You are a friendly support agent.\nAnswer briefly."],
    );
    let project = Project::fixture("imported-persona");
    // In sync: records the base (`--check` writes nothing).
    let check = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    platform.publish(json!(
        "You are a friendly support agent.\nAnswer in detail."
    ));
    let index = project.read("src/index.ts");
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    assert_eq!(
        project.read("src/index.ts"),
        index,
        "the entry file is untouched"
    );
    let persona = project.read("src/persona.ts");
    assert!(
        persona.contains("Answer in detail.` as const;"),
        "{persona}"
    );
    assert!(persona.starts_with("// Kept in its own file"));
}

#[test]
fn object_persona_compares_in_canonical_form_and_pulls_per_key() {
    let platform = Platform::start(Some("Support Bot"), &[]);
    platform.publish(
        json!({"base": "You are a friendly support agent.", "voice": "Warm, brief, precise."}),
    );
    let project = Project::fixture("object-persona");
    // In sync: records the base (`--check` writes nothing).
    let check = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    platform
        .publish(json!({"base": "You are a friendly support agent.", "voice": "Calm and slow."}));
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 1);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("object_persona_drift", check.snapshot());
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let source = project.read("src/index.ts");
    assert!(
        source.contains("voice: 'Calm and slow.', // single quotes on purpose"),
        "{source}"
    );
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}

#[test]
fn a_string_persona_equals_an_object_with_only_base() {
    let platform = Platform::start(Some("Support Bot"), &[]);
    platform.publish(json!({"base": "You are a friendly support agent for Acme.\nAnswer briefly and politely.\n\nIf you do not know, say so."}));
    let project = Project::fixture("template-style");
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
}

#[test]
fn interpolated_values_are_compared_by_value_and_not_flattened_without_force() {
    let platform = Platform::start(
        Some("Acme Support"),
        &["You are the Acme support agent.\nAnswer briefly."],
    );
    let project = Project::fixture("interpolated-brand");
    // In sync: records the base (`--check` writes nothing).
    let check = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    platform.publish(json!("You are the Acme support agent.\nAnswer in detail."));
    let before = project.read("src/index.ts");
    let refused = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(refused.code(), 2, "{}", refused.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("interpolated_accept_refused", refused.snapshot());
    assert_eq!(project.read("src/index.ts"), before);

    let forced = project.lua(&platform.url(), &["sync", "--accept", "--force"]);
    assert_eq!(forced.code(), 0, "{}", forced.snapshot());
    assert!(project.read("src/index.ts").contains("Answer in detail."));
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}

#[test]
fn a_dynamic_persona_is_never_drift_never_in_sync_and_never_pulled() {
    let platform = Platform::start(Some("Support Bot"), &["Anything at all."]);
    let project = Project::fixture("dynamic-persona");
    // Not compared is not "in sync": under `check = "fail"` the check fails closed.
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 2, "{}", check.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("dynamic_check", check.snapshot());
    let json = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(json.code(), 2, "{}", json.snapshot());
    let report: serde_json::Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(report["exitCode"], json!(2));
    let github = project.lua(&platform.url(), &["sync", "--check", "--format", "github"]);
    assert_eq!(github.code(), 2, "{}", github.snapshot());
    assert!(
        github
            .stdout()
            .contains("::error file=src/index.ts,line=7,col=12::persona not compared"),
        "{}",
        github.snapshot()
    );

    let before = project.read("src/index.ts");
    let accept = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(accept.code(), 2, "{}", accept.snapshot());
    assert!(
        accept.stdout().contains("cannot pull"),
        "{}",
        accept.snapshot()
    );
    assert!(
        !accept.stdout().contains("No drift"),
        "{}",
        accept.snapshot()
    );
    assert_eq!(project.read("src/index.ts"), before);

    // Accepted in lua.toml: a warning, exit 0; `off` skips it silently.
    let toml = project.read("lua.toml");
    project.write(
        "lua.toml",
        &format!("{toml}\n[components.persona]\ncheck = \"warn\"\n"),
    );
    let warned = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(warned.code(), 0, "{}", warned.snapshot());
    assert!(
        warned.stderr().contains("not compared"),
        "{}",
        warned.snapshot()
    );
    assert!(
        warned.stdout().contains("1 component not compared"),
        "{}",
        warned.snapshot()
    );
    project.write(
        "lua.toml",
        &format!("{toml}\n[components.persona]\ncheck = \"off\"\n"),
    );
    let off = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(off.code(), 0, "{}", off.snapshot());
    assert!(off.stdout().contains("No drift"), "{}", off.snapshot());
}

#[test]
fn a_crlf_file_stays_crlf_after_a_pull() {
    let platform = Platform::start(
        Some("Support Bot"),
        &["You are a friendly support agent.\nAnswer briefly."],
    );
    let project = Project::fixture("crlf");
    let before = project.read("src/index.ts");
    assert!(
        before.contains("\r\n"),
        "fixture must be CRLF (check .gitattributes)"
    );
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    platform.publish(json!(
        "You are a friendly support agent.\nAnswer in detail.\nThanks."
    ));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let after = project.read("src/index.ts");
    assert!(after.contains("Answer in detail.\r\nThanks."), "{after:?}");
    assert_eq!(
        after.matches('\n').count(),
        after.matches("\r\n").count(),
        "no bare LF"
    );
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}

#[test]
fn a_spread_that_cannot_be_read_makes_absent_keys_unreadable_not_missing() {
    let platform = Platform::start(Some("Bot"), &["Server persona."]);
    let project = Project::new(
        "import { defaults } from \"./defaults\";\nconst agent = new LuaAgent({ ...loadDefaults(), name: \"Bot\" });\n",
    );
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    // Not compared under `check = "fail"`: the check could not be done.
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let persona = report["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "persona")
        .unwrap();
    assert_eq!(persona["status"], json!("unreadable"), "{persona}");
    assert!(run.stderr().contains("warning:"), "{}", run.stderr());
}

#[test]
fn a_pull_outside_the_root_is_refused_unless_lua_toml_allows_that_folder() {
    let platform = Platform::start(Some("Bot"), &["Shared persona."]);
    // Two sibling temp folders: the project, and shared text above its root.
    let shared = tempfile::tempdir().unwrap();
    std::fs::write(
        shared.path().join("persona.ts"),
        "export const PERSONA = \"Old persona.\";\n",
    )
    .unwrap();
    let shared_name = shared
        .path()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let project = Project::new(&format!(
        "import {{ PERSONA }} from \"../../{shared_name}/persona\";\nnew LuaAgent({{ name: \"Bot\", persona: PERSONA }});\n"
    ));
    let toml = format!("[agent]\nid = \"{}\"\n", support::AGENT);
    project.write("lua.toml", &toml);
    let shared = shared.path().to_path_buf();
    let refused = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(refused.code(), 2, "{}", refused.snapshot());
    assert!(
        refused
            .stdout()
            .contains(&format!("{shared_name}/persona.ts")),
        "{}",
        refused.snapshot()
    );
    assert!(
        std::fs::read_to_string(shared.join("persona.ts"))
            .unwrap()
            .contains("Old persona."),
    );

    project.write(
        "lua.toml",
        &format!("{toml}\n[sync]\nallow_write_outside = [\"../{shared_name}\"]\n"),
    );
    let pulled = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(pulled.code(), 0, "{}", pulled.snapshot());
    assert!(
        std::fs::read_to_string(shared.join("persona.ts"))
            .unwrap()
            .contains("Shared persona."),
    );
}
