//! `Engine::check` with 2, 8 and 32 enabled components against an in-process devserver
//! whose every API answer is delayed by 50 ms (a persistent latency fault).
//!
//! The engine fetches every enabled component concurrently, so one check should take
//! about one round trip (~50 ms) whatever the number of components, not N x 50 ms.
//! Before criterion runs, the bench prints one check per size with its wall time in
//! round trips and the number of API requests the devserver counted.
//!
//! Components: the built-ins (`use lua_components as _;`) plus 32 synthetic ones
//! (`c01`..`c32`) registered here, each doing its own real GET
//! (`/admin/agents/{id}?c=N`: the devserver ignores the query, the client caches per
//! path-and-query, so each is a separate request). The N enabled components are the
//! first N in registry order (built-ins first); the rest are disabled in a generated
//! `lua.toml`. Each iteration gets a new platform client, so nothing is served from the
//! previous iteration's cache (connections are opened anew, as in one `lua` run).
//!
//! ```sh
//! cargo bench --bench engine
//! ```

// A bench is test code that is not `cfg(test)`: a panic there fails the bench, no user sees it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "engine/primitives.rs"]
mod primitives;

// The CLI's renderers, compiled into the bench (the binary crate has no library to link),
// so compare + render is timed with the code `lua` runs.
#[allow(dead_code, unused_imports)]
#[path = "../cli/difference.rs"]
mod difference;
#[allow(dead_code, unused_imports)]
#[path = "../cli/render.rs"]
mod render;
#[allow(dead_code, unused_imports)]
#[path = "../cli/sanitize.rs"]
mod sanitize;
#[allow(dead_code, unused_imports)]
#[path = "../cli/scrub.rs"]
mod scrub;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{BatchSize, BenchmarkId, Criterion, SamplingMode};
use lua_compile::Compiled;
use lua_core::config::{Config, Environment, LoadOptions};
use lua_core::engine::{Engine, Status};
use lua_core::{
    Registration, Remote, Remotes, SINGLE, Server, Shape, Syncable, Version, async_trait, registry,
};
use lua_platform::PlatformError;
// The built-in components, linked so the registry holds them too.
use lua_components as _;
use serde_json::json;

const KEY: &str = "bench-key";
const AGENT: &str = "baseAgent_agent_bench";
/// Injected latency of every API answer: one "round trip".
const LATENCY_MS: u64 = 50;
/// Enabled component counts to bench.
const SIZES: [usize; 3] = [2, 8, 32];

/// The value every synthetic component has on both sides, so each compares in sync.
fn synthetic_value(id: &str) -> String {
    format!("value of {id}")
}

/// One unit struct per synthetic component: `Syncable` + its registration.
macro_rules! synthetic {
    ($($ty:ident $id:literal $n:literal),* $(,)?) => {
        $(
            struct $ty;

            #[async_trait]
            impl Syncable for $ty {
                fn id(&self) -> &'static str {
                    $id
                }
                fn title(&self) -> &'static str {
                    $id
                }
                async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
                    // A distinct path per component: a real request each, not a cache hit.
                    server
                        .client()
                        .get(&format!("/admin/agents/{}?c={}", server.agent_id(), $n))
                        .await?;
                    Ok(Remotes::from([(
                        SINGLE.to_string(),
                        Remote::value(json!(synthetic_value($id))),
                    )]))
                }
                async fn push(
                    &self,
                    _server: &Server,
                    _key: &str,
                    _local: Option<&serde_json::Value>,
                ) -> Result<Option<Version>, PlatformError> {
                    Ok(None)
                }
            }

            lua_core::inventory::submit! {
                // After the built-ins (orders 10..=30), so "the first N" starts with them.
                Registration { id: $id, order: 1000 + $n, make: || Box::new($ty) }
            }
        )*

        /// Ids of the synthetic components, in order.
        const SYNTHETIC: &[&str] = &[$($id),*];
    };
}

