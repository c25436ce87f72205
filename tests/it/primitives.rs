//! Deployed primitives (skills, webhooks, jobs, pre/postprocessors, MCP servers) end to end
//! against the devserver: statuses per kind, failed listings, pulls from the backup (files,
//! yaml, safety rules), MCP pulls into the yaml, three-way classification, policies.

use crate::support;

use crate::support::{AGENT, Platform, Project};
use serde_json::{Value, json};

/// Quotes the names of the skills it is the source of (`order-skill`, and `x` of every
/// kind), which is how lua-cli decides that a backup holds an item's source.
const ORDER_TS: &str =
    "export const order = { skill: \"order-skill\", tool: \"x\", run: () => \"v1.0.1\" };\n";

const INDEX: &str = "import { LuaAgent } from \"lua-cli\";\n\nexport default new LuaAgent({\n  name: \"Bot\",\n  persona: \"Be brief.\",\n});\n";

const KINDS: [(&str, &str); 5] = [
    ("skills", "skillId"),
    ("webhooks", "webhookId"),
    ("jobs", "jobId"),
    ("preprocessors", "preprocessorId"),
    ("postprocessors", "postprocessorId"),
];

/// A devserver whose agent has `extra` merged into its seed entry.
fn platform(extra: Value) -> Platform {
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

fn project(yaml: &str) -> Project {
    let p = Project::with_files(&[("src/index.ts", INDEX)]);
    p.write("lua.skill.yaml", yaml);
    p
}

/// The project's files, except what every run may write (compile cache, sync state).
fn files(project: &Project) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = support::files_except_manifest(project.root());
    files.remove("lua.sync.json");
    files
}

fn yaml_header() -> String {
    format!("# Lua project\nagent:\n  agentId: {AGENT}\n")
}

/// Every kind with the four statuses: `a` in sync, `b` version mismatch, `c` local only,
/// `d` server only; MCP servers `m1` both, `m2` local only, `m3` server only, plus
/// servers that do not count (from an integration, switched off).
fn all_statuses() -> (Value, String) {
    let mut seed = serde_json::Map::new();
    let mut yaml = yaml_header();
    for (kind, id_field) in KINDS {
        let short = &kind[..kind.len() - 1];
        seed.insert(
            kind.into(),
            json!([
                {"id": format!("{short}_a"), "name": "a", "versions": ["1.0.0"]},
                {"id": format!("{short}_b"), "name": "b", "versions": ["1.0.0", "1.0.1"]},
                {"id": format!("{short}_d"), "name": "d", "versions": ["0.9.0"]},
            ]),
        );
        yaml.push_str(&format!(
            "{kind}:\n  - name: a\n    version: 1.0.0\n    {id_field}: {short}_a\n  - name: b\n    version: 1.0.0\n    {id_field}: {short}_b\n  - name: c\n    version: 2.0.0\n    {id_field}: {short}_c\n"
        ));
    }
    seed.insert(
        "mcpServers".into(),
        json!([
            {"id": "mcp_1", "name": "m1"},
            {"id": "mcp_3", "name": "m3", "source": "manual"},
            {"id": "mcp_4", "name": "from-zapier", "source": "integration"},
            {"id": "mcp_5", "name": "off", "active": false},
        ]),
    );
    yaml.push_str(
        "mcpServers:\n  - name: m1\n    mcpServerId: mcp_1\n  - name: m2\n    mcpServerId: mcp_2\n",
    );
    (Value::Object(seed), yaml)
}

