//! Deployed primitives at scale: 6 kinds x 200 items, all in sync.
//!
//! - `summary`: one `Engine::check` with the built-ins and the six primitive components
//!   against a devserver with 50 ms injected latency: still about one round trip, one
//!   request per listing; next to it, the same eight requests made alone by a bare client
//!   (bodies read, nothing parsed), the floor a check cannot go under.
//! - `bench_compare`: the pure part of a check for those 1,200 items, timed by criterion:
//!   `read_yaml` (a new project reads and parses `lua.skill.yaml`, once for all six
//!   kinds), and compare + render (target: under 10 ms): comparing every item with its
//!   listing entry and rendering, all in sync (the JSON report), and with 1,000 items
//!   drifted (server versions bumped in memory: the human drift listing, the `--check`
//!   summary with its hints, GitHub annotations and JSON).
//!
//! Compare + render times what a check does after the fetch: the sides are moved into
//! `compare_component` (their copies, which a real check does not make, are made in
//! `iter_batched`'s setup), the report is built and dropped, and the JSON report and the
//! GitHub annotations are the text the CLI prints (pretty JSON, both through the terminal
//! sanitiser). Figures (2026-12-01, 2-core VM, load average 3.0-3.8 from other builds; the
//! range of three interleaved runs), in sync / 1,000 drifted:
//!
//! - before (the code of a5772b6): 4.9-7.4 ms / 15-23 ms as this bench measured then
//!   (compact JSON, not sanitised, the sides' copies timed); 9.9-19 ms / 23-31 ms for what
//!   the CLI printed (this bench's current form on that code: the sanitiser went character
//!   by character through a megabyte of JSON);
//! - after: 3.2-3.4 ms / 4.8-5.7 ms (the line diff computed only where shown, no copies of
//!   the sides, one buffer per output, equal sides hashed once, the sanitiser copying plain
//!   ASCII in runs).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion};
use lua_compile::Compiled;
use lua_core::config::{Config, LoadOptions};
use lua_core::engine::compare::{Sides, compare_component};
use lua_core::engine::{Engine, Exit, Report, Status};
use lua_core::state::SyncState;
use lua_core::{Project, Remotes, Shape, Version, registry};
use serde_json::{Value, json};

use super::{AGENT, Env, KEY, LATENCY_MS};
// What `Printer::out` writes for the JSON report and the GitHub annotations.
use crate::sanitize::clean;

/// Items per kind.
pub const ITEMS: usize = 200;
const KINDS: [(&str, &str, &str); 5] = [
    ("skills", "skillId", "skill"),
    ("webhooks", "webhookId", "webhook"),
    ("jobs", "jobId", "job"),
    ("preprocessors", "preprocessorId", "preprocessor"),
    ("postprocessors", "postprocessorId", "postprocessor"),
];

pub struct Bench {
    server: lua_devserver::BlockingServer,
    dir: tempfile::TempDir,
    engine: Engine,
    compiled: Compiled,
}

fn seed_and_yaml() -> (Value, String) {
    let mut agent = json!({
        "id": AGENT,
        "name": "Bench Bot",
        "model": "gpt-4o",
        "personaVersions": [{"persona": "Be brief."}],
    });
    let mut yaml = format!("agent:\n  agentId: {AGENT}\n");
    for (kind, id_field, short) in KINDS {
        let items: Vec<Value> = (0..ITEMS)
            .map(|i| json!({"id": format!("{short}_{i}"), "name": format!("{short}-{i}"), "versions": ["1.0.0", format!("1.0.{}", i % 7 + 1)]}))
            .collect();
        agent[kind] = Value::Array(items);
        yaml.push_str(&format!("{kind}:\n"));
        for i in 0..ITEMS {
            yaml.push_str(&format!(
                "  - name: {short}-{i}\n    version: 1.0.{}\n    {id_field}: {short}_{i}\n",
                i % 7 + 1
            ));
        }
    }
    agent["mcpServers"] = Value::Array(
        (0..ITEMS)
            .map(|i| json!({"id": format!("mcp_{i}"), "name": format!("mcp-{i}")}))
            .collect(),
    );
    yaml.push_str("mcpServers:\n");
    for i in 0..ITEMS {
        yaml.push_str(&format!("  - name: mcp-{i}\n    mcpServerId: mcp_{i}\n"));
    }
    (json!({ "agents": [agent] }), yaml)
}

