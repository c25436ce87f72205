//! A resolution is one plan, applied once: what the source does not declare is never pushed
//! as a deletion, the template's empty placeholder is not pushed, a backup restore and the
//! field edits are composed and committed together (restore first), an item whose source
//! the backup lacks is not recorded, lua-cli's backup manifest is read and written,
//! `--dry-run` shows the plan and changes nothing, and the hints and exits around resolving.

use crate::support::{self, AGENT, Platform, Project};
use serde_json::{Value, json};

const ORDER_TS: &str =
    "export const orderSkill = new LuaSkill({ name: \"order-skill\", version: \"1.0.1\" });\n";

fn governance() -> Value {
    json!({"mode": "sdk", "rules": {"tokenBudget": 5}})
}

/// A devserver whose agent has `extra` merged into its seed entry.
fn devserver(extra: Value) -> Platform {
    let mut agent = json!({
        "id": AGENT,
        "name": "Bot",
        "personaVersions": [{"persona": "Be brief."}],
    });
    if let (Some(a), Some(e)) = (agent.as_object_mut(), extra.as_object()) {
        a.extend(e.clone());
    }
    let mut config = lua_devserver::Config::for_tests(support::KEY);
    config.seed = Some(serde_json::from_value(json!({ "agents": [agent] })).expect("seed"));
    Platform::with_config(config)
}

fn index(name: &str, persona: &str) -> String {
    format!(
        "import {{ LuaAgent }} from \"lua-cli\";\n\nexport default new LuaAgent({{\n  name: \"{name}\",\n  persona: \"{persona}\",\n}});\n"
    )
}

fn skill_yaml(skills: &[(&str, &str)]) -> String {
    let mut yaml = format!("agent:\n  agentId: {AGENT}\nskills:\n");
    for (name, version) in skills {
        yaml.push_str(&format!(
            "  - name: {name}\n    version: {version}\n    skillId: skill_{name}\n"
        ));
    }
    yaml
}

/// The project's files, except what every run may write (compile cache, sync state).
fn files(project: &Project) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = support::files_except_manifest(project.root());
    files.remove("lua.sync.json");
    files
}

#[test]
fn governance_on_the_server_survives_a_push_of_a_project_that_declares_none() {
    let platform = devserver(json!({
        "governance": governance(),
        "personaVersions": [{"persona": "Server persona."}],
    }));
    let project = Project::new(&index("Bot", "Local persona."));
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(platform.agent()["governance"], governance());
    let out = run.snapshot();
    assert!(out.contains("left intact"), "{out}");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(out);
    // The check still says the server has governance the code does not declare, and how
    // to clear it on purpose.
    let check = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 1, "{}", check.snapshot());
    assert!(
        check.stdout().contains("declare it as null"),
        "{}",
        check.snapshot()
    );
    assert!(
        !check.stdout().contains("--push    push"),
        "{}",
        check.snapshot()
    );
}

#[test]
fn the_templates_empty_name_is_not_pushed_without_force() {
    let platform = devserver(json!({"name": "Support Bot"}));
    let project = Project::new(&index("", "Be brief."));
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert_eq!(platform.agent()["name"], "Support Bot");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());

    let forced = project.lua(&platform.url(), &["sync", "--push", "--force"]);
    assert_eq!(forced.code(), 0, "{}", forced.snapshot());
    assert_eq!(platform.agent()["name"], "");
}

/// Fields and primitives drifted together: the backup holds the same `src/index.ts` as
/// the project, so the restore needs no force; the fields are pulled into the restored
/// project, and the next check is clean.
#[test]
fn accept_restores_first_then_pulls_the_fields_into_the_restored_project() {
    let stale = index("Bot", "Be brief.");
    let platform = devserver(json!({
        "name": "Server Bot",
        "governance": governance(),
        "personaVersions": [{"persona": "Server persona."}],
        "skills": [{"id": "skill_order-skill", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": [
            {"relativePath": "src/index.ts", "content": stale},
            {"relativePath": "src/skills/order.ts", "content": ORDER_TS},
        ]},
    }));
    let project = Project::with_files(&[("src/index.ts", &stale)]);
    project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let index_ts = project.read("src/index.ts");
    assert!(index_ts.contains("name: \"Server Bot\""), "{index_ts}");
    assert!(
        index_ts.contains("persona: \"Server persona.\""),
        "{index_ts}"
    );
    assert!(index_ts.contains("import { governance }"), "{index_ts}");
    assert!(project.read("src/governance.ts").contains("tokenBudget"));
    assert_eq!(project.read("src/skills/order.ts"), ORDER_TS);
    assert!(project.read("lua.skill.yaml").contains("version: 1.0.1"));
    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}