#[test]
fn each_status_for_each_kind() {
    let (seed, yaml) = all_statuses();
    let platform = platform(seed);
    let project = project(&yaml);
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn json_has_one_entry_per_item() {
    let (seed, yaml) = all_statuses();
    let platform = platform(seed);
    let project = project(&yaml);
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let report: Value = serde_json::from_str(&run.stdout()).expect("json");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(item_table(&report));
}

/// One line per item of a keyed set: id, key, status, presence, versions, entity id,
/// classification, local line.
fn item_table(report: &Value) -> String {
    let s = |v: &Value| match v {
        Value::Null => "-".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    report["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["shape"] == "keyed")
        .map(|c| {
            format!(
                "{} {} {} presence={} local={} server={} entity={} class={} line={}",
                s(&c["id"]),
                s(&c["key"]),
                s(&c["status"]),
                s(&c["presence"]),
                s(&c["localVersion"]),
                s(&c["serverVersion"]),
                s(&c["entityId"]),
                s(&c["classification"]),
                s(&c["local"]["line"]),
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn github_annotates_the_yaml_lines() {
    let (seed, yaml) = all_statuses();
    let platform = platform(seed);
    let project = project(&yaml);
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "github"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

fn skill_yaml(version: &str) -> String {
    format!(
        "{}\n# Skills deployed with `lua push skill`\nskills:\n  - name: order-skill   # orders\n    version: {version}\n    skillId: skill_orders\n",
        yaml_header()
    )
}

/// `order-skill` at 1.0.1 on the server, with a backup holding its source.
fn with_backup(files: Value) -> Platform {
    platform(json!({
        "skills": [{"id": "skill_orders", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": files},
    }))
}

fn order_backup() -> Value {
    json!([
        {"relativePath": "src/skills/order.ts", "content": ORDER_TS, "gzip": true},
        {"relativePath": "vendor/lib.js", "content": "lib\n", "external": true},
        {"relativePath": "lua.skill.yaml", "content": "skills: []\n"},
    ])
}

#[test]
fn pull_restores_the_backup_and_records_the_version() {
    let platform = with_backup(order_backup());
    let project = project(&skill_yaml("1.0.0"));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    assert_eq!(project.read("src/skills/order.ts"), ORDER_TS);
    // An external file is lua-cli's area under .lua/, a dot-folder: never restored.
    assert!(!project.path(".lua/external").exists());
    // The yaml records the server's version, comments and layout kept; the backup's own
    // lua.skill.yaml is not restored over it.
    assert_eq!(project.read("lua.skill.yaml"), skill_yaml("1.0.1"));
    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}

#[test]
fn pull_of_a_skill_only_on_the_server_adds_it_to_the_yaml() {
    let platform = with_backup(order_backup());
    let project = project(&format!("{}skills: []\n", yaml_header()));
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        project.read("lua.skill.yaml"),
        format!(
            "{}skills: [{{name: \"order-skill\", version: \"1.0.1\", skillId: \"skill_orders\"}}]\n",
            yaml_header()
        )
    );
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}

#[test]
fn a_corrupt_blob_is_refused_and_nothing_is_written() {
    let platform = with_backup(json!([
        {"relativePath": "src/skills/order.ts", "content": ORDER_TS},
        {"relativePath": "src/skills/other.ts", "content": "tampered\n",
         "hash": "0000000000000000000000000000000000000000000000000000000000000000"},
    ]));
    let project = project(&skill_yaml("1.0.0"));
    let before = files(&project);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.snapshot().contains("does not match its hash"),
        "{}",
        run.snapshot()
    );
    assert_eq!(files(&project), before);
}

#[test]
fn a_backup_path_outside_the_project_is_refused() {
    let platform = with_backup(json!([
        {"relativePath": "src/skills/order.ts", "content": ORDER_TS},
        {"relativePath": "../escaped.ts", "content": "evil\n"},
    ]));
    let project = project(&skill_yaml("1.0.0"));
    let before = files(&project);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.snapshot().contains(
            "backup path \"../escaped.ts\" is outside the project root; nothing was written"
        ),
        "{}",
        run.snapshot()
    );
    assert_eq!(files(&project), before);
    assert!(
        !project
            .root()
            .parent()
            .expect("parent")
            .join("escaped.ts")
            .exists()
    );
}

#[test]
fn a_local_edit_is_not_overwritten_without_force() {
    let platform = with_backup(order_backup());
    let project = project(&skill_yaml("1.0.0"));
    project.write(
        "src/skills/order.ts",
        "export const order = () => \"my edit\";\n",
    );
    let before = files(&project);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    assert_eq!(files(&project), before);

    let forced = project.lua(&platform.url(), &["sync", "--accept", "--force"]);
    assert_eq!(forced.code(), 0, "{}", forced.snapshot());
    assert_eq!(project.read("src/skills/order.ts"), ORDER_TS);
    assert_eq!(project.read("lua.skill.yaml"), skill_yaml("1.0.1"));
}

#[test]
fn no_backup_says_how_to_resolve_and_exits_1() {
    let platform = platform(json!({
        "skills": [{"id": "skill_orders", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
    }));
    let project = project(&skill_yaml("1.0.0"));
    let before = files(&project);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
    assert_eq!(files(&project), before);
}

#[test]
fn push_is_not_supported_and_names_the_deploy_command() {
    let (seed, yaml) = all_statuses();
    let platform = platform(seed);
    let project = project(&yaml);
    let before = files(&project);
    let run = project.lua(&platform.url(), &["sync", "--push"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let out = run.snapshot();
    assert!(out.contains("npx lua-cli push skill --name b"), "{out}");
    assert!(
        out.contains("npx lua-cli push postprocessor --name c"),
        "{out}"
    );
    // An item only on the server is pulled, never deployed from here.
    assert!(!out.contains("push skill --name d"), "{out}");
    assert!(!out.to_lowercase().contains("complete"), "{out}");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(out);
    assert_eq!(files(&project), before);
}

#[test]
fn mcp_pull_adds_the_server_to_the_yaml_keeping_comments() {
    let platform = platform(json!({
        "mcpServers": [{"id": "mcp_docs", "name": "docs", "source": "manual"}, {"id": "mcp_s", "name": "search"}],
    }));
    let yaml = format!(
        "{}\n# MCP servers this agent uses\nmcpServers:\n  # the search index\n  - name: search   # keep me\n    mcpServerId: mcp_s\n\n# end of file\n",
        yaml_header()
    );
    let project = project(&yaml);
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(
        project.read("lua.skill.yaml"),
        yaml.replace(
            "    mcpServerId: mcp_s\n",
            "    mcpServerId: mcp_s\n  - name: docs\n    mcpServerId: mcp_docs\n"
        )
    );
    assert_eq!(project.lua(&platform.url(), &["sync", "--check"]).code(), 0);
}

fn publish_version(platform: &Platform, kind: &str, name: &str, version: &str) {
    platform.data(
        reqwest::Method::POST,
        &format!("/_devserver/agents/{AGENT}/primitives/{kind}/{name}/versions"),
        Some(json!({"version": version})),
    );
}

#[test]
fn three_way_classification_per_item() {
    let platform = platform(json!({
        "skills": [
            {"id": "skill_a", "name": "a", "versions": ["1.0.0"]},
            {"id": "skill_b", "name": "b", "versions": ["2.0.0"]},
        ],
    }));
    let yaml = format!(
        "{}skills:\n  - name: a\n    version: 1.0.0\n    skillId: skill_a\n  - name: b\n    version: 2.0.0\n    skillId: skill_b\n",
        yaml_header()
    );
    let project = project(&yaml);
    // An in-sync run records the base of every item.
    let first = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(first.code(), 0, "{}", first.snapshot());
    // A teammate deploys a new version of `a`; you bump `b` in the yaml.
    publish_version(&platform, "skills", "a", "1.1.0");
    project.write(
        "lua.skill.yaml",
        &yaml.replace("version: 2.0.0", "version: 2.1.0"),
    );
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let report: Value = serde_json::from_str(&run.stdout()).expect("json");
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(item_table(&report), @r"
    skills a drift presence=both local=1.0.0 server=1.1.0 entity=skill_a class=server_changed line=5
    skills b drift presence=both local=2.1.0 server=2.0.0 entity=skill_b class=local_changed line=8
    ");
}

#[test]
fn policies_per_kind() {
    let platform = platform(json!({
        "skills": [{"id": "skill_a", "name": "a", "versions": ["1.0.1"]}],
        "jobs": [{"id": "job_a", "name": "nightly", "versions": ["3.0.0"]}],
    }));
    let yaml = format!(
        "{}skills:\n  - name: a\n    version: 1.0.0\n    skillId: skill_a\njobs:\n  - name: nightly\n    version: 3.0.0\n    jobId: job_a\n",
        yaml_header()
    );
    let project = project(&yaml);
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\n\n[components.skills]\ncheck = \"warn\"\n"),
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(
        run.snapshot().contains("local 1.0.0 -> server 1.0.1"),
        "{}",
        run.snapshot()
    );
    // The same drift in a kind whose policy fails the check.
    publish_version(&platform, "jobs", "nightly", "3.1.0");
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    project.write("lua.toml", &format!("[agent]\nid = \"{AGENT}\"\n\n[components.skills]\ncheck = \"off\"\n\n[components.jobs]\ncheck = \"off\"\n"));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
}

#[test]
fn a_failed_listing_fails_its_component_only() {
    let (seed, yaml) = all_statuses();
    let platform = platform(seed);
    let project = project(&yaml);
    let _filters = project.snapshot_filters();
    for (status, prefix, kind) in [
        (500, "/developer/jobs/", "jobs"),
        (401, "/developer/webhooks/", "webhooks"),
    ] {
        platform.clear_faults();
        platform.fault(json!({"pathPrefix": prefix, "status": status}));
        let run = project.lua(&platform.url(), &["sync", "--check"]);
        assert_eq!(
            run.code(),
            if status == 500 { 11 } else { 9 },
            "{}",
            run.snapshot()
        );
        assert!(
            run.stderr()
                .contains(&format!("(HTTP {status}) at http://127.0.0.1:")),
            "{}",
            run.snapshot()
        );
        assert!(run.stderr().contains(prefix), "{}", run.snapshot());

        // Human output still lists what the other kinds found (the failed kind is not
        // among them), and says nothing was resolved.
        insta::assert_snapshot!(format!("failed_listing_human_{status}"), run.snapshot());

        // The failed kind is one error, never "missing on server"; the others are reported.
        let run = project.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
        assert_eq!(
            run.code(),
            if status == 500 { 11 } else { 9 },
            "{}",
            run.snapshot()
        );
        let report: Value = serde_json::from_str(&run.stdout()).expect("json");
        let items = report["components"].as_array().expect("components");
        let of = |id: &str| items.iter().filter(|c| c["id"] == id).collect::<Vec<_>>();
        let failed = of(kind);
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0]["status"], "error");
        assert_eq!(failed[0]["key"], Value::Null);
        let skills: Vec<_> = of("skills")
            .iter()
            .map(|c| (c["key"].clone(), c["status"].clone()))
            .collect();
        assert_eq!(
            skills,
            [
                (json!("a"), json!("in_sync")),
                (json!("b"), json!("drift")),
                (json!("c"), json!("drift")),
                (json!("d"), json!("drift"))
            ]
        );
        assert_eq!(of("mcp_servers").len(), 3);
    }
}

#[test]
fn a_broken_yaml_names_file_line_and_field() {
    let platform = platform(json!({}));
    let project = project(&format!(
        "{}skills:\n  - name: a\n    version: [1]\n",
        yaml_header()
    ));
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.snapshot().contains("lua.skill.yaml:6:1"),
        "{}",
        run.snapshot()
    );
    assert!(
        run.snapshot()
            .contains("`skills[0].version` must be a string, found a list"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn a_check_is_one_round_trip() {
    let (seed, yaml) = all_statuses();
    let platform = platform(seed);
    let project = project(&yaml);
    platform.reset_requests();
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let requests = platform.requests();
    // One request per listing, none repeated, no backup traffic for a check.
    for route in [
        "GET /developer/skills/{agentId}",
        "GET /developer/webhooks/{agentId}",
        "GET /developer/jobs/{agentId}",
        "GET /developer/preprocessors/{agentId}",
        "GET /developer/postprocessors/{agentId}",
        "GET /developer/agents/{agentId}/mcp-servers",
    ] {
        assert_eq!(requests["byRoute"][route], json!(1), "{route}: {requests}");
    }
    assert_eq!(
        requests["byRoute"]["GET /developer/agents/{agentId}/backup"],
        Value::Null,
        "{requests}"
    );
}

/// Every status of every kind plus the active-version corner cases, for the reference CLI and
/// for us: `a` in sync, `b` version mismatch, `c` local only, `d` server only, `e` active by flag
/// (not the last version), `f` active by `activeVersionId` only (not the last version), `g` no
/// versions on the server (nothing to compare), `h` no marker (the last version is active); MCP
/// servers as in [`all_statuses`]. The yaml has the `orgId` the reference requires.
fn reference_statuses() -> (Value, String) {
    let mut seed = serde_json::Map::new();
    let mut yaml = format!("{}  orgId: org_test\n", yaml_header());
    for (kind, id_field) in KINDS {
        let short = &kind[..kind.len() - 1];
        seed.insert(
            kind.into(),
            json!([
                {"id": format!("{short}_a"), "name": "a", "versions": ["1.0.0"]},
                {"id": format!("{short}_b"), "name": "b", "versions": ["1.0.0", "1.0.1"]},
                {"id": format!("{short}_d"), "name": "d", "versions": ["0.9.0"]},
                {"id": format!("{short}_e"), "name": "e", "versions": ["1.0.0", "1.1.0"],
                 "active": "1.0.0", "activeBy": "flag"},
                {"id": format!("{short}_f"), "name": "f", "versions": ["1.0.0", "1.0.1"],
                 "active": "1.0.0", "activeBy": "versionId"},
                {"id": format!("{short}_g"), "name": "g", "versions": []},
                {"id": format!("{short}_h"), "name": "h", "versions": ["1.0.0", "2.0.0"],
                 "activeBy": "last"},
            ]),
        );
        yaml.push_str(&format!("{kind}:\n"));
        for (name, version) in [
            ("a", "1.0.0"),
            ("b", "1.0.0"),
            ("c", "2.0.0"),
            ("e", "1.0.0"),
            ("f", "1.0.0"),
            ("g", "3.0.0"),
            ("h", "1.0.0"),
        ] {
            yaml.push_str(&format!(
                "  - name: {name}\n    version: {version}\n    {id_field}: {short}_{name}\n"
            ));
        }
    }
    let (mcp_seed, _) = all_statuses();
    seed.insert("mcpServers".into(), mcp_seed["mcpServers"].clone());
    yaml.push_str(
        "mcpServers:\n  - name: m1\n    mcpServerId: mcp_1\n  - name: m2\n    mcpServerId: mcp_2\n",
    );
    (Value::Object(seed), yaml)
}

/// Our `--format json` items: the drifted ones as the reference prints them, and the rest.
fn our_items(report: &Value) -> (Vec<support::reference::Drift>, Vec<(String, String)>) {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let (mut drift, mut in_sync) = (Vec::new(), Vec::new());
    for c in report["components"].as_array().expect("components") {
        if c["shape"] != "keyed" {
            continue;
        }
        let (kind, key) = (text(&c["id"]).unwrap(), text(&c["key"]).unwrap());
        match c["status"].as_str() {
            Some("in_sync") => in_sync.push((kind, key)),
            // Not compared (a server item without a version): neither drift nor in sync.
            Some("not_compared") => {}
            _ => drift.push((
                kind,
                key,
                text(&c["presence"]).unwrap(),
                text(&c["localVersion"]),
                text(&c["serverVersion"]),
            )),
        }
    }
    (drift, in_sync)
}

/// Issue 12: the reference CLI (lua-cli 3.37, run with node) against the devserver reports the
/// same primitive drift as our `lua sync --check --format json` for the same project and seed,
/// every request it makes reaches the devserver and is answered 2xx, and it writes nothing.
/// One known disagreement, kept explicit: the reference reads a skill's active version from
/// the `active` flags or the last entry, never `activeVersionId` (its other kinds do), so skill
/// `f` is drift for it and in sync for us (devserver/README.md, "The reference CLI").
#[test]
fn the_reference_cli_reports_the_same_primitive_drift() {
    let Some(cli) = support::reference::find() else {
        return;
    };
    let (seed, yaml) = reference_statuses();
    let platform = platform(seed);
    let ours = project(&yaml);
    ours.write(
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true}}\n",
    );
    let theirs = project(&yaml);
    theirs.write(
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true}}\n",
    );

    // Exit 2: the `g` items (no version on the server) are not compared, and under
    // `check = "fail"` a check that could not compare fails closed. The reference counts
    // them as in sync.
    let run = ours.lua(&platform.url(), &["sync", "--check", "--format", "json"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let report: Value = serde_json::from_str(&run.stdout()).expect("json");
    let mut not_compared: Vec<String> = report["components"]
        .as_array()
        .expect("components")
        .iter()
        .filter(|c| c["status"] == "not_compared")
        .map(|c| {
            format!(
                "{} {}",
                c["id"].as_str().unwrap(),
                c["key"].as_str().unwrap()
            )
        })
        .collect();
    not_compared.sort();
    let mut g_items: Vec<String> = KINDS.iter().map(|(kind, _)| format!("{kind} g")).collect();
    g_items.sort();
    assert_eq!(not_compared, g_items);
    let (mut our_drift, mut our_in_sync) = our_items(&report);

    platform.reset_requests();
    let reference = support::reference::run(
        &cli,
        theirs.root(),
        &platform.url(),
        support::KEY,
        &["sync", "--check"],
    );
    let dump = reference.dump();
    assert_eq!(reference.code, 1, "{dump}");
    let mut their_drift = support::reference::primitive_drift(&reference.plain_stdout());

    // The reference's traffic: all of it to the devserver, all of it reads, all of it answered.
    let fetches: Vec<_> = reference
        .events
        .iter()
        .filter(|e| e.kind() == "fetch")
        .collect();
    assert!(!fetches.is_empty(), "{dump}");
    for e in &reference.events {
        match e.kind() {
            "refused" => panic!(
                "the reference tried to leave the devserver: {}\n{dump}",
                e.0
            ),
            "fetch" => {
                assert!(
                    e.0["url"].as_str().unwrap().starts_with(&platform.url()),
                    "{dump}"
                );
                assert_eq!(
                    e.0["method"], "GET",
                    "a check must not write: {}\n{dump}",
                    e.0
                );
            }
            "status" => {
                let status = e.0["status"].as_u64().unwrap();
                assert!((200..300).contains(&status), "{}\n{dump}", e.0);
            }
            _ => {}
        }
    }
    assert_eq!(
        platform.requests()["total"].as_u64(),
        Some(fetches.len() as u64),
        "every request the reference sent reached the devserver\n{dump}"
    );
    for listing in [
        "/developer/skills/",
        "/developer/webhooks/",
        "/developer/jobs/",
        "/developer/preprocessors/",
        "/developer/postprocessors/",
        "/mcp-servers",
        "/backup",
    ] {
        assert!(
            reference.requests().iter().any(|r| r.contains(listing)),
            "the reference never asked for {listing}\n{dump}"
        );
    }
    assert!(
        theirs.read("lua.skill.yaml") == yaml,
        "the check rewrote the yaml\n{dump}"
    );

    // The drift: the same items, statuses and versions, but for skill `f`.
    let f = (
        "skills".to_string(),
        "f".to_string(),
        "both".to_string(),
        Some("1.0.0".to_string()),
        Some("1.0.1".to_string()),
    );
    let position = their_drift.iter().position(|d| *d == f);
    assert!(
        position.is_some(),
        "the known skills difference is gone\n{dump}"
    );
    their_drift.retain(|d| *d != f);
    our_drift.sort();
    their_drift.sort();
    assert_eq!(their_drift, our_drift, "{dump}");
    let statuses: Vec<String> = our_drift
        .iter()
        .map(|(kind, key, status, ..)| format!("{kind} {key} {status}"))
        .collect();
    let mut expected = Vec::new();
    for (kind, _) in KINDS {
        expected.extend([
            format!("{kind} b both"),
            format!("{kind} c local_only"),
            format!("{kind} d server_only"),
            format!("{kind} h both"),
        ]);
    }
    expected.extend([
        "mcp_servers m2 local_only".into(),
        "mcp_servers m3 server_only".into(),
    ]);
    expected.sort();
    assert_eq!(statuses, expected);
    assert!(
        reference.plain_stdout().contains(&format!(
            "Total: {} component(s) with drift",
            our_drift.len() + 1
        )),
        "{dump}"
    );
    our_in_sync.sort();
    let mut in_sync_expected: Vec<(String, String)> = KINDS
        .iter()
        .flat_map(|(kind, _)| ["a", "e", "f"].map(|k| (kind.to_string(), k.to_string())))
        .collect();
    in_sync_expected.push(("mcp_servers".into(), "m1".into()));
    in_sync_expected.sort();
    assert_eq!(our_in_sync, in_sync_expected);
}

/// The reference CLI's pull against the devserver's backup (blob URLs it fetches without
/// Authorization, gzip, 16-character hashes as lua-cli 3.37 pushes them): the files are
/// restored exactly, the yaml records the server's version, the next check is clean; after a
/// teammate deploys again and a local edit, its guard (which needs the backup's `projectHash`)
/// refuses the pull naming just the edited file, and changes nothing.
#[test]
fn the_reference_cli_pulls_the_devserver_backup_and_guards_a_local_edit() {
    let Some(cli) = support::reference::find() else {
        return;
    };
    let order = "export const orderSkill = { name: \"order-skill\", version: \"1.0.1\" };\n";
    let format = "export const format = (s: string) => s.trim();\n";
    let platform = platform(json!({
        "skills": [{"id": "skill_orders", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"shortHashes": true, "files": [
            {"relativePath": "src/skills/order.ts", "content": order, "gzip": true},
            {"relativePath": "src/helpers/format.ts", "content": format},
        ]},
    }));
    let project = project(&format!(
        "{}  orgId: org_test\nskills:\n  - name: order-skill\n    version: 1.0.0\n    skillId: skill_orders\n",
        yaml_header()
    ));
    project.write(
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true}}\n",
    );
    let reference = |args: &[&str]| {
        let run =
            support::reference::run(&cli, project.root(), &platform.url(), support::KEY, args);
        let dump = run.dump();
        for e in &run.events {
            assert_ne!(e.kind(), "refused", "{dump}");
            if e.kind() == "status" {
                let status = e.0["status"].as_u64().unwrap();
                assert!((200..300).contains(&status), "{}\n{dump}", e.0);
            }
        }
        run
    };

    let pull = reference(&["sync", "--accept"]);
    let dump = pull.dump();
    assert_eq!(pull.code, 0, "{dump}");
    assert_eq!(project.read("src/skills/order.ts"), order, "{dump}");
    assert_eq!(project.read("src/helpers/format.ts"), format, "{dump}");
    assert!(
        project.read("lua.skill.yaml").contains("version: 1.0.1"),
        "{dump}"
    );
    let fetches: Vec<&Value> = pull
        .events
        .iter()
        .filter(|e| e.kind() == "fetch")
        .map(|e| &e.0)
        .collect();
    let blob_urls = fetches
        .iter()
        .find(|f| f["url"].as_str().unwrap().ends_with("/backup/blob-urls"))
        .unwrap_or_else(|| panic!("no blob-urls request\n{dump}"));
    assert_eq!(blob_urls["method"], "POST", "{dump}");
    assert!(
        blob_urls["headers"]["X-Idempotency-Key"].is_string(),
        "{dump}"
    );
    let blobs: Vec<&&Value> = fetches
        .iter()
        .filter(|f| f["url"].as_str().unwrap().contains("/_blobs/"))
        .collect();
    assert_eq!(blobs.len(), 2, "{dump}");
    for blob in blobs {
        assert!(
            blob["headers"].as_object().is_none_or(|h| h.is_empty()),
            "{dump}"
        );
    }
    let check = reference(&["sync", "--check"]);
    assert_eq!(check.code, 0, "the pull left drift\n{}", check.dump());

    platform.data(
        reqwest::Method::POST,
        &format!("/_devserver/agents/{AGENT}/primitives/skills/order-skill/versions"),
        Some(json!({"version": "1.0.2"})),
    );
    let mine = format!("{order}// my local edit\n");
    project.write("src/skills/order.ts", &mine);
    let before = files(&project);
    let refused = reference(&["sync", "--accept"]);
    let dump = refused.dump();
    assert_ne!(refused.code, 0, "{dump}");
    let output = support::reference::strip_ansi(&format!("{}{}", refused.stdout, refused.stderr));
    assert!(
        output.contains("Refusing to pull — 1 local file(s)"),
        "{dump}"
    );
    assert!(output.contains("   - src/skills/order.ts"), "{dump}");
    assert!(!output.contains("src/helpers/format.ts"), "{dump}");
    let after = files(&project);
    assert_eq!(
        after.get("src/skills/order.ts"),
        before.get("src/skills/order.ts")
    );
    assert_eq!(
        after.get("lua.skill.yaml"),
        before.get("lua.skill.yaml"),
        "{dump}"
    );
}

/// A teammate's `lua push backup` with the reference CLI (lua-cli 3.37's upload protocol:
/// check-blobs, signed PUTs of gzip bodies, the manifest) creates the backup our `lua sync
/// --accept` restores: the files arrive exactly and the next check is clean.
#[test]
fn a_backup_pushed_by_the_reference_cli_is_pulled_by_lua() {
    let Some(cli) = support::reference::find() else {
        return;
    };
    let platform = platform(json!({
        "skills": [{"id": "skill_orders", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
    }));
    let yaml = |version: &str| {
        format!(
            "{}  orgId: org_test\nskills:\n  - name: order-skill\n    version: {version}\n    skillId: skill_orders\n",
            yaml_header()
        )
    };
    let teammate = project(&yaml("1.0.1"));
    teammate.write(
        "tsconfig.json",
        "{\"compilerOptions\": {\"strict\": true}}\n",
    );
    teammate.write("src/skills/order.ts", ORDER_TS);
    for args in [&["compile"][..], &["push", "backup", "--force"]] {
        let run =
            support::reference::run(&cli, teammate.root(), &platform.url(), support::KEY, args);
        let dump = run.dump();
        assert_eq!(run.code, 0, "{args:?}\n{dump}");
        for e in &run.events {
            assert_ne!(e.kind(), "refused", "{dump}");
            // Writes must all succeed (its optional read of agent versions may 404).
            if e.kind() == "status" && e.0["method"] != "GET" {
                let status = e.0["status"].as_u64().unwrap();
                assert!((200..300).contains(&status), "{}\n{dump}", e.0);
            }
        }
    }
    let backup = platform.data(
        reqwest::Method::GET,
        &format!("/developer/agents/{AGENT}/backup/manifest"),
        None,
    );
    assert!(
        backup["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["relativePath"] == "src/skills/order.ts"),
        "{backup}"
    );

    let ours = project(&yaml("1.0.0"));
    let pull = ours.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(pull.code(), 0, "{}", pull.snapshot());
    assert_eq!(ours.read("src/skills/order.ts"), ORDER_TS);
    let check = ours.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
}

#[test]
fn github_points_server_only_items_at_their_section_or_line_1() {
    let platform = platform(json!({
        "skills": [
            {"id": "skill_a", "name": "a", "versions": ["1.0.1"]},
            {"id": "skill_new", "name": "new", "versions": ["0.1.0"]},
        ],
        "jobs": [{"id": "job_n", "name": "nightly", "versions": ["3.0.0"]}],
    }));
    // No `jobs:` section: the job only on the server points at line 1.
    let project = project(&format!(
        "{}\n# skills\nskills:\n  - name: a\n    version: 1.0.0\n    skillId: skill_a\n",
        yaml_header()
    ));
    let _filters = project.snapshot_filters();
    let run = project.lua(&platform.url(), &["sync", "--check", "--format", "github"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    insta::assert_snapshot!(run.stdout(), @r"
    ::error file=lua.skill.yaml,line=7,col=1::skills a drifted: local 1.0.0 -> server 1.0.1
    ::error file=lua.skill.yaml,line=6,col=1::skills new drifted: missing locally, server 0.1.0
    ::error file=lua.skill.yaml,line=1,col=1::jobs nightly drifted: missing locally, server 3.0.0
    ");
}

#[test]
fn hints_offer_only_what_is_possible() {
    // Primitives only: pull, and the command that deploys each item; no --push.
    let platform = platform(json!({
        "skills": [{"id": "skill_a", "name": "a", "versions": ["1.0.1"]}],
    }));
    let project = project(&format!(
        "{}skills:\n  - name: a\n    version: 1.0.0\n    skillId: skill_a\n",
        yaml_header()
    ));
    let _filters = project.snapshot_filters();
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    insta::assert_snapshot!("hints_primitives_only", run.snapshot());
    assert!(!run.stdout().contains("--push"), "{}", run.snapshot());

    // With a persona drift too: --push is offered, and said to skip the skill.
    project.write(
        "src/index.ts",
        &INDEX.replace("Be brief.", "Be very brief."),
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    insta::assert_snapshot!("hints_with_a_pushable_component", run.snapshot());

    // A policy that forbids pulling the skill: only the deploy command is left for it.
    project.write("src/index.ts", INDEX);
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\n\n[components.skills]\nallow = \"push\"\n"),
    );
    let run = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(run.code(), 1, "{}", run.snapshot());
    let out = run.stdout();
    assert!(!out.contains("choose per"), "{out}");
    assert!(!out.contains("--accept"), "{out}");
    assert!(!out.contains("--push"), "{out}");
    assert!(out.contains("`npx lua-cli push skill --name a`"), "{out}");
}

#[test]
fn pull_of_every_versioned_kind_restores_the_backup_once() {
    let mut seed = serde_json::Map::new();
    let mut yaml = yaml_header();
    for (kind, id_field) in KINDS {
        let short = &kind[..kind.len() - 1];
        seed.insert(
            kind.into(),
            json!([{"id": format!("{short}_x"), "name": "x", "versions": ["1.0.0", "1.1.0"]}]),
        );
        yaml.push_str(&format!(
            "{kind}:\n  - name: x\n    version: 1.0.0\n    {id_field}: {short}_x\n"
        ));
    }
    seed.insert("backup".into(), json!({"files": order_backup()}));
    let platform = platform(Value::Object(seed));
    let project = project(&yaml);
    let _filters = project.snapshot_filters();
    platform.reset_requests();
    let run = project.lua(&platform.url(), &["sync", "--accept"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    insta::assert_snapshot!(run.snapshot());
    assert_eq!(project.read("src/skills/order.ts"), ORDER_TS);
    assert_eq!(
        project.read("lua.skill.yaml"),
        yaml.replace("1.0.0", "1.1.0")
    );
    // One backup download for the five items.
    let requests = platform.requests();
    assert_eq!(
        requests["byRoute"]["GET /developer/agents/{agentId}/backup/manifest"],
        json!(1),
        "{requests}"
    );
    let again = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
}
