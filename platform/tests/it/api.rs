//! The typed helpers: endpoints, payload shapes, latest-published selection, the
//! single-flight cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::common::{Reply, client, client_with, serve};
use lua_platform::{PlatformError, VersionStatus};
use serde_json::{Map, Value, json};

const AGENT: &str = "baseAgent_agent_123";
const VERSIONS: &str = "/developer/agents/baseAgent_agent_123/persona/versions?status=published";

fn version(v: u64, created: Value, status: &str, current: bool) -> Value {
    json!({
        "version": v,
        "persona": format!("persona v{v}"),
        "createdDate": created,
        "isCurrent": current,
        "status": status,
        "createdBy": "dana@example.com",
    })
}

#[tokio::test]
async fn latest_published_is_the_greatest_created_date() {
    // Shuffled; v2 is current after a rollback; a stray draft is the newest of all.
    let mock = serve(|_, _| {
        Reply::ok(json!({"versions": [
            version(2, json!(1_700_000_200_000_i64), "published", true),
            version(9, json!(1_700_000_900_000_i64), "draft", false),
            version(4, json!(1_700_000_400_000_i64), "published", false),
            version(1, json!(1_700_000_100_000_i64), "published", false),
            version(3, json!(1_700_000_300_000_i64), "published", false),
        ]}))
    })
    .await;
    let latest = client(&mock.base_url)
        .latest_published_persona(AGENT, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, 4);
    assert_eq!(latest.persona, json!("persona v4"));
    assert_eq!(latest.created_date, 1_700_000_400_000);
    assert!(!latest.is_current);
    assert_eq!(latest.created_by.as_deref(), Some("dana@example.com"));
    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, VERSIONS);
}

#[tokio::test]
async fn latest_published_does_not_trust_version_numbers_or_order() {
    let mock = serve(|_, _| {
        Reply::ok(json!({"versions": [
            version(5, json!(100), "published", false),
            version(6, json!(300), "published", false),
            version(7, json!(200), "published", true),
        ]}))
    })
    .await;
    let latest = client(&mock.base_url)
        .latest_published_persona(AGENT, false)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(latest.version, 6);
}

#[tokio::test]
async fn nothing_published_is_none() {
    let mock = serve(|_, n| {
        if n == 0 {
            Reply::ok(json!({"versions": []}))
        } else {
            // Only drafts: a careless server ignored the filter.
            Reply::ok(json!({"versions": [version(1, json!(5), "draft", false)]}))
        }
    })
    .await;
    let client = client(&mock.base_url);
    assert_eq!(
        client.latest_published_persona(AGENT, false).await.unwrap(),
        None
    );
    assert_eq!(
        client.latest_published_persona(AGENT, true).await.unwrap(),
        None
    );
    assert_eq!(mock.count(), 2, "fresh bypasses the cache");
}

#[tokio::test]
async fn a_non_numeric_created_date_is_a_protocol_error() {
    let mock = serve(|_, _| {
        Reply::ok(json!({"versions": [
            version(1, json!(1_700_000_100_000_i64), "published", false),
            version(2, json!("2024-05-01T10:00:00Z"), "published", true),
        ]}))
    })
    .await;
    let err = client(&mock.base_url)
        .latest_published_persona(AGENT, false)
        .await
        .unwrap_err();
    match &err {
        PlatformError::Protocol {
            url,
            reason,
            excerpt,
        } => {
            assert_eq!(url, &format!("{}{VERSIONS}", mock.base_url));
            assert!(
                reason.starts_with("versions[1]: createdDate is not a number"),
                "{reason}"
            );
            assert!(excerpt.contains("\"version\":2"), "{excerpt}");
        }
        other => panic!("expected Protocol, got {other:?}"),
    }
}

#[tokio::test]
async fn versions_list_of_the_wrong_shape_is_a_protocol_error() {
    let mock = serve(|r, _| match r.path.as_str() {
        p if p.contains("no-list") => Reply::ok(json!([version(1, json!(1), "published", true)])),
        p if p.contains("not-array") => Reply::ok(json!({"versions": {"a": 1}})),
        _ => Reply::ok(json!({"versions": [{"version": 1, "persona": 42, "createdDate": 1, "status": "published"}]})),
    })
    .await;
    let client = client(&mock.base_url);
    for (agent, needle) in [
        ("x_no-list", "expected an object with a \"versions\" list"),
        ("x_not-array", "\"versions\" is not a list"),
        (
            "x_bad-persona",
            "versions[0]: persona is neither a string nor an object of strings",
        ),
    ] {
        let err = client.persona_versions(agent, None).await.unwrap_err();
        assert!(
            matches!(&err, PlatformError::Protocol { reason, .. } if reason == needle),
            "{agent}: {err}"
        );
    }
}