impl Bench {
    pub fn start(runtime: &tokio::runtime::Runtime) -> Bench {
        let (seed, yaml) = seed_and_yaml();
        let mut config = lua_devserver::Config::for_tests(KEY);
        config.seed = Some(serde_json::from_value(seed).expect("seed"));
        let server = lua_devserver::BlockingServer::start(config).expect("devserver starts");
        let http = reqwest::Client::new();
        runtime.block_on(async {
            let resp = http
                .post(format!("{}/_devserver/faults", server.url()))
                .bearer_auth(KEY)
                .json(&json!({ "latencyMs": LATENCY_MS }))
                .send()
                .await
                .expect("fault");
            assert!(resp.status().is_success());
        });

        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        std::fs::write(
            dir.path().join("src/index.ts"),
            "import { LuaAgent } from \"lua-cli\";\n\nexport default new LuaAgent({\n  name: \"Bench Bot\",\n  model: \"gpt-4o\",\n  persona: \"Be brief.\",\n});\n",
        )
        .expect("index");
        std::fs::write(dir.path().join("lua.skill.yaml"), yaml).expect("yaml");
        // Built-ins and primitives only: the synthetic single values are disabled.
        let mut toml = format!("[agent]\nid = \"{AGENT}\"\n");
        for id in registry::ids().expect("registry") {
            if super::SYNTHETIC.contains(&id) {
                toml.push_str(&format!("\n[components.{id}]\nenabled = false\n"));
            }
        }
        std::fs::write(dir.path().join("lua.toml"), toml).expect("toml");
        let env = Env(HashMap::from([
            ("LUA_API_URL", server.url()),
            ("LUA_API_KEY", KEY.to_string()),
        ]));
        let config = Config::load_with(
            &LoadOptions {
                start_dir: dir.path().to_path_buf(),
                config_path: None,
            },
            &env,
            false,
        )
        .expect("config");
        let engine = Engine::new(config).expect("engine");
        let (compiled, _) = engine.compile().expect("compile");
        Bench {
            server,
            dir,
            engine,
            compiled,
        }
    }

    fn requests(&self, runtime: &tokio::runtime::Runtime, reset: bool) -> Value {
        let http = reqwest::Client::new();
        let url = format!("{}/_devserver/requests", self.server.url());
        runtime.block_on(async {
            let method = if reset {
                reqwest::Method::DELETE
            } else {
                reqwest::Method::GET
            };
            let resp = http
                .request(method, &url)
                .bearer_auth(KEY)
                .send()
                .await
                .expect("requests");
            resp.json::<Value>().await.expect("json")["data"].clone()
        })
    }

    async fn check(&self) -> Report {
        let server = self.engine.server().expect("server");
        let report = self.engine.check(&self.compiled, &server).await;
        let keyed = report
            .items
            .iter()
            .filter(|i| i.shape == Shape::Keyed)
            .count();
        assert_eq!(keyed, 6 * ITEMS, "every item compared");
        for item in &report.items {
            assert!(
                matches!(item.status, Status::InSync),
                "{}: {:?}",
                item.label(),
                item.status
            );
        }
        report
    }

