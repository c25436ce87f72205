//! A new kind of primitive added from outside: this file is the whole change. `workflows`
//! (`lua.skill.yaml`'s `workflows: [{name, version, workflowId}]`, listed at
//! `GET /developer/workflows/{agentId}`) is a row built here and handed to the generic
//! primitives component. The unchanged devserver's generic listing serves that path with no
//! item, which is as far as it goes: an item only in the yaml is drift ("missing on the
//! server"), push is not sync's (the deploy hint names the kind's noun), and a check after the
//! yaml matches the server is in sync. Over TCP, through the real listing.

use std::collections::HashMap;

use lua_components::primitives::component::Primitives;
use lua_components::primitives::kind::Kind;
use lua_components::primitives::skill_yaml::Section;
use lua_contract::PrimitiveKind;
use lua_core::config::{Config, Environment, LoadOptions};
use lua_core::engine::{Action, Engine, Mode, Presence, Report, ResolveOptions, Status};
use lua_core::{Registration, Syncable};

use crate::support::{AGENT, KEY, Platform, Project};

/// The listing, as the contract's table would have it.
static WORKFLOW: PrimitiveKind = PrimitiveKind {
    singular: "workflow",
    plural: "workflows",
};

/// The component's row.
static WORKFLOWS: Kind = Kind {
    id: "workflows",
    title: "Workflow",
    order: 160,
    section: Section {
        key: "workflows",
        id_field: "workflowId",
        versioned: true,
    },
    platform: Some(&WORKFLOW),
    push_noun: Some("workflow"),
    path_hint: "/developer/workflows",
};

fn make() -> Box<dyn Syncable> {
    Box::new(Primitives::new(&WORKFLOWS))
}

lua_core::inventory::submit! {
    Registration { id: "workflows", order: 160, make }
}

struct Env(HashMap<&'static str, String>);

impl Environment for Env {
    fn var(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

struct NeverAsked;

impl lua_core::engine::Decider for NeverAsked {
    fn decide(
        &mut self,
        _: &lua_core::engine::Prompt<'_>,
    ) -> Result<lua_core::engine::Decision, lua_core::engine::Aborted> {
        panic!("--push and --check never ask")
    }
}

fn sync(platform: &Platform, project: &Project, mode: Mode) -> (Report, Vec<(String, Action)>) {
    let env = Env(HashMap::from([
        ("LUA_API_URL", platform.url()),
        ("LUA_API_KEY", KEY.to_string()),
        ("LUA_AGENT_ID", AGENT.to_string()),
    ]));
    let options = LoadOptions {
        start_dir: project.root().to_path_buf(),
        config_path: None,
    };
    let config = Config::load_with(&options, &env, false).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = Engine::new(config).unwrap();
        let (compiled, _) = engine.compile().unwrap();
        let server = engine.server().unwrap();
        let report = engine.check(&compiled, &server).await;
        let options = ResolveOptions { mode, force: false };
        let outcome = engine
            .resolve(&report, &server, options, &mut NeverAsked)
            .await
            .unwrap();
        let actions = outcome
            .resolutions
            .into_iter()
            .map(|r| (r.id.to_string(), r.action))
            .collect();
        (report, actions)
    })
}

#[test]
fn a_kind_added_from_outside_reads_the_devservers_listing() {
    let platform = Platform::start(Some("Bot"), &["Persona"]);
    let project = Project::new("new LuaAgent({ name: \"Bot\", persona: \"Persona\" });\n");
    project.write(
        "lua.toml",
        &format!(
            "[agent]\nid = \"{AGENT}\"\n\n[components.flags]\nenabled = false\n\n\
             [components.greeting]\nenabled = false\n"
        ),
    );
    project.write(
        "lua.skill.yaml",
        &format!(
            "agent:\n  agentId: {AGENT}\nworkflows:\n  - name: nightly-report\n    version: 1.0.0\n    workflowId: wf_1\n"
        ),
    );
    platform.reset_requests();

    let (report, actions) = sync(&platform, &project, Mode::Push);
    let item = report
        .items
        .iter()
        .find(|i| i.id == "workflows")
        .expect("the kind is in the report");
    assert_eq!(item.key.as_deref(), Some("nightly-report"));
    assert!(
        matches!(
            item.status,
            Status::Drift {
                presence: Presence::LocalOnly,
                ..
            }
        ),
        "{:?}",
        item.status
    );
    // Sync deploys no primitive: the drift stays, and the message says how to deploy.
    let unresolved = actions
        .iter()
        .find(|(id, _)| id == "workflows")
        .map(|(_, action)| action);
    assert!(
        matches!(unresolved, Some(Action::Unresolved { message, .. })
            if message.contains("lua push workflow --name nightly-report")),
        "{actions:?}"
    );
    // The devserver answered the kind's listing itself.
    let requests = platform.requests().to_string();
    assert!(
        requests.contains("GET /developer/workflows/{agentId}"),
        "{requests}"
    );

    // The yaml without the item matches the server's (empty) listing: in sync.
    project.write(
        "lua.skill.yaml",
        &format!("agent:\n  agentId: {AGENT}\nworkflows: []\n"),
    );
    let (report, _) = sync(&platform, &project, Mode::Check);
    let workflows: Vec<_> = report
        .items
        .iter()
        .filter(|i| i.id == "workflows")
        .collect();
    assert!(
        workflows.iter().all(|i| matches!(i.status, Status::InSync)),
        "{workflows:?}"
    );
}
