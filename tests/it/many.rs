//! Many agents in one run: `lua sync --check --all` (every lua.skill.yaml under the current
//! folder, .gitignore respected) and named folders, checked concurrently with one combined
//! report; one broken agent (bad yaml, a 500, an unknown agent) never hides the others.

use lua_devserver::TlsConfig;
use serde_json::{Value, json};

use crate::support::{self, KEY, Platform, Project};

fn agent_id(name: &str) -> String {
    format!("baseAgent_agent_{name}")
}

fn index(name: &str) -> String {
    format!("const agent = new LuaAgent({{ name: \"{name}\" }});\n")
}

/// A devserver with agents `ok1`, `ok2` (named like their code) and `drift` (named
/// differently from its code).
fn platform(tls: Option<TlsConfig>) -> Platform {
    let mut config = lua_devserver::Config::for_tests(KEY);
    config.seed = Some(
        serde_json::from_value(json!({"agents": [
            {"id": agent_id("ok1"), "name": "Ok One"},
            {"id": agent_id("ok2"), "name": "Ok Two"},
            {"id": agent_id("drift"), "name": "On The Server"},
            {"id": agent_id("fails"), "name": "Fails"},
        ]}))
        .unwrap(),
    );
    config.tls = tls;
    Platform::with_config(config)
}

/// `agents/<folder>` with a lua.skill.yaml for `agent` and an entry naming it `name`.
fn agent_files(folder: &str, agent: &str, name: &str) -> Vec<(String, String)> {
    vec![
        (
            format!("agents/{folder}/lua.skill.yaml"),
            format!("agent:\n  agentId: {}\n", agent_id(agent)),
        ),
        (format!("agents/{folder}/src/index.ts"), index(name)),
    ]
}

/// A repository with five agents, two of them broken, plus agents that `--all` must skip.
fn repository() -> Project {
    let mut files = Vec::new();
    files.extend(agent_files("ok1", "ok1", "Ok One"));
    files.extend(agent_files("ok2", "ok2", "Ok Two"));
    files.extend(agent_files("drift", "drift", "In The Code"));
    files.extend(agent_files("unknown", "nobody", "Nobody"));
    files.extend(agent_files("fails", "fails", "Fails"));
    files.push((
        "agents/badyaml/lua.skill.yaml".to_owned(),
        "agent:\n  agentId: [unclosed\n".to_owned(),
    ));
    files.push(("agents/badyaml/src/index.ts".to_owned(), index("Bad")));
    // Skipped by --all: ignored by .gitignore, and under node_modules.
    files.extend(agent_files("../build", "ok1", "Ok One"));
    files.push((".gitignore".to_owned(), "build/\n".to_owned()));
    files.extend(agent_files("../node_modules/pkg", "ok1", "Ok One"));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    Project::with_files(&files)
}

fn env() -> Vec<(&'static str, &'static str)> {
    vec![("LUA_SERVER__RETRIES", "0")]
}

/// Every request for the `fails` agent answers 500.
fn break_one(platform: &Platform) {
    platform.fault(json!({
        "count": 100,
        "pathPrefix": format!("/admin/agents/{}", agent_id("fails")),
        "status": 500,
    }));
}

