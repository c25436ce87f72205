//! The admin dashboard through real HTTP form posts: login, edit, draft, publish, roll back;
//! and the same flow in a real headless Chromium (`chromium`), clicking and typing as a user.

use crate::chromium;
use crate::common::{AGENT, KEY, TestServer, json, latest_by_created_date, start, start_with};
use lua_devserver::Config;
use reqwest::{StatusCode, header};
use serde_json::json;

/// reqwest's `form` feature is not compiled in this workspace: encode forms by hand, the way a
/// browser does (`application/x-www-form-urlencoded`).
trait FormBody {
    fn form_body(self, fields: &[(&str, &str)]) -> Self;
}

impl FormBody for reqwest::RequestBuilder {
    fn form_body(self, fields: &[(&str, &str)]) -> Self {
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
        let body = fields
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(body)
    }
}

/// A logged-in browser: the session cookie from `POST /login`, and the CSRF token its pages'
/// forms carry.
struct Browser<'a> {
    s: &'a TestServer,
    cookie: String,
    csrf: String,
}

/// The CSRF token in a page's forms (`<input type="hidden" name="csrf" value="...">`).
fn csrf_in(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).map(|i| i + marker.len());
    let start = start.unwrap_or_else(|| panic!("no CSRF field in {html}"));
    html[start..start + html[start..].find('"').unwrap()].to_owned()
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

    /// Fetches a page's CSRF token (as a browser has it from the page it posts from).
    async fn with_csrf(mut self) -> Self {
        let (_, html) = self.page("/").await;
        self.csrf = csrf_in(&html);
        self
    }

    /// Posts a form with the CSRF token; returns the status and the `Location` header.
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut all = fields.to_vec();
        all.push(("csrf", &self.csrf));
        let resp = self
            .s
            .client
            .post(format!("{}{path}", self.s.url))
            .header(header::COOKIE, &self.cookie)
            .form_body(&all)
            .send()
            .await
            .unwrap();
        let location = resp
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (resp.status(), location)
    }
}

