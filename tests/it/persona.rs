//! End-to-end: `lua persona versions|view|diff|deploy` and `lua push persona` against a
//! real devserver, checked against what the server holds afterwards.

use crate::support;

use crate::support::{AGENT, KEY, Platform, Project, pty};
use serde_json::{Value, json};

const V1: &str = "You are a support agent.\n\nAnswer briefly.";
const V2: &str = "You are a support agent.\n\nAnswer briefly and kindly.";
const DRAFT: &str = "You are a support agent.\n\nDraft: answer in rhymes.";
const CODE: &str = "You are a support agent.\n\nAnswer briefly, kindly and in English.";

/// v1 and v2 published, v3 a draft; v1 current (rolled back), v2 latest published.
fn platform() -> Platform {
    let mut config = lua_devserver::Config::for_tests(KEY);
    config.seed = Some(
        serde_json::from_value(json!({"agents": [{
            "id": AGENT, "name": "Support Bot",
            "personaVersions": [
                {"persona": V1, "current": true},
                {"persona": V2},
                {"persona": DRAFT, "status": "draft"},
            ],
        }]}))
        .unwrap(),
    );
    Platform::with_config(config)
}

fn project(persona: &str) -> Project {
    Project::new(&format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nconst agent = new LuaAgent({{\n  name: \"Support Bot\",\n  persona: `{persona}`,\n}});\nexport default agent;\n"
    ))
}

/// [`Project::snapshot_filters`] plus a version's date, which is when the test ran.
fn filters(p: &Project) -> insta::internals::SettingsBindDropGuard {
    let mut settings = support::snapshot_settings(p.root());
    settings.add_filter(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} UTC",
        "[DATE]",
    );
    settings.bind_to_scope()
}

/// The sync state file, wherever this version of the engine keeps it.
fn state_file(p: &Project) -> Option<&'static str> {
    ["lua.sync.json", ".lua/sync-state.json"]
        .into_iter()
        .find(|f| p.path(f).is_file())
}

fn current(platform: &Platform) -> Vec<u64> {
    platform
        .versions()
        .iter()
        .filter(|v| v["isCurrent"] == json!(true))
        .filter_map(|v| v["version"].as_u64())
        .collect()
}

fn latest_published(platform: &Platform) -> Option<u64> {
    platform
        .versions()
        .iter()
        .filter(|v| v["status"] == "published")
        .max_by_key(|v| (v["createdDate"].as_i64(), v["version"].as_u64()))
        .and_then(|v| v["version"].as_u64())
}

