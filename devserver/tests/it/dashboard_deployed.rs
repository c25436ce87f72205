//! The dashboard's governance and primitives sections through real HTTP form posts, checked
//! through the API a client reads: edit governance (invalid JSON changes nothing), add an item,
//! publish a version, set the active version, delete; MCP servers; the backup shown.

use crate::common::{AGENT, KEY, TestServer, json, start, start_with};
use lua_devserver::{Config, Seed};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

/// `application/x-www-form-urlencoded`, as a browser sends it.
fn form_body(fields: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(b));
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{b:02X}")),
            }
        }
        out
    };
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// A signed-in browser: its session cookie and the CSRF token its pages' forms carry.
struct Browser<'a> {
    s: &'a TestServer,
    cookie: String,
    csrf: String,
}

async fn login(s: &TestServer) -> Browser<'_> {
    let resp = s
        .client
        .post(format!("{}/login", s.url))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form_body(&[("key", KEY)]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let mut b = Browser {
        s,
        cookie,
        csrf: String::new(),
    };
    let (_, html) = b.page("/").await;
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a CSRF field") + marker.len();
    b.csrf = html[start..start + html[start..].find('"').unwrap()].to_owned();
    b
}

impl Browser<'_> {
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let resp = self
            .s
            .client
            .get(format!("{}{path}", self.s.url))
            .header(header::COOKIE, &self.cookie)
            .send()
            .await
            .unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    /// Posts a form (with the CSRF token); returns the status, the `Location` header and the
    /// body.
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String, String) {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        let resp = self
            .s
            .client
            .post(format!("{}{path}", self.s.url))
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form_body(&fields))
            .send()
            .await
            .unwrap();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (resp.status(), location, resp.text().await.unwrap())
    }

    /// Posts a form that must succeed: 303 back to the agent page.
    async fn ok(&self, path: &str, fields: &[(&str, &str)]) {
        let (status, location, body) = self.form(path, fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}: {body}");
        assert_eq!(location, format!("/agents/{AGENT}"), "{path}");
    }
}

