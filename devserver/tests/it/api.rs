//! The platform API over real HTTP: shapes, envelope, errors, auth, idempotency, versioning,
//! concurrency and the request counter.

use crate::common::{AGENT, KEY, assert_error, json, latest_by_created_date, start, start_with};
use lua_devserver::{Config, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};

#[tokio::test]
async fn get_agent_answers_the_envelope_with_the_agent() {
    let s = start().await;
    let (status, body) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], true);
    let data = body["data"].as_object().unwrap();
    assert_eq!(data["id"], AGENT);
    assert_eq!(data["name"], "Support Bot");
    assert_eq!(data["model"], Value::Null);
    assert_eq!(data["governance"], Value::Null);
    assert!(data["createdDate"].as_i64().unwrap() > 1_600_000_000_000);
    s.server.shutdown().await;
}

#[tokio::test]
async fn every_route_wants_the_bearer_key() {
    let s = start().await;
    let routes = [
        ("GET", format!("/admin/agents/{AGENT}")),
        ("GET", format!("/developer/agents/{AGENT}/persona/versions")),
        ("POST", format!("/developer/agents/{AGENT}/persona/version")),
        (
            "POST",
            format!("/developer/agents/{AGENT}/persona/version/1"),
        ),
        ("PATCH", "/agents/baseAgent/sub-agent".to_owned()),
        ("GET", format!("/developer/skills/{AGENT}")),
        ("GET", "/_devserver/requests".to_owned()),
        ("POST", "/_devserver/faults".to_owned()),
    ];
    for (method, path) in &routes {
        let url = format!("{}{path}", s.url);
        let method: reqwest::Method = method.parse().unwrap();
        let body = r#"{"persona":"x","id":"agent_123","count":1,"status":500}"#;
        for auth in [
            None,
            Some("Bearer wrong-key"),
            Some(&*format!("Basic {KEY}")),
        ] {
            let mut req = s.client.request(method.clone(), &url).body(body);
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let (status, body) = json(req.send().await.unwrap()).await;
            assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
        }
    }
    // Nothing was created or queued by the refused requests.
    assert!(s.versions(AGENT, None).await.is_empty());
    let (_, faults) = json(s.get("/_devserver/faults").send().await.unwrap()).await;
    assert_eq!(faults["data"]["faults"], json!([]));
}

#[tokio::test]
async fn unknown_agents_and_routes_are_json_404s() {
    let s = start().await;
    let ghost = "baseAgent_agent_ghost";
    let cases = [
        s.get(&format!("/admin/agents/{ghost}")),
        s.get(&format!("/developer/agents/{ghost}/persona/versions")),
        s.post(&format!("/developer/agents/{ghost}/persona/version"))
            .json(&json!({"persona": "x"})),
        s.post(&format!("/developer/agents/{ghost}/persona/version/1"))
            .json(&json!({})),
        s.patch("/agents/baseAgent/sub-agent")
            .json(&json!({"id": "agent_ghost", "name": "n"})),
        s.get(&format!("/developer/skills/{ghost}")),
        s.get(&format!("/developer/agents/{ghost}/mcp-servers")),
    ];
    for req in cases {
        let (status, body) = json(req.send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "AGENT_NOT_FOUND");
        assert!(body["message"].as_str().unwrap().contains(ghost), "{body}");
    }
    for req in [s.get("/no/such/route"), s.get("/_devserver/nothing")] {
        let (status, body) = json(req.send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "ROUTE_NOT_FOUND");
    }
    // A known path with another method: 405, JSON, with `Allow`.
    for (req, allow) in [
        (s.delete(&format!("/admin/agents/{AGENT}")), "GET,HEAD"),
        (s.get("/login"), "POST"),
    ] {
        let resp = req.send().await.unwrap();
        let allowed = resp
            .headers()
            .get("allow")
            .map(|v| v.to_str().unwrap().to_owned());
        let (status, body) = json(resp).await;
        assert_error(
            status,
            &body,
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
        );
        assert_eq!(allowed.as_deref(), Some(allow), "{body}");
    }
    let (_, body) = json(s.get("/no/such/route").send().await.unwrap()).await;
    assert_eq!(body["message"], "Cannot GET /no/such/route");
}

