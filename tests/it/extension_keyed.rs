//! Proof of the keyed-set contract: a component of keyed shape registered from this test
//! crate (not from `lua-components`) is checked, classified and resolved **per item** by
//! the unchanged engine: two teammates changing different items are not a conflict, each
//! item has its own base in the sync state (`flags/<key>`), and one failed item does not
//! hide the others' results.

use crate::support;

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use lua_compile::Unreadable;
use lua_core::config::{Config, Environment, LoadOptions};
use lua_core::engine::{
    Aborted, Action, Choice, Classification, Decider, Decision, Engine, Mode, Presence, Prompt,
    RunOptions, Status,
};
use lua_core::{
    Local, LocalValue, Locals, OneSided, Project, PullCtx, PullError, PullItem, Pulled, Reason,
    Registration, Remote, Remotes, Server, Shape, Syncable, Version, async_trait,
};
use lua_platform::PlatformError;
// The built-in components, linked so the registry holds them too.
use crate::support::{AGENT, KEY, Platform};
use lua_components as _;
use serde_json::{Value, json};

/// The "server side" of the flags: name -> (value, version).
static SERVER: Mutex<BTreeMap<String, (String, u64)>> = Mutex::new(BTreeMap::new());

fn server_set(entries: &[(&str, &str, u64)]) {
    let mut server = SERVER.lock().unwrap();
    server.clear();
    for (k, v, n) in entries {
        server.insert(k.to_string(), (v.to_string(), *n));
    }
}

/// Feature flags: `flags.json` in the project (`{"name": "value"}`) vs a keyed server set.
struct Flags;

#[async_trait]
impl Syncable for Flags {
    fn id(&self) -> &'static str {
        "flags"
    }
    fn title(&self) -> &'static str {
        "Flag"
    }
    fn shape(&self) -> Shape {
        Shape::Keyed
    }
    fn one_sided(&self) -> OneSided {
        OneSided::Drift
    }
    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        // Real traffic through the shared client, to show the request is shared.
        server.agent().await?;
        Ok(SERVER
            .lock()
            .unwrap()
            .iter()
            .map(|(k, (v, n))| {
                (
                    k.clone(),
                    Remote {
                        value: json!(v),
                        version: Some(Version::Number(*n)),
                        entity_id: Some(format!("flag_{k}")),
                        not_compared: None,
                    },
                )
            })
            .collect())
    }
    fn read_local(&self, project: &Project) -> Result<Locals, Unreadable> {
        let Ok(Some(snapshot)) = project.read("flags.json") else {
            return Ok(Locals::new());
        };
        let map: BTreeMap<String, String> = serde_json::from_slice(&snapshot.bytes).unwrap();
        Ok(map
            .into_iter()
            .map(|(k, v)| {
                (
                    k,
                    Local::Value(LocalValue {
                        value: json!(v),
                        node: None,
                        place: None,
                        version: None,
                        entity_id: None,
                    }),
                )
            })
            .collect())
    }
    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        // Through the run's overlay: earlier pulls of this run are seen, nothing reaches
        // the disk until the engine commits.
        let text = ctx.read_file("flags.json").unwrap().unwrap();
        let compared = ctx.project.read("flags.json").unwrap().map(|s| s.sha256);
        let mut map: BTreeMap<String, String> = serde_json::from_slice(&text).unwrap();
        match item.remote {
            Some(remote) => map.insert(item.key.to_string(), remote.value.as_str().unwrap().into()),
            None => {
                return Err(PullError::unresolved(
                    Reason::NothingOnServer,
                    "not on the server",
                ));
            }
        };
        ctx.write_file(
            "flags.json",
            serde_json::to_string(&map).unwrap().into_bytes(),
            compared,
        )?;
        Ok(Pulled {
            files: vec!["flags.json".into()],
            notes: vec![],
        })
    }
    async fn push(
        &self,
        _server: &Server,
        key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        if key == "broken" {
            return Err(PlatformError::InvalidConfig {
                reason: "the flag service refused `broken`".into(),
            });
        }
        let mut server = SERVER.lock().unwrap();
        let version = server.get(key).map_or(1, |(_, n)| n + 1);
        match local {
            Some(v) => server.insert(key.to_string(), (v.as_str().unwrap().into(), version)),
            None => server.remove(key),
        };
        Ok(Some(Version::Number(version)))
    }
}

lua_core::inventory::submit! {
    Registration { id: "flags", order: 99, make: || Box::new(Flags) }
}

