//! Proof of the plugin design: a component registered from outside `lua-core` and
//! `lua-components` (here, in this test crate) is picked up by the unchanged engine:
//! fetched, compared, reported, pushed and recorded in the sync state.

use std::collections::HashMap;
use std::sync::Mutex;

use lua_core::config::{Config, Environment, LoadOptions};
use lua_core::engine::{Engine, Mode, RunOptions, Status};
use lua_core::{Registration, Remote, Remotes, SINGLE, Server, Syncable, Version, async_trait};
use lua_platform::PlatformError;
// The built-in components, linked so the registry holds them too.
use crate::support::{AGENT, KEY, Platform, Project};
use lua_components as _;
use serde_json::{Value, json};

static PUSHED: Mutex<Vec<Value>> = Mutex::new(Vec::new());

/// A made-up field: `LuaAgent({ greeting })`, whose server side is fixed.
struct Greeting;

#[async_trait]
impl Syncable for Greeting {
    fn id(&self) -> &'static str {
        "greeting"
    }
    fn title(&self) -> &'static str {
        "Greeting"
    }
    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        // Real traffic through the shared client, to show components reach the platform.
        server.agent().await?;
        Ok(Remotes::from([(
            SINGLE.to_string(),
            Remote {
                value: json!("Hello from the server"),
                version: Some(Version::Number(7)),
                entity_id: None,
                not_compared: None,
            },
        )]))
    }
    async fn push(
        &self,
        _server: &Server,
        _key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        if let (Ok(mut pushed), Some(local)) = (PUSHED.lock(), local) {
            pushed.push(local.clone());
        }
        Ok(Some(Version::Number(8)))
    }
}

lua_core::inventory::submit! {
    Registration { id: "greeting", order: 99, make: || Box::new(Greeting) }
}

struct Env(HashMap<&'static str, String>);

impl Environment for Env {
    fn var(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

#[test]
fn a_component_registered_outside_the_engine_is_synced() {
    let platform = Platform::start(Some("Bot"), &["Persona"]);
    let project = Project::new(
        "new LuaAgent({ name: \"Bot\", persona: \"Persona\", greeting: \"Hello from the code\" });\n",
    );
    // This test binary also links `extension_keyed`'s component; it is not this test's.
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\n\n[components.flags]\nenabled = false\n"),
    );
    let env = Env(HashMap::from([
        ("LUA_API_URL", platform.url()),
        ("LUA_API_KEY", KEY.to_string()),
        ("LUA_AGENT_ID", AGENT.to_string()),
    ]));
    let config = Config::load_with(
        &LoadOptions {
            start_dir: project.root().to_path_buf(),
            config_path: None,
        },
        &env,
        false,
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = Engine::new(config).unwrap();
        let (compiled, _) = engine.compile().unwrap();
        let server = engine.server().unwrap();
        let report = engine.check(&compiled, &server).await;
        let ids: Vec<&str> = report.items.iter().map(|i| i.id).collect();
        assert!(ids.contains(&"greeting"), "{ids:?}");
        let greeting = report.items.iter().find(|i| i.id == "greeting").unwrap();
        assert!(
            matches!(greeting.status, Status::Drift { .. }),
            "{:?}",
            greeting.status
        );
        assert_eq!(
            greeting.server_text.as_deref(),
            Some("Hello from the server")
        );
        assert_eq!(greeting.local_text.as_deref(), Some("Hello from the code"));
        // The built-in ones are in sync.
        for item in report.items.iter().filter(|i| i.id != "greeting") {
            assert!(
                matches!(item.status, Status::InSync | Status::NotInCode),
                "{}: {:?}",
                item.id,
                item.status
            );
        }

        let outcome = engine
            .run(RunOptions::new(Mode::Push), &mut NeverAsked)
            .await
            .unwrap()
            .outcome
            .unwrap();
        assert!(
            matches!(
                outcome.resolutions.as_slice(),
                [r] if r.id == "greeting" && matches!(r.action, lua_core::engine::Action::Pushed { .. })
            ),
            "{outcome:?}"
        );
        assert_eq!(*PUSHED.lock().unwrap(), vec![json!("Hello from the code")]);
    });
    let state = project.read("lua.sync.json");
    assert!(state.contains("\"greeting\""), "{state}");
    assert!(state.contains("\"serverVersion\": 8"), "{state}");
}

struct NeverAsked;

impl lua_core::engine::Decider for NeverAsked {
    fn decide(
        &mut self,
        _: &lua_core::engine::Prompt<'_>,
    ) -> Result<lua_core::engine::Decision, lua_core::engine::Aborted> {
        panic!("--push never asks")
    }
}
