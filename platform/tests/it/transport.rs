//! The client's transport rules against a real TCP server: headers, envelope, status
//! mapping, retries, timeouts, body limits, missing key.

use crate::common;

use std::time::Duration;

use crate::common::{
    KEY, Reply, assert_no_key, client, client_with, dead_base_url, serve, serve_blackhole,
    serve_raw,
};
use lua_platform::{ClientConfig, MAX_BODY_BYTES, PlatformClient, PlatformError};
use secrecy::SecretString;
use serde_json::{Value, json};

const FAST: Duration = Duration::from_secs(5);

#[tokio::test]
async fn every_request_carries_the_contract_headers() {
    let mock = serve(|_, _| Reply::ok(json!({"ok": true}))).await;
    // A trailing slash on the base must not produce `//` paths.
    let client = client(&format!("{}/", mock.base_url));
    assert_eq!(client.base_url(), mock.base_url);

    client.get("/admin/agents/baseAgent_agent_1").await.unwrap();
    client
        .post("/developer/things", &json!({"persona": "hi"}))
        .await
        .unwrap();
    client
        .patch("/agents/base/sub-agent", &json!({"id": "x"}))
        .await
        .unwrap();
    client.post("/developer/things", &json!({})).await.unwrap();

    let requests = mock.requests();
    assert_eq!(requests.len(), 4);
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].path, "/admin/agents/baseAgent_agent_1");
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].json(), json!({"persona": "hi"}));
    assert_eq!(requests[2].method, "PATCH");
    assert_eq!(requests[2].path, "/agents/base/sub-agent");
    for r in &requests {
        let bearer = format!("Bearer {KEY}");
        assert_eq!(r.header("authorization"), Some(bearer.as_str()), "{r:?}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{r:?}");
        assert_eq!(r.header("accept"), Some("application/json"), "{r:?}");
        assert_eq!(r.header("x-lua-client"), Some("cli/1.2.3"), "{r:?}");
    }
    assert_eq!(requests[0].header("x-idempotency-key"), None);
    let keys: Vec<uuid::Uuid> = requests[1..]
        .iter()
        .map(|r| uuid::Uuid::parse_str(r.header("x-idempotency-key").unwrap()).unwrap())
        .collect();
    for key in &keys {
        assert_eq!(key.get_version_num(), 4);
    }
    // A new logical write gets a new key.
    assert_ne!(keys[0], keys[2]);
}

#[tokio::test]
async fn paths_without_a_leading_slash_are_joined_with_one() {
    let mock = serve(|_, _| Reply::ok(json!(1))).await;
    client(&mock.base_url)
        .get("admin/agents/a_b")
        .await
        .unwrap();
    assert_eq!(mock.requests()[0].path, "/admin/agents/a_b");
}

#[tokio::test]
async fn envelope_and_bare_payloads_are_both_accepted() {
    let mock = serve(|r, _| match r.path.as_str() {
        "/envelope" => Reply::ok(json!({"name": "A"})),
        "/bare" => Reply::json(200, json!({"name": "B"})),
        "/bare-list" => Reply::json(200, json!([1, 2])),
        // `data` without `success` is not the envelope: the whole object is the payload.
        "/data-only" => Reply::json(200, json!({"data": {"x": 1}})),
        "/empty" => Reply::raw(204, ""),
        _ => Reply::nest(404, "no route"),
    })
    .await;
    let client = client(&mock.base_url);
    assert_eq!(
        *client.get("/envelope").await.unwrap(),
        json!({"name": "A"})
    );
    assert_eq!(*client.get("/bare").await.unwrap(), json!({"name": "B"}));
    assert_eq!(*client.get("/bare-list").await.unwrap(), json!([1, 2]));
    assert_eq!(
        *client.get("/data-only").await.unwrap(),
        json!({"data": {"x": 1}})
    );
    assert_eq!(*client.get("/empty").await.unwrap(), Value::Null);
}