#[tokio::test]
async fn patch_sub_agent_updates_name_and_model() {
    let s = start().await;
    let (status, body) = json(
        s.patch("/agents/baseAgent/sub-agent")
            .json(&json!({"id": "agent_123", "name": "New Name"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["data"]["id"], AGENT);
    assert_eq!(body["data"]["name"], "New Name");

    s.patch("/agents/baseAgent/sub-agent")
        .json(&json!({"id": "agent_123", "model": "gpt-4o"}))
        .send()
        .await
        .unwrap();
    let (_, body) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        body["data"]["name"], "New Name",
        "a model-only patch keeps the name"
    );
    assert_eq!(body["data"]["model"], "gpt-4o");
}

#[tokio::test]
async fn any_agent_field_is_stored_and_answered_back() {
    let s = start().await;
    let patch = |body: Value| {
        let req = s.patch("/agents/baseAgent/sub-agent").json(&body);
        async move { json(req.send().await.unwrap()).await }
    };
    // A field the devserver has never heard of: stored, answered, read back, kept by a
    // patch of another field, cleared with null (and answered as null).
    let (status, body) =
        patch(json!({"id": "agent_123", "description": "Answers billing", "limits": {"daily": 3}}))
            .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["description"], "Answers billing");
    assert_eq!(body["data"]["limits"], json!({"daily": 3}));
    patch(json!({"id": "agent_123", "name": "Renamed"})).await;
    let (_, body) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["description"], "Answers billing", "{body}");
    assert_eq!(body["data"]["limits"], json!({"daily": 3}));
    assert_eq!(body["data"]["name"], "Renamed");
    assert_eq!(body["data"]["id"], AGENT);
    let (_, body) = patch(json!({"id": "agent_123", "description": null})).await;
    assert_eq!(body["data"]["description"], Value::Null);
    assert!(
        body["data"]
            .as_object()
            .unwrap()
            .contains_key("description")
    );
    // The platform's own fields are not data: the id comes from the path, createdDate stays.
    let created = body["data"]["createdDate"].clone();
    let (status, body) = patch(json!({"id": "agent_123", "createdDate": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("`createdDate`"),
        "{body}"
    );
    let (_, body) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["data"]["createdDate"], created);
}

#[tokio::test]
async fn bad_bodies_are_json_400s_naming_the_field() {
    let s = start().await;
    let version_path = format!("/developer/agents/{AGENT}/persona/version");
    let cases: Vec<(reqwest::RequestBuilder, &str, &str)> = vec![
        (
            s.post(&version_path)
                .header("content-type", "application/json")
                .body("{\"persona\": "),
            "INVALID_JSON",
            "JSON",
        ),
        (
            s.post(&version_path)
                .header("content-type", "application/json")
                .body("not json"),
            "INVALID_JSON",
            "JSON",
        ),
        (
            s.post(&version_path).json(&json!(["persona"])),
            "VALIDATION_ERROR",
            "object",
        ),
        (
            s.post(&version_path).json(&json!({})),
            "VALIDATION_ERROR",
            "`persona`",
        ),
        (
            s.post(&version_path).json(&json!({"persona": 42})),
            "VALIDATION_ERROR",
            "`persona`",
        ),
        (
            s.post(&version_path).json(&json!({"persona": ["a"]})),
            "VALIDATION_ERROR",
            "`persona`",
        ),
        (
            s.post(&version_path).json(&json!({"persona": null})),
            "VALIDATION_ERROR",
            "`persona`",
        ),
        (
            s.post(&version_path)
                .json(&json!({"persona": {"base": "ok", "voice": 3}})),
            "VALIDATION_ERROR",
            "`persona.voice`",
        ),
        (
            s.patch("/agents/baseAgent/sub-agent")
                .json(&json!({"id": "agent_123", "name": 5})),
            "VALIDATION_ERROR",
            "`name`",
        ),
        (
            s.patch("/agents/baseAgent/sub-agent")
                .json(&json!({"id": "agent_123", "model": false})),
            "VALIDATION_ERROR",
            "`model`",
        ),
        (
            s.patch("/agents/baseAgent/sub-agent")
                .json(&json!({"name": "x"})),
            "VALIDATION_ERROR",
            "`id`",
        ),
        (
            s.patch("/agents/baseAgent/sub-agent")
                .json(&json!({"id": 7})),
            "VALIDATION_ERROR",
            "`id`",
        ),
        (
            s.post(&format!("/developer/agents/{AGENT}/persona/version/abc"))
                .json(&json!({})),
            "VALIDATION_ERROR",
            "`version`",
        ),
        (
            s.post(&format!("/developer/agents/{AGENT}/persona/version/1"))
                .header("content-type", "application/json")
                .body("[]"),
            "VALIDATION_ERROR",
            "object",
        ),
        (
            s.get(&format!(
                "/developer/agents/{AGENT}/persona/versions?status=live"
            )),
            "VALIDATION_ERROR",
            "`status`",
        ),
    ];
    for (req, code, needle) in cases {
        let (status, body) = json(req.send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, code);
        assert!(
            body["message"].as_str().unwrap().contains(needle),
            "{needle}: {body}"
        );
    }
    assert!(
        s.versions(AGENT, None).await.is_empty(),
        "no bad request created a version"
    );
}

#[tokio::test]
async fn bodies_over_one_mib_get_413() {
    let s = start().await;
    let big = format!("{{\"persona\": \"{}\"}}", "a".repeat(1024 * 1024));
    let (status, body) = json(
        s.post(&format!("/developer/agents/{AGENT}/persona/version"))
            .header("content-type", "application/json")
            .body(big)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "PAYLOAD_TOO_LARGE",
    );
    // Just under the limit is fine.
    let fits = format!("{{\"persona\": \"{}\"}}", "a".repeat(1024 * 1024 - 100));
    let resp = s
        .post(&format!("/developer/agents/{AGENT}/persona/version"))
        .header("content-type", "application/json")
        .body(fits)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(s.versions(AGENT, None).await.len(), 1);
}

#[tokio::test]
async fn push_creates_a_published_current_version() {
    let s = start().await;
    let (status, body) = json(
        s.post(&format!("/developer/agents/{AGENT}/persona/version"))
            .json(&json!({"persona": "You are helpful.\n\nBe brief."}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["success"], true);
    let data = &body["data"];
    assert_eq!(data["version"], 1);
    assert_eq!(data["status"], "published");
    assert_eq!(data["isCurrent"], true);
    let created = data["createdDate"].as_i64().unwrap();

    s.push(
        AGENT,
        json!({"base": "Object persona", "voice": "Speak slowly"}),
    )
    .await;
    let versions = s.versions(AGENT, Some("published")).await;
    assert_eq!(versions.len(), 2);
    let v1 = &versions[0];
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["persona"], "You are helpful.\n\nBe brief.");
    assert_eq!(v1["createdDate"], created);
    assert_eq!(v1["isCurrent"], false);
    assert_eq!(v1["status"], "published");
    assert!(v1["createdBy"].is_string());
    let v2 = &versions[1];
    assert_eq!(
        v2["persona"],
        json!({"base": "Object persona", "voice": "Speak slowly"})
    );
    assert_eq!(v2["isCurrent"], true);
    assert!(v2["createdDate"].as_i64().unwrap() > created);
    let keys: Vec<&str> = v2.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "version",
            "persona",
            "createdDate",
            "isCurrent",
            "status",
            "createdBy"
        ]
    );
}

