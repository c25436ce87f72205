//! The devserver's Router driven in-process (`lua_devserver::router` + `tower::ServiceExt`),
//! as the fuzz target `fuzz/fuzz_targets/devserver_json.rs` drives it: hostile bodies on the
//! JSON handlers (persona create, agent patch, deploy) never get a 5xx and always get a JSON
//! answer. Inputs the fuzzer finds troublesome belong in `HOSTILE_BODIES`.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use lua_devserver::{Config, Seed};
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "in-process-key";
const AGENT: &str = "baseAgent_agent_1";

/// An agent with a published version 1 and a draft version 2, like the fuzz target's.
fn router() -> Router {
    let seed: Seed = serde_json::from_value(json!({
        "agents": [{
            "id": AGENT,
            "name": "Bot",
            "personaVersions": [
                {"persona": "published"},
                {"persona": {"base": "a draft"}, "status": "draft"},
            ],
        }]
    }))
    .unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    lua_devserver::router(&config).unwrap()
}

async fn send(
    router: &Router,
    method: Method,
    path: &str,
    body: Vec<u8>,
    idempotency_key: Option<&str>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        // Every route checks the Host (in-process requests have none unless set).
        .header("host", "localhost")
        .header("authorization", format!("Bearer {KEY}"))
        .header("content-type", "application/json");
    if let Some(key) = idempotency_key {
        request = request.header("x-idempotency-key", key);
    }
    let response = router
        .clone()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{path}: {status} answered a non-JSON body ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, value)
}

#[tokio::test]
async fn the_router_serves_the_api_without_a_socket() {
    let router = router();
    let (status, body) = send(
        &router,
        Method::GET,
        &format!("/admin/agents/{AGENT}"),
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Bot");

    // Clones of the router share one store: a change is seen by the next request.
    let (status, body) = send(
        &router,
        Method::PATCH,
        "/agents/baseAgent/sub-agent",
        br#"{"id": "agent_1", "name": "Renamed"}"#.to_vec(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = send(
        &router,
        Method::GET,
        &format!("/admin/agents/{AGENT}"),
        Vec::new(),
        None,
    )
    .await;
    assert_eq!(body["data"]["name"], "Renamed");
}

#[test]
fn the_router_needs_a_key_like_start_does() {
    let mut config = Config::for_tests(KEY);
    config.api_key = None;
    let refused = lua_devserver::router(&config).map(|_| ());
    assert!(
        matches!(refused, Err(lua_devserver::DevServerError::NoApiKey)),
        "{refused:?}"
    );
}

/// Bodies a fuzzer (or a careless client) sends: not JSON, not UTF-8, wrong shapes, deep
/// nesting, NUL bytes, lone surrogates, huge numbers.
fn hostile_bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "",
        " ",
        "null",
        "[]",
        "{",
        "\"persona\"",
        "{}",
        "{\"persona\": null}",
        "{\"persona\": 1e999999}",
        "{\"persona\": {}}",
        "{\"persona\": {\"base\": 1}}",
        "{\"persona\": {\"base\": \"a\", \"voice\": [\"b\"]}}",
        "{\"persona\": \"a\\u0000b\"}",
        "{\"persona\": \"\\ud800\"}",
        "{\"persona\": \"\", \"persona\": \"twice\"}",
        "{\"id\": \"\"}",
        "{\"id\": 5}",
        "{\"id\": \"agent_1\", \"name\": 5}",
        "{\"id\": \"agent_1\", \"name\": \"\\u0000\", \"model\": null}",
        "{\"id\": \"agent_1\\u0000\", \"name\": \"x\"}",
        "{\"id\": \"../../agent_1\"}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(vec![0xff, 0xfe, b'{', 0x00]);
    bodies.push(b"{\"persona\": \"\xff\"}".to_vec());
    bodies.push(format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)).into_bytes());
    bodies.push(format!("{{\"persona\": {}1{}}}", "[".repeat(200), "]".repeat(200)).into_bytes());
    bodies
}

#[tokio::test]
async fn hostile_bodies_never_get_a_server_error() {
    let router = router();
    let mut routes = vec![
        (
            Method::POST,
            format!("/developer/agents/{AGENT}/persona/version"),
        ),
        (
            Method::POST,
            "/developer/agents/baseAgent_agent_404/persona/version".to_owned(),
        ),
        (Method::PATCH, "/agents/baseAgent/sub-agent".to_owned()),
    ];
    for version in ["1", "2", "3", "0", "-1", "x", "99999999999999999999"] {
        routes.push((
            Method::POST,
            format!("/developer/agents/{AGENT}/persona/version/{version}"),
        ));
    }
    for (method, path) in &routes {
        for body in hostile_bodies() {
            for key in [None, Some("same-key")] {
                let (status, answer) = send(&router, method.clone(), path, body.clone(), key).await;
                assert!(
                    !status.is_server_error(),
                    "{method} {path} {:?}: {status} {answer}",
                    String::from_utf8_lossy(&body)
                );
                if !status.is_success() {
                    assert_eq!(answer["statusCode"], status.as_u16(), "{answer}");
                    assert!(answer["message"].is_string(), "{answer}");
                }
            }
        }
    }
}

#[tokio::test]
async fn json_handlers_answer_the_documented_refusals() {
    let router = router();
    let create = format!("/developer/agents/{AGENT}/persona/version");
    let cases: Vec<(Method, String, Vec<u8>, StatusCode, &str)> = vec![
        (
            Method::POST,
            create.clone(),
            b"{".to_vec(),
            StatusCode::BAD_REQUEST,
            "INVALID_JSON",
        ),
        (
            Method::POST,
            create.clone(),
            b"{\"persona\": {\"base\": 1}}".to_vec(),
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
        ),
        (
            Method::POST,
            create.clone(),
            vec![b' '; 1024 * 1024 + 1],
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
        ),
        (
            Method::POST,
            format!("/developer/agents/{AGENT}/persona/version/2"),
            b"{}".to_vec(),
            StatusCode::BAD_REQUEST,
            "VERSION_NOT_PUBLISHED",
        ),
        (
            Method::POST,
            format!("/developer/agents/{AGENT}/persona/version/3"),
            Vec::new(),
            StatusCode::NOT_FOUND,
            "VERSION_NOT_FOUND",
        ),
        (
            Method::PATCH,
            "/agents/baseAgent/sub-agent".to_owned(),
            b"{\"id\": \"agent_9\", \"name\": \"x\"}".to_vec(),
            StatusCode::NOT_FOUND,
            "AGENT_NOT_FOUND",
        ),
    ];
    for (method, path, body, status, code) in cases {
        let (got, answer) = send(&router, method.clone(), &path, body, None).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        assert_eq!(answer["code"], code, "{method} {path}: {answer}");
    }
}
