//! A new agent field added from outside `lua-core`, `lua-components`, `lua-platform` and the
//! devserver: this file is the whole change. `description` is a string on the agent object
//! (`LuaAgent({ description })`); the component names its key, the shared plumbing reads and
//! pushes it, and the unchanged devserver stores and answers it. Synced end to end over TCP:
//! check, push, check, a change on the server, pull into the TypeScript, check.

use std::collections::HashMap;

use lua_components::agent_field::{self, FieldShape};
use lua_core::config::{Config, Environment, LoadOptions};
use lua_core::engine::{Action, Engine, Mode, Report, ResolveOptions, Status};
use lua_core::{
    Local, OneSided, PullCtx, PullError, PullItem, Pulled, Registration, Remotes, Server, Syncable,
    Version, async_trait,
};
use lua_platform::PlatformError;
use serde_json::{Value, json};

use crate::support::{AGENT, KEY, Platform, Project};

/// The new field's component: what a contributor writes, and all of it.
struct Description;

#[async_trait]
impl Syncable for Description {
    fn id(&self) -> &'static str {
        "description"
    }
    fn title(&self) -> &'static str {
        "Description"
    }
    fn one_sided(&self) -> OneSided {
        OneSided::Drift
    }
    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        agent_field::fetch(server, "description", FieldShape::String).await
    }
    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        match (item.local, item.remote) {
            (Local::Missing, Some(remote)) => {
                Ok(ctx.insert_property("description", &remote.value)?)
            }
            _ => lua_core::component::default_pull(self, ctx, item),
        }
    }
    async fn push(
        &self,
        server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        agent_field::push(server, "description", local).await
    }
}

lua_core::inventory::submit! {
    Registration { id: "description", order: 98, make: || Box::new(Description) }
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
        panic!("--push, --accept and --check never ask")
    }
}

/// One `lua sync` in process (the test binary's registry holds this component): the check's
/// report, then the resolutions of `mode`.
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

fn status<'r>(report: &'r Report, id: &str) -> &'r Status {
    &report.items.iter().find(|i| i.id == id).unwrap().status
}

#[test]
fn a_string_field_added_from_outside_syncs_against_the_unchanged_devserver() {
    let platform = Platform::start(Some("Bot"), &["Persona"]);
    let project = Project::new(
        "new LuaAgent({ name: \"Bot\", persona: \"Persona\", description: \"Answers billing questions\" });\n",
    );
    // Other components this test binary registers are other tests' business.
    project.write(
        "lua.toml",
        &format!(
            "[agent]\nid = \"{AGENT}\"\n\n[components.flags]\nenabled = false\n\n\
             [components.greeting]\nenabled = false\n"
        ),
    );

    // The server has no description: drift, and a push stores it.
    let (report, actions) = sync(&platform, &project, Mode::Push);
    assert!(
        matches!(status(&report, "description"), Status::Drift { .. }),
        "{:?}",
        status(&report, "description")
    );
    assert!(
        matches!(actions.as_slice(), [(id, Action::Pushed { .. })] if id == "description"),
        "{actions:?}"
    );
    assert_eq!(
        platform.agent()["description"],
        json!("Answers billing questions")
    );
    let (report, actions) = sync(&platform, &project, Mode::Check);
    assert!(
        matches!(status(&report, "description"), Status::InSync),
        "{:?}",
        status(&report, "description")
    );
    assert!(actions.is_empty(), "{actions:?}");

    // Changed on the platform: drift, and a pull rewrites the literal in the code.
    platform.patch_agent(json!({"description": "Answers billing and refund questions"}));
    let (report, actions) = sync(&platform, &project, Mode::Accept);
    assert_eq!(
        report
            .items
            .iter()
            .find(|i| i.id == "description")
            .and_then(|i| i.server_text.as_deref()),
        Some("Answers billing and refund questions")
    );
    assert!(
        matches!(actions.as_slice(), [(id, Action::Pulled { .. })] if id == "description"),
        "{actions:?}"
    );
    assert_eq!(
        project.read("src/index.ts"),
        "new LuaAgent({ name: \"Bot\", persona: \"Persona\", description: \"Answers billing and refund questions\" });\n"
    );
    let (report, _) = sync(&platform, &project, Mode::Check);
    assert!(
        matches!(status(&report, "description"), Status::InSync),
        "{:?}",
        status(&report, "description")
    );
}