#[tokio::test]
async fn success_false_is_an_error_even_with_200() {
    let mock =
        serve(|_, _| Reply::json(200, json!({"success": false, "message": "Agent is locked"})))
            .await;
    let err = client(&mock.base_url)
        .get("/admin/agents/a_b")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PlatformError::Rejected {
            url: format!("{}/admin/agents/a_b", mock.base_url),
            status: 200,
            message: "Agent is locked".into(),
        }
    );
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn each_error_status_maps_to_its_variant_without_retry() {
    for status in [400u16, 401, 403, 404, 409, 413, 422] {
        let mock = serve(move |_, _| Reply::nest(status, "explained by the server")).await;
        let err = client(&mock.base_url).get("/x").await.unwrap_err();
        let url = format!("{}/x", mock.base_url);
        let message = "explained by the server".to_owned();
        let expected = match status {
            401 | 403 => PlatformError::Unauthorized {
                url,
                status,
                message,
            },
            404 => PlatformError::NotFound { url, message },
            _ => PlatformError::Rejected {
                url,
                status,
                message,
            },
        };
        assert_eq!(err, expected);
        assert!(!err.is_unreachable());
        assert_eq!(mock.count(), 1, "HTTP {status} must not be retried");
        assert_no_key(&err);
    }
}

#[tokio::test]
async fn get_retries_500_then_succeeds() {
    let mock = serve(|_, n| {
        if n < 2 {
            Reply::nest(500, "boom")
        } else {
            Reply::ok(json!("finally"))
        }
    })
    .await;
    let value = client(&mock.base_url).get("/x").await.unwrap();
    assert_eq!(*value, json!("finally"));
    assert_eq!(mock.count(), 3);
}

#[tokio::test]
async fn get_500_after_all_retries_is_a_server_error() {
    let mock = serve(|_, _| Reply::nest(500, "database is down")).await;
    let err = client(&mock.base_url).get("/x").await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Server {
            url: format!("{}/x", mock.base_url),
            status: 500,
            excerpt: "database is down".into(),
        }
    );
    assert_eq!(mock.count(), 3, "1 attempt + 2 retries");
}

#[tokio::test]
async fn retries_zero_means_one_request() {
    let mock = serve(|_, _| Reply::nest(502, "bad gateway")).await;
    let err = client_with(&mock.base_url, 0, FAST)
        .get("/x")
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Server { status: 502, .. }),
        "{err}"
    );
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn get_retries_429_and_503_honouring_retry_after() {
    let mock = serve(|r, n| match (r.path.as_str(), n) {
        ("/slow-down", 0) => Reply::nest(429, "too many").header("retry-after", "0"),
        ("/maintenance", 0) => Reply::nest(503, "maintenance").header("retry-after", "1"),
        ("/always-503", _) => Reply::nest(503, "maintenance").header("retry-after", "0"),
        _ => Reply::ok(json!("ok")),
    })
    .await;
    let client = client(&mock.base_url);
    assert_eq!(*client.get("/slow-down").await.unwrap(), json!("ok"));
    assert_eq!(*client.get("/maintenance").await.unwrap(), json!("ok"));
    let err = client.get("/always-503").await.unwrap_err();
    assert!(
        matches!(err, PlatformError::Server { status: 503, .. }),
        "{err}"
    );
    let per_path = |p: &str| mock.requests().iter().filter(|r| r.path == p).count();
    assert_eq!(per_path("/slow-down"), 2);
    assert_eq!(per_path("/maintenance"), 2);
    assert_eq!(per_path("/always-503"), 3);
}

#[tokio::test]
async fn writes_are_not_retried_on_500() {
    let mock = serve(|_, _| Reply::nest(500, "boom")).await;
    let client = client(&mock.base_url);
    let err = client.post("/p", &json!({})).await.unwrap_err();
    assert!(
        matches!(err, PlatformError::Server { status: 500, .. }),
        "{err}"
    );
    assert_eq!(mock.count(), 1);
    let err = client.patch("/p", &json!({})).await.unwrap_err();
    assert!(
        matches!(err, PlatformError::Server { status: 500, .. }),
        "{err}"
    );
    assert_eq!(mock.count(), 2);
}

#[tokio::test]
async fn writes_are_not_retried_on_503_without_retry_after() {
    let mock = serve(|_, _| Reply::nest(503, "busy")).await;
    let err = client(&mock.base_url)
        .post("/p", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Server { status: 503, .. }),
        "{err}"
    );
    assert_eq!(mock.count(), 1);
}

