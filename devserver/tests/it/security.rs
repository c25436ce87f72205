//! The devserver's security model through real HTTP: CSRF and origin checks on the dashboard,
//! JSON-only API writes, the Host allow-list, security headers on every answer, the sign-in
//! rate limit, session expiry and persistence, logout, strict Bearer parsing, and JSON bodies
//! for every error (including hyper's own 414 and 431).

use std::time::Duration;

use crate::common::{AGENT, KEY, TestServer, assert_error, client, json, start, start_with};
use lua_devserver::{AgentSpec, Config, DevServerError, Storage};
use reqwest::{StatusCode, header};
use serde_json::json;

fn config() -> Config {
    let mut config = Config::for_tests(KEY);
    config.agents.push(AgentSpec {
        id: AGENT.to_owned(),
        name: Some("Support Bot".to_owned()),
    });
    config
}

fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            let enc = |s: &str| {
                s.bytes()
                    .map(|b| match b {
                        b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                            char::from(b).to_string()
                        }
                        _ => format!("%{b:02X}"),
                    })
                    .collect::<String>()
            };
            format!("{}={}", enc(k), enc(v))
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in dashboard session: cookie and CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

async fn sign_in(s: &TestServer) -> Session {
    let resp = s
        .client
        .post(format!("{}/login", s.url))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(&[("key", KEY)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let set_cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    let csrf = csrf_of(s, &cookie).await;
    Session { cookie, csrf }
}

async fn csrf_of(s: &TestServer, cookie: &str) -> String {
    let html = s
        .client
        .get(format!("{}/", s.url))
        .header(header::COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// Posts a dashboard form with extra headers.
async fn post_form(
    s: &TestServer,
    path: &str,
    cookie: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = s
        .client
        .post(format!("{}{path}", s.url))
        .header(header::COOKIE, cookie)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form(fields));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.unwrap()
}

async fn agent_name(s: &TestServer) -> serde_json::Value {
    let (_, body) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    body["data"]["name"].clone()
}

#[tokio::test]
async fn cross_origin_and_tokenless_dashboard_posts_are_refused() {
    let s = start().await;
    let session = sign_in(&s).await;
    let own_origin = s.url.clone();
    let persona = format!("/agents/{AGENT}/persona");
    let name = format!("/agents/{AGENT}/name");
    let publish = format!("/agents/{AGENT}/versions/1/publish");
    let deploy = format!("/agents/{AGENT}/versions/1/deploy");
    let governance = format!("/agents/{AGENT}/governance");
    let skills = format!("/agents/{AGENT}/primitives/skills");
    let routes: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (&name, vec![("name", "Pwned")]),
        (&persona, vec![("persona", "pwned"), ("action", "publish")]),
        ("/agents", vec![("id", "evil_agent_1")]),
        (&publish, vec![]),
        (&deploy, vec![]),
        ("/logout", vec![]),
        (&governance, vec![("governance", "{\"mode\": \"pwned\"}")]),
        (&skills, vec![("name", "pwned")]),
    ];
    for (path, fields) in &routes {
        let with_token: Vec<(&str, &str)> = fields
            .iter()
            .copied()
            .chain([("csrf", session.csrf.as_str())])
            .collect();
        // With the session and even the right token, another origin is refused.
        for headers in [
            vec![("origin", "http://evil.example")],
            vec![("origin", "http://127.0.0.1:1")],
            vec![("origin", "null"), ("sec-fetch-site", "cross-site")],
            vec![("sec-fetch-site", "same-site")],
            vec![("referer", "http://evil.example/page")],
        ] {
            let resp = post_form(&s, path, &session.cookie, &with_token, &headers).await;
            let (status, body) = json(resp).await;
            assert_error(status, &body, StatusCode::FORBIDDEN, "CROSS_ORIGIN_REQUEST");
        }
        // Same origin without the token, or with a wrong one, is refused too.
        for token in [None, Some("0".repeat(64)), Some(String::new())] {
            let mut fields = fields.clone();
            if let Some(t) = &token {
                fields.push(("csrf", t));
            }
            let resp = post_form(
                &s,
                path,
                &session.cookie,
                &fields,
                &[("origin", &own_origin)],
            )
            .await;
            let (status, body) = json(resp).await;
            assert_error(status, &body, StatusCode::FORBIDDEN, "CSRF_TOKEN_INVALID");
        }
    }
    // Nothing changed, and the session still works.
    assert_eq!(agent_name(&s).await, "Support Bot");
    let (_, agent) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(agent["data"]["governance"], serde_json::Value::Null);
    let (_, skills) = json(
        s.get(&format!("/developer/skills/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(skills["data"]["skills"], json!([]), "{skills}");
    assert!(s.versions(AGENT, None).await.is_empty());
    let (status, _) = json(s.get("/admin/agents/evil_agent_1").send().await.unwrap()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A browser's own post (same origin, the page's token) goes through; so does one without
    // Origin (referrer policy no-referrer sends `Origin: null`): the token decides.
    for headers in [
        vec![
            ("origin", own_origin.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
        vec![("origin", "null")],
        vec![],
    ] {
        let resp = post_form(
            &s,
            &name,
            &session.cookie,
            &[("name", "Renamed"), ("csrf", &session.csrf)],
            &headers,
        )
        .await;
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{headers:?}");
    }
    assert_eq!(agent_name(&s).await, "Renamed");

    // Sign-in from another origin is refused before the key is looked at.
    let resp = post_form(
        &s,
        "/login",
        "",
        &[("key", KEY)],
        &[("origin", "http://evil.example")],
    )
    .await;
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    let (status, body) = json(resp).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "CROSS_ORIGIN_REQUEST");
}

#[tokio::test]
async fn insecure_mode_still_needs_the_token_and_json_bodies() {
    let mut config = config();
    config.insecure_no_auth = true;
    let s = start_with(config).await;
    // The classic cross-site write: a text/plain body that is valid JSON.
    for content_type in [
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
        None,
    ] {
        let mut req = s
            .client
            .post(format!(
                "{}/developer/agents/{AGENT}/persona/version",
                s.url
            ))
            .body(r#"{"persona": "pwned"}"#);
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        let (status, body) = json(req.send().await.unwrap()).await;
        assert_error(
            status,
            &body,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
        );
    }
    assert!(s.versions(AGENT, None).await.is_empty());
    // The dashboard has no sign-in here, but its forms still need the page's token.
    let resp = post_form(
        &s,
        &format!("/agents/{AGENT}/name"),
        "",
        &[("name", "Pwned")],
        &[],
    )
    .await;
    let (status, body) = json(resp).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "CSRF_TOKEN_INVALID");
    let csrf = csrf_of(&s, "").await;
    let resp = post_form(
        &s,
        &format!("/agents/{AGENT}/name"),
        "",
        &[("name", "Mine"), ("csrf", &csrf)],
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(agent_name(&s).await, "Mine");
}

#[tokio::test]
async fn insecure_mode_refuses_a_non_loopback_address_and_bad_keys_refuse_to_start() {
    let mut config = config();
    config.insecure_no_auth = true;
    config.host = "0.0.0.0".parse().unwrap();
    let err = lua_devserver::start(config).await.unwrap_err();
    assert!(
        matches!(err, DevServerError::InsecureNotLoopback { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("0.0.0.0"), "{err}");
    let mut config = self::config();
    config.insecure_no_auth = true;
    config.host = "::1".parse().unwrap();
    assert!(lua_devserver::router(&config).is_ok(), "::1 is loopback");

    let mut config = self::config();
    config.api_key = Some("two words".to_owned());
    let err = lua_devserver::start(config).await.unwrap_err();
    assert!(matches!(err, DevServerError::UnusableApiKey), "{err}");
}

#[tokio::test]
async fn unknown_hosts_are_refused_everywhere() {
    let mut config = config();
    config.allow_hosts = vec!["dev.example".to_owned()];
    let s = start_with(config).await;
    let port = s.server.addr().port();
    for path in [
        format!("/admin/agents/{AGENT}"),
        "/".to_owned(),
        "/no/such/route".to_owned(),
        "/assets/dashboard.css".to_owned(),
        "/_devserver/requests".to_owned(),
    ] {
        for host in [format!("evil.example:{port}"), "127.0.0.2".to_owned()] {
            let resp = s
                .get(&path)
                .header(header::HOST, &host)
                .send()
                .await
                .unwrap();
            assert_eq!(resp.headers()["x-frame-options"], "DENY");
            let (status, body) = json(resp).await;
            assert_error(
                status,
                &body,
                StatusCode::MISDIRECTED_REQUEST,
                "HOST_NOT_ALLOWED",
            );
            assert!(
                body["message"].as_str().unwrap().contains("--allow-host"),
                "{body}"
            );
        }
        for host in [
            format!("localhost:{port}"),
            format!("127.0.0.1:{port}"),
            format!("dev.example:{port}"),
        ] {
            let resp = s
                .get(&path)
                .header(header::HOST, &host)
                .send()
                .await
                .unwrap();
            assert_ne!(
                resp.status(),
                StatusCode::MISDIRECTED_REQUEST,
                "{host} {path}"
            );
        }
    }
    // A refused write changed nothing.
    let resp = s
        .post(&format!("/developer/agents/{AGENT}/persona/version"))
        .header(header::HOST, "evil.example")
        .json(&json!({"persona": "rebound"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::MISDIRECTED_REQUEST);
    assert!(s.versions(AGENT, None).await.is_empty());
}

fn assert_security_headers(what: &str, headers: &reqwest::header::HeaderMap) {
    let csp = headers
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP in {headers:?}"))
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'"), "{what}: {csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(headers["x-frame-options"], "DENY", "{what}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(headers["referrer-policy"], "no-referrer", "{what}");
}

#[tokio::test]
async fn every_kind_of_answer_has_the_security_headers_and_errors_are_json() {
    let mut config = config();
    config.login_burst = 1;
    let s = start_with(config).await;
    let session = sign_in(&s).await;
    let url = &s.url;
    let c = &s.client;
    let mut many_headers = c
        .get(format!("{url}/admin/agents/{AGENT}"))
        .bearer_auth(KEY);
    for i in 0..120 {
        many_headers = many_headers.header(format!("x-filler-{i}"), "x");
    }
    let cases: Vec<(&str, reqwest::RequestBuilder, StatusCode, Option<&str>)> = vec![
        (
            "api 200",
            s.get(&format!("/admin/agents/{AGENT}")),
            StatusCode::OK,
            None,
        ),
        (
            "html 200",
            c.get(format!("{url}/"))
                .header(header::COOKIE, &session.cookie),
            StatusCode::OK,
            None,
        ),
        ("login page", c.get(format!("{url}/")), StatusCode::OK, None),
        (
            "css",
            c.get(format!("{url}/assets/dashboard.css")),
            StatusCode::OK,
            None,
        ),
        (
            "redirect",
            c.get(format!("{url}/agents/{AGENT}")),
            StatusCode::SEE_OTHER,
            None,
        ),
        (
            "401",
            c.get(format!("{url}/admin/agents/{AGENT}")),
            StatusCode::UNAUTHORIZED,
            Some("UNAUTHORIZED"),
        ),
        (
            "404 route",
            s.get("/nothing/here"),
            StatusCode::NOT_FOUND,
            Some("ROUTE_NOT_FOUND"),
        ),
        (
            "404 agent",
            s.get("/admin/agents/x_9"),
            StatusCode::NOT_FOUND,
            Some("AGENT_NOT_FOUND"),
        ),
        (
            "405",
            s.delete(&format!("/admin/agents/{AGENT}")),
            StatusCode::METHOD_NOT_ALLOWED,
            Some("METHOD_NOT_ALLOWED"),
        ),
        (
            "413",
            s.post(&format!("/developer/agents/{AGENT}/persona/version"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(vec![b' '; 1024 * 1024 + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("PAYLOAD_TOO_LARGE"),
        ),
        (
            "413 form",
            c.post(format!("{url}/agents"))
                .header(header::COOKIE, &session.cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(vec![b'a'; 1024 * 1024 + 1]),
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("PAYLOAD_TOO_LARGE"),
        ),
        (
            "431 count",
            many_headers,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Some("HEADERS_TOO_LARGE"),
        ),
        (
            "415",
            s.post(&format!("/developer/agents/{AGENT}/persona/version"))
                .body("{}"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Some("UNSUPPORTED_MEDIA_TYPE"),
        ),
        (
            "400 path",
            c.get(format!("{url}/agents/%FF"))
                .header(header::COOKIE, &session.cookie),
            StatusCode::BAD_REQUEST,
            Some("HTTP_ERROR"),
        ),
        (
            "429",
            c.post(format!("{url}/login"))
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body("key=x"),
            StatusCode::TOO_MANY_REQUESTS,
            Some("TOO_MANY_LOGIN_ATTEMPTS"),
        ),
    ];
    for (what, req, expected, code) in cases {
        let resp = req.send().await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_security_headers(what, resp.headers());
        match code {
            Some(code) => {
                let (status, body) = json(resp).await;
                assert_error(status, &body, expected, code);
            }
            None => assert_eq!(resp.status(), expected, "{what}"),
        }
    }
}

/// Sends raw bytes and reads the whole answer (status line, lower-case headers, body).
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8(answer).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

#[tokio::test]
async fn hypers_own_answers_are_json_with_the_security_headers() {
    let s = start().await;
    let addr = s.server.addr();
    let long = format!(
        "GET /{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
        "a".repeat(70_000)
    );
    let mut many = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n".to_owned();
    for i in 0..120 {
        many.push_str(&format!("x-filler-{i}: x\r\n"));
    }
    many.push_str("\r\n");
    for (request, status, code) in [
        (long.into_bytes(), 414, "URI_TOO_LONG"),
        (many.into_bytes(), 431, "HEADERS_TOO_LARGE"),
        (
            b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
            400,
            "MALFORMED_REQUEST",
        ),
    ] {
        let (got, headers, body) = raw(addr, &request).await;
        assert_eq!(got, status, "{body}");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
        };
        assert!(header("content-type").starts_with("application/json"));
        assert_eq!(header("x-frame-options"), "DENY");
        assert_eq!(header("x-content-type-options"), "nosniff");
        assert_eq!(header("referrer-policy"), "no-referrer");
        assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["code"], code, "{json}");
        assert_eq!(json["statusCode"], status, "{json}");
    }
    // The server is still fine afterwards.
    let resp = s
        .get(&format!("/admin/agents/{AGENT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_in_is_rate_limited_per_client() {
    let mut config = config();
    config.login_burst = 3;
    config.login_refill = Duration::from_secs(60);
    let s = start_with(config).await;
    let attempt = |key: &'static str| {
        s.client
            .post(format!("{}/login", s.url))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("key={key}"))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(
            attempt("wrong").await.unwrap().status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right key is refused once the bucket is empty.
    for key in ["wrong", KEY] {
        let resp = attempt(key).await.unwrap();
        assert!(resp.headers().get(header::SET_COOKIE).is_none());
        let retry: u64 = resp.headers()[header::RETRY_AFTER]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        let (status, body) = json(resp).await;
        assert_error(
            status,
            &body,
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_LOGIN_ATTEMPTS",
        );
    }
    // The API is not affected.
    assert_eq!(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn sessions_expire_on_the_server_and_logout_ends_them() {
    let mut config = config();
    config.session_idle = Duration::from_millis(800);
    config.session_lifetime = Duration::from_secs(3600);
    let s = start_with(config).await;
    let page = |cookie: String| {
        s.client
            .get(format!("{}/agents/{AGENT}", s.url))
            .header(header::COOKIE, cookie)
            .send()
    };
    let session = sign_in(&s).await;
    assert_eq!(
        page(session.cookie.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    // The sleeps below are what is tested: sessions end with the passing of time, and
    // there is nothing on the server to wait for instead.
    tokio::time::sleep(Duration::from_millis(400)).await;
    // Used within the idle limit: still alive, and the idle clock restarts.
    assert_eq!(
        page(session.cookie.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        page(session.cookie.clone()).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );

    // The cookie carries the absolute lifetime.
    let resp = post_form(&s, "/login", "", &[("key", KEY)], &[]).await;
    let set_cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    for part in ["Max-Age=3600", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set_cookie.contains(part), "{set_cookie}");
    }

    // Logout ends the session on the server: replaying the old cookie does not work.
    let session = sign_in(&s).await;
    let resp = post_form(
        &s,
        "/logout",
        &session.cookie,
        &[("csrf", &session.csrf)],
        &[],
    )
    .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(session.cookie.clone()).await.unwrap().status(),
        StatusCode::SEE_OTHER
    );

    // An absolute lifetime ends even a busy session.
    let mut config = self::config();
    config.session_lifetime = Duration::from_millis(1500);
    let s = start_with(config).await;
    let session = sign_in(&s).await;
    // Time passing is what is tested here too (busy, then past the absolute lifetime).
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let resp = s
            .client
            .get(format!("{}/", s.url))
            .header(header::COOKIE, &session.cookie)
            .send()
            .await
            .unwrap();
        assert!(resp.text().await.unwrap().contains("Log out"));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let resp = s
        .client
        .get(format!("{}/agents/{AGENT}", s.url))
        .header(header::COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sessions_survive_a_restart_with_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config();
    config.storage = Storage::File(dir.path().join("platform.db"));
    let s = start_with(config.clone()).await;
    let session = sign_in(&s).await;
    s.server.shutdown().await;

    let s = start_with(config).await;
    let resp = s
        .client
        .get(format!("{}/agents/{AGENT}", s.url))
        .header(header::COOKIE, &session.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "the session survived the restart"
    );
    // The token itself is not in the database, only its digest.
    s.server.shutdown().await;
    let token = session.cookie.split_once('=').unwrap().1;
    let db = std::fs::read(dir.path().join("platform.db")).unwrap();
    let wal = std::fs::read(dir.path().join("platform.db-wal")).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
            "the raw session token is stored"
        );
    }
}

#[tokio::test]
async fn bearer_parsing_is_strict() {
    let s = start().await;
    let url = format!("{}/admin/agents/{AGENT}", s.url);
    for value in [
        format!("bearer {KEY}"),
        format!("BEARER {KEY}"),
        format!("Bearer  {KEY}"),
        format!("Bearer {KEY} extra"),
        format!("Bearer\t{KEY}"),
        format!("Bearer {KEY}x"),
        format!("Bearer {}", &KEY[..KEY.len() - 1]),
        "Bearer".to_owned(),
        KEY.to_owned(),
    ] {
        let resp = client()
            .get(&url)
            .header(header::AUTHORIZATION, &value)
            .send()
            .await
            .unwrap();
        let (status, body) = json(resp).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "UNAUTHORIZED");
    }
    let resp = client()
        .get(&url)
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
}