#[test]
fn all_agents_are_checked_in_one_run_and_a_broken_one_hides_no_other() {
    let platform = platform(None);
    break_one(&platform);
    let repo = repository();
    let run = repo.lua_in(
        repo.root(),
        &platform.url(),
        &["sync", "--check", "--all"],
        &env(),
    );
    // The most severe: errors beat drift; the first failing agent (sorted) gives the class.
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stdout = run.stdout();
    for folder in ["ok1", "ok2", "drift", "unknown", "fails", "badyaml"] {
        assert!(
            stdout.contains(&format!("agents/{folder}")),
            "{folder}: {}",
            run.snapshot()
        );
    }
    assert!(
        !stdout.contains("build") && !stdout.contains("node_modules"),
        "{stdout}"
    );
    let _filters = repo.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn the_json_report_is_one_document_with_every_agent() {
    let platform = platform(None);
    break_one(&platform);
    let repo = repository();
    let run = repo.lua_in(
        repo.root(),
        &platform.url(),
        &["sync", "--check", "--all", "--format", "json"],
        &env(),
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let doc: Value = serde_json::from_str(&run.stdout()).expect("one JSON document");
    assert_eq!(doc["exitCode"], 2);
    let verdicts: Vec<(String, String, u64)> = doc["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["project"].as_str().unwrap().to_owned(),
                a["verdict"].as_str().unwrap().to_owned(),
                a["exitCode"].as_u64().unwrap(),
            )
        })
        .collect();
    let expect = |p: &str, v: &str, c: u64| (p.to_owned(), v.to_owned(), c);
    assert_eq!(
        verdicts,
        vec![
            expect("agents/badyaml", "error", 2),
            expect("agents/drift", "drift", 1),
            expect("agents/fails", "unavailable", 11),
            expect("agents/ok1", "in sync", 0),
            expect("agents/ok2", "in sync", 0),
            expect("agents/unknown", "not found", 3),
        ]
    );
    // Each checked agent carries its usual report.
    let drift = &doc["agents"][1]["report"];
    assert_eq!(drift["exitCode"], 1, "{drift}");
}

#[test]
fn named_folders_are_checked_and_github_annotations_name_files_from_here() {
    let platform = platform(None);
    let repo = repository();
    let run = repo.lua_in(
        repo.root(),
        &platform.url(),
        &[
            "sync",
            "--check",
            "agents/ok1",
            "agents/drift",
            "--format",
            "github",
        ],
        &env(),
    );
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert!(
        run.stdout()
            .contains("::error file=agents/drift/src/index.ts,line=1,"),
        "{}",
        run.snapshot()
    );
    assert!(!run.stdout().contains("agents/ok1"), "{}", run.snapshot());
}

#[test]
fn resolving_flags_are_refused_with_all_but_run_on_named_folders() {
    let platform = platform(None);
    let repo = repository();
    for flag in ["--push", "--accept"] {
        let run = repo.lua_in(
            repo.root(),
            &platform.url(),
            &["sync", flag, "--all"],
            &env(),
        );
        assert_eq!(run.code(), 2, "{}", run.snapshot());
        assert!(
            run.stderr()
                .contains("do not take --all; name each agent's folder"),
            "{}",
            run.snapshot()
        );
    }
    assert_eq!(platform.requests()["total"], 0);
    // Named one by one, --push resolves each.
    let run = repo.lua_in(
        repo.root(),
        &platform.url(),
        &["sync", "--push", "agents/ok1", "agents/drift"],
        &env(),
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        platform.data(
            reqwest::Method::GET,
            &format!("/admin/agents/{}", agent_id("drift")),
            None
        )["name"],
        "In The Code"
    );
}

#[test]
fn every_agent_of_a_run_shares_one_connection() {
    let dir = tempfile::tempdir().unwrap();
    let platform = platform(Some(TlsConfig::new(dir.path())));
    let ca = platform.server.ca_path().unwrap().display().to_string();
    let mut files = Vec::new();
    for n in 0..12 {
        let folder = format!("many{n:02}");
        files.extend(agent_files(&folder, "ok1", "Ok One"));
    }
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let repo = Project::with_files(&files);
    platform.reset_requests();
    let before = platform.connections();
    let run = repo.lua_in(
        repo.root(),
        &platform.url(),
        &["sync", "--check", "--all"],
        &[("NODE_EXTRA_CA_CERTS", &ca)],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(
        run.stdout()
            .contains("12 agents: 12 in sync, 0 drift, 0 failed"),
        "{}",
        run.snapshot()
    );
    assert_eq!(
        platform.connections() - before,
        1,
        "one HTTP/2 connection for 12 agents"
    );
    // Every agent made its requests (8 each, none shared across agents' caches).
    assert!(platform.requests()["total"].as_u64().unwrap() >= 12 * 8);
    let _ = support::AGENT;
}