#[tokio::test]
async fn persona_versions_lists_with_and_without_a_filter() {
    let mock = serve(|_, _| {
        Reply::ok(json!({"versions": [
            {"version": 1, "persona": {"base": "b", "voice": "v", "text": null}, "createdDate": 10, "status": "draft"},
        ]}))
    })
    .await;
    let client = client(&mock.base_url);
    let all = client.persona_versions(AGENT, None).await.unwrap();
    assert_eq!(all.len(), 1);
    // A null channel means "absent".
    assert_eq!(all[0].persona, json!({"base": "b", "voice": "v"}));
    assert!(!all[0].is_current);
    assert_eq!(all[0].created_by, None);
    client
        .persona_versions(AGENT, Some(VersionStatus::Draft))
        .await
        .unwrap();
    let paths: Vec<String> = mock.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        [
            "/developer/agents/baseAgent_agent_123/persona/versions",
            "/developer/agents/baseAgent_agent_123/persona/versions?status=draft",
        ]
    );
}

#[tokio::test]
async fn agent_reads_the_admin_endpoint() {
    let mock = serve(|r, _| match r.path.as_str() {
        "/admin/agents/baseAgent_agent_123" => Reply::ok(json!({
            "name": "Support Bot", "model": null, "governance": {"maxTokens": 5}, "id": "agent_123"
        })),
        "/admin/agents/x_nameless" => Reply::json(200, json!({"name": null})),
        "/admin/agents/x_list" => Reply::ok(json!(["not", "an", "agent"])),
        "/admin/agents/x_number" => Reply::ok(json!({"name": 12})),
        _ => Reply::nest(404, "Agent not found"),
    })
    .await;
    let client = client(&mock.base_url);
    let agent = client.agent(AGENT).await.unwrap();
    assert_eq!(agent.string("name").unwrap(), Some("Support Bot"));
    assert_eq!(agent.get("model"), None);
    assert_eq!(agent.get("governance"), Some(&json!({"maxTokens": 5})));
    assert_eq!(agent.get("id"), Some(&json!("agent_123")));

    let nameless = client.agent("x_nameless").await.unwrap();
    assert_eq!(nameless.string("name").unwrap(), None);
    for id in ["x_list", "x_number"] {
        // The agent's shape, or its `name`'s when read as the string it must be.
        let err = client
            .agent(id)
            .await
            .and_then(|agent| agent.string("name").map(drop))
            .unwrap_err();
        assert!(matches!(err, PlatformError::Protocol { .. }), "{id}: {err}");
    }
    let err = client.agent("x_missing").await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::NotFound {
            url: format!("{}/admin/agents/x_missing", mock.base_url),
            message: "Agent not found".into(),
        }
    );
}

#[tokio::test]
async fn agent_ids_cannot_escape_their_path_segment() {
    let mock = serve(|_, _| Reply::ok(json!({"name": "n"}))).await;
    let client = client(&mock.base_url);
    client.agent("a/../b?x=1").await.unwrap();
    assert_eq!(mock.requests()[0].path, "/admin/agents/a%2F..%2Fb%3Fx%3D1");
    let err = client.agent("").await.unwrap_err();
    assert!(matches!(err, PlatformError::InvalidAgentId { .. }), "{err}");
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn update_agent_splits_the_id_into_path_and_body() {
    let mock = serve(|r, _| {
        let mut agent = r.json();
        agent["model"] = json!("gpt-x");
        Reply::ok(agent)
    })
    .await;
    let client = client(&mock.base_url);
    let mut fields = Map::new();
    fields.insert("name".into(), json!("New Name"));
    fields.insert("id".into(), json!("ignored"));
    let agent = client.update_agent(AGENT, fields).await.unwrap();
    assert_eq!(agent.string("name").unwrap(), Some("New Name"));
    assert_eq!(agent.string("model").unwrap(), Some("gpt-x"));

    let requests = mock.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "PATCH");
    assert_eq!(requests[0].path, "/agents/baseAgent/sub-agent");
    assert_eq!(
        requests[0].json(),
        json!({"id": "agent_123", "name": "New Name"})
    );
}

