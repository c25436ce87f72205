//! What a user reads: every error's message, from real exchanges, snapshotted; and the API
//! key in none of them (Display or Debug).

use crate::common;

use std::time::Duration;

use crate::common::{Reply, assert_no_key, client, client_with, dead_base_url, serve, serve_raw};
use lua_platform::{ClientConfig, PlatformClient, PlatformError};
use serde_json::{Map, json};

const AGENT: &str = "baseAgent_agent_123";

/// Snapshots the message with the port filtered, after checking it holds no key.
fn snap(name: &str, err: &PlatformError) {
    assert_no_key(err);
    let shown = err.to_string();
    assert!(!shown.contains('\n'), "messages are one line: {shown}");
    insta::with_settings!({
        filters => vec![(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:PORT")],
        prepend_module_to_snapshot => false,
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, shown);
    });
}

#[tokio::test]
async fn messages_for_requests_never_sent() {
    let client = PlatformClient::new(ClientConfig {
        api_key: None,
        ..common::config("http://127.0.0.1:1")
    })
    .unwrap();
    snap("missing_api_key", &client.agent(AGENT).await.unwrap_err());

    let client = common::client("http://127.0.0.1:1");
    snap(
        "invalid_agent_id",
        &client
            .update_agent("baseAgent", Map::new())
            .await
            .unwrap_err(),
    );
    snap(
        "invalid_config_base_url",
        &PlatformClient::new(common::config("api.heylua.ai")).unwrap_err(),
    );
}

#[tokio::test]
async fn messages_for_an_unreachable_server() {
    let err = client(&dead_base_url()).agent(AGENT).await.unwrap_err();
    snap("unreachable_connection_refused", &err);

    let mock = serve(|_, _| Reply::ok(json!({})).after(Duration::from_secs(3))).await;
    let err = client_with(&mock.base_url, 0, Duration::from_millis(300))
        .agent(AGENT)
        .await
        .unwrap_err();
    snap("unreachable_timeout", &err);
}

#[tokio::test]
async fn messages_for_error_statuses() {
    let mock = serve(|r, _| match r.path.as_str() {
        "/admin/agents/x_401" => Reply::nest(401, "Invalid or expired API key"),
        "/admin/agents/x_403" => Reply::nest(403, "You do not have access to this agent"),
        "/admin/agents/x_404" => Reply::nest(404, "Agent not found"),
        "/admin/agents/x_400" => Reply::json(
            400,
            json!({"statusCode": 400, "message": ["name must be a string", "name should not be empty"], "error": "Bad Request"}),
        ),
        "/admin/agents/x_413" => Reply::raw(413, "request entity too large"),
        "/admin/agents/x_500" => Reply::raw(500, "<html>\n<body>Internal Server Error</body>\n</html>"),
        "/admin/agents/x_503" => {
            Reply::nest(503, "Down for maintenance").header("retry-after", "0")
        }
        "/admin/agents/x_429" => Reply::json(
            429,
            json!({"statusCode": 429, "message": "ThrottlerException: Too Many Requests", "retryAfterSeconds": 0}),
        ),
        "/admin/agents/x_long" => Reply::nest(422, &"very long explanation ".repeat(30)),
        _ => Reply::json(200, json!({"success": false, "message": "Agent is archived"})),
    })
    .await;
    let client = client(&mock.base_url);
    for (id, name) in [
        ("x_401", "unauthorized_401"),
        ("x_403", "unauthorized_403"),
        ("x_404", "not_found_404"),
        ("x_400", "rejected_400_validation"),
        ("x_413", "rejected_413_plain_body"),
        ("x_500", "server_500_html_after_retries"),
        ("x_503", "server_503_after_retries"),
        ("x_429", "server_429_after_retries"),
        ("x_long", "rejected_422_long_message"),
        ("x_success_false", "rejected_success_false"),
    ] {
        snap(name, &client.agent(id).await.unwrap_err());
    }
}

#[tokio::test]
async fn messages_for_unexpected_answers() {
    let mock = serve(|r, _| match r.path.as_str() {
        "/admin/agents/x_html" => Reply::raw(200, "<!DOCTYPE html><html>Sign in</html>"),
        "/admin/agents/x_huge" => Reply::raw(200, format!("\"{}\"", "x".repeat(5 << 20))),
        "/admin/agents/x_shape" => Reply::ok(json!("just a string")),
        _ => Reply::ok(json!({"versions": [
            {"version": 1, "persona": "p", "createdDate": "yesterday", "status": "published"}
        ]})),
    })
    .await;
    let client = client(&mock.base_url);
    snap(
        "protocol_not_json",
        &client.agent("x_html").await.unwrap_err(),
    );
    snap(
        "protocol_body_over_limit",
        &client.agent("x_huge").await.unwrap_err(),
    );
    snap(
        "protocol_agent_shape",
        &client.agent("x_shape").await.unwrap_err(),
    );
    snap(
        "protocol_created_date",
        &client
            .latest_published_persona(AGENT, false)
            .await
            .unwrap_err(),
    );

    let cut = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n{\"na".to_vec();
    let (base, _) = serve_raw(Some(cut)).await;
    let err = client_with(&base, 0, Duration::from_secs(5))
        .agent(AGENT)
        .await
        .unwrap_err();
    snap("protocol_body_cut_off", &err);
}

#[tokio::test]
async fn messages_for_a_redirect_and_a_spent_deadline() {
    let mock = serve(|_, _| {
        Reply::raw(307, "").header("location", "https://elsewhere.example/developer/x")
    })
    .await;
    let err = client(&mock.base_url)
        .create_persona_version(AGENT, &json!("p"))
        .await
        .unwrap_err();
    snap("redirected_307", &err);

    let mock =
        serve(|_, _| Reply::nest(503, "Down for maintenance").after(Duration::from_millis(400)))
            .await;
    let err = PlatformClient::new(ClientConfig {
        retries: 10,
        deadline: Some(Duration::from_millis(300)),
        ..common::config(&mock.base_url)
    })
    .unwrap()
    .agent(AGENT)
    .await
    .unwrap_err();
    snap("deadline_exceeded", &err);
}
