//! End-to-end: a lua-cli project works as it is. Where the agent lives (lua-cli's six
//! entry files, `agent.entry` still winning), the project's `.env` for every `LUA_*`
//! variable (the process environment winning), and what `--verbose` and `lua auth
//! status` say about where the URL and the key came from.

use serde_json::json;

use crate::support::{self, KEY, Platform, Project};

const PERSONA: &str = "You are a friendly support agent.";

fn agent(name: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nexport const agent = new LuaAgent({{\n  name: \"{name}\",\n  persona: `{PERSONA}`,\n}});\n"
    )
}

const CANDIDATES: [&str; 6] = [
    "index.ts",
    "src/index.ts",
    "agent.ts",
    "src/agent.ts",
    "main.ts",
    "src/main.ts",
];

#[test]
fn each_of_lua_cli_entry_files_is_found_and_named() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    for entry in CANDIDATES {
        let project = Project::with_files(&[(entry, &agent("Support Bot"))]);
        let run = project.lua(&platform.url(), &["sync", "--check", "-v"]);
        assert_eq!(run.code(), 0, "{entry}: {}", run.snapshot());
        assert!(
            run.stderr().contains(&format!("entry: {entry} (the first that exists of index.ts, src/index.ts, agent.ts, src/agent.ts, main.ts, src/main.ts")),
            "{entry}: {}",
            run.snapshot()
        );
        let compile = project.lua(&platform.url(), &["compile"]);
        assert_eq!(compile.code(), 0, "{entry}: {}", compile.snapshot());
        assert!(
            compile
                .stderr()
                .contains(&format!("✅ {entry} -> .lua/manifest.json")),
            "{entry}: {}",
            compile.snapshot()
        );
    }
}

#[test]
fn the_first_in_lua_cli_order_wins_and_agent_entry_wins_over_all() {
    let platform = Platform::start(Some("Agent Bot"), &[PERSONA]);
    // src/agent.ts (4th) before main.ts (5th): the server's name is src/agent.ts's.
    let project = Project::with_files(&[
        ("main.ts", &agent("Main Bot")),
        ("src/agent.ts", &agent("Agent Bot")),
    ]);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());

    // agent.entry names main.ts: its name drifts from the server's.
    project.write(
        "lua.toml",
        &format!(
            "[agent]\nid = \"{}\"\nentry = \"main.ts\"\n",
            support::AGENT
        ),
    );
    let run = project.lua(&platform.url(), &["sync", "--check", "-v"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert!(
        run.stderr().contains("entry: main.ts (agent.entry)"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn no_entry_file_lists_the_six_paths_and_the_lua_toml_key() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::with_files(&[("lib/agent.ts", &agent("Support Bot"))]);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("no_entry", run.snapshot());

    // A configured entry that does not exist names the key, not the six paths.
    project.write(
        "lua.toml",
        &format!(
            "[agent]\nid = \"{}\"\nentry = \"src/agent.ts\"\n",
            support::AGENT
        ),
    );
    let run = project.lua(&platform.url(), &["compile"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    insta::assert_snapshot!("configured_entry_missing", run.snapshot());
}

/// The environment of a run whose URL and key come from somewhere else than the support's
/// defaults: no `LUA_API_URL` and no `LUA_API_KEY` in the process, HOME inside the project.
fn bare_env(project: &Project) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", project.path("home").display().to_string()),
        ("LUA_API_KEY", String::new()),
        ("LUA_API_URL", String::new()),
    ]
}

fn run(project: &Project, args: &[&str], env: &[(&'static str, String)]) -> support::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The URL argument is overridden by `env` (an empty value removes the variable).
    project.lua_env("unused", args, &env)
}

#[test]
fn dotenv_sets_the_url_with_the_key_and_the_environment_overrides_it() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&agent("Support Bot"));
    project.write(
        ".env",
        &format!(
            "# staging\nLUA_API_URL={}\nLUA_API_KEY=\"{KEY}\"\n",
            platform.url()
        ),
    );
    let env = bare_env(&project);

    // Both from .env: the .env's key goes to the .env's URL (the devserver), not production.
    let check = run(&project, &["sync", "--check", "-v"], &env);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    let dotenv = project.path(".env").display().to_string();
    assert!(
        check.stderr().contains(&format!(
            "server URL: {} (from LUA_API_URL in {dotenv})",
            platform.url()
        )),
        "{}",
        check.snapshot()
    );
    assert!(
        check
            .stderr()
            .contains(&format!("API key: from LUA_API_KEY in {dotenv}")),
        "{}",
        check.snapshot()
    );
    assert!(!check.stderr().contains(KEY) && !check.stdout().contains(KEY));

    let status = run(&project, &["auth", "status"], &env);
    assert_eq!(status.code(), 0, "{}", status.snapshot());
    {
        let _filters = project.snapshot_filters();
        insta::assert_snapshot!("dotenv_status", status.snapshot());
    }

    // The process environment wins over .env: a dead URL there is the one used.
    let dead = support::dead_url();
    let mut env = bare_env(&project);
    env.push(("LUA_API_URL", dead.clone()));
    env.retain(|(k, v)| *k != "LUA_API_URL" || !v.is_empty());
    env.push(("LUA_SYNC__ON_UNREACHABLE", "fail".into()));
    let check = run(&project, &["sync", "--check", "-v"], &env);
    assert_eq!(check.code(), 11, "{}", check.snapshot());
    assert!(
        check
            .stderr()
            .contains(&format!("server URL: {dead} (from LUA_API_URL)")),
        "{}",
        check.snapshot()
    );
}

// ---------------------------------------------------------------------------------------
// lua-cli's other commands are handed to lua-cli: a stand-in script that records its
// arguments, its standard input and its pid, and exits 7.

const STAND_IN: &str = "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$RECORD/args\"\ncat > \"$RECORD/stdin\"\necho $$ > \"$RECORD/pid\"\nif [ -n \"$WAIT\" ]; then trap 'echo term > \"$RECORD/signal\"; exit 143' TERM; while :; do sleep 0.05; done; fi\necho \"lua-cli stand-in ran\"\nexit 7\n";

#[cfg(unix)]
fn install_stand_in(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, STAND_IN).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(unix)]
#[test]
fn other_commands_go_to_the_projects_lua_cli_with_args_stdin_and_exit_code() {
    let project = Project::new(&agent("Support Bot"));
    install_stand_in(&project.path("node_modules/.bin/lua"));
    let record = project.path("record");
    std::fs::create_dir_all(&record).unwrap();
    let record_s = record.display().to_string();
    let env = [("RECORD", record_s.as_str())];
    for args in [
        &["deploy", "--name", "my skill", "-v"][..],
        &["push", "skill", "--force", "--name", "orders"],
        &[
            "--color",
            "never",
            "push",
            "--force",
            "all",
            "--auto-deploy",
        ],
        &["init", "--help"],
        &["chat"],
    ] {
        let _ = std::fs::remove_file(record.join("args"));
        let run = project.lua_env("http://unused", args, &env);
        assert_eq!(run.code(), 7, "{args:?}: {}", run.snapshot());
        assert_eq!(run.stdout(), "lua-cli stand-in ran\n", "{args:?}");
        let from = args
            .iter()
            .position(|a| !a.starts_with('-') && *a != "never")
            .unwrap();
        let expected: String = args[from..].iter().map(|a| format!("{a}\n")).collect();
        assert_eq!(
            std::fs::read_to_string(record.join("args")).unwrap(),
            expected,
            "{args:?}"
        );
    }

    // Standard input goes through.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lua"))
        .arg("chat")
        .current_dir(project.path("src"))
        .env("RECORD", &record)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello lua-cli\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(7));
    assert_eq!(
        std::fs::read_to_string(record.join("stdin")).unwrap(),
        "hello lua-cli\n"
    );

    // Our own commands are never handed over.
    std::fs::remove_file(record.join("args")).unwrap();
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    for args in [
        &["sync", "--check"][..],
        &["compile"],
        &["persona", "versions"],
        &["push", "persona", "--force"],
        &["auth", "status"],
    ] {
        let run = project.lua(&platform.url(), args);
        assert_eq!(run.code(), 0, "{args:?}: {}", run.snapshot());
    }
    assert!(
        !record.join("args").exists(),
        "an own command was delegated"
    );
}

#[cfg(unix)]
#[test]
fn signals_reach_lua_cli_and_the_fallback_variable_points_at_it() {
    let project = Project::new(&agent("Support Bot"));
    let elsewhere = tempfile::tempdir().unwrap();
    let stand_in = elsewhere.path().join("lua-cli");
    install_stand_in(&stand_in);
    let record = project.path("record");
    std::fs::create_dir_all(&record).unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_lua"))
        .args(["dev", "--port", "3000"])
        .current_dir(project.root())
        .env("LUA_CLI_FALLBACK", &stand_in)
        .env("RECORD", &record)
        .env("WAIT", "1")
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !record.join("pid").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the stand-in never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // The process we started is lua-cli now: a signal sent to it is lua-cli's to handle.
    let pid = std::fs::read_to_string(record.join("pid")).unwrap();
    assert_eq!(pid.trim(), child.id().to_string());
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap(),
        rustix::process::Signal::TERM,
    )
    .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(143));
    assert_eq!(
        std::fs::read_to_string(record.join("signal")).unwrap(),
        "term\n"
    );
    assert_eq!(
        std::fs::read_to_string(record.join("args")).unwrap(),
        "dev\n--port\n3000\n"
    );
}