#[tokio::test]
async fn idempotency_key_replays_the_first_answer_and_creates_nothing() {
    let s = start().await;
    let path = format!("/developer/agents/{AGENT}/persona/version");
    let send = |key: &'static str, persona: &'static str| {
        s.post(&path)
            .header("x-idempotency-key", key)
            .json(&json!({ "persona": persona }))
            .send()
    };
    let first = send("k-1", "one").await.unwrap();
    assert!(first.headers().get("x-idempotent-replayed").is_none());
    let first = (first.status(), first.text().await.unwrap());
    let again = send("k-1", "one").await.unwrap();
    assert_eq!(again.headers()["x-idempotent-replayed"], "true");
    let again = (again.status(), again.text().await.unwrap());
    assert_eq!(first, again, "same status and byte-identical body");
    assert_eq!(first.0, StatusCode::CREATED);
    assert_eq!(s.versions(AGENT, None).await.len(), 1);

    // A different key is a different request.
    let other = send("k-2", "two").await.unwrap();
    assert_eq!(other.status(), StatusCode::CREATED);
    assert_eq!(s.versions(AGENT, None).await.len(), 2);

    // Keys are scoped per agent and route: k-1 on the PATCH route is a new request.
    let first_patch = s
        .patch("/agents/baseAgent/sub-agent")
        .header("x-idempotency-key", "k-1")
        .json(&json!({"id": "agent_123", "name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert!(first_patch.headers().get("x-idempotent-replayed").is_none());
    // The same key with another body is refused (422) and changes nothing...
    let reused = s
        .patch("/agents/baseAgent/sub-agent")
        .header("x-idempotency-key", "k-1")
        .json(&json!({"id": "agent_123", "name": "Other"}))
        .send()
        .await
        .unwrap();
    assert!(reused.headers().get("x-idempotent-replayed").is_none());
    let (status, body) = json(reused).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    assert!(body["message"].as_str().unwrap().contains("k-1"), "{body}");
    // ... and so is another path (another version to deploy) under the same key.
    let deploy = |n: &str| {
        s.post(&format!("/developer/agents/{AGENT}/persona/version/{n}"))
            .header("x-idempotency-key", "d-1")
            .json(&json!({}))
            .send()
    };
    assert_eq!(deploy("1").await.unwrap().status(), StatusCode::OK);
    let (status, body) = json(deploy("2").await.unwrap()).await;
    assert_error(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "IDEMPOTENCY_KEY_REUSED",
    );
    // The same request again still replays.
    let replay = s
        .patch("/agents/baseAgent/sub-agent")
        .header("x-idempotency-key", "k-1")
        .json(&json!({"id": "agent_123", "name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.headers()["x-idempotent-replayed"], "true");
    let (_, agent) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        agent["data"]["name"], "Renamed",
        "the replay changed nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushes_get_distinct_gapless_versions() {
    let s = start().await;
    let mut tasks = Vec::new();
    for t in 0..8 {
        let client = s.client.clone();
        let url = format!("{}/developer/agents/{AGENT}/persona/version", s.url);
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            for i in 0..50 {
                let resp = client
                    .post(&url)
                    .bearer_auth(KEY)
                    .json(&json!({ "persona": format!("task {t} push {i}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(resp.status(), StatusCode::CREATED);
                let body: Value = resp.json().await.unwrap();
                got.push(body["data"]["version"].as_i64().unwrap());
            }
            got
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=400).collect::<Vec<i64>>());

    let versions = s.versions(AGENT, None).await;
    assert_eq!(versions.len(), 400);
    let dates: Vec<i64> = versions
        .iter()
        .map(|v| v["createdDate"].as_i64().unwrap())
        .collect();
    assert!(
        dates.windows(2).all(|w| w[0] < w[1]),
        "createdDate strictly increases with version"
    );
    let current: Vec<&Value> = versions.iter().filter(|v| v["isCurrent"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["version"], 400);
}

fn seeded_config() -> Config {
    let seed: Seed = serde_json::from_value(json!({"agents": [{
        "id": AGENT, "name": "Support Bot", "model": "gpt-4o",
        "personaVersions": [
            {"persona": "v1 text"},
            {"persona": "v2 text"},
            {"persona": "v3 text"},
            {"persona": "draft text", "status": "draft"}
        ]
    }]}))
    .unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    config
}

#[tokio::test]
async fn rollback_moves_current_but_not_latest_published() {
    let s = start_with(seeded_config()).await;
    let deploy = |n: &str| {
        s.post(&format!("/developer/agents/{AGENT}/persona/version/{n}"))
            .json(&json!({}))
            .send()
    };
    let (status, body) = json(deploy("1").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["version"], 1);
    assert_eq!(body["data"]["isCurrent"], true);

    let published = s.versions(AGENT, Some("published")).await;
    let current: Vec<i64> = published
        .iter()
        .filter(|v| v["isCurrent"] == true)
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(current, [1]);
    let latest = latest_by_created_date(&published);
    assert_eq!(latest["version"], 3);
    assert_eq!(latest["persona"], "v3 text");

    let (status, body) = json(deploy("9").await.unwrap()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "VERSION_NOT_FOUND");
    let (status, body) = json(deploy("4").await.unwrap()).await;
    assert_error(
        status,
        &body,
        StatusCode::BAD_REQUEST,
        "VERSION_NOT_PUBLISHED",
    );
    assert!(body["message"].as_str().unwrap().contains("draft"));

    // An empty body is accepted as `{}`, with the JSON content type (without it: 415).
    let resp = s
        .post(&format!("/developer/agents/{AGENT}/persona/version/3"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(resp).await;
    assert_error(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "UNSUPPORTED_MEDIA_TYPE",
    );
    let resp = s
        .post(&format!("/developer/agents/{AGENT}/persona/version/3"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let all = s.versions(AGENT, None).await;
    assert_eq!(all.iter().filter(|v| v["isCurrent"] == true).count(), 1);
    assert_eq!(all[2]["isCurrent"], true);
}

#[tokio::test]
async fn drafts_only_show_without_the_published_filter() {
    let s = start_with(seeded_config()).await;
    let published = s.versions(AGENT, Some("published")).await;
    assert_eq!(published.len(), 3);
    assert!(published.iter().all(|v| v["status"] == "published"));
    let drafts = s.versions(AGENT, Some("draft")).await;
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["persona"], "draft text");
    assert_eq!(drafts[0]["isCurrent"], false);
    assert_eq!(s.versions(AGENT, None).await.len(), 4);
    // The seeded model and name are served.
    let (_, agent) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(agent["data"]["model"], "gpt-4o");
}

#[tokio::test]
async fn primitive_lists_are_empty_for_known_agents() {
    let s = start().await;
    let cases = [
        ("skills", "skills"),
        ("webhooks", "webhooks"),
        ("triggers", "triggers"),
        ("jobs", "jobs"),
        ("preprocessors", "preprocessors"),
        ("postprocessors", "postprocessors"),
        ("devices", "devices"),
        ("device-triggers", "triggers"),
        ("voice-agents", "voices"),
        ("workflows", "workflows"),
    ];
    for (kind, key) in cases {
        let (status, body) = json(
            s.get(&format!("/developer/{kind}/{AGENT}"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{kind}");
        assert_eq!(
            body,
            json!({"success": true, "data": { key: [] }}),
            "{kind}"
        );
    }
    let (status, body) = json(
        s.get(&format!("/developer/agents/{AGENT}/mcp-servers"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"success": true, "data": []}));
}

#[tokio::test]
async fn request_counter_counts_api_requests_by_route_template() {
    let s = start().await;
    s.get(&format!("/admin/agents/{AGENT}"))
        .send()
        .await
        .unwrap();
    s.get("/admin/agents/someone_else").send().await.unwrap();
    s.push(AGENT, json!("p")).await;
    s.get(&format!(
        "/developer/agents/{AGENT}/persona/versions?status=published"
    ))
    .send()
    .await
    .unwrap();
    // Unauthorised requests still reached the route: counted.
    s.client
        .get(format!("{}/admin/agents/{AGENT}", s.url))
        .send()
        .await
        .unwrap();
    // Not API requests: not counted.
    s.client.get(format!("{}/", s.url)).send().await.unwrap();
    s.get("/no/such/route").send().await.unwrap();
    s.get("/_devserver/faults").send().await.unwrap();

    let (status, body) = json(s.get("/_devserver/requests").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({
            "total": 5,
            "byRoute": {
                "GET /admin/agents/{agentId}": 3,
                "GET /developer/agents/{agentId}/persona/versions": 1,
                "POST /developer/agents/{agentId}/persona/version": 1
            },
            // One client, kept alive: one connection.
            "connections": 1
        })
    );
    let (status, body) = json(s.delete("/_devserver/requests").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"total": 0, "byRoute": {}, "connections": 0})
    );
    s.patch("/agents/baseAgent/sub-agent")
        .json(&json!({"id": "agent_123", "name": "n"}))
        .send()
        .await
        .unwrap();
    let (_, body) = json(s.get("/_devserver/requests").send().await.unwrap()).await;
    assert_eq!(
        body["data"],
        json!({"total": 1, "byRoute": {"PATCH /agents/{baseAgentId}/sub-agent": 1}, "connections": 0})
    );
}

#[tokio::test]
async fn insecure_mode_needs_no_key_and_a_missing_key_refuses_to_start() {
    let mut config = Config::for_tests("");
    config.api_key = None;
    let err = lua_devserver::start(config.clone()).await.unwrap_err();
    assert!(err.to_string().contains("LUA_API_KEY"), "{err}");
    config.api_key = Some(String::new());
    assert!(
        lua_devserver::start(config.clone()).await.is_err(),
        "an empty key is no key"
    );

    config.insecure_no_auth = true;
    config.agents.push(AGENT.parse().unwrap());
    let s = start_with(config).await;
    let (status, body) = json(
        s.client
            .get(format!("{}/admin/agents/{AGENT}", s.url))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["data"]["name"], Value::Null);
}
