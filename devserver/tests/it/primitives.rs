//! Deployed primitives over real HTTP: the six listings' exact shapes (seeded), the active-version
//! markers, MCP `source`/`active`, the control routes that change them, and one listing failing
//! (500, 401) through fault injection while the others answer.

use crate::common::{AGENT, KEY, TestServer, assert_error, json, start, start_with};
use lua_devserver::{Config, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

const KINDS: [&str; 5] = [
    "skills",
    "webhooks",
    "jobs",
    "preprocessors",
    "postprocessors",
];

fn seeded(agent: Value) -> Config {
    let seed: Seed = serde_json::from_value(json!({ "agents": [agent] })).unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    config
}

async fn data(s: &TestServer, path: &str) -> Value {
    let (status, body) = json(s.get(path).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    assert_eq!(body["success"], true, "{body}");
    body["data"].clone()
}

fn listing(kind: &str) -> String {
    format!("/developer/{kind}/{AGENT}")
}

fn mcp_listing() -> String {
    format!("/developer/agents/{AGENT}/mcp-servers")
}

#[tokio::test]
async fn seeded_listings_have_the_contract_shapes() {
    let s = start_with(seeded(json!({
        "id": AGENT,
        "name": "Support Bot",
        "skills": [
            {"id": "skill_orders", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]},
            {"id": "skill_faq", "name": "faq", "versions": ["0.1.0", "0.2.0"], "active": "0.1.0"},
        ],
        "webhooks": [{"id": "wh_1", "name": "payments", "versions": ["2.0.0"]}],
        "jobs": [{"id": "job_1", "name": "nightly", "versions": []}],
        "preprocessors": [{"id": "pre_1", "name": "clean", "versions": ["1.0.0"]}],
        "postprocessors": [{"id": "post_1", "name": "sign", "versions": ["1.0.0", "1.1.0"]}],
        "mcpServers": [
            {"id": "mcp_docs", "name": "docs"},
            {"id": "mcp_manual", "name": "tickets", "source": "manual", "active": true},
            {"id": "mcp_off", "name": "old", "active": false},
            {"id": "mcp_int", "name": "crm", "source": "integration"},
        ],
    })))
    .await;

    assert_eq!(
        data(&s, &listing("skills")).await,
        json!({"skills": [
            {"id": "skill_orders", "name": "order-skill", "versions": [
                {"id": "skill_orders_v1", "version": "1.0.0", "active": false},
                {"id": "skill_orders_v2", "version": "1.0.1", "active": true},
            ], "activeVersionId": "skill_orders_v2"},
            {"id": "skill_faq", "name": "faq", "versions": [
                {"id": "skill_faq_v1", "version": "0.1.0", "active": true},
                {"id": "skill_faq_v2", "version": "0.2.0", "active": false},
            ], "activeVersionId": "skill_faq_v1"},
        ]})
    );
    assert_eq!(
        data(&s, &listing("webhooks")).await,
        json!({"webhooks": [{"id": "wh_1", "name": "payments", "versions": [
            {"id": "wh_1_v1", "version": "2.0.0", "active": true}
        ], "activeVersionId": "wh_1_v1"}]})
    );
    // No versions: no active version, no activeVersionId.
    assert_eq!(
        data(&s, &listing("jobs")).await,
        json!({"jobs": [{"id": "job_1", "name": "nightly", "versions": []}]})
    );
    assert_eq!(
        data(&s, &listing("preprocessors")).await["preprocessors"][0]["activeVersionId"],
        "pre_1_v1"
    );
    assert_eq!(
        data(&s, &listing("postprocessors")).await["postprocessors"][0]["activeVersionId"],
        "post_1_v2"
    );
    // MCP servers: a bare array; source and active only when set.
    assert_eq!(
        data(&s, &mcp_listing()).await,
        json!([
            {"id": "mcp_docs", "name": "docs"},
            {"id": "mcp_manual", "name": "tickets", "source": "manual", "active": true},
            {"id": "mcp_off", "name": "old", "active": false},
            {"id": "mcp_int", "name": "crm", "source": "integration"},
        ])
    );
    // The kinds the devserver does not model stay empty.
    assert_eq!(
        data(&s, &format!("/developer/triggers/{AGENT}")).await,
        json!({"triggers": []})
    );
}

/// The contract's active-version rule, applied as a client does.
fn active_by_rule(item: &Value) -> Option<String> {
    let versions = item["versions"].as_array()?;
    let by_id = item["activeVersionId"].as_str().and_then(|id| {
        versions
            .iter()
            .find(|v| v["id"].as_str() == Some(id) || v["versionId"].as_str() == Some(id))
    });
    let chosen = by_id
        .or_else(|| versions.iter().find(|v| v["active"] == true))
        .or_else(|| versions.last())?;
    chosen["version"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn every_active_marker_style_yields_the_active_version_by_the_rule() {
    let styles = ["id", "versionId", "flag", "last"];
    let skills: Vec<Value> = styles
        .iter()
        .map(|by| {
            json!({"name": format!("s-{by}"), "versions": ["1", "2", "3"], "active": "2", "activeBy": by})
        })
        .collect();
    let s = start_with(seeded(json!({"id": AGENT, "skills": skills}))).await;
    let listed = data(&s, &listing("skills")).await;
    let items = listed["skills"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for (item, by) in items.iter().zip(styles) {
        assert_eq!(active_by_rule(item).as_deref(), Some("2"), "{by}: {item}");
        let has_active_id = item.get("activeVersionId").is_some();
        assert_eq!(
            has_active_id,
            matches!(by, "id" | "versionId"),
            "{by}: {item}"
        );
        let has_flags = item["versions"][0].get("active").is_some();
        assert_eq!(has_flags, matches!(by, "id" | "flag"), "{by}: {item}");
    }
    // `versionId` style: versions carry versionId, not id.
    assert!(items[1]["versions"][0].get("id").is_none(), "{}", items[1]);
    assert!(
        items[1]["versions"][0]["versionId"].is_string(),
        "{}",
        items[1]
    );
}

#[tokio::test]
async fn an_agent_without_primitives_answers_empty_lists_and_unknown_agents_404() {
    let s = start().await;
    for kind in KINDS {
        assert_eq!(data(&s, &listing(kind)).await, json!({ kind: [] }));
        let (status, body) = json(
            s.get(&format!("/developer/{kind}/baseAgent_agent_404"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "AGENT_NOT_FOUND");
    }
    assert_eq!(data(&s, &mcp_listing()).await, json!([]));
    let (status, body) = json(
        s.get("/developer/agents/baseAgent_agent_404/mcp-servers")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "AGENT_NOT_FOUND");
    // Listings need the key like every API route.
    let resp = s
        .client
        .get(format!("{}{}", s.url, listing("skills")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

fn control(kind: &str) -> String {
    format!("/_devserver/agents/{AGENT}/primitives/{kind}")
}

async fn call(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    json(req.send().await.unwrap()).await
}

#[tokio::test]
async fn control_routes_add_publish_activate_and_delete() {
    let s = start().await;
    let (status, body) = call(
        s.post(&control("skills"))
            .json(&json!({"id": "skill_1", "name": "order-skill", "versions": ["1.0.0"]})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["activeVersionId"], "skill_1_v1");

    // A new version becomes active (a deploy); `activate: false` only stages it.
    let (status, body) = call(
        s.post(&format!("{}/order-skill/versions", control("skills")))
            .json(&json!({"version": "1.0.1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["activeVersionId"], "skill_1_v2");
    let (status, body) = call(
        s.post(&format!("{}/order-skill/versions", control("skills")))
            .json(&json!({"version": "2.0.0-rc1", "activate": false})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["activeVersionId"], "skill_1_v2");

    // Roll back to 1.0.0: the listing shows it.
    let (status, body) = call(
        s.post(&format!("{}/order-skill/active", control("skills")))
            .json(&json!({"version": "1.0.0"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let listed = data(&s, &listing("skills")).await;
    let item = &listed["skills"][0];
    assert_eq!(active_by_rule(item).as_deref(), Some("1.0.0"), "{item}");
    assert_eq!(item["versions"].as_array().unwrap().len(), 3);

    // Refusals: unknown version, duplicate version, duplicate name, unknown item, unknown kind.
    let (status, body) = call(
        s.post(&format!("{}/order-skill/active", control("skills")))
            .json(&json!({"version": "9.9.9"})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "VERSION_NOT_FOUND");
    let (status, body) = call(
        s.post(&format!("{}/order-skill/versions", control("skills")))
            .json(&json!({"version": "1.0.1"})),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "ALREADY_EXISTS");
    let (status, body) = call(
        s.post(&control("skills"))
            .json(&json!({"name": "order-skill"})),
    )
    .await;
    assert_error(status, &body, StatusCode::CONFLICT, "ALREADY_EXISTS");
    let (status, body) = call(
        s.post(&format!("{}/nope/active", control("skills")))
            .json(&json!({"version": "1"})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "ITEM_NOT_FOUND");
    let (status, body) = call(s.post(&control("gadgets")).json(&json!({"name": "x"}))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "KIND_NOT_FOUND");
    let (status, body) = call(
        s.post(&control("skills"))
            .json(&json!({"name": "x", "versions": ["1", "1"]})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(
        body["message"].as_str().unwrap().contains("versions[1]"),
        "{body}"
    );
    let (status, body) = call(s.post(&control("skills")).json(&json!({"nam": "x"}))).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(body["message"].as_str().unwrap().contains("nam"), "{body}");
    let (status, body) = call(
        s.post("/_devserver/agents/baseAgent_agent_404/primitives/jobs")
            .json(&json!({"name": "x"})),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "AGENT_NOT_FOUND");

    // Delete.
    let (status, body) = call(s.delete(&format!("{}/order-skill", control("skills")))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(data(&s, &listing("skills")).await, json!({"skills": []}));
    let (status, body) = call(s.delete(&format!("{}/order-skill", control("skills")))).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "ITEM_NOT_FOUND");

    // Control routes need the key.
    let resp = s
        .client
        .post(format!("{}{}", s.url, control("jobs")))
        .json(&json!({"name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn mcp_servers_are_added_and_deleted_through_control_routes() {
    let s = start().await;
    let (status, body) = call(
        s.post(&control("mcp-servers"))
            .json(&json!({"name": "docs", "source": "manual"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["data"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("mcp_"), "{id}");
    assert_eq!(
        data(&s, &mcp_listing()).await,
        json!([{"id": id, "name": "docs", "source": "manual"}])
    );
    let (status, body) = call(
        s.post(&format!("{}/docs/versions", control("mcp-servers")))
            .json(&json!({"version": "1"})),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    let (status, _) = call(s.delete(&format!("{}/docs", control("mcp-servers")))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(data(&s, &mcp_listing()).await, json!([]));
}

#[tokio::test]
async fn one_listing_fails_while_the_others_answer() {
    let s = start().await;
    for (status, code) in [
        (500, StatusCode::INTERNAL_SERVER_ERROR),
        (401, StatusCode::UNAUTHORIZED),
    ] {
        let (added, body) = call(s.post("/_devserver/faults").json(
            &json!({"pathPrefix": format!("/developer/webhooks/{AGENT}"), "status": status}),
        ))
        .await;
        assert_eq!(added, StatusCode::CREATED, "{body}");
        let (got, body) = call(s.get(&listing("webhooks"))).await;
        assert_error(got, &body, code, "INJECTED_FAULT");
        for kind in ["skills", "jobs", "preprocessors", "postprocessors"] {
            assert_eq!(
                data(&s, &listing(kind)).await,
                json!({ kind: [] }),
                "{kind}"
            );
        }
        assert_eq!(data(&s, &mcp_listing()).await, json!([]));
        let (cleared, _) = call(s.delete("/_devserver/faults")).await;
        assert_eq!(cleared, StatusCode::OK);
    }
    // The MCP listing alone (its prefix does not cover the persona routes).
    call(s.post("/_devserver/faults").json(
        &json!({"pathPrefix": format!("/developer/agents/{AGENT}/mcp-servers"), "status": 500}),
    ))
    .await;
    let (got, body) = call(s.get(&mcp_listing())).await;
    assert_error(
        got,
        &body,
        StatusCode::INTERNAL_SERVER_ERROR,
        "INJECTED_FAULT",
    );
    data(&s, &format!("/developer/agents/{AGENT}/persona/versions")).await;
    data(&s, &listing("skills")).await;
    // Listings are counted under their route template.
    let counter = data(&s, "/_devserver/requests").await;
    assert_eq!(
        counter["byRoute"]["GET /developer/webhooks/{agentId}"], 2,
        "{counter}"
    );
}