#[test]
fn versions_lists_every_version_newest_first() {
    let platform = platform();
    let p = project(CODE);
    let run = p.lua(&platform.url(), &["persona", "versions"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = filters(&p);
    insta::assert_snapshot!(run.snapshot());
    let alias = p.lua(&platform.url(), &["persona", "list"]);
    assert_eq!(alias.stdout(), run.stdout());

    let json = p.lua(
        &platform.url(),
        &["persona", "versions", "--format", "json"],
    );
    assert_eq!(json.code(), 0);
    let doc: Value = serde_json::from_str(&json.stdout()).unwrap();
    assert_eq!(doc["agentId"], AGENT);
    let rows = doc["versions"].as_array().unwrap();
    let summary: Vec<_> = rows
        .iter()
        .map(|v| {
            (
                v["version"].as_u64().unwrap(),
                v["status"].as_str().unwrap().to_string(),
                v["current"].as_bool().unwrap(),
                v["latestPublished"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (3, "draft".into(), false, false),
            (2, "published".into(), false, true),
            (1, "published".into(), true, false),
        ]
    );
    assert_eq!(rows[2]["persona"], V1);
    assert_eq!(rows[0]["createdBy"], "seed");
    assert!(rows[0]["createdDate"].is_i64());
    assert!(rows[0]["createdAt"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn view_prints_the_text_of_a_version() {
    let platform = platform();
    let p = project(CODE);
    for (args, text) in [
        (&["persona", "view"][..], V1),
        (&["persona", "view", "current"][..], V1),
        (&["persona", "view", "latest"][..], V2),
        (&["persona", "view", "3"][..], DRAFT),
        (&["persona", "view", "code"][..], CODE),
    ] {
        let run = p.lua(&platform.url(), args);
        assert_eq!(run.code(), 0, "{}", run.snapshot());
        assert_eq!(run.stdout(), format!("{text}\n"), "{args:?}");
    }
    let latest = p.lua(&platform.url(), &["persona", "view", "latest"]);
    let _filters = filters(&p);
    insta::assert_snapshot!("view_latest", latest.snapshot());
    let missing = p.lua(&platform.url(), &["persona", "view", "9"]);
    assert_eq!(missing.code(), 3);
    insta::assert_snapshot!("view_missing", missing.snapshot());
    let bad = p.lua(&platform.url(), &["persona", "view", "newest"]);
    assert_eq!(bad.code(), 2);
    assert!(
        bad.stderr().contains("`newest` is not a persona version"),
        "{}",
        bad.stderr()
    );
}

#[test]
fn diff_between_versions_and_the_code() {
    let platform = platform();
    let p = project(CODE);
    let default = p.lua(&platform.url(), &["persona", "diff"]);
    assert_eq!(default.code(), 0, "{}", default.snapshot());
    let _filters = filters(&p);
    insta::assert_snapshot!("diff_latest_code", default.snapshot());
    let versions = p.lua(&platform.url(), &["persona", "diff", "1", "latest"]);
    insta::assert_snapshot!("diff_1_latest", versions.snapshot());
    let same = p.lua(&platform.url(), &["persona", "diff", "current", "1"]);
    assert_eq!(same.code(), 0);
    insta::assert_snapshot!("diff_same", same.snapshot());
}

#[test]
fn deploy_changes_current_and_latest_published_stays() {
    let platform = platform();
    let p = project(CODE);
    assert_eq!(current(&platform), [1]);
    let run = p.lua(&platform.url(), &["persona", "deploy", "latest", "--force"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = filters(&p);
    insta::assert_snapshot!("deploy_latest", run.snapshot());
    assert_eq!(current(&platform), [2]);

    let back = p.lua(&platform.url(), &["persona", "deploy", "1", "--force"]);
    assert_eq!(back.code(), 0, "{}", back.snapshot());
    insta::assert_snapshot!("deploy_rollback", back.snapshot());
    assert_eq!(current(&platform), [1]);
    assert_eq!(latest_published(&platform), Some(2));

    let again = p.lua(&platform.url(), &["persona", "deploy", "1", "--force"]);
    assert_eq!(again.code(), 0);
    assert!(
        again.stdout().contains("already current"),
        "{}",
        again.stdout()
    );

    // A rollback is not drift: sync compares with the latest published version.
    let synced = project(V2);
    let check = synced.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
}

#[test]
fn deploy_refuses_drafts_and_unknown_versions() {
    let platform = platform();
    let p = project(CODE);
    let draft = p.lua(&platform.url(), &["persona", "deploy", "3", "--force"]);
    assert_eq!(draft.code(), 2);
    let _filters = filters(&p);
    insta::assert_snapshot!("deploy_draft", draft.snapshot());
    let missing = p.lua(&platform.url(), &["persona", "deploy", "7", "--force"]);
    assert_eq!(missing.code(), 3);
    assert!(
        missing.stderr().contains("version 7 does not exist"),
        "{}",
        missing.stderr()
    );
    assert_eq!(current(&platform), [1]);
}

#[test]
fn deploy_without_a_terminal_or_under_ci_needs_force() {
    let platform = platform();
    let p = project(CODE);
    let run = p.lua(&platform.url(), &["persona", "deploy", "2"]);
    assert_eq!(run.code(), 2);
    let _filters = filters(&p);
    insta::assert_snapshot!("deploy_no_terminal", run.snapshot());
    let ci = p.lua(&platform.url(), &["--ci", "persona", "deploy", "2"]);
    assert_eq!(ci.code(), 2);
    assert!(
        ci.stderr().contains("--ci says never prompt"),
        "{}",
        ci.stderr()
    );
    assert_eq!(current(&platform), [1]);
}

#[test]
fn push_persona_creates_a_version_and_records_the_base() {
    let platform = platform();
    let p = project(CODE);
    let refused = p.lua(&platform.url(), &["push", "persona"]);
    assert_eq!(refused.code(), 2);
    let _filters = filters(&p);
    insta::assert_snapshot!("push_no_terminal", refused.snapshot());
    assert_eq!(platform.versions().len(), 3);

    let run = p.lua(&platform.url(), &["push", "persona", "--force"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    insta::assert_snapshot!("push_force", run.snapshot());
    assert_eq!(latest_published(&platform), Some(4));
    let state: Value =
        serde_json::from_str(&p.read(state_file(&p).expect("state recorded"))).unwrap();
    assert_eq!(state["components"]["persona"]["serverVersion"], 4);

    let check = p.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    let nothing = p.lua(&platform.url(), &["push", "persona", "--force"]);
    assert_eq!(nothing.code(), 0);
    assert!(
        nothing.stdout().contains("nothing to push"),
        "{}",
        nothing.stdout()
    );
    assert_eq!(platform.versions().len(), 4);
}

#[test]
fn push_persona_deploy_makes_it_current() {
    let platform = platform();
    let p = project(CODE);
    let run = p.lua(&platform.url(), &["push", "persona", "--force", "--deploy"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(current(&platform), [4]);
    assert!(run.stdout().contains("current: v4"), "{}", run.stdout());
}

#[test]
fn push_persona_is_guarded_against_a_server_that_moved() {
    let platform = platform();
    let p = project(CODE);
    // The first read (the diff the user sees) answers as the server was before v2 was
    // published; the guard's fresh read right before posting sees v2.
    let before = json!({"success": true, "data": {"versions": [
        {"version": 1, "persona": V1, "createdDate": 1, "isCurrent": true, "status": "published", "createdBy": "seed"}
    ]}});
    platform.fault(json!({
        "count": 1,
        "method": "GET",
        "pathPrefix": format!("/developer/agents/{AGENT}/persona/versions"),
        "body": before.to_string(),
    }));
    let run = p.lua(&platform.url(), &["push", "persona", "--force"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let _filters = filters(&p);
    insta::assert_snapshot!("push_guarded", run.snapshot());
    assert_eq!(platform.versions().len(), 3, "nothing pushed");
    assert_eq!(state_file(&p), None, "nothing recorded");
}

/// `lua <args>` in a real pseudo-terminal.
#[test]
fn deploy_on_a_terminal_asks_and_yes_deploys() {
    let platform = platform();
    let p = project(CODE);
    let mut no = pty::lua(&p, &platform.url(), &["persona", "deploy", "2"]);
    pty::wait_for_prompt(&mut no, &["Make v2 current in production?"]);
    no.send_line("n").expect("answer");
    no.exp_string("Nothing deployed.").expect("declined");
    no.exp_eof().expect("exit");
    assert_eq!(current(&platform), [1]);

    let mut yes = pty::lua(&p, &platform.url(), &["persona", "deploy", "2"]);
    pty::wait_for_prompt(&mut yes, &["Make v2 current in production?"]);
    yes.send_line("y").expect("answer");
    yes.exp_string("v2 is now current").expect("deployed");
    yes.exp_eof().expect("exit");
    assert_eq!(pty::exit_code(&mut yes), 0);
    assert_eq!(current(&platform), [2]);
}

#[test]
fn ci_refuses_at_once_even_on_a_terminal() {
    let platform = platform();
    let p = project(CODE);
    for args in [
        &["--ci", "persona", "deploy", "2"][..],
        &["persona", "deploy", "2", "--ci"][..],
        &["sync", "--ci"][..],
    ] {
        let mut run = pty::lua(&p, &platform.url(), args);
        run.exp_string("--ci says never prompt").expect("refused");
        run.exp_eof().expect("exit");
        assert_eq!(pty::exit_code(&mut run), 2, "{args:?}");
    }
    assert_eq!(current(&platform), [1]);
}

#[test]
fn persona_and_push_help() {
    let p = project(CODE);
    for (name, args) in [
        ("help_persona", &["persona", "--help"][..]),
        ("help_persona_deploy", &["persona", "deploy", "--help"][..]),
        ("help_push", &["push", "--help"][..]),
    ] {
        let help = p.lua(&support::dead_url(), args);
        assert_eq!(help.code(), 0);
        let _filters = filters(&p);
        insta::assert_snapshot!(name, help.snapshot());
    }
}

// ---------------------------------------------------------------------------------------
// lua-cli's spelling beside ours: `lua persona production|sandbox <action>`,
// `--persona-version`, `lua push persona --auto-deploy`.

#[test]
fn lua_cli_spelling_does_what_ours_does() {
    let platform = platform();
    let p = project(CODE);
    let url = platform.url();
    for (theirs, ours) in [
        (
            &["persona", "production", "view"][..],
            &["persona", "view", "current"][..],
        ),
        (
            &["persona", "production", "show"],
            &["persona", "view", "current"],
        ),
        (
            &["persona", "production", "versions"],
            &["persona", "versions"],
        ),
        (
            &["persona", "sandbox", "versions"],
            &["persona", "versions"],
        ),
        (
            &["persona", "sandbox", "view"],
            &["persona", "view", "code"],
        ),
        (
            &["persona", "staging", "view"],
            &["persona", "view", "code"],
        ),
    ] {
        let a = p.lua(&url, theirs);
        let b = p.lua(&url, ours);
        assert_eq!(a.code(), 0, "{theirs:?}: {}", a.snapshot());
        assert_eq!(a.snapshot(), b.snapshot(), "{theirs:?} vs {ours:?}");
    }
    assert!(
        p.lua(&url, &["persona", "sandbox", "view"])
            .stdout()
            .contains("in English")
    );

    // Deploy v2 with lua-cli's flag: v2 becomes current on the server.
    assert_eq!(current(&platform), vec![1]);
    let run = p.lua(
        &url,
        &[
            "persona",
            "production",
            "deploy",
            "--persona-version",
            "2",
            "--force",
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(current(&platform), vec![2]);

    // Without the version, or in the sandbox: a usage error naming both spellings.
    let missing = p.lua(&url, &["persona", "production", "deploy", "--force"]);
    assert_eq!(missing.code(), 2, "{}", missing.snapshot());
    let sandbox = p.lua(
        &url,
        &["persona", "sandbox", "deploy", "--persona-version", "1"],
    );
    assert_eq!(sandbox.code(), 2, "{}", sandbox.snapshot());
    let _filters = filters(&p);
    insta::assert_snapshot!("lua_cli_deploy_without_version", missing.snapshot());
    insta::assert_snapshot!("lua_cli_sandbox_deploy", sandbox.snapshot());
    assert_eq!(
        current(&platform),
        vec![2],
        "nothing deployed by the refusals"
    );

    // An unknown version is lua-cli's "not found".
    let unknown = p.lua(
        &url,
        &[
            "persona",
            "production",
            "deploy",
            "--persona-version",
            "9",
            "--force",
        ],
    );
    assert_eq!(unknown.code(), 3, "{}", unknown.snapshot());
}

#[test]
fn push_persona_auto_deploy_is_deploy() {
    let platform = platform();
    let p = project(CODE);
    let run = p.lua(
        &platform.url(),
        &["push", "persona", "--auto-deploy", "--force"],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let versions = platform.versions();
    let newest = versions
        .iter()
        .max_by_key(|v| v["version"].as_u64())
        .unwrap();
    assert_eq!(newest["persona"], json!(CODE));
    assert_eq!(
        current(&platform),
        vec![newest["version"].as_u64().unwrap()]
    );
}

#[test]
fn help_shows_both_spellings() {
    let p = project(CODE);
    let help = p.lua("http://unused", &["persona", "--help"]);
    assert_eq!(help.code(), 0);
    for needle in [
        "lua persona deploy 3",
        "lua persona production deploy --persona-version 3",
        "lua persona sandbox view",
    ] {
        assert!(
            help.stdout().contains(needle),
            "{needle}: {}",
            help.stdout()
        );
    }
    let push = p.lua("http://unused", &["push", "--help"]);
    assert!(push.stdout().contains("--auto-deploy"), "{}", push.stdout());
}