synthetic! {
    C01 "c01" 1, C02 "c02" 2, C03 "c03" 3, C04 "c04" 4, C05 "c05" 5, C06 "c06" 6,
    C07 "c07" 7, C08 "c08" 8, C09 "c09" 9, C10 "c10" 10, C11 "c11" 11, C12 "c12" 12,
    C13 "c13" 13, C14 "c14" 14, C15 "c15" 15, C16 "c16" 16, C17 "c17" 17, C18 "c18" 18,
    C19 "c19" 19, C20 "c20" 20, C21 "c21" 21, C22 "c22" 22, C23 "c23" 23, C24 "c24" 24,
    C25 "c25" 25, C26 "c26" 26, C27 "c27" 27, C28 "c28" 28, C29 "c29" 29, C30 "c30" 30,
    C31 "c31" 31, C32 "c32" 32,
}

/// The injected environment: only what `lua sync` needs.
struct Env(HashMap<&'static str, String>);

impl Environment for Env {
    fn var(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }
}

/// The devserver with one agent whose name, model and persona match the project's, and a
/// persistent 50 ms latency on every API route.
struct Platform {
    server: lua_devserver::BlockingServer,
    http: reqwest::Client,
}

impl Platform {
    fn start(runtime: &tokio::runtime::Runtime) -> Platform {
        let mut config = lua_devserver::Config::for_tests(KEY);
        config.seed = Some(
            serde_json::from_value(json!({
                "agents": [{
                    "id": AGENT,
                    "name": "Bench Bot",
                    "model": "gpt-4o",
                    "personaVersions": [{"persona": "Be brief."}],
                }]
            }))
            .expect("seed"),
        );
        let _ = rustls::crypto::ring::default_provider().install_default();
        let platform = Platform {
            server: lua_devserver::BlockingServer::start(config).expect("devserver starts"),
            http: reqwest::Client::new(),
        };
        platform.send(
            runtime,
            reqwest::Method::POST,
            "/_devserver/faults",
            Some(json!({ "latencyMs": LATENCY_MS })),
        );
        platform
    }

    fn send(
        &self,
        runtime: &tokio::runtime::Runtime,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> serde_json::Value {
        let url = format!("{}{path}", self.server.url());
        runtime.block_on(async {
            let mut req = self.http.request(method, &url).bearer_auth(KEY);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.expect("control request");
            assert!(resp.status().is_success(), "{path}: {}", resp.status());
            resp.json().await.expect("control answer")
        })
    }

    /// API requests the devserver counted since the last call.
    fn take_request_count(&self, runtime: &tokio::runtime::Runtime) -> u64 {
        let counted = self.send(runtime, reqwest::Method::GET, "/_devserver/requests", None);
        self.send(
            runtime,
            reqwest::Method::DELETE,
            "/_devserver/requests",
            None,
        );
        counted["data"]["total"].as_u64().unwrap_or(0)
    }
}

/// A project whose code matches the server for every component, and whose lua.toml
/// enables only the first `enabled` registered components.
struct Project {
    dir: tempfile::TempDir,
    ids: Vec<&'static str>,
}

/// Ids of the registered single-value components (the keyed sets are benched below).
fn single_ids() -> Vec<&'static str> {
    registry::components()
        .expect("registry")
        .iter()
        .filter(|c| c.shape() == Shape::Single)
        .map(|c| c.id())
        .collect()
}

impl Project {
    fn new(enabled: usize) -> Project {
        let ids = single_ids();
        let all = registry::ids().expect("registry");
        assert!(
            ids.len() >= SYNTHETIC.len() + 2,
            "expected the built-ins and {} synthetic components, got {ids:?}",
            SYNTHETIC.len()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let fields: String = SYNTHETIC
            .iter()
            .map(|id| format!("  {id}: \"{}\",\n", synthetic_value(id)))
            .collect();
        let index = format!(
            "import {{ LuaAgent }} from \"lua-cli\";\n\nexport default new LuaAgent({{\n  name: \"Bench Bot\",\n  model: \"gpt-4o\",\n  persona: \"Be brief.\",\n{fields}}});\n"
        );
        std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
        std::fs::write(dir.path().join("src/index.ts"), index).expect("write index");
        let mut toml = format!("[agent]\nid = \"{AGENT}\"\n");
        for id in all.iter().filter(|id| !ids[..enabled].contains(id)) {
            toml.push_str(&format!("\n[components.{id}]\nenabled = false\n"));
        }
        std::fs::write(dir.path().join("lua.toml"), toml).expect("write lua.toml");
        Project {
            dir,
            ids: ids.into_iter().take(enabled).collect(),
        }
    }

    fn engine(&self, url: &str) -> Engine {
        let env = Env(HashMap::from([
            ("LUA_API_URL", url.to_string()),
            ("LUA_API_KEY", KEY.to_string()),
        ]));
        let config = Config::load_with(
            &LoadOptions {
                start_dir: self.dir.path().to_path_buf(),
                config_path: None,
            },
            &env,
            false,
        )
        .expect("config");
        Engine::new(config).expect("engine")
    }
}

/// One check, asserting it compared the enabled components (every synthetic one), all in
/// sync.
async fn check(engine: &Engine, compiled: &Compiled, server: &Server, ids: &[&str]) {
    let report = engine.check(compiled, server).await;
    let seen: Vec<&str> = report.items.iter().map(|i| i.id).collect();
    // A component set on neither side (governance here) reports no item at all.
    let expected: Vec<&str> = ids
        .iter()
        .copied()
        .filter(|id| seen.contains(id) || SYNTHETIC.contains(id))
        .collect();
    assert_eq!(seen, expected, "the enabled components, in order");
    for item in &report.items {
        assert!(
            matches!(item.status, Status::InSync),
            "{}: {:?}",
            item.id,
            item.status
        );
    }
}

struct Setup {
    project: Project,
    engine: Engine,
    compiled: Compiled,
}

fn setup(enabled: usize, url: &str) -> Setup {
    let project = Project::new(enabled);
    let engine = project.engine(url);
    let (compiled, _) = engine.compile().expect("compile");
    Setup {
        project,
        engine,
        compiled,
    }
}

/// One untimed-by-criterion check per size, printed: the figure that matters is wall time
/// in round trips, which must stay near 1 however many components are enabled.
#[allow(clippy::print_stdout)]
fn summary(runtime: &tokio::runtime::Runtime, platform: &Platform) {
    println!("Engine::check, {LATENCY_MS} ms injected latency per request:");
    for enabled in SIZES {
        let s = setup(enabled, &platform.server.url());
        // Warm once (first-connection costs), then measure a fresh client's check.
        let server = s.engine.server().expect("server");
        runtime.block_on(check(&s.engine, &s.compiled, &server, &s.project.ids));
        platform.take_request_count(runtime);
        let server = s.engine.server().expect("server");
        let started = Instant::now();
        runtime.block_on(check(&s.engine, &s.compiled, &server, &s.project.ids));
        let wall = started.elapsed();
        let requests = platform.take_request_count(runtime);
        println!(
            "  {enabled:>2} components: {:>6.1} ms = {:.2} round trips ({requests} API requests)",
            wall.as_secs_f64() * 1000.0,
            wall.as_secs_f64() * 1000.0 / LATENCY_MS as f64,
        );
    }
}

fn bench(c: &mut Criterion, runtime: &tokio::runtime::Runtime, platform: &Platform) {
    let mut group = c.benchmark_group("engine_check_50ms_latency");
    // Each iteration is ~50 ms: few flat samples keep the whole run short.
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for enabled in SIZES {
        let s = setup(enabled, &platform.server.url());
        group.bench_with_input(BenchmarkId::from_parameter(enabled), &enabled, |b, _| {
            b.iter_batched(
                || s.engine.server().expect("server"),
                |server| runtime.block_on(check(&s.engine, &s.compiled, &server, &s.project.ids)),
                BatchSize::PerIteration,
            );
        });
    }
    group.finish();
}

fn main() {
    // The client side runs like the CLI: a current-thread runtime. The devserver has its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let platform = Platform::start(&runtime);
    summary(&runtime, &platform);
    let primitives = primitives::Bench::start(&runtime);
    primitives.summary(&runtime);
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion, &runtime, &platform);
    primitives.bench_compare(&mut criterion, &runtime);
    criterion.final_summary();
}