/// With --force the backup's stale entry file is restored, and the fields just pulled land
/// in it (they are not overwritten by it): nothing is left to push back.
#[test]
fn accept_with_force_pulls_the_fields_into_the_stale_restored_entry_file() {
    let stale = index("Old Bot", "Old persona.");
    let platform = devserver(json!({
        "name": "Server Bot",
        "governance": governance(),
        "personaVersions": [{"persona": "Server persona."}],
        "skills": [{"id": "skill_order-skill", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": [
            {"relativePath": "src/index.ts", "content": stale},
            {"relativePath": "src/skills/order.ts", "content": ORDER_TS},
        ]},
    }));
    let project = Project::new(&index("My Bot", "My persona."));
    project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
    let before = files(&project);
    let refused = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(refused.code(), 2, "{}", refused.snapshot());
    assert!(
        refused
            .snapshot()
            .contains("would overwrite local edits in src/index.ts"),
        "{}",
        refused.snapshot()
    );
    // The fields were pulled (one commit), the restore was not: nothing of the backup.
    assert!(!project.path("src/skills/order.ts").exists());
    assert_ne!(files(&project), before);
    assert!(project.read("lua.skill.yaml").contains("version: 1.0.0"));

    let project = Project::new(&index("My Bot", "My persona."));
    project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
    let run = project.lua(&platform.url(), &["sync", "--accept", "--force"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let index_ts = project.read("src/index.ts");
    assert!(index_ts.contains("name: \"Server Bot\""), "{index_ts}");
    assert!(
        index_ts.contains("persona: \"Server persona.\""),
        "{index_ts}"
    );
    assert!(index_ts.contains("import { governance }"), "{index_ts}");
    assert_eq!(project.read("src/skills/order.ts"), ORDER_TS);
    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}

#[test]
fn an_item_whose_source_is_not_in_the_backup_is_not_recorded() {
    let platform = devserver(json!({
        "skills": [
            {"id": "skill_order-skill", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]},
            {"id": "skill_ghost", "name": "ghost", "versions": ["1.0.0", "2.0.0"]},
        ],
        "backup": {"files": [
            {"relativePath": "src/skills/order.ts", "content": ORDER_TS},
        ]},
    }));
    let project = Project::new(&index("Bot", "Be brief."));
    project.write(
        "lua.skill.yaml",
        &skill_yaml(&[("order-skill", "1.0.0"), ("ghost", "1.0.0")]),
    );
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let out = run.snapshot();
    assert!(out.contains("NOT in the backup"), "{out}");
    let created = regex::Regex::new(r"from \d{4}-\d\d-\d\dT[\d:.]+Z, \d+ day").unwrap();
    assert!(created.is_match(&out), "{out}");
    let out = created.replace_all(&out, "from [CREATED], [N] day");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(out);
    let yaml = project.read("lua.skill.yaml");
    assert!(
        yaml.contains("name: order-skill\n    version: 1.0.1"),
        "{yaml}"
    );
    assert!(yaml.contains("name: ghost\n    version: 1.0.0"), "{yaml}");
    let state = project.read("lua.sync.json");
    assert!(!state.contains("skills/ghost"), "{state}");
    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 1, "{}", again.snapshot());
    assert!(again.stdout().contains("ghost"), "{}", again.snapshot());
}

