//! Fault injection as a reqwest client sees it: status, malformed, truncated, drop, latency.

use std::time::Duration;

use crate::common::{AGENT, KEY, TestServer, assert_error, json, start, start_with};
use lua_devserver::{AgentSpec, Config};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn add_fault(s: &TestServer, fault: Value) -> Value {
    let (status, body) = json(
        s.post("/_devserver/faults")
            .json(&fault)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn versions_path() -> String {
    format!("/developer/agents/{AGENT}/persona/versions")
}

#[tokio::test]
async fn status_faults_hit_the_next_n_matching_requests() {
    let s = start().await;
    let body = add_fault(
        &s,
        json!({"count": 2, "status": 503, "pathPrefix": "/developer", "method": "GET"}),
    )
    .await;
    assert_eq!(body["data"]["queued"], 1);

    // Not matching: other prefix, other method.
    let resp = s
        .get(&format!("/admin/agents/{AGENT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    s.push(AGENT, json!("p")).await;

    for _ in 0..2 {
        let (status, body) = json(s.get(&versions_path()).send().await.unwrap()).await;
        assert_error(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "INJECTED_FAULT",
        );
    }
    let resp = s.get(&versions_path()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the fault is used up");

    // Faulted requests are still counted, under their route.
    let (_, counter) = json(s.get("/_devserver/requests").send().await.unwrap()).await;
    assert_eq!(
        counter["data"]["byRoute"]["GET /developer/agents/{agentId}/persona/versions"],
        3
    );
}

#[tokio::test]
async fn faults_are_a_fifo_queue() {
    let s = start().await;
    add_fault(&s, json!({"count": 1, "status": 500})).await;
    add_fault(&s, json!({"count": 1, "status": 429})).await;
    let (_, listed) = json(s.get("/_devserver/faults").send().await.unwrap()).await;
    assert_eq!(listed["data"]["faults"][0]["status"], 500);
    assert_eq!(listed["data"]["faults"][0]["remaining"], 1);
    let codes: Vec<StatusCode> = admin_statuses(&s, 3).await;
    assert_eq!(
        codes,
        [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::OK
        ]
    );
}

async fn admin_statuses(s: &TestServer, n: usize) -> Vec<StatusCode> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(
            s.get(&format!("/admin/agents/{AGENT}"))
                .send()
                .await
                .unwrap()
                .status(),
        );
    }
    out
}

#[tokio::test]
async fn malformed_body_is_200_and_not_json() {
    let s = start().await;
    add_fault(&s, json!({"count": 1, "body": "malformed"})).await;
    let resp = s.get(&versions_path()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let text = resp.text().await.unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    // Literal bodies are sent as given, with the given status.
    add_fault(
        &s,
        json!({"count": 1, "body": "{\"success\": false, \"message\": \"nope\"}"}),
    )
    .await;
    let (status, body) = json(s.get(&versions_path()).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": false, "message": "nope"}));
}

#[tokio::test]
async fn truncated_body_fails_while_reading() {
    let s = start().await;
    add_fault(&s, json!({"count": 1, "body": "truncated"})).await;
    let resp = s.get(&versions_path()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "the head arrives");
    let promised = resp.content_length().unwrap();
    let read = resp.bytes().await;
    assert!(
        read.is_err(),
        "reading stops short of {promised} bytes: {read:?}"
    );
    // The next request (new connection) is served normally.
    let (status, _) = json(s.get(&versions_path()).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn drop_closes_the_connection_without_a_response() {
    let s = start().await;
    add_fault(&s, json!({"count": 1, "drop": true, "method": "POST"})).await;
    let err = s
        .post(&format!("/developer/agents/{AGENT}/persona/version"))
        .json(&json!({"persona": "lost"}))
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "no status was received: {err:?}");
    assert!(!err.is_timeout(), "{err:?}");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    // The dropped push never reached the handler.
    assert!(s.versions(AGENT, None).await.is_empty());
    s.push(AGENT, json!("kept")).await;
    assert_eq!(s.versions(AGENT, None).await.len(), 1);
}

#[tokio::test]
async fn persistent_latency_slows_every_request_until_cleared() {
    let s = start().await;
    add_fault(&s, json!({"latencyMs": 3000})).await;
    // A client that gives up long before the injected latency is over.
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    for _ in 0..2 {
        let err = impatient
            .get(format!("{}/admin/agents/{AGENT}", s.url))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
    }
    // Persistent: still queued after two requests.
    let (_, listed) = json(s.get("/_devserver/faults").send().await.unwrap()).await;
    assert_eq!(listed["data"]["faults"][0]["remaining"], Value::Null);

    let (status, body) = json(s.delete("/_devserver/faults").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["cleared"], 1);
    let resp = s
        .get(&format!("/admin/agents/{AGENT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    // The two slow requests may still be sleeping server-side: do not wait for them.
    drop(s.server);
}

#[tokio::test]
async fn bad_fault_specs_are_400() {
    let s = start().await;
    for (spec, field) in [
        (json!({"count": 1, "status": 42}), "`status`"),
        (json!({"count": 1}), "at least one"),
        (
            json!({"count": 1, "drop": true, "body": "malformed"}),
            "`drop`",
        ),
        (
            json!({"count": 1, "status": 500, "colour": "red"}),
            "`colour`",
        ),
    ] {
        let (status, body) = json(
            s.post("/_devserver/faults")
                .json(&spec)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert!(body["message"].as_str().unwrap().contains(field), "{body}");
    }
}

#[tokio::test]
async fn fault_routes_are_404_without_faults_enabled() {
    let mut config = Config::for_tests(KEY);
    config.faults = false;
    config.agents.push(AgentSpec {
        id: AGENT.to_owned(),
        name: None,
    });
    let s = start_with(config).await;
    for req in [
        s.post("/_devserver/faults")
            .json(&json!({"count": 1, "status": 500})),
        s.get("/_devserver/faults"),
        s.delete("/_devserver/faults"),
    ] {
        let (status, body) = json(req.send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND");
    }
    // The counter is always on.
    let (status, _) = json(s.get("/_devserver/requests").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
}
