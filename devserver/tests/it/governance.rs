//! Governance and model on the agent over real HTTP: the PATCH round trip, clearing with null,
//! the size limit, the `apiKey` refusal, seeding, and persistence in a database file.

use crate::common::{AGENT, KEY, TestServer, assert_error, json, start, start_with};
use lua_devserver::{Config, Seed, Storage};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn agent(s: &TestServer) -> Value {
    let (status, body) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"].clone()
}

async fn patch(s: &TestServer, fields: Value) -> (StatusCode, Value) {
    let mut body = json!({"id": "agent_123"});
    if let (Value::Object(b), Value::Object(f)) = (&mut body, fields) {
        b.extend(f);
    }
    json(
        s.patch("/agents/baseAgent/sub-agent")
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn governance() -> Value {
    json!({
        "mode": "sdk",
        "preset": "security",
        "injection": {"threshold": 0.8, "ml": true},
        "rules": {"blockTools": ["shell"], "tokenBudget": 5000},
        "somethingNew": {"kept": [1, "1", null]},
    })
}

#[tokio::test]
async fn governance_round_trips_through_the_patch() {
    let s = start().await;
    assert_eq!(agent(&s).await["governance"], Value::Null);

    let (status, body) = patch(&s, json!({"governance": governance()})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["governance"], governance());
    let read = agent(&s).await;
    assert_eq!(read["governance"], governance());
    // Types are kept exactly: 5000 is a number, "1" a string.
    assert!(
        read["governance"]["rules"]["tokenBudget"].is_u64(),
        "{read}"
    );
    // Other fields are untouched by a governance-only patch.
    assert_eq!(read["name"], "Support Bot");

    // A patch without governance leaves it; null clears it.
    patch(&s, json!({"name": "Renamed"})).await;
    assert_eq!(agent(&s).await["governance"], governance());
    let (status, body) = patch(&s, json!({"governance": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(agent(&s).await["governance"], Value::Null);
}

#[tokio::test]
async fn model_null_clears_the_model() {
    let s = start().await;
    let (status, _) = patch(&s, json!({"model": "gpt-4o"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(agent(&s).await["model"], "gpt-4o");
    let (status, body) = patch(&s, json!({"model": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["model"], Value::Null);
    assert_eq!(agent(&s).await["model"], Value::Null);
    let (status, body) = patch(&s, json!({"model": 5})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        body["message"].as_str().unwrap().contains("`model`"),
        "{body}"
    );
}

#[tokio::test]
async fn bad_governance_is_refused_naming_the_field_and_changes_nothing() {
    let s = start().await;
    patch(&s, json!({"governance": {"mode": "sdk"}})).await;
    let huge = json!({"mode": "sdk", "rules": {"blockTools": vec!["t".repeat(1000); 70]}});
    let cases = [
        (
            json!({"governance": "sdk"}),
            "`governance` must be a JSON object",
        ),
        (
            json!({"governance": [1]}),
            "`governance` must be a JSON object",
        ),
        (
            json!({"governance": {"mode": "api", "apiKey": "secret"}}),
            "governance.apiKey",
        ),
        (json!({"governance": huge, "name": "Not Applied"}), "65536"),
    ];
    for (fields, needle) in cases {
        let (status, body) = patch(&s, fields).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{needle}: {message}");
        assert!(!message.contains("secret"), "{message}");
    }
    let read = agent(&s).await;
    assert_eq!(read["governance"], json!({"mode": "sdk"}));
    assert_eq!(read["name"], "Support Bot");
}

#[tokio::test]
async fn seeded_governance_is_served_and_bad_seeds_are_refused() {
    let seed: Seed = serde_json::from_value(json!({"agents": [
        {"id": AGENT, "name": "Bot", "model": "gpt-4o", "governance": governance()},
        {"id": "baseAgent_agent_2", "governance": null},
    ]}))
    .unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    let s = start_with(config).await;
    let read = agent(&s).await;
    assert_eq!(read["governance"], governance());
    assert_eq!(read["model"], "gpt-4o");

    let bad: Seed =
        serde_json::from_value(json!({"agents": [{"id": AGENT, "governance": "strict"}]})).unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(bad);
    let err = lua_devserver::start(config).await.unwrap_err().to_string();
    assert!(
        err.contains(AGENT) && err.contains("`governance` must be a JSON object"),
        "{err}"
    );
}

#[tokio::test]
async fn governance_survives_a_restart_with_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = Config::for_tests(KEY);
        c.storage = Storage::File(dir.path().join("p.db"));
        c.agents.push(lua_devserver::AgentSpec {
            id: AGENT.to_owned(),
            name: Some("Support Bot".to_owned()),
        });
        c
    };
    let s = start_with(config()).await;
    patch(&s, json!({"governance": governance()})).await;
    s.server.shutdown().await;
    let s = start_with(config()).await;
    assert_eq!(agent(&s).await["governance"], governance());
}