#[tokio::test]
async fn writes_retry_when_asked_to_and_reuse_the_idempotency_key() {
    let mock = serve(|r, n| match (r.path.as_str(), n) {
        ("/post", 0) => Reply::nest(503, "busy").header("retry-after", "0"),
        // NestJS throttler style: the delay in the body.
        ("/patch", 0) => Reply::json(
            429,
            json!({"statusCode": 429, "message": "slow down", "retryAfterSeconds": 0}),
        ),
        _ => Reply::ok(json!({"version": 7})),
    })
    .await;
    let client = client(&mock.base_url);
    assert_eq!(
        client.post("/post", &json!({"a": 1})).await.unwrap(),
        json!({"version": 7})
    );
    client.patch("/patch", &json!({"b": 2})).await.unwrap();

    let requests = mock.requests();
    assert_eq!(requests.len(), 4);
    for pair in requests.chunks(2) {
        assert_eq!(pair[0].path, pair[1].path);
        assert_eq!(pair[0].body, pair[1].body);
        let first = pair[0].header("x-idempotency-key").unwrap();
        assert_eq!(Some(first), pair[1].header("x-idempotency-key"));
    }
    assert_ne!(
        requests[0].header("x-idempotency-key"),
        requests[2].header("x-idempotency-key")
    );
}

#[tokio::test]
async fn connection_refused_is_unreachable() {
    let base = dead_base_url();
    let client = client(&base);
    let err = client.get("/admin/agents/a_b").await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Unreachable {
            url: format!("{base}/admin/agents/a_b"),
            reason: "connection refused".into(),
        }
    );
    assert!(err.is_unreachable());
    assert_eq!(err.url(), Some(format!("{base}/admin/agents/a_b").as_str()));
    let err = client.post("/p", &json!({})).await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");
}

#[tokio::test]
async fn a_slow_server_times_out_as_unreachable() {
    let mock = serve(|_, _| Reply::ok(json!(1)).after(Duration::from_secs(3))).await;
    let timeout = Duration::from_millis(300);

    let err = client_with(&mock.base_url, 0, timeout)
        .get("/slow")
        .await
        .unwrap_err();
    assert_eq!(
        err,
        PlatformError::Unreachable {
            url: format!("{}/slow", mock.base_url),
            reason: "no response within 300ms".into(),
        }
    );
    assert_eq!(mock.count(), 1);

    // A GET is retried after a timeout...
    let err = client_with(&mock.base_url, 1, timeout)
        .get("/slow-get")
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == "/slow-get")
            .count(),
        2
    );

    // ...a POST is not: it may have been processed.
    let err = client_with(&mock.base_url, 2, timeout)
        .post("/slow-post", &json!({}))
        .await
        .unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == "/slow-post")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_connection_closed_without_answer_is_unreachable_and_retried() {
    let (base, accepted) = serve_raw(None).await;
    let err = client(&base).get("/x").await.unwrap_err();
    assert!(err.is_unreachable(), "{err}");
    assert_eq!(*accepted.lock().unwrap(), 3);
}

#[tokio::test]
async fn malformed_json_is_a_protocol_error() {
    let mock = serve(|_, _| Reply::raw(200, "<html>Gateway page</html>")).await;
    let err = client(&mock.base_url).get("/x").await.unwrap_err();
    match &err {
        PlatformError::Protocol {
            reason, excerpt, ..
        } => {
            assert!(reason.starts_with("the response is not JSON"), "{reason}");
            assert_eq!(excerpt, "<html>Gateway page</html>");
        }
        other => panic!("expected Protocol, got {other:?}"),
    }
    assert_eq!(mock.count(), 1, "a definite bad answer is not retried");
}

/// A JSON string literal of exactly `len` bytes.
fn json_string_of_len(len: usize) -> String {
    format!("\"{}\"", "x".repeat(len - 2))
}