#[test]
fn without_lua_cli_the_error_says_how_to_run_the_command() {
    let project = Project::new(&agent("Support Bot"));
    let run = project.lua("http://unused", &["push", "skill", "--name", "orders"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("no_lua_cli", run.snapshot());
}

// ---------------------------------------------------------------------------------------
// Class agents: `class X extends LuaAgent { name = ...; persona = ...; }`, through base
// classes in other files.

const BASE_TS: &str = "import { LuaAgent } from \"lua-cli\";\n\nexport class BaseBot extends LuaAgent {\n  model = \"gpt-4o\";\n  persona = `Base persona.`;\n}\n";
const SUPPORT_TS: &str = "import { BaseBot } from \"./base\";\n\nexport class SupportBase extends BaseBot {\n  persona = `You are a friendly support agent.`;\n}\n";
const INDEX_TS: &str = "import { SupportBase } from \"./support\";\n\nexport class SupportBot extends SupportBase {\n  name = 'Support Bot';\n}\n";

fn class_project() -> Project {
    Project::with_files(&[
        ("src/base.ts", BASE_TS),
        ("src/support.ts", SUPPORT_TS),
        ("src/index.ts", INDEX_TS),
    ])
}

#[test]
fn a_class_agent_across_three_files_is_read_pulled_and_pushed() {
    let platform = Platform::start_with_model(Some("Support Bot"), Some("gpt-4o"), &[PERSONA]);
    let project = class_project();
    // Every member read along the chain, the most derived declaration winning.
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    // Pull: the server's persona goes into the class that declares it (support.ts).
    platform.publish(json!("You are a patient support agent."));
    let accept = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(accept.code(), 0, "{}", accept.snapshot());
    assert_eq!(
        project.read("src/support.ts"),
        SUPPORT_TS.replace("friendly", "patient")
    );
    assert_eq!(
        project.read("src/base.ts"),
        BASE_TS,
        "the base's own persona is untouched"
    );
    assert_eq!(project.read("src/index.ts"), INDEX_TS);
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    // Push: the name the leaf declares and the model the base declares go to the server.
    project.write(
        "src/index.ts",
        &INDEX_TS.replace("Support Bot", "Support Bot 2"),
    );
    project.write("src/base.ts", &BASE_TS.replace("gpt-4o", "gpt-4.1"));
    let push = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(push.code(), 0, "{}", push.snapshot());
    assert_eq!(platform.agent()["name"], json!("Support Bot 2"));
    assert_eq!(platform.agent()["model"], json!("gpt-4.1"));

    // Pull of the model: written where it is declared, in the base class's file.
    platform.patch_agent(json!({"model": "gpt-5"}));
    let accept = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(accept.code(), 0, "{}", accept.snapshot());
    assert_eq!(
        project.read("src/base.ts"),
        BASE_TS.replace("gpt-4o", "gpt-5")
    );
}

#[test]
fn a_class_without_name_is_named_as_lua_cli_names_it_and_a_dynamic_model_is_not_compared() {
    let platform = Platform::start_with_model(Some("support-bot"), Some("gpt-4o"), &[PERSONA]);
    let index = format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n\nexport class SupportBot extends LuaAgent {{\n  persona = `{PERSONA}`;\n  model = () => (process.env.FAST ? \"gpt-4o-mini\" : \"gpt-4o\");\n}}\n"
    );
    let project = Project::with_files(&[
        ("src/index.ts", &index),
        (
            "lua.toml",
            &format!(
                "[agent]\nid = \"{}\"\n\n[components.model]\ncheck = \"warn\"\n",
                support::AGENT
            ),
        ),
    ]);
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    assert!(
        check
            .stderr()
            .contains("resolved when the agent runs (dynamic)"),
        "{}",
        check.snapshot()
    );

    // A method `model() {}` is dynamic too; the derived name still drifts from the server's.
    platform.set_name("Support Bot");
    project.write(
        "src/index.ts",
        &index.replace(
            "model = () => (process.env.FAST ? \"gpt-4o-mini\" : \"gpt-4o\");",
            "model() {\n    return \"gpt-4o\";\n  }",
        ),
    );
    let check = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(check.code(), 1, "{}", check.snapshot());
    let report: serde_json::Value = serde_json::from_str(&check.stdout()).unwrap();
    let status = |id: &str| {
        report["components"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == json!(id))
            .map(|c| c["status"].clone())
    };
    assert_eq!(status("name"), Some(json!("drift")));
    assert_eq!(status("persona"), Some(json!("in_sync")));
    assert_eq!(status("model"), Some(json!("unreadable")));
}

#[test]
fn values_declared_nowhere_are_pulled_into_the_most_derived_class() {
    let platform = Platform::start_with_model(Some("Support Bot"), Some("gpt-4o"), &[PERSONA]);
    let base = format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n\nexport class BaseBot extends LuaAgent {{\n  persona = `{PERSONA}`;\n}}\n"
    );
    let index = "import { BaseBot } from \"./base\";\n\nexport default class SupportBot extends BaseBot {\n  // nothing of its own yet\n}\n";
    let project = Project::with_files(&[("src/base.ts", &base), ("src/index.ts", index)]);
    // The derived name (support-bot) and the missing model drift from the server's.
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 1, "{}", check.snapshot());
    let accept = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(accept.code(), 0, "{}", accept.snapshot());
    assert_eq!(
        project.read("src/index.ts"),
        "import { BaseBot } from \"./base\";\n\nexport default class SupportBot extends BaseBot {\n  // nothing of its own yet\n  name = \"Support Bot\";\n  model = \"gpt-4o\";\n}\n"
    );
    assert_eq!(project.read("src/base.ts"), base);
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
}