struct Env(HashMap<&'static str, String>);

impl Environment for Env {
    fn var(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

/// Answers per item key, as a user at the prompt would.
struct ByKey(HashMap<&'static str, Choice>);

impl Decider for ByKey {
    fn decide(&mut self, prompt: &Prompt<'_>) -> Result<Decision, Aborted> {
        let key = prompt.item.key.as_deref().unwrap_or("");
        Ok(Decision {
            choice: self.0.get(key).copied().unwrap_or(Choice::Skip),
            confirmed_flatten: false,
        })
    }
}

fn engine(platform: &Platform, project: &support::Project) -> Engine {
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
    Engine::new(config).unwrap()
}

#[test]
fn a_keyed_component_from_a_test_crate_is_checked_classified_and_resolved_per_item() {
    let platform = Platform::start(Some("Bot"), &["Persona"]);
    let project = support::Project::new("new LuaAgent({ name: \"Bot\", persona: \"Persona\" });\n");
    // This test binary also links `extension`'s component; it is not this test's.
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\n\n[components.greeting]\nenabled = false\n"),
    );
    project.write("flags.json", r#"{"a":"on","b":"on","c":"on","broken":"x"}"#);
    server_set(&[
        ("a", "on", 1),
        ("b", "on", 1),
        ("c", "on", 1),
        ("broken", "x", 1),
    ]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let engine = engine(&platform, &project);
        let server = engine.server().unwrap();
        // In sync: every item's base is recorded (not by --check, which writes nothing).
        let (compiled, _) = engine.compile().unwrap();
        let report = engine.check(&compiled, &server).await;
        let flags: Vec<_> = report.items.iter().filter(|i| i.id == "flags").collect();
        assert_eq!(flags.len(), 4);
        assert!(flags.iter().all(|i| matches!(i.status, Status::InSync)));
        engine
            .run(RunOptions::new(Mode::Accept), &mut ByKey(HashMap::new()))
            .await
            .unwrap();

        // A teammate changes `b` on the server; I change `c` and `broken` and add `d`.
        server_set(&[
            ("a", "on", 1),
            ("b", "off", 2),
            ("c", "on", 1),
            ("broken", "x", 1),
        ]);
        project.write(
            "flags.json",
            r#"{"a":"on","b":"on","c":"off","d":"new","broken":"y"}"#,
        );
        let (compiled, _) = engine.compile().unwrap();
        let report = engine.check(&compiled, &server).await;
        let status = |key: &str| {
            report
                .items
                .iter()
                .find(|i| i.id == "flags" && i.key.as_deref() == Some(key))
                .map(|i| (i.classification(), i.presence()))
        };
        assert_eq!(status("a"), Some((None, None)), "a is in sync");
        assert_eq!(
            status("b"),
            Some((Some(Classification::ServerChanged), Some(Presence::Both)))
        );
        assert_eq!(
            status("c"),
            Some((Some(Classification::LocalChanged), Some(Presence::Both)))
        );
        assert_eq!(
            status("d"),
            Some((Some(Classification::UnknownBase), Some(Presence::LocalOnly)))
        );

        // Per item: pull b, push c, push d, push broken (fails); nothing is a conflict.
        let mut decider = ByKey(HashMap::from([
            ("b", Choice::Pull),
            ("c", Choice::Push),
            ("d", Choice::Push),
            ("broken", Choice::Push),
        ]));
        let options = RunOptions {
            can_prompt: true,
            ..RunOptions::new(Mode::Interactive)
        };
        let outcome = engine
            .run(options, &mut decider)
            .await
            .unwrap()
            .outcome
            .unwrap();
        let action = |key: &str| {
            outcome
                .resolutions
                .iter()
                .find(|r| r.id == "flags" && r.key.as_deref() == Some(key))
                .map(|r| r.action.clone())
        };
        assert!(
            matches!(action("b"), Some(Action::Pulled { .. })),
            "{outcome:?}"
        );
        assert_eq!(
            action("c"),
            Some(Action::Pushed {
                version: Some(Version::Number(2))
            })
        );
        assert_eq!(
            action("d"),
            Some(Action::Pushed {
                version: Some(Version::Number(1))
            })
        );
        assert!(
            matches!(
                action("broken"),
                Some(Action::Failed {
                    reason: Reason::Platform,
                    ..
                })
            ),
            "{outcome:?}"
        );
    });
    // Each item has its own base; the failed one keeps its old one.
    let state: Value = serde_json::from_str(&project.read("lua.sync.json")).unwrap();
    let components = &state["components"];
    for key in ["flags/a", "flags/b", "flags/c", "flags/d", "flags/broken"] {
        assert!(components[key]["hash"].is_string(), "{key}: {state}");
    }
    assert_eq!(components["flags/c"]["serverVersion"], json!(2));
    assert_eq!(components["flags/broken"]["serverVersion"], json!(1));
    assert_eq!(
        project.read("flags.json"),
        r#"{"a":"on","b":"off","broken":"y","c":"off","d":"new"}"#
    );
    let server = SERVER.lock().unwrap().clone();
    assert_eq!(server["c"], ("off".to_string(), 2));
    assert_eq!(server["d"], ("new".to_string(), 1));
    assert_eq!(server["broken"], ("x".to_string(), 1));
}
