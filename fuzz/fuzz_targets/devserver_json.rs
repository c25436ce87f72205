//! Arbitrary bytes as the body of the devserver's JSON handlers (persona create, agent
//! patch, deploy), sent through the axum Router in-process (`tower::ServiceExt::oneshot`).
//! The server must never panic, never answer 5xx, and always answer a JSON body.
//!
//! Input: byte 0 picks the route and whether an `X-Idempotency-Key` is sent, byte 1 the agent,
//! the version in the path and the key, the rest is the body.
//!
//! One in-memory server (an agent with a published version 1 and a draft version 2) serves
//! every input of a run: a fresh one per input is about 10x slower. So state carries over
//! (versions accumulate, a reused idempotency key replays), which also explores sequences; a
//! crash input is re-checked against a fresh server in `devserver/tests/`.
#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use lua_devserver::{Config, Seed};
use tower::ServiceExt;

const KEY: &str = "fuzz-key";
const AGENT: &str = "baseAgent_agent_1";

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
    })
}

fn config() -> Config {
    let seed: Seed = serde_json::from_value(serde_json::json!({
        "agents": [{
            "id": AGENT,
            "name": "Fuzz Bot",
            "personaVersions": [
                {"persona": "published"},
                {"persona": {"base": "a draft"}, "status": "draft"},
            ],
        }]
    }))
    .expect("seed");
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    config
}

fuzz_target!(|data: &[u8]| {
    let (selector, variant, body) = match data {
        [a, b, rest @ ..] => (*a, *b, rest.to_vec()),
        _ => return,
    };
    let agent = if variant & 1 == 0 {
        AGENT
    } else {
        "baseAgent_agent_404"
    };
    let version =
        ["1", "2", "3", "0", "-1", "x", "99999999999999999999"][usize::from(variant >> 1) % 7];
    let (method, path) = match selector % 3 {
        0 => (
            Method::POST,
            format!("/developer/agents/{agent}/persona/version"),
        ),
        // The agent is named in the body (`"id": "agent_1"`), which is fuzzed.
        1 => (Method::PATCH, "/agents/baseAgent/sub-agent".to_owned()),
        _ => (
            Method::POST,
            format!("/developer/agents/{agent}/persona/version/{version}"),
        ),
    };
    let mut request = Request::builder()
        .method(method)
        .uri(&path)
        // Every route checks the Host (in-process requests have none unless set).
        .header("host", "localhost")
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json");
    if selector & 0x80 != 0 {
        request = request.header("x-idempotency-key", format!("fuzz-{variant}"));
    }
    let request = request.body(Body::from(body)).expect("request");

    static ROUTER: OnceLock<axum::Router> = OnceLock::new();
    let router = ROUTER
        .get_or_init(|| lua_devserver::router(&config()).expect("router"))
        .clone();
    let (status, bytes) = runtime().block_on(async {
        let response = router.oneshot(request).await.expect("infallible");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, bytes)
    });
    assert!(
        !status.is_server_error(),
        "{path}: {status} {}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(
        serde_json::from_slice::<serde_json::Value>(&bytes).is_ok(),
        "{path}: {status} answered a non-JSON body: {}",
        String::from_utf8_lossy(&bytes)
    );
});
