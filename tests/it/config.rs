//! End-to-end: configuration through the real `lua` binary. Every `lua.toml` key is
//! honoured; defaults < `lua.toml` < environment; `--config`, `-C` and walking up find the
//! project; bad configuration is exit 2 naming the file, line and key.

use crate::support;

use std::collections::BTreeSet;
use std::path::Path;

use crate::support::{AGENT, PERSONA_VERSIONS_ROUTE, Platform, Project};
use serde_json::json;

const PERSONA: &str = "You are a friendly support agent.\n\nAnswer briefly.";

fn index(name: &str, persona: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n\nconst agent = new LuaAgent({{\n  name: \"{name}\",\n  persona: `{persona}`,\n}});\n\nexport default agent;\n"
    )
}

/// A project whose code matches the platform started by [`platform`], with this lua.toml.
fn project(lua_toml: &str) -> Project {
    Project::with_files(&[
        ("src/index.ts", &index("Support Bot", PERSONA)),
        ("lua.toml", lua_toml),
    ])
}

fn platform() -> Platform {
    Platform::start(Some("Support Bot"), &[PERSONA])
}

/// Every GET of the persona versions fails with 500 until cleared.
fn fail_persona_fetches(platform: &Platform) {
    platform.clear_faults();
    platform.reset_requests();
    platform.fault(json!({
        "pathPrefix": format!("/developer/agents/{AGENT}/persona/versions"),
        "method": "GET",
        "status": 500,
    }));
}

// ---------------------------------------------------------------------------------------
// Every lua.toml key is honoured.

#[test]
fn agent_and_server_keys_in_lua_toml_are_honoured() {
    let platform = platform();
    // No LUA_API_URL and no LUA_AGENT_ID: the URL, agent id and entry come from lua.toml.
    let project = Project::with_files(&[
        ("app/agent.ts", &index("Support Bot", PERSONA)),
        (
            "lua.toml",
            &format!(
                "[agent]\nid = \"{AGENT}\"\nentry = \"app/agent.ts\"\n\n[server]\nurl = \"{}\"\n",
                platform.url()
            ),
        ),
    ]);
    let run = project.lua_env("", &["sync", "--check"], &[("LUA_API_URL", "")]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    let manifest = project.read(".lua/manifest.json");
    assert!(manifest.contains("app/agent.ts"), "{manifest}");
    assert!(!project.path("src").exists());

    // A trailing slash on the URL is fine.
    project.write(
        "lua.toml",
        &format!(
            "[agent]\nid = \"{AGENT}\"\nentry = \"app/agent.ts\"\n\n[server]\nurl = \"{}/\"\n",
            platform.url()
        ),
    );
    let run = project.lua_env("", &["sync", "--check"], &[("LUA_API_URL", "")]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn retries_default_to_2_and_lua_toml_then_env_override_them() {
    let platform = platform();
    let cases = [
        // (lua.toml [server] lines, environment, GET attempts expected)
        ("", vec![], 3),
        ("retries = 1\n", vec![], 2),
        ("retries = 1\n", vec![("LUA_SERVER__RETRIES", "0")], 1),
    ];
    for (server, env, attempts) in cases {
        let project = project(&format!("[agent]\nid = \"{AGENT}\"\n\n[server]\n{server}"));
        fail_persona_fetches(&platform);
        let run = project.lua_env(&platform.url(), &["sync", "--check"], &env);
        assert_eq!(run.code(), 11, "{}", run.snapshot());
        assert!(run.stderr().contains("HTTP 500"), "{}", run.snapshot());
        assert_eq!(
            platform.requests_to(PERSONA_VERSIONS_ROUTE),
            attempts,
            "lua.toml [server] {server:?}, env {env:?}"
        );
    }
}

#[test]
fn timeout_secs_and_on_unreachable_from_lua_toml() {
    let platform = platform();
    platform.fault(json!({"latencyMs": 1500}));
    let project = project(&format!(
        "[agent]\nid = \"{AGENT}\"\n\n[server]\ntimeout_secs = 1\nretries = 0\n\n[sync]\non_unreachable = \"fail\"\n"
    ));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    assert!(
        run.stderr().contains("no response within 1s"),
        "{}",
        run.snapshot()
    );
    assert!(
        run.stderr().contains("on_unreachable"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn component_keys_in_lua_toml_are_honoured() {
    let platform = platform();
    let drifted = Project::with_files(&[
        (
            "src/index.ts",
            &index("Support Bot", "A different persona."),
        ),
        (
            "lua.toml",
            &format!("[agent]\nid = \"{AGENT}\"\n\n[components.persona]\ncheck = \"warn\"\n"),
        ),
    ]);
    let run = drifted.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("PERSONA DIFF"), "{}", run.snapshot());
    // (Each policy value is tested in tests/it/policies.rs.)
}

// ---------------------------------------------------------------------------------------
// Precedence: defaults < lua.toml < environment.

#[test]
fn lua_api_url_overrides_server_url() {
    let platform = platform();
    let project = project(&format!(
        "[agent]\nid = \"{AGENT}\"\n\n[server]\nurl = \"{}\"\n",
        support::dead_url()
    ));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    // Without the variable, lua.toml's (dead) URL is used.
    let run = project.lua_env("", &["sync", "--check"], &[("LUA_API_URL", "")]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stderr().contains("unreachable"), "{}", run.snapshot());
    assert!(!run.stdout().contains("No drift"), "{}", run.snapshot());
}

#[test]
fn lua_agent_id_overrides_agent_id() {
    let platform = platform();
    let project = project("[agent]\nid = \"baseAgent_agent_other\"\n");
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[("LUA_AGENT_ID", AGENT)],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    // Without the variable, lua.toml's id is used (and the platform does not know it).
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 3, "{}", run.snapshot());
    assert!(
        run.stderr().contains("baseAgent_agent_other"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn nested_env_overrides_component_policy() {
    let platform = platform();
    let project = Project::with_files(&[
        (
            "src/index.ts",
            &index("Support Bot", "A different persona."),
        ),
        (
            "lua.toml",
            &format!("[agent]\nid = \"{AGENT}\"\n\n[components.persona]\ncheck = \"fail\"\n"),
        ),
    ]);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[("LUA_COMPONENTS__PERSONA__CHECK", "warn")],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("PERSONA DIFF"), "{}", run.snapshot());
}

#[test]
fn nested_env_overrides_on_unreachable() {
    let project = project(&format!(
        "[agent]\nid = \"{AGENT}\"\n\n[sync]\non_unreachable = \"continue\"\n"
    ));
    let dead = support::dead_url();
    let run = project.lua(&dead, &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let run = project.lua_env(
        &dead,
        &["sync", "--check"],
        &[("LUA_SYNC__ON_UNREACHABLE", "fail")],
    );
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    assert!(run.stderr().contains("unreachable"), "{}", run.snapshot());
}

#[test]
fn by_default_drift_fails_and_unreachable_continues() {
    let dead = support::dead_url();
    let project = Project::new(&index("Support Bot", PERSONA));
    assert_eq!(
        project.read("lua.toml"),
        format!("[agent]\nid = \"{AGENT}\"\n")
    );
    let run = project.lua(&dead, &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let platform = Platform::start(Some("Support Bot"), &["Another persona."]);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
}

#[test]
fn api_key_made_of_digits_is_a_string() {
    // A devserver whose key is `12345`: figment must not turn it into a number.
    let mut config = lua_devserver::Config::for_tests("12345");
    config.agents.push(lua_devserver::AgentSpec {
        id: AGENT.to_string(),
        name: Some("Support Bot".to_string()),
    });
    let platform = Platform::with_config(config);
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[("LUA_API_KEY", "12345")],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
}

#[test]
fn unrelated_lua_variables_are_ignored() {
    let platform = platform();
    let project = project(&format!("[agent]\nid = \"{AGENT}\"\n"));
    let plain = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(plain.code(), 0, "{}", plain.snapshot());
    // The Lua interpreter's own variables (and look-alikes) must not be read as config.
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[
            ("LUA_PATH", "/usr/share/lua/5.4/?.lua;;"),
            ("LUA_CPATH", "/usr/lib/lua/5.4/?.so;;"),
            ("LUA_PATH_5_4", "./?.lua"),
            ("LUA_INIT", "@/nonexistent/init.lua"),
            ("LUA_INIT_5_4", "print('hi')"),
            ("LUA_VERSION", "5.4"),
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(run.snapshot(), plain.snapshot());
}

// ---------------------------------------------------------------------------------------
// Finding the project.

#[test]
fn config_flag_uses_that_file_and_its_folder_as_the_root() {
    let platform = platform();
    let project = Project::with_files(&[
        // The folder we run in has a lua.toml for an agent the platform does not know.
        ("lua.toml", "[agent]\nid = \"baseAgent_agent_wrong\"\n"),
        ("ci/lua.toml", &format!("[agent]\nid = \"{AGENT}\"\n")),
        ("ci/src/index.ts", &index("Support Bot", PERSONA)),
    ]);
    let run = project.lua(
        &platform.url(),
        &["--config", "ci/lua.toml", "sync", "--check"],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    assert!(project.path("ci/.lua/manifest.json").is_file());
    assert!(!project.path(".lua").exists());

    // An absolute path works from anywhere, too.
    let elsewhere = tempfile::tempdir().unwrap();
    let config = project.path("ci/lua.toml");
    let run = project.lua_in(
        elsewhere.path(),
        &platform.url(),
        &["sync", "--check", "--config", config.to_str().unwrap()],
        &[],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn config_flag_naming_a_missing_file_is_an_error() {
    let project = Project::new(&index("Support Bot", PERSONA));
    let run = project.lua(
        &support::dead_url(),
        &["--config", "nope/lua.toml", "compile"],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(run.stderr().contains("nope/lua.toml"), "{}", run.snapshot());
    assert!(!project.path(".lua").exists());
}

#[test]
fn directory_flag_runs_as_if_started_there() {
    let platform = platform();
    let project = project(&format!("[agent]\nid = \"{AGENT}\"\n"));
    // Started in another project (unknown agent, no source): -C must win.
    let other = Project::with_files(&[("lua.toml", "[agent]\nid = \"baseAgent_agent_wrong\"\n")]);
    let dir = project.root().to_str().unwrap().to_string();
    for flag in ["-C", "--directory"] {
        let run = project.lua_in(
            other.root(),
            &platform.url(),
            &[flag, &dir, "sync", "--check"],
            &[],
        );
        assert_eq!(run.code(), 0, "{flag}: {}", run.snapshot());
        assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    }
    assert!(project.path(".lua/manifest.json").is_file());
    assert!(!other.path(".lua").exists());
}

#[test]
fn lua_toml_is_found_by_walking_up_from_a_subfolder() {
    let platform = platform();
    let project = project(&format!("[agent]\nid = \"{AGENT}\"\n"));
    let deep = project.path("src/components/deep");
    std::fs::create_dir_all(&deep).unwrap();
    let run = project.lua_in(&deep, &platform.url(), &["sync", "--check"], &[]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    assert!(project.path(".lua/manifest.json").is_file());
    assert!(!deep.join(".lua").exists());
}

// ---------------------------------------------------------------------------------------
// Bad configuration: exit 2, naming the file, line and key.

#[test]
fn unknown_key_names_file_line_and_key() {
    let project = project("# project settings\n[agent]\nidd = \"baseAgent_agent_test\"\n");
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(stderr.contains("lua.toml:3:"), "{stderr}");
    assert!(stderr.contains("`agent.idd`"), "{stderr}");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn bad_value_names_file_and_line() {
    let project = project(&format!(
        "[agent]\nid = \"{AGENT}\"\n\n[components.persona]\ncheck = \"sometimes\"\n"
    ));
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(stderr.contains("lua.toml:5:"), "{stderr}");
    assert!(stderr.contains("sometimes"), "{stderr}");
    assert!(stderr.contains("`components.persona.check`"), "{stderr}");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn bad_value_from_the_environment_names_the_key() {
    let project = project(&format!("[agent]\nid = \"{AGENT}\"\n"));
    let run = project.lua_env(
        &support::dead_url(),
        &["sync", "--check"],
        &[("LUA_SERVER__RETRIES", "many")],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(stderr.contains("server.retries"), "{stderr}");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn unknown_component_names_it_and_the_known_ids() {
    let project = project(&format!(
        "[agent]\nid = \"{AGENT}\"\n\n[components.nope]\ncheck = \"warn\"\n"
    ));
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(stderr.contains("`nope`"), "{stderr}");
    assert!(
        stderr.contains("lua.toml:4:1: unknown component"),
        "{stderr}"
    );
    assert!(
        stderr.contains("persona") && stderr.contains("name"),
        "{stderr}"
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn missing_agent_id_says_where_to_set_it() {
    let project = project("[server]\nretries = 1\n");
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(
        stderr.contains("lua.toml") && stderr.contains("LUA_AGENT_ID"),
        "{stderr}"
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn the_skill_yaml_agent_id_is_read_when_lua_toml_sets_only_a_policy() {
    let platform = platform();
    let project = Project::with_files(&[
        ("src/index.ts", &index("Support Bot", PERSONA)),
        ("lua.toml", "[components.persona]\ncheck = \"warn\"\n"),
        (
            "lua.skill.yaml",
            &format!("agent:\n  agentId: {AGENT}\n  name: Support Bot\n"),
        ),
    ]);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    assert!(platform.requests_to(support::AGENT_ROUTE) > 0);

    // lua.toml's `[agent] id` still wins over the yaml.
    project.write(
        "lua.toml",
        "[agent]\nid = \"baseAgent_agent_other\"\n\n[components.persona]\ncheck = \"warn\"\n",
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 3, "{}", run.snapshot());
    assert!(
        run.stderr().contains("baseAgent_agent_other"),
        "{}",
        run.snapshot()
    );
}

// ---------------------------------------------------------------------------------------
// lua.toml.example

fn repo_file(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
}

#[test]
fn lua_toml_example_is_a_valid_lua_toml() {
    let platform = platform();
    let project = project(&repo_file("lua.toml.example"));
    let run = project.lua(&support::dead_url(), &["compile"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(project.path(".lua/manifest.json").is_file());
    // And it drives a real check (its agent id and URL replaced through the environment).
    let run = project.lua_env(
        &platform.url(),
        &["sync", "--check"],
        &[("LUA_AGENT_ID", AGENT)],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
}

/// The dotted keys set in a (simple) TOML file: `[a.b]` then `c = ...` is `a.b.c`.
fn toml_keys(text: &str) -> BTreeSet<String> {
    let mut section = String::new();
    let mut keys = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            section = header.trim_end_matches(']').trim().to_string();
        } else if let Some((key, _)) = line.split_once('=') {
            keys.insert(format!("{section}.{}", key.trim()));
        }
    }
    keys
}

/// The keys of the README's Configuration table (first column), e.g. `components.<id>.check`.
fn readme_keys() -> BTreeSet<String> {
    let readme = repo_file("README.md");
    let section = readme
        .split("\n## Configuration")
        .nth(1)
        .expect("README has a Configuration section");
    let section = section.split("\n## ").next().unwrap();
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(key, _)| key.to_string()))
        .collect()
}

/// Every key the configuration accepts, from the code's own defaults.
fn settings_keys() -> BTreeSet<String> {
    fn walk(prefix: &str, value: &serde_json::Value, out: &mut BTreeSet<String>) {
        match value.as_object() {
            Some(map) => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            None => {
                out.insert(prefix.to_string());
            }
        }
    }
    let mut keys = BTreeSet::new();
    let mut settings = serde_json::to_value(lua_core::config::Settings::default()).unwrap();
    settings["components"] = json!({
        "<id>": serde_json::to_value(lua_core::config::ComponentPolicy::default()).unwrap()
    });
    walk("", &settings, &mut keys);
    keys
}

/// `components.persona.check` -> `components.<id>.check`.
fn generic(key: &str) -> String {
    match key.strip_prefix("components.") {
        Some(rest) => match rest.split_once('.') {
            Some((_, field)) => format!("components.<id>.{field}"),
            None => key.to_string(),
        },
        None => key.to_string(),
    }
}

#[test]
fn every_documented_key_is_in_lua_toml_example() {
    let readme = readme_keys();
    assert!(readme.len() >= 10, "README table not found: {readme:?}");
    let example_text = repo_file("lua.toml.example");
    let example = toml_keys(&example_text);
    let example_generic: BTreeSet<String> = example.iter().map(|k| generic(k)).collect();
    for key in &readme {
        assert!(
            example_generic.contains(key),
            "README documents `{key}` but lua.toml.example does not set it"
        );
    }
    // Each component section of the example sets every component key.
    let sections: BTreeSet<&str> = example
        .iter()
        .filter_map(|k| k.strip_prefix("components."))
        .filter_map(|k| k.split_once('.').map(|(id, _)| id))
        .collect();
    assert!(!sections.is_empty());
    for id in sections {
        for key in readme.iter().filter(|k| k.starts_with("components.<id>.")) {
            let concrete = key.replace("<id>", id);
            assert!(
                example.contains(&concrete),
                "lua.toml.example [components.{id}] lacks `{concrete}`"
            );
        }
    }
    // And the other way round: nothing undocumented in the example.
    for key in &example_generic {
        assert!(
            readme.contains(key),
            "lua.toml.example sets `{key}`, which the README does not document"
        );
    }
}

#[test]
fn every_key_the_code_accepts_is_documented_and_in_the_example() {
    let code = settings_keys();
    let readme = readme_keys();
    let example: BTreeSet<String> = toml_keys(&repo_file("lua.toml.example"))
        .iter()
        .map(|k| generic(k))
        .collect();
    for key in &code {
        assert!(readme.contains(key), "`{key}` is not in the README table");
        assert!(example.contains(key), "`{key}` is not in lua.toml.example");
    }
    assert_eq!(readme, code, "README table vs the code's settings");
}

#[test]
fn server_values_out_of_range_are_refused_naming_key_and_source() {
    // (lua.toml [server] lines, environment, what stderr must say)
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
    let cases: &[Case] = &[
        (
            "retries = 4294967295\n",
            &[],
            &["lua.toml", "`server.retries` = 4294967295", "0 to 10"],
        ),
        (
            "retries = 11\n",
            &[],
            &["lua.toml", "`server.retries` = 11"],
        ),
        (
            "",
            &[("LUA_SERVER__RETRIES", "4294967295")],
            &["environment variable LUA_SERVER__RETRIES", "0 to 10"],
        ),
        (
            "timeout_secs = 0\n",
            &[],
            &["`server.timeout_secs` = 0", "1 to 300"],
        ),
        (
            "timeout_secs = 301\n",
            &[],
            &["`server.timeout_secs` = 301"],
        ),
        (
            "",
            &[("LUA_SERVER__TIMEOUT_SECS", "0")],
            &["LUA_SERVER__TIMEOUT_SECS", "1 to 300"],
        ),
        (
            "deadline_secs = 0\n",
            &[],
            &["`server.deadline_secs` = 0", "1 to 3600"],
        ),
    ];
    for (server, env, needles) in cases {
        let project = project(&format!("[agent]\nid = \"{AGENT}\"\n\n[server]\n{server}"));
        let run = project.lua_env(&support::dead_url(), &["sync", "--check"], env);
        assert_eq!(run.code(), 2, "{server:?} {env:?}: {}", run.snapshot());
        for needle in *needles {
            assert!(
                run.stderr().contains(needle),
                "{needle}: {}",
                run.snapshot()
            );
        }
        if server.starts_with("retries = 4294967295") {
            let _filters = project.snapshot_filters();
            insta::assert_snapshot!(run.snapshot());
        }
    }
}