#[tokio::test]
async fn update_agent_refuses_an_id_without_underscore_before_any_request() {
    let mock = serve(|_, _| Reply::ok(json!({}))).await;
    let client = client(&mock.base_url);
    for id in ["baseAgent", "_agent_1", "baseAgent_"] {
        let err = client.update_agent(id, Map::new()).await.unwrap_err();
        assert!(
            matches!(&err, PlatformError::InvalidAgentId { agent_id, .. } if agent_id == id),
            "{id}: {err}"
        );
    }
    assert_eq!(mock.count(), 0);
}

#[tokio::test]
async fn create_and_deploy_persona_versions() {
    let mock = serve(|r, _| match r.path.as_str() {
        "/developer/agents/baseAgent_agent_123/persona/version" => {
            Reply::ok(json!({"version": 5, "status": "published"}))
        }
        "/developer/agents/x_bad/persona/version" => Reply::ok(json!({"id": "v5"})),
        _ => Reply::ok(json!({"deployed": true})),
    })
    .await;
    let client = client(&mock.base_url);
    let persona = json!({"base": "You are kind.", "voice": "Speak slowly."});
    assert_eq!(
        client
            .create_persona_version(AGENT, &persona)
            .await
            .unwrap(),
        5
    );
    client.deploy_persona_version(AGENT, 3).await.unwrap();
    let err = client
        .create_persona_version("x_bad", &json!("p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Protocol { reason, .. } if reason.contains("\"version\"")),
        "{err}"
    );

    let requests = mock.requests();
    assert_eq!(requests[0].method, "POST");
    assert_eq!(requests[0].json(), json!({"persona": persona}));
    assert_eq!(requests[1].method, "POST");
    assert_eq!(
        requests[1].path,
        "/developer/agents/baseAgent_agent_123/persona/version/3"
    );
    assert_eq!(requests[1].json(), json!({}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_reads_of_one_path_share_one_request() {
    let served = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&served);
    let mock = serve(move |_, _| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        // Slow enough that both callers are waiting on the same request.
        Reply::ok(json!({"name": format!("name {n}")})).after(Duration::from_millis(200))
    })
    .await;
    let client = client(&mock.base_url);
    // One caller on another task, through a clone: clones share the cache.
    let other = client.clone();
    let spawned = tokio::spawn(async move { other.agent(AGENT).await });
    let a = client.agent(AGENT).await;
    let b = spawned.await.unwrap();
    assert_eq!(a.unwrap().string("name").unwrap(), Some("name 0"));
    assert_eq!(b.unwrap().string("name").unwrap(), Some("name 0"));
    assert_eq!(mock.count(), 1);

    let fresh = client.agent_fresh(AGENT).await.unwrap();
    assert_eq!(fresh.string("name").unwrap(), Some("name 1"));
    assert_eq!(mock.count(), 2);

    // The fresh answer replaced the cached one.
    let again = client.agent(AGENT).await.unwrap();
    assert_eq!(again.string("name").unwrap(), Some("name 1"));
    assert_eq!(mock.count(), 2);
}

#[tokio::test]
async fn errors_are_cached_too() {
    let mock = serve(|_, _| Reply::nest(500, "boom").after(Duration::from_millis(100))).await;
    let client = client_with(&mock.base_url, 0, Duration::from_secs(5));
    let (a, b) = tokio::join!(client.agent(AGENT), client.agent(AGENT));
    let (a, b) = (a.unwrap_err(), b.unwrap_err());
    assert_eq!(a, b);
    assert!(
        matches!(a, PlatformError::Server { status: 500, .. }),
        "{a}"
    );
    assert_eq!(client.agent(AGENT).await.unwrap_err(), a);
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn a_write_empties_the_cache() {
    let mock = serve(|r, n| match r.method.as_str() {
        "GET" => Reply::ok(json!({"name": format!("read {n}")})),
        _ => Reply::ok(json!({"name": "written"})),
    })
    .await;
    let client = client(&mock.base_url);
    assert_eq!(
        client.agent(AGENT).await.unwrap().get("name"),
        Some(&json!("read 0"))
    );
    assert_eq!(
        client.agent(AGENT).await.unwrap().get("name"),
        Some(&json!("read 0"))
    );
    let mut fields = Map::new();
    fields.insert("name".into(), json!("written"));
    client.update_agent(AGENT, fields).await.unwrap();
    assert_eq!(
        client.agent(AGENT).await.unwrap().get("name"),
        Some(&json!("read 1"))
    );
    assert_eq!(mock.count(), 3);
}