/// A project last pulled by lua-cli: its `.lua/backup-manifest.json` is the guard's base
/// (the file is what lua-cli restored, so it is replaced without --force), and it is
/// rewritten in lua-cli's format for lua-cli's next pull.
#[test]
fn a_project_last_pulled_by_lua_cli_is_restored_over_what_lua_cli_wrote() {
    let old =
        "export const orderSkill = new LuaSkill({ name: \"order-skill\", version: \"1.0.0\" });\n";
    let platform = devserver(json!({
        "skills": [{"id": "skill_order-skill", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": [{"relativePath": "src/skills/order.ts", "content": ORDER_TS}]},
    }));
    let project = Project::new(&index("Bot", "Be brief."));
    project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
    project.write("src/skills/order.ts", old);
    let sha = |t: &str| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(t.as_bytes()));
    project.write(
        ".lua/backup-manifest.json",
        &json!({
            "lastHash": "earlier",
            "lastPushedAt": "2026-01-01T00:00:00.000Z",
            "files": [{"relativePath": "src/skills/order.ts", "hash": &sha(old)[..16]}],
        })
        .to_string(),
    );
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(project.read("src/skills/order.ts"), ORDER_TS);
    let manifest: Value = serde_json::from_str(&project.read(".lua/backup-manifest.json")).unwrap();
    let served = platform.data(
        reqwest::Method::GET,
        &format!("/developer/agents/{AGENT}/backup/manifest"),
        None,
    );
    assert_eq!(manifest["lastHash"], served["projectHash"], "{manifest}");
    assert_eq!(manifest["lastPushedAt"], served["createdAt"], "{manifest}");
    assert_eq!(
        manifest["files"],
        json!([{"relativePath": "src/skills/order.ts", "hash": served["files"][0]["hash"]}])
    );

    // Without that record, the same local file is a local edit: refused.
    let project = Project::new(&index("Bot", "Be brief."));
    project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
    project.write("src/skills/order.ts", old);
    let refused = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(refused.code(), 2, "{}", refused.snapshot());
    assert_eq!(project.read("src/skills/order.ts"), old);
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let platform = devserver(json!({
        "name": "Server Bot",
        "personaVersions": [{"persona": "Server persona."}],
        "skills": [{"id": "skill_order-skill", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": [{"relativePath": "src/skills/order.ts", "content": ORDER_TS}]},
    }));
    let project = Project::new(&index("Bot", "Be brief."));
    project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
    let before = files(&project);
    let agent_before = platform.agent();

    let run = project.lua(&platform.url(), &["sync", "--accept", "--dry-run"]);
    assert_eq!(run.code(), 1, "exits as --check would\n{}", run.snapshot());
    assert_eq!(files(&project), before);
    assert!(!project.path("lua.sync.json").exists());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!("dry_run_accept", run.snapshot());

    let run = project.lua(&platform.url(), &["sync", "--push", "--dry-run"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert_eq!(platform.agent(), agent_before);
    assert_eq!(platform.versions().len(), 1);
    insta::assert_snapshot!("dry_run_push", run.snapshot());

    let json_run = project.lua(
        &platform.url(),
        &["sync", "--accept", "--dry-run", "--format", "json"],
    );
    assert_eq!(json_run.code(), 1, "{}", json_run.snapshot());
    let report: Value = serde_json::from_str(&json_run.stdout()).unwrap();
    assert_eq!(report["plan"]["dryRun"], true);
    let paths: Vec<&str> = report["plan"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(paths.contains(&"src/skills/order.ts"), "{paths:?}");
    assert!(paths.contains(&"src/index.ts"), "{paths:?}");
    assert!(paths.contains(&"lua.skill.yaml"), "{paths:?}");
    assert_eq!(files(&project), before);

    // The plan is in the JSON report of every mode.
    let check = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    let report: Value = serde_json::from_str(&check.stdout()).unwrap();
    assert_eq!(
        report["plan"],
        json!({"dryRun": false, "steps": [], "files": []})
    );
}

#[test]
fn hints_and_exits_around_resolving() {
    // No terminal, nothing to ask: exits as --check would (0 in sync).
    let platform = devserver(json!({}));
    let project = Project::new(&index("Bot", "Be brief."));
    let run = project.lua(&platform.url(), &["sync"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());

    // --check wins over --push: read-only, said on stderr.
    let platform = platform_with_persona("Server persona.");
    let run = project.lua(&platform.url(), &["sync", "--check", "--push"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    assert!(
        run.stderr().contains("--check wins over --push"),
        "{}",
        run.snapshot()
    );
    assert_eq!(platform.versions().len(), 1);

    // An item only on the server: --push says to pull it, never to deploy it.
    let platform = devserver(json!({
        "skills": [{"id": "skill_x", "name": "only-server", "versions": ["1.0.0"]}],
    }));
    project.write("lua.skill.yaml", &skill_yaml(&[]));
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    let out = run.snapshot();
    assert!(out.contains("lua sync --accept"), "{out}");
    assert!(!out.contains("push skill --name only-server"), "{out}");

    // An item only local: the summary does not offer --accept for it, and names the
    // lua-cli command that deploys it.
    let platform = devserver(json!({}));
    project.write("lua.skill.yaml", &skill_yaml(&[("only-local", "1.0.0")]));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let out = run.stdout();
    assert!(!out.contains("--accept"), "{out}");
    assert!(
        out.contains("npx lua-cli push skill --name only-local"),
        "{out}"
    );
}

fn platform_with_persona(persona: &str) -> Platform {
    devserver(json!({"personaVersions": [{"persona": persona}]}))
}

/// One `lua` resolves a project at a time: a second one waits briefly for the project's
/// lock, then refuses naming the holder; `--check` takes no lock.
#[test]
fn a_second_resolving_lua_waits_then_names_the_one_holding_the_project() {
    let platform = devserver(json!({"personaVersions": [{"persona": "Server persona."}]}));
    let project = Project::new(&index("Bot", "Be brief."));
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\n\n[server]\ntimeout_secs = 60\nretries = 0\n"),
    );
    // The first run holds the project while its requests are slow.
    platform.fault(json!({"latencyMs": 8000, "pathPrefix": "/admin/agents/"}));
    std::thread::scope(|scope| {
        let first = scope.spawn(|| project.lua(&platform.url(), &["sync", "--accept"]));
        let lock = project.path(".lua/lock");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while !std::fs::read_to_string(&lock).is_ok_and(|t| t.contains("sync --accept")) {
            assert!(
                std::time::Instant::now() < deadline,
                "the first lua never took the lock"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let second = project.lua(&platform.url(), &["sync", "--accept"]);
        assert_eq!(second.code(), 2, "{}", second.snapshot());
        let err = second.stderr();
        assert!(err.contains("the project is in use by pid "), "{err}");
        assert!(err.contains("sync --accept"), "{err}");
        let first = first.join().expect("first lua");
        assert_eq!(first.code(), 0, "{}", first.snapshot());
    });
    assert!(project.read("src/index.ts").contains("Server persona."));
}

/// `kill -9` at random points of an apply that restores hundreds of files and edits the
/// fields: after the next run's recovery, the project is as before or as after, never in
/// between, and no temp file of ours is left.
#[test]
fn a_killed_apply_is_all_or_nothing_after_recovery() {
    const FILES: usize = 300;
    let mut backup = vec![json!({"relativePath": "src/skills/order.ts", "content": ORDER_TS})];
    for i in 0..FILES {
        backup.push(json!({
            "relativePath": format!("src/gen/file{i:03}.ts"),
            "content": format!("export const n{i} = {i};\n"),
        }));
    }
    let platform = devserver(json!({
        "name": "Server Bot",
        "skills": [{"id": "skill_order-skill", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": backup},
    }));
    let fresh = || {
        let project = Project::new(&index("Bot", "Be brief."));
        project.write("lua.skill.yaml", &skill_yaml(&[("order-skill", "1.0.0")]));
        project
    };
    // What is compared: the project's own files (not lua's records, cache or state).
    let visible = |project: &Project| {
        let mut files = files(project);
        files.retain(|path, _| !path.starts_with(".lua/"));
        files
    };
    let before = visible(&fresh());
    let done = fresh();
    let started = std::time::Instant::now();
    let run = done.lua(&platform.url(), &["sync", "--accept"]);
    let full = started.elapsed();
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let after = visible(&done);
    assert_ne!(before, after);
    assert_eq!(after.len(), before.len() + FILES + 1);

    let (mut seen_before, mut seen_after) = (0, 0);
    for trial in 0..20 {
        let project = fresh();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lua"))
            .args(["sync", "--accept"])
            .current_dir(project.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", project.root())
            .env("LUA_API_URL", platform.url())
            .env("LUA_API_KEY", support::KEY)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn lua");
        // Mostly in the second half of a run (the commit is at its end), a few a little
        // past it.
        let micros = u64::try_from(full.as_micros()).unwrap_or(u64::MAX);
        std::thread::sleep(std::time::Duration::from_micros(fastrand::u64(
            micros / 2..micros + micros / 5 + 1,
        )));
        let _ = child.kill();
        let _ = child.wait();
        lua_compile::recover(project.root()).expect("recover");
        let now = visible(&project);
        if now == before {
            seen_before += 1;
        } else if now == after {
            seen_after += 1;
        } else {
            let differ: Vec<&String> = now
                .keys()
                .chain(after.keys())
                .filter(|k| now.get(*k) != after.get(*k) && now.get(*k) != before.get(*k))
                .collect();
            panic!("trial {trial}: the project is neither as before nor as after: {differ:?}");
        }
        let leftovers: Vec<String> = support::files_except_manifest(project.root())
            .into_keys()
            .filter(|p| p.contains("lua-tmp") || p.contains(".lua-write-") || p.contains("journal"))
            .collect();
        assert!(leftovers.is_empty(), "trial {trial}: {leftovers:?}");
    }
    assert_eq!(seen_before + seen_after, 20);
}