#[tokio::test]
async fn a_body_over_4_mib_is_a_protocol_error() {
    let mock = serve(|r, _| match r.path.as_str() {
        "/at-limit" => Reply::raw(200, json_string_of_len(MAX_BODY_BYTES)),
        _ => Reply::raw(200, json_string_of_len(MAX_BODY_BYTES + 1)),
    })
    .await;
    let client = client(&mock.base_url);
    let at_limit = client.get("/at-limit").await.unwrap();
    assert_eq!(at_limit.as_str().map(str::len), Some(MAX_BODY_BYTES - 2));
    let err = client.get("/over").await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Protocol {
            url: format!("{}/over", mock.base_url),
            reason: "response body over 4 MiB".into(),
            excerpt: String::new(),
        }
    );
}

#[tokio::test]
async fn a_body_over_4_mib_without_content_length_is_a_protocol_error() {
    // No Content-Length: the body ends when the connection closes, so only counting helps.
    let mut response =
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n".to_vec();
    response.extend_from_slice(json_string_of_len(5 * 1024 * 1024).as_bytes());
    let (base, _) = serve_raw(Some(response)).await;
    let err = client(&base).get("/x").await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::Protocol { reason, .. } if reason == "response body over 4 MiB"),
        "{err}"
    );
}

#[tokio::test]
async fn a_body_cut_off_mid_way_is_a_protocol_error() {
    let response = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"name\":".to_vec();
    let (base, accepted) = serve_raw(Some(response)).await;
    let err = client(&base).get("/x").await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::Protocol { reason, .. } if reason.starts_with("the response body was cut off")),
        "{err}"
    );
    // The answer was lost in transit, so the GET was asked again.
    assert_eq!(*accepted.lock().unwrap(), 3);
}

#[tokio::test]
async fn a_missing_key_fails_before_any_request() {
    let mock = serve(|_, _| Reply::ok(json!(1))).await;
    for api_key in [None, Some(SecretString::from("   ".to_owned()))] {
        let client = PlatformClient::new(ClientConfig {
            api_key,
            ..common::config(&mock.base_url)
        })
        .unwrap();
        assert_eq!(client.get("/x").await, Err(PlatformError::MissingApiKey));
        assert_eq!(
            client.get_fresh("/x").await,
            Err(PlatformError::MissingApiKey)
        );
        assert_eq!(
            client.post("/x", &json!({})).await,
            Err(PlatformError::MissingApiKey)
        );
        assert_eq!(
            client.patch("/x", &json!({})).await,
            Err(PlatformError::MissingApiKey)
        );
        assert_eq!(
            client.agent("base_agent").await.unwrap_err(),
            PlatformError::MissingApiKey
        );
        assert_eq!(
            PlatformError::MissingApiKey.to_string(),
            "no API key: set LUA_API_KEY"
        );
    }
    assert_eq!(mock.count(), 0);
}

#[tokio::test]
async fn a_bad_configuration_is_refused_up_front() {
    for (base_url, needle) in [
        ("api.heylua.ai", "is not a URL"),
        ("ftp://api.heylua.ai", "must start with http:// or https://"),
        (
            "https://api.heylua.ai/?x=1",
            "must not have a query or fragment",
        ),
    ] {
        let err = PlatformClient::new(common::config(base_url)).unwrap_err();
        assert!(
            matches!(&err, PlatformError::InvalidConfig { reason } if reason.contains(needle)),
            "{base_url}: {err}"
        );
    }
    let err = PlatformClient::new(ClientConfig {
        api_key: Some(SecretString::from("sk-test-SECRET\nx".to_owned())),
        ..common::config("http://127.0.0.1:1")
    })
    .unwrap_err();
    assert!(matches!(err, PlatformError::InvalidConfig { .. }), "{err}");
    assert_no_key(&err);
    let err = PlatformClient::new(ClientConfig {
        timeout: Duration::ZERO,
        ..common::config("http://127.0.0.1:1")
    })
    .unwrap_err();
    assert!(matches!(err, PlatformError::InvalidConfig { .. }), "{err}");
}

