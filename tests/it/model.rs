//! The `model` component: added as one file in `components/`, with the same tests as `name`.

use crate::support::{Platform, Project};
use serde_json::json;

fn index(model: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n\nexport default new LuaAgent({{\n  name: \"Bot\",\n  model: \"{model}\",\n  persona: \"Be brief.\",\n}});\n"
    )
}

#[test]
fn model_in_sync() {
    let platform = Platform::start_with_model(Some("Bot"), Some("gpt-4o"), &["Be brief."]);
    let project = Project::new(&index("gpt-4o"));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn model_drift_is_shown_in_short_form() {
    let platform = Platform::start_with_model(Some("Bot"), Some("gpt-4o"), &["Be brief."]);
    let project = Project::new(&index("gpt-4.1-mini"));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn model_push_updates_the_agent() {
    let platform = Platform::start_with_model(Some("Bot"), Some("gpt-4o"), &["Be brief."]);
    let project = Project::new(&index("gpt-4.1-mini"));
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(platform.agent()["model"], json!("gpt-4.1-mini"));
    assert_eq!(platform.agent()["name"], json!("Bot"));
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}

#[test]
fn model_pull_rewrites_only_the_literal() {
    let platform = Platform::start_with_model(Some("Bot"), Some("gpt-4o"), &["Be brief."]);
    let source = index("gpt-4.1-mini");
    let project = Project::new(&source);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        project.read("src/index.ts"),
        source.replace("gpt-4.1-mini", "gpt-4o")
    );
}