async fn login(s: &TestServer) -> Browser<'_> {
    let resp = s
        .client
        .post(format!("{}/login", s.url))
        .form_body(&[("key", KEY)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert_eq!(resp.headers()[header::LOCATION], "/");
    let set_cookie = resp.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(set_cookie.starts_with("lua_dev_session="), "{set_cookie}");
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(
        !set_cookie.contains(KEY),
        "the cookie is a session token, never the key"
    );
    let cookie = set_cookie.split(';').next().unwrap().to_owned();
    assert!(cookie.len() > "lua_dev_session=".len() + 30, "{cookie}");
    Browser {
        s,
        cookie,
        csrf: String::new(),
    }
    .with_csrf()
    .await
}

#[tokio::test]
async fn dashboard_needs_a_login() {
    let s = start().await;
    let resp = s.client.get(format!("{}/", s.url)).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("<form method=\"post\" action=\"/login\">"),
        "{html}"
    );
    assert!(!html.contains(AGENT), "no agent data before login");

    for (method, path) in [
        ("GET", format!("/agents/{AGENT}")),
        ("POST", format!("/agents/{AGENT}/persona")),
        ("POST", format!("/agents/{AGENT}/name")),
        ("POST", "/agents".to_owned()),
    ] {
        let resp = s
            .client
            .request(method.parse().unwrap(), format!("{}{path}", s.url))
            .form_body(&[
                ("persona", "sneaky"),
                ("action", "publish"),
                ("name", "x"),
                ("id", "x_1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "{method} {path}");
        assert_eq!(resp.headers()[header::LOCATION], "/");
    }
    assert!(s.versions(AGENT, None).await.is_empty());

    // The API key as a Bearer header is not a dashboard login.
    let resp = s.get(&format!("/agents/{AGENT}")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);

    let resp = s
        .client
        .post(format!("{}/login", s.url))
        .form_body(&[("key", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert!(resp.headers().get(header::SET_COOKIE).is_none());
    assert!(resp.text().await.unwrap().contains("Wrong API key"));

    let forged = Browser {
        s: &s,
        cookie: "lua_dev_session=forged".to_owned(),
        csrf: String::new(),
    };
    assert_eq!(
        forged.page(&format!("/agents/{AGENT}")).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn edit_publish_draft_and_roll_back_round_trip() {
    let s = start().await;
    let b = login(&s).await;
    let agent_page = format!("/agents/{AGENT}");

    let (status, html) = b.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains(AGENT) && html.contains("Support Bot"),
        "{html}"
    );

    // Publish from the editor: the API lists it as latest published and current.
    let text = "You are a friendly support agent.\r\n\r\nAnswer briefly.";
    let (status, location) = b
        .form(
            &format!("{agent_page}/persona"),
            &[("persona", text), ("action", "publish")],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, agent_page.as_str())
    );
    let published = s.versions(AGENT, Some("published")).await;
    assert_eq!(published.len(), 1);
    let latest = latest_by_created_date(&published);
    assert_eq!(
        latest["persona"], "You are a friendly support agent.\n\nAnswer briefly.",
        "CRLF from the textarea is normalised"
    );
    assert_eq!(latest["isCurrent"], true);
    assert_eq!(latest["createdBy"], "dashboard");

    // Save a draft: not in the published list.
    b.form(
        &format!("{agent_page}/persona"),
        &[("persona", "Draft persona"), ("action", "draft")],
    )
    .await;
    let published = s.versions(AGENT, Some("published")).await;
    assert_eq!(published.len(), 1);
    assert_eq!(latest_by_created_date(&published)["version"], 1);
    let all = s.versions(AGENT, None).await;
    assert_eq!(all[1]["status"], "draft");
    assert_eq!(all[1]["isCurrent"], false);
    let (_, html) = b.page(&agent_page).await;
    assert!(
        html.contains("<span class=\"badge draft\">draft</span>"),
        "{html}"
    );
    assert!(
        html.contains(&format!("action=\"{agent_page}/versions/2/publish\"")),
        "{html}"
    );

    // Publish the draft: it keeps number 2 and becomes latest published and current.
    let (status, _) = b
        .form(&format!("{agent_page}/versions/2/publish"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let published = s.versions(AGENT, Some("published")).await;
    assert_eq!(published.len(), 2);
    let latest = latest_by_created_date(&published);
    assert_eq!(
        (latest["version"].as_i64(), latest["persona"].as_str()),
        (Some(2), Some("Draft persona"))
    );
    assert_eq!(latest["isCurrent"], true);

    // Roll back to v1: current moves, latest published does not.
    let (_, html) = b.page(&agent_page).await;
    assert!(html.contains("Roll back to this"), "{html}");
    let (status, _) = b
        .form(&format!("{agent_page}/versions/1/deploy"), &[])
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let published = s.versions(AGENT, Some("published")).await;
    assert_eq!(latest_by_created_date(&published)["version"], 2);
    assert_eq!(published[0]["isCurrent"], true);
    assert_eq!(published[1]["isCurrent"], false);

    // Refusals are pages, not crashes.
    let (status, _) = b
        .form(&format!("{agent_page}/versions/9/deploy"), &[])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = b
        .form(&format!("{agent_page}/versions/1/publish"), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = b
        .form(
            &format!("{agent_page}/persona"),
            &[("persona", "x"), ("action", "explode")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(s.versions(AGENT, None).await.len(), 2);
}

#[tokio::test]
async fn name_edit_and_agent_creation_reach_the_api() {
    let s = start().await;
    let b = login(&s).await;
    let (status, location) = b
        .form(&format!("/agents/{AGENT}/name"), &[("name", "Renamed Bot")])
        .await;
    assert_eq!(
        (status, location),
        (StatusCode::SEE_OTHER, format!("/agents/{AGENT}"))
    );
    let (_, agent) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(agent["data"]["name"], "Renamed Bot");

    let (status, location) = b
        .form(
            "/agents",
            &[
                ("id", "other_agent_9"),
                ("name", "Other"),
                ("model", "gpt-4o"),
            ],
        )
        .await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/agents/other_agent_9")
    );
    let (_, agent) = json(s.get("/admin/agents/other_agent_9").send().await.unwrap()).await;
    assert_eq!(agent["data"]["name"], "Other");
    assert_eq!(agent["data"]["model"], "gpt-4o");
    let (status, _) = b
        .form("/agents", &[("id", "other_agent_9"), ("name", "Again")])
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = b.form("/agents", &[("id", "bad id/<x>")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, html) = b.page("/agents/nobody_here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("nobody_here"));
}

#[tokio::test]
async fn persona_text_is_html_escaped() {
    let s = start().await;
    let evil = "Hi <script>alert('x')</script> & \"quotes\"</textarea><b>";
    s.push(AGENT, json!(evil)).await;
    s.patch("/agents/baseAgent/sub-agent")
        .json(&json!({"id": "agent_123", "name": "<img src=x onerror=alert(1)>"}))
        .send()
        .await
        .unwrap();
    let b = login(&s).await;
    for path in ["/".to_owned(), format!("/agents/{AGENT}")] {
        let (status, html) = b.page(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        if path != "/" {
            assert!(!html.contains("</textarea><b>"), "{html}");
            let escaped = "Hi &lt;script&gt;alert('x')&lt;/script&gt; &amp; &quot;quotes&quot;&lt;/textarea&gt;&lt;b&gt;";
            assert!(html.contains(&format!("<pre>{escaped}</pre>")), "{html}");
            // The editor is prefilled with the latest published text.
            assert!(
                html.contains(&format!(
                    "<textarea name=\"persona\">\n{escaped}</textarea>"
                )),
                "{html}"
            );
        }
    }
}

#[tokio::test]
async fn object_personas_can_be_edited_as_json() {
    let s = start().await;
    s.push(AGENT, json!({"base": "Base text", "voice": "Voice text"}))
        .await;
    let b = login(&s).await;
    let (_, html) = b.page(&format!("/agents/{AGENT}")).await;
    assert!(html.contains("<option value=\"json\" selected>"), "{html}");
    b.form(
        &format!("/agents/{AGENT}/persona"),
        &[
            ("persona", "{\"base\": \"New base\"}"),
            ("format", "json"),
            ("action", "publish"),
        ],
    )
    .await;
    let published = s.versions(AGENT, Some("published")).await;
    assert_eq!(
        latest_by_created_date(&published)["persona"],
        json!({"base": "New base"})
    );
    let (status, _) = b
        .form(
            &format!("/agents/{AGENT}/persona"),
            &[
                ("persona", "{\"base\": 1}"),
                ("format", "json"),
                ("action", "publish"),
            ],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let s = start().await;
    let b = login(&s).await;
    assert_eq!(b.page(&format!("/agents/{AGENT}")).await.0, StatusCode::OK);
    let resp = s
        .client
        .post(format!("{}/logout", s.url))
        .header(header::COOKIE, &b.cookie)
        .form_body(&[("csrf", &b.csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    assert!(
        resp.headers()[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        b.page(&format!("/agents/{AGENT}")).await.0,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn insecure_mode_dashboard_needs_no_login() {
    let mut config = Config::for_tests(KEY);
    config.insecure_no_auth = true;
    config.agents.push(AGENT.parse().unwrap());
    let s = start_with(config).await;
    let anonymous = Browser {
        s: &s,
        cookie: String::new(),
        csrf: String::new(),
    }
    .with_csrf()
    .await;
    let (status, html) = anonymous.page("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(AGENT), "{html}");
    assert!(!html.contains("/logout"), "no logout without login");
    let (status, _) = anonymous
        .form(
            &format!("/agents/{AGENT}/persona"),
            &[("persona", "p"), ("action", "publish")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(s.versions(AGENT, Some("published")).await.len(), 1);
}

/// Where the browser test leaves its screenshots: `<target dir>/browser/`.
fn screenshot_dir() -> std::path::PathBuf {
    let tmp = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(tmp).join("browser")
}

/// A persona version as the browser test compares them: (version, status, isCurrent, persona).
type Row = (i64, String, bool, serde_json::Value);

/// A published text version's [`Row`].
fn published(version: i64, current: bool, text: &str) -> Row {
    (version, "published".to_owned(), current, json!(text))
}

/// The persona versions through the API, oldest first.
fn versions_now(rt: &tokio::runtime::Runtime, s: &TestServer) -> Vec<Row> {
    let mut all: Vec<_> = rt
        .block_on(s.versions(AGENT, None))
        .into_iter()
        .map(|v| {
            (
                v["version"].as_i64().unwrap(),
                v["status"].as_str().unwrap().to_owned(),
                v["isCurrent"].as_bool().unwrap(),
                v["persona"].clone(),
            )
        })
        .collect();
    all.sort_by_key(|v| v.0);
    all
}

/// A user in headless Chromium signs in, edits the persona, publishes, and rolls back, with
/// real clicks and key presses; after each step the API shows what the user expects. The
/// page must produce no console message, exception or CSP report: with the strict CSP
/// (no script, same-origin styles) the dashboard still works. Last, a blocked inline script
/// shows that a CSP violation would have been caught.
#[test]
fn a_real_browser_signs_in_publishes_and_rolls_back() {
    let Some(chromium) = chromium::find_or_skip("the dashboard's real-browser test") else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let s = rt.block_on(start());
    let first = "You are a support bot.";
    assert_eq!(rt.block_on(s.push(AGENT, json!(first))), 1);
    assert_eq!(versions_now(&rt, &s), [published(1, true, first)]);

    let mut b = chromium::Browser::launch(&chromium);
    b.goto(&format!("{}/", s.url));
    assert_eq!(b.text("h1"), "Sign in");

    // Sign in: type the key, press Enter.
    b.click("input[name=key]");
    b.type_text(KEY);
    b.press_enter_and_wait();
    assert_eq!(
        (b.path(), b.text("h1")),
        ("/".to_owned(), "Agents".to_owned())
    );
    assert!(b.has("header form[action='/logout']"), "signed in");
    assert_eq!(versions_now(&rt, &s), [published(1, true, first)]);

    // Open the agent; the editor starts from the published text.
    let agent_page = format!("/agents/{AGENT}");
    b.click_and_wait(&format!("a[href='{agent_page}']"));
    assert_eq!(
        (b.path(), b.text("h1")),
        (agent_page.clone(), "Support Bot".to_owned())
    );
    assert_eq!(b.value("textarea[name=persona]"), first);

    // Replace the text and publish: a new version, current.
    let edited = "You are a friendly support bot.\nRéponds brièvement: two sentences at most.";
    b.click("textarea[name=persona]");
    b.select_all();
    b.type_text(edited);
    assert_eq!(b.value("textarea[name=persona]"), edited);
    b.click_and_wait("button[name=action][value=publish]");
    assert_eq!(b.path(), agent_page);
    assert_eq!(
        versions_now(&rt, &s),
        [published(1, false, first), published(2, true, edited)]
    );
    assert!(b.has("#v2 .badge.current") && !b.has("#v1 .badge.current"));
    let dir = screenshot_dir();
    b.screenshot(&dir.join("dashboard-published.png"));

    // Roll back to v1: it is current again; v2 stays the latest published.
    assert_eq!(b.text("#v1 button"), "Roll back to this");
    b.click_and_wait("#v1 button");
    assert_eq!(b.path(), agent_page);
    assert_eq!(
        versions_now(&rt, &s),
        [published(1, true, first), published(2, false, edited)]
    );
    let listed = rt.block_on(s.versions(AGENT, Some("published")));
    assert_eq!(latest_by_created_date(&listed)["version"], 2);
    assert!(b.has("#v1 .badge.current") && b.has("#v2 .badge.latest"));
    let shot = dir.join("dashboard.png");
    let bytes = b.screenshot(&shot);
    assert!(bytes > 10_000, "{}: only {bytes} bytes", shot.display());

    // The stylesheet loaded and applies under the CSP (`style-src 'self'`) ...
    let styled = b.eval(
        "document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 0 \
         && getComputedStyle(document.querySelector('header')).backgroundColor \
            !== getComputedStyle(document.body).backgroundColor",
    );
    assert_eq!(
        styled,
        json!(true),
        "the dashboard's stylesheet did not apply"
    );
    // ... the page ran without a single complaint ...
    assert_eq!(
        b.problems(),
        [],
        "the dashboard logged problems in Chromium"
    );
    // ... and a complaint would have been seen: an inline script is refused and reported.
    let ran = b.eval(
        "(() => { const s = document.createElement('script'); \
         s.textContent = 'window.inlineRan = true'; document.body.append(s); \
         return window.inlineRan === true; })()",
    );
    assert_eq!(ran, json!(false), "the CSP let an inline script run");
    b.wait_problem(0);
    let reported = &b.problems()[0];
    assert!(
        reported.text.contains("Content Security Policy"),
        "{reported:?}"
    );
}