    /// One check, printed in round trips with the API requests it made.
    #[allow(clippy::print_stdout)]
    pub fn summary(&self, runtime: &tokio::runtime::Runtime) {
        const RUNS: usize = 7;
        runtime.block_on(self.check());
        self.requests(runtime, true);
        let check = median(RUNS, || {
            let started = Instant::now();
            runtime.block_on(self.check());
            started.elapsed()
        });
        let counted = self.requests(runtime, false);
        let floor = median(RUNS, || self.requests_alone(runtime));
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "Engine::check, 6 kinds x {ITEMS} primitives + name/persona/model, {LATENCY_MS} ms latency (median of {RUNS}): {:.1} ms = {:.2} round trips of {LATENCY_MS} ms ({} API requests per check: {})",
            ms(check),
            ms(check) / LATENCY_MS as f64,
            counted["total"].as_u64().unwrap_or(0) / RUNS as u64,
            counted["byRoute"]
        );
        println!(
            "  the same 8 requests alone (concurrent, bodies read, nothing parsed): {:.1} ms; the check is that round trip + {:.1} ms",
            ms(floor),
            ms(check) - ms(floor)
        );
    }

    /// The check's eight GETs made concurrently by a bare client that only reads the
    /// bodies: the round trip itself (latency, the server's work, the transfer), which a
    /// check cannot go under.
    fn requests_alone(&self, runtime: &tokio::runtime::Runtime) -> Duration {
        let http = reqwest::Client::new();
        let base = self.server.url();
        let mut paths = vec![
            format!("/admin/agents/{AGENT}"),
            format!("/developer/agents/{AGENT}/persona/versions"),
            format!("/developer/agents/{AGENT}/mcp-servers"),
        ];
        paths.extend(
            KINDS
                .iter()
                .map(|(kind, ..)| format!("/developer/{kind}/{AGENT}")),
        );
        runtime.block_on(async {
            let started = Instant::now();
            let mut requests = tokio::task::JoinSet::new();
            for path in paths {
                let request = http.get(format!("{base}{path}")).bearer_auth(KEY);
                requests.spawn(async move {
                    let resp = request.send().await.expect("request");
                    assert!(resp.status().is_success(), "{path}: {}", resp.status());
                    resp.bytes().await.expect("body").len()
                });
            }
            while let Some(len) = requests.join_next().await {
                assert!(len.expect("request task") > 0);
            }
            started.elapsed()
        })
    }

    /// Compare + render for the 1,200 items, with the listings fetched once beforehand.
    pub fn bench_compare(&self, c: &mut Criterion, runtime: &tokio::runtime::Runtime) {
        let components: Vec<_> = registry::components()
            .expect("registry")
            .into_iter()
            .filter(|c| c.shape() == Shape::Keyed)
            .collect();
        assert_eq!(components.len(), 6);
        let server = self.engine.server().expect("server");
        let fetched: Vec<Remotes> = runtime.block_on(async {
            let mut out = Vec::new();
            for component in &components {
                out.push(component.fetch(&server).await.expect("listing"));
            }
            out
        });
        let state = SyncState::default();
        let config = self.engine.config();
        let mut group = c.benchmark_group("primitives_6x200");
        group
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(3));
        let project = Project::new(self.dir.path(), self.compiled.clone());
        let read: Vec<_> = components.iter().map(|c| c.read_local(&project)).collect();
        let anchors: Vec<_> = components.iter().map(|c| c.anchor(&project)).collect();
        // Reading: a new project, so lua.skill.yaml is parsed (once, for all six kinds).
        group.bench_function("read_yaml", |b| {
            b.iter(|| {
                let project = Project::new(self.dir.path(), self.compiled.clone());
                let read: Vec<_> = components.iter().map(|c| c.read_local(&project)).collect();
                std::hint::black_box(read.len())
            });
        });
        // A check owns its sides (fetched, read) and moves them into the comparison, and
        // the report takes the run's state and project: those copies are made outside the
        // timed part (`iter_batched`), since a real check does not make them.
        let inputs = |fetched: &[Remotes]| {
            let sides: Vec<Sides> = fetched
                .iter()
                .zip(&read)
                .zip(&anchors)
                .map(|((remotes, read), anchor)| Sides {
                    fetched: Ok(remotes.clone()),
                    read: read.clone(),
                    anchor: anchor.clone(),
                })
                .collect();
            (sides, state.clone(), project.clone())
        };
        let compare = |(sides, state, _project): (Vec<Sides>, SyncState, Project)| {
            let mut items = Vec::new();
            for (component, sides) in components.iter().zip(sides) {
                items.extend(compare_component(
                    component.as_ref(),
                    config.policy(component.id()),
                    sides,
                    &state,
                ));
            }
            assert_eq!(items.len(), 6 * ITEMS);
            Report {
                agent_id: AGENT.to_string(),
                server_url: self.server.url(),
                entry: self.compiled.entry.clone(),
                items,
                warnings: Vec::new(),
                on_unreachable: config.settings.sync.on_unreachable,
            }
        };
        group.bench_function("compare_render_json", |b| {
            b.iter_batched(
                || inputs(&fetched),
                |inputs| {
                    let report = compare(inputs);
                    let json = clean(&lua_core::report::to_json_text(
                        &report,
                        None,
                        None,
                        Exit::Ok,
                    ));
                    std::hint::black_box(json.len())
                },
                BatchSize::LargeInput,
            );
        });
        let drifted = bumped(&fetched);
        group.bench_function("compare_render_all_drifted", |b| {
            b.iter_batched(
                || inputs(&drifted),
                |inputs| {
                    let report = compare(inputs);
                    assert_eq!(report.drifted().count(), 5 * ITEMS);
                    let human = crate::render::drift_listing(&report, false);
                    let summary = crate::render::check_summary(&report, false);
                    let github = clean(&crate::render::github(&report));
                    let json = clean(&lua_core::report::to_json_text(
                        &report,
                        None,
                        None,
                        Exit::Drift,
                    ));
                    std::hint::black_box(
                        human.as_str().len() + summary.as_str().len() + github.len() + json.len(),
                    )
                },
                BatchSize::LargeInput,
            );
        });
        group.finish();
    }
}

/// The listings with every versioned item one version ahead of the yaml: the 1,000 items
/// of the five versioned kinds drift (MCP servers, unversioned, stay in sync).
fn bumped(fetched: &[Remotes]) -> Vec<Remotes> {
    fetched
        .iter()
        .map(|remotes| {
            remotes
                .iter()
                .map(|(name, remote)| {
                    let mut remote = remote.clone();
                    match &remote.version {
                        Some(Version::Text(v)) => {
                            let next = format!("{v}.1");
                            remote.value = Value::String(next.clone());
                            remote.version = Some(Version::Text(next));
                            (name.clone(), remote)
                        }
                        _ => (name.clone(), remote),
                    }
                })
                .collect()
        })
        .collect()
}

/// The median of `runs` timings.
fn median(runs: usize, mut time: impl FnMut() -> Duration) -> Duration {
    let mut all: Vec<Duration> = (0..runs).map(|_| time()).collect();
    all.sort();
    all[runs / 2]
}