async fn api(s: &TestServer, path: &str) -> Value {
    let (status, body) = json(s.get(path).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["data"].clone()
}

fn agent_path(rest: &str) -> String {
    format!("/agents/{AGENT}{rest}")
}

#[tokio::test]
async fn governance_is_edited_as_json_and_invalid_json_changes_nothing() {
    let s = start().await;
    let b = login(&s).await;
    let (status, page) = b.page(&agent_path("")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("No governance set."), "{page}");

    let text = "{\r\n  \"mode\": \"sdk\",\r\n  \"rules\": {\"tokenBudget\": 5000}\r\n}";
    b.ok(&agent_path("/governance"), &[("governance", text)])
        .await;
    let expected = json!({"mode": "sdk", "rules": {"tokenBudget": 5000}});
    assert_eq!(
        api(&s, &format!("/admin/agents/{AGENT}")).await["governance"],
        expected
    );
    let (_, page) = b.page(&agent_path("")).await;
    assert!(page.contains("&quot;tokenBudget&quot;: 5000"), "{page}");

    for (bad, needle) in [
        ("{\"mode\": \"sdk\",", "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ("{\"apiKey\": \"k\"}", "governance.apiKey"),
    ] {
        let (status, _, body) = b
            .form(&agent_path("/governance"), &[("governance", bad)])
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(body.contains(needle), "{needle}: {body}");
        assert!(body.contains("nothing was changed"), "{body}");
        assert_eq!(
            api(&s, &format!("/admin/agents/{AGENT}")).await["governance"],
            expected,
            "{bad}"
        );
    }

    // Empty clears it.
    b.ok(&agent_path("/governance"), &[("governance", "  ")])
        .await;
    assert_eq!(
        api(&s, &format!("/admin/agents/{AGENT}")).await["governance"],
        Value::Null
    );
}

fn active(listing: &Value, kind: &str, name: &str) -> Option<String> {
    let item = listing[kind]
        .as_array()?
        .iter()
        .find(|i| i["name"] == name)?;
    let id = item["activeVersionId"].as_str()?;
    item["versions"]
        .as_array()?
        .iter()
        .find(|v| v["id"] == id)
        .and_then(|v| v["version"].as_str())
        .map(str::to_owned)
}

#[tokio::test]
async fn items_are_added_published_activated_and_deleted() {
    let s = start().await;
    let b = login(&s).await;
    let skills = format!("/developer/skills/{AGENT}");

    b.ok(
        &agent_path("/primitives/skills"),
        &[("name", "order-skill"), ("version", "1.0.0")],
    )
    .await;
    assert_eq!(
        active(&api(&s, &skills).await, "skills", "order-skill").as_deref(),
        Some("1.0.0")
    );

    // A colleague deploys 1.0.1: it is the active version.
    b.ok(
        &agent_path("/primitives/skills/order-skill/versions"),
        &[("version", "1.0.1")],
    )
    .await;
    assert_eq!(
        active(&api(&s, &skills).await, "skills", "order-skill").as_deref(),
        Some("1.0.1")
    );
    let (_, page) = b.page(&agent_path("")).await;
    assert!(
        page.contains("order-skill") && page.contains("1.0.1"),
        "{page}"
    );

    // Roll back to 1.0.0.
    b.ok(
        &agent_path("/primitives/skills/order-skill/active"),
        &[("version", "1.0.0")],
    )
    .await;
    assert_eq!(
        active(&api(&s, &skills).await, "skills", "order-skill").as_deref(),
        Some("1.0.0")
    );

    // Refusals show an error page and change nothing.
    let (status, _, body) = b
        .form(
            &agent_path("/primitives/skills"),
            &[("name", "order-skill")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _, body) = b
        .form(
            &agent_path("/primitives/skills/order-skill/versions"),
            &[("version", "1.0.1")],
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (status, _, body) = b
        .form(
            &agent_path("/primitives/skills/order-skill/active"),
            &[("version", "9.9.9")],
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _, body) = b
        .form(
            &agent_path("/primitives/skills/order-skill/versions"),
            &[("version", "has space")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _, _) = b
        .form(&agent_path("/primitives/gadgets"), &[("name", "x")])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        api(&s, &skills).await["skills"][0]["versions"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Every kind works the same way; an item may start without versions.
    for kind in ["webhooks", "jobs", "preprocessors", "postprocessors"] {
        b.ok(
            &agent_path(&format!("/primitives/{kind}")),
            &[("name", "n"), ("version", "")],
        )
        .await;
        let listed = api(&s, &format!("/developer/{kind}/{AGENT}")).await;
        assert_eq!(listed[kind][0]["name"], "n", "{kind}: {listed}");
        assert_eq!(listed[kind][0]["versions"], json!([]), "{kind}");
    }

    b.ok(&agent_path("/primitives/skills/order-skill/delete"), &[])
        .await;
    assert_eq!(api(&s, &skills).await, json!({"skills": []}));
}

#[tokio::test]
async fn mcp_servers_are_added_and_deleted() {
    let s = start().await;
    let b = login(&s).await;
    let mcp = format!("/developer/agents/{AGENT}/mcp-servers");
    b.ok(
        &agent_path("/primitives/mcp-servers"),
        &[("name", "docs"), ("source", "manual"), ("active", "false")],
    )
    .await;
    b.ok(
        &agent_path("/primitives/mcp-servers"),
        &[("name", "crm"), ("source", ""), ("active", "")],
    )
    .await;
    let listed = api(&s, &mcp).await;
    assert_eq!(listed[0]["name"], "docs");
    assert_eq!(listed[0]["source"], "manual");
    assert_eq!(listed[0]["active"], false);
    assert!(
        listed[1].get("source").is_none() && listed[1].get("active").is_none(),
        "{listed}"
    );
    let (status, _, _) = b
        .form(
            &agent_path("/primitives/mcp-servers/docs/versions"),
            &[("version", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    b.ok(&agent_path("/primitives/mcp-servers/docs/delete"), &[])
        .await;
    assert_eq!(api(&s, &mcp).await.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_page_shows_seeded_primitives_escaped_and_needs_a_login() {
    let seed: Seed = serde_json::from_value(json!({"agents": [{
        "id": AGENT,
        "name": "Bot",
        "skills": [{"id": "skill_1", "name": "<script>x</script>", "versions": ["1.0.0", "1.0.1"], "active": "1.0.0"}],
        "mcpServers": [{"name": "docs", "source": "integration"}],
        "backup": {"files": [{"relativePath": "src/index.ts", "content": "export {}", "gzip": true}]},
    }]}))
    .unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    let s = start_with(config).await;

    // Without a session: sent to the login page, nothing changed.
    let resp = s
        .client
        .post(format!("{}{}", s.url, agent_path("/primitives/jobs")))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/");
    assert_eq!(
        api(&s, &format!("/developer/jobs/{AGENT}")).await,
        json!({"jobs": []})
    );

    let b = login(&s).await;
    let (status, page) = b.page(&agent_path("")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("<script>x</script>"), "{page}");
    assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"), "{page}");
    // The item's forms post to its percent-encoded name.
    assert!(
        page.contains("/primitives/skills/%3Cscript%3Ex%3C%2Fscript%3E/active"),
        "{page}"
    );
    // 1.0.0 is active; 1.0.1 offers "Make active".
    let row = &page[page.find("skill_1").unwrap()..];
    let (v100, v101) = (row.find("1.0.0").unwrap(), row.find("1.0.1").unwrap());
    assert!(row[v100..v101].contains("active</span>"), "{row}");
    assert!(row[v101..].contains("Make active"), "{row}");
    assert!(page.contains("integration"), "{page}");
    assert!(
        page.contains("src/index.ts") && page.contains("1 file ·"),
        "{page}"
    );

    // The escaped name round-trips through the form path.
    b.ok(
        &agent_path("/primitives/skills/%3Cscript%3Ex%3C%2Fscript%3E/active"),
        &[("version", "1.0.1")],
    )
    .await;
    assert_eq!(
        active(
            &api(&s, &format!("/developer/skills/{AGENT}")).await,
            "skills",
            "<script>x</script>"
        )
        .as_deref(),
        Some("1.0.1")
    );
}