#[tokio::test]
async fn a_key_echoed_by_the_server_is_scrubbed() {
    let mock = serve(|r, _| {
        let auth = r.header("authorization").unwrap_or_default().to_owned();
        match r.path.as_str() {
            "/401" => Reply::nest(401, &format!("invalid token: {auth}")),
            "/html" => Reply::raw(200, format!("<p>{}{auth}</p>", "z".repeat(180))),
            "/false" => Reply::json(
                200,
                json!({"success": false, "message": format!("{}{auth}", "w".repeat(180))}),
            ),
            _ => Reply::raw(
                500,
                format!("{{\"message\": \"{}\"}}", "y".repeat(175) + &auth),
            ),
        }
    })
    .await;
    let client = client_with(&mock.base_url, 0, FAST);
    for path in ["/401", "/html", "/false", "/500"] {
        let err = client.get(path).await.unwrap_err();
        assert_no_key(&err);
    }
    let err = client.get("/401").await.unwrap_err();
    assert!(
        err.to_string().contains("invalid token: Bearer [REDACTED]"),
        "{err}"
    );
}

#[tokio::test]
async fn debug_output_never_shows_the_key() {
    let config = common::config("http://127.0.0.1:1");
    let shown = format!("{config:?}");
    assert!(!shown.contains(KEY), "{shown}");
    let client = PlatformClient::new(config).unwrap();
    let shown = format!("{client:?}");
    assert!(!shown.contains(KEY), "{shown}");
    assert!(shown.contains("http://127.0.0.1:1"), "{shown}");
}

// ---------------------------------------------------------------------------------------
// Redirects are never followed; the answer must come from the configured server.

#[tokio::test]
async fn a_redirect_is_an_error_naming_both_urls_and_is_not_followed() {
    let elsewhere = serve(|_, _| {
        Reply::json(
            201,
            json!({"success": true, "data": {"version": 8, "name": "x"}}),
        )
    })
    .await;
    let target = format!("{}/elsewhere", elsewhere.base_url);
    let location = target.clone();
    let mock = serve(move |r, _| match r.path.as_str() {
        "/relative" => Reply::raw(302, "").header("location", "/moved"),
        "/none" => Reply::raw(301, ""),
        _ if r.method == "GET" => Reply::raw(302, "").header("location", &location),
        _ => Reply::raw(307, "").header("location", &location),
    })
    .await;
    let client = client(&mock.base_url);

    let err = client.get("/admin/agents/a_b").await.unwrap_err();
    assert_eq!(
        err,
        PlatformError::Redirected {
            url: format!("{}/admin/agents/a_b", mock.base_url),
            status: 302,
            location: target.clone(),
        }
    );
    let shown = err.to_string();
    assert!(
        shown.contains(&format!("{}/admin/agents/a_b", mock.base_url)),
        "{shown}"
    );
    assert!(shown.contains(&target), "{shown}");
    assert!(shown.contains("does not follow redirects"), "{shown}");
    assert!(!err.is_unreachable());
    assert_eq!(err.status(), Some(302));

    // A write redirected with 307 (which keeps the method and body) goes nowhere else.
    let err = client
        .create_persona_version("base_agent", &json!("local persona"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Redirected { status: 307, location, .. } if *location == target),
        "{err}"
    );
    let err = client
        .update_agent(
            "base_agent",
            serde_json::Map::from_iter([("name".into(), json!("n"))]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, PlatformError::Redirected { status: 307, .. }),
        "{err}"
    );

    let err = client.get("/relative").await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::Redirected { location, .. } if *location == format!("{}/moved", mock.base_url)),
        "{err}"
    );
    let err = client.get("/none").await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::Redirected { status: 301, location, .. } if location == "(no Location header)"),
        "{err}"
    );
    // Not retried, not followed: one request each, and none reached the other server.
    assert_eq!(mock.count(), 5);
    assert_eq!(elsewhere.count(), 0);
}

#[tokio::test]
async fn a_push_is_confirmed_only_by_the_answer() {
    let mock = serve(|r, _| match (r.method.as_str(), r.path.as_str()) {
        // 201 with nothing in it: nothing confirms a version was created.
        ("POST", _) => Reply::raw(201, ""),
        // The "updated agent" does not show the new name.
        ("PATCH", _) => Reply::ok(json!({"name": "Old Name", "model": "m"})),
        _ => Reply::ok(json!({})),
    })
    .await;
    let client = client(&mock.base_url);
    let err = client
        .create_persona_version("base_agent", &json!("p"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Protocol { reason, .. } if reason.contains("no integer \"version\"")),
        "{err}"
    );
    let err = client
        .update_agent(
            "base_agent",
            serde_json::Map::from_iter([("name".into(), json!("New Name"))]),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, PlatformError::Protocol { reason, .. } if reason.contains("does not confirm the update") && reason.contains("name = \"New Name\"")),
        "{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Retry-After as an HTTP date.

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let mock = serve(|r, n| match (r.path.as_str(), n) {
        // A date in the past: retry at once.
        ("/past", 0) => {
            Reply::nest(503, "maintenance").header("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")
        }
        ("/soon", 0) => {
            let when = std::time::SystemTime::now() + Duration::from_secs(1);
            Reply::nest(429, "slow down").header("retry-after", &httpdate::fmt_http_date(when))
        }
        _ => Reply::ok(json!("ok")),
    })
    .await;
    let client = client(&mock.base_url);
    assert_eq!(*client.get("/past").await.unwrap(), json!("ok"));
    // A write retries only when the server asked for it: a date is asking.
    assert_eq!(client.post("/soon", &json!({})).await.unwrap(), json!("ok"));
    let per_path = |p: &str| mock.requests().iter().filter(|r| r.path == p).count();
    assert_eq!(per_path("/past"), 2);
    assert_eq!(per_path("/soon"), 2);
}

// ---------------------------------------------------------------------------------------
// The network deadline: no retry count makes a run hang.

fn with_deadline(base_url: &str, retries: u32, deadline: Duration) -> PlatformClient {
    PlatformClient::new(ClientConfig {
        retries,
        timeout: Duration::from_secs(30),
        deadline: Some(deadline),
        ..common::config(base_url)
    })
    .unwrap()
}

#[tokio::test]
async fn a_black_holing_server_ends_at_the_deadline_not_the_timeout() {
    let base = serve_blackhole().await;
    let client = with_deadline(&base, 10, Duration::from_millis(300));
    let started = std::time::Instant::now();
    let err = client.get("/admin/agents/a_b").await.unwrap_err();
    // Bounded by the deadline, far below one 30 s attempt timeout.
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(&err, PlatformError::DeadlineExceeded { unreachable: true, last, .. } if last.is_empty()),
        "{err}"
    );
    assert!(err.is_unreachable(), "no answer at all is unreachable");
    let shown = err.to_string();
    assert!(shown.contains("server.deadline_secs"), "{shown}");
    assert!(shown.contains("deadline of 0.3s"), "{shown}");
    assert!(
        shown.contains(&format!("{base}/admin/agents/a_b")),
        "{shown}"
    );
    // The budget is spent: the next request fails without waiting.
    let started = std::time::Instant::now();
    let err = client.get("/other").await.unwrap_err();
    assert!(
        matches!(err, PlatformError::DeadlineExceeded { .. }),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn many_retries_against_a_failing_server_end_at_the_deadline() {
    // Answers nothing and closes: a GET retries that, with backoff, until the budget ends.
    let (base, accepted) = serve_raw(None).await;
    let client = with_deadline(&base, 10, Duration::from_millis(700));
    let err = client.get("/x").await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::DeadlineExceeded { last, unreachable: true, .. } if last.contains("cannot reach")),
        "{err}"
    );
    let attempts = *accepted.lock().unwrap();
    assert!((1..11).contains(&attempts), "{attempts} attempts");

    // A server that answers 500 every time: the deadline error says what it last answered.
    let mock = serve(|_, _| Reply::nest(500, "boom")).await;
    let client = with_deadline(&mock.base_url, 10, Duration::from_millis(700));
    let err = client.get("/x").await.unwrap_err();
    assert!(
        matches!(&err, PlatformError::DeadlineExceeded { last, unreachable: false, .. } if last.contains("HTTP 500")),
        "{err}"
    );
    assert!(!err.is_unreachable());
    assert!(mock.count() < 11);
}

#[tokio::test]
async fn a_zero_deadline_is_refused_up_front() {
    let err = PlatformClient::new(ClientConfig {
        deadline: Some(Duration::ZERO),
        ..common::config("http://127.0.0.1:1")
    })
    .unwrap_err();
    assert!(
        matches!(&err, PlatformError::InvalidConfig { reason } if reason.contains("deadline")),
        "{err}"
    );
}
