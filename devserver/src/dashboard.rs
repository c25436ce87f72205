//! The admin dashboard: server-rendered HTML forms, no JavaScript, no external assets.
//!
//! It is the "a colleague changed it on the platform" side of every sync scenario: edit the
//! name, save a persona draft, publish, roll back. Every value shown is HTML-escaped.

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use crate::seed::{check_persona, validate_agent_id};
use crate::state::{AppState, lock, same_secret};
use crate::store::{self, Agent, Status, Version, VersionRefusal};

/// The session cookie's name.
const COOKIE: &str = "lua_dev_session";
/// `createdBy` of versions created from the dashboard.
const CREATED_BY_DASHBOARD: &str = "dashboard";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/agents", post(create_agent))
        .route("/agents/{id}", get(agent_page))
        .route("/agents/{id}/name", post(set_name))
        .route("/agents/{id}/persona", post(save_persona))
        .route("/agents/{id}/versions/{n}/publish", post(publish_version))
        .route("/agents/{id}/versions/{n}/deploy", post(deploy_version))
}

/// Proof that the request may use the dashboard; otherwise it is sent to the login page.
struct LoggedIn;

impl FromRequestParts<AppState> for LoggedIn {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Redirect> {
        if logged_in(state, &parts.headers) {
            Ok(LoggedIn)
        } else {
            Err(Redirect::to("/"))
        }
    }
}

fn logged_in(state: &AppState, headers: &HeaderMap) -> bool {
    if state.api_key.is_none() {
        return true;
    }
    session_token(headers).is_some_and(|t| lock(&state.sessions).contains(t))
}

fn session_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// A fresh random session token (from the OS generator, via uuid v4).
fn new_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn home(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !logged_in(&state, &headers) {
        return login_page(StatusCode::OK, None);
    }
    match state.db(|conn| store::list_agents(conn)).await {
        Ok(agents) => agents_page(&state, &agents),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
}

async fn login(
    State(state): State<AppState>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Some(expected) = state.api_key.as_deref() else {
        return Redirect::to("/").into_response();
    };
    let Ok(Form(form)) = form else {
        return login_page(StatusCode::BAD_REQUEST, Some("Enter the API key."));
    };
    if !same_secret(form.key.trim(), expected) {
        return login_page(StatusCode::UNAUTHORIZED, Some("Wrong API key."));
    }
    let token = new_token();
    lock(&state.sessions).insert(token.clone());
    let cookie = format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = session_token(&headers) {
        lock(&state.sessions).remove(token);
    }
    let cookie = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct NewAgentForm {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    model: String,
}

async fn create_agent(
    _: LoggedIn,
    State(state): State<AppState>,
    form: Result<Form<NewAgentForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let id = form.id.trim().to_owned();
    if let Err(reason) = validate_agent_id(&id) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("Invalid agent id {id:?}: {reason}."),
        );
    }
    let name = Some(form.name).filter(|n| !n.is_empty());
    let model = Some(form.model.trim().to_owned()).filter(|m| !m.is_empty());
    let agent_id = id.clone();
    let created = state
        .db(move |conn| store::insert_agent(conn, &agent_id, name.as_deref(), model.as_deref()))
        .await;
    match created {
        Ok(true) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(false) => error_page(
            StatusCode::CONFLICT,
            &format!("An agent with id {id:?} already exists."),
        ),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

async fn agent_page(
    _: LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let lookup = id.clone();
    let loaded = state
        .db(move |conn| {
            let Some(agent) = store::get_agent(conn, &lookup)? else {
                return Ok(None);
            };
            let versions = store::list_versions(conn, &agent, None)?;
            Ok(Some((agent, versions)))
        })
        .await;
    match loaded {
        Ok(Some((agent, versions))) => {
            Html(render_agent(&state, &agent, &versions)).into_response()
        }
        Ok(None) => error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}.")),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn set_name(
    _: LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<NameForm>, FormRejection>,
) -> Response {
    let name = match form {
        Ok(Form(f)) => f.name,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let agent_id = id.clone();
    match state
        .db(move |conn| store::update_agent(conn, &agent_id, Some(&name), None))
        .await
    {
        Ok(Some(_)) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(None) => error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}.")),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

#[derive(Deserialize)]
struct PersonaForm {
    persona: String,
    action: String,
    /// `text` (default): the persona is the text. `json`: the text is a JSON object of strings.
    #[serde(default)]
    format: Option<String>,
}

async fn save_persona(
    _: LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<PersonaForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let status = match form.action.as_str() {
        "draft" => Status::Draft,
        "publish" => Status::Published,
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown action {other:?}: expected \"draft\" or \"publish\"."),
            );
        }
    };
    // Browsers send textarea line breaks as CRLF: that is transport, not content.
    let text = form.persona.replace("\r\n", "\n");
    let persona = match form.format.as_deref().unwrap_or("text") {
        "text" => Value::String(text),
        "json" => match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => match check_persona(&v) {
                Ok(()) => v,
                Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
            },
            _ => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "With format \"json\" the persona must be a JSON object of strings, such as {\"base\": \"...\"}.",
                );
            }
        },
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown format {other:?}: expected \"text\" or \"json\"."),
            );
        }
    };
    let agent_id = id.clone();
    let created = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let v = store::create_version(
                &tx,
                &agent_id,
                &persona,
                status,
                CREATED_BY_DASHBOARD,
                store::now_ms(),
            )?;
            tx.commit()?;
            Ok(v)
        })
        .await;
    match created {
        Ok(Some(_)) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(None) => error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}.")),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

async fn publish_version(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    version_action(state, id, n, true).await
}

async fn deploy_version(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    version_action(state, id, n, false).await
}

/// Publish a draft (`publish`) or deploy a published version (`!publish`).
async fn version_action(state: AppState, id: String, n: String, publish: bool) -> Response {
    let Some(n) = n.parse::<i64>().ok().filter(|n| *n > 0) else {
        return error_page(StatusCode::NOT_FOUND, &format!("No version {n:?}."));
    };
    let agent_id = id.clone();
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let r = if publish {
                store::publish_draft(&tx, &agent_id, n, store::now_ms())?
            } else {
                store::deploy(&tx, &agent_id, n)?
            };
            tx.commit()?;
            Ok(r)
        })
        .await;
    match result {
        Ok(Ok(_)) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(Err(VersionRefusal::NoSuchAgent)) => {
            error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}."))
        }
        Ok(Err(VersionRefusal::NoSuchVersion)) => error_page(
            StatusCode::NOT_FOUND,
            &format!("Agent {id:?} has no version {n}."),
        ),
        Ok(Err(VersionRefusal::IsDraft)) => error_page(
            StatusCode::BAD_REQUEST,
            &format!("Version {n} is a draft: publish it first."),
        ),
        Ok(Err(VersionRefusal::AlreadyPublished)) => error_page(
            StatusCode::BAD_REQUEST,
            &format!("Version {n} is already published."),
        ),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering

const CSS: &str = "
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:.8rem 1.5rem;display:flex;justify-content:space-between;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:60rem;margin:1.5rem auto;padding:0 1.5rem}
section{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1.25rem}
h1{font-size:1.4rem;margin:.2rem 0 1rem}h2{font-size:1.1rem;margin:.2rem 0 .8rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #eceef2}
th{font-size:.8rem;text-transform:uppercase;color:#5b6475}
code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9em}
pre{background:#f3f4f7;border:1px solid #e2e5ea;border-radius:6px;padding:.7rem;white-space:pre-wrap;word-break:break-word;margin:.5rem 0}
textarea{width:100%;min-height:12rem;font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.9rem;box-sizing:border-box}
input[type=text],input[type=password]{padding:.35rem .5rem;border:1px solid #c9ced6;border-radius:4px;min-width:16rem}
button{padding:.35rem .8rem;border:1px solid #3a5bd9;background:#3a5bd9;color:#fff;border-radius:4px;cursor:pointer}
button.secondary{background:#fff;color:#3a5bd9}
form.inline{display:inline}
.badge{display:inline-block;font-size:.75rem;padding:.1rem .45rem;border-radius:999px;margin-left:.35rem;border:1px solid}
.badge.draft{color:#7a5d00;background:#fff6d6;border-color:#f0d77a}
.badge.published{color:#2647b8;background:#e8edff;border-color:#b7c4f5}
.badge.current{color:#1b6b35;background:#e3f6e9;border-color:#9fd8b0}
.badge.latest{color:#6b2c91;background:#f3e8fb;border-color:#d6b5ec}
.version{border-top:1px solid #eceef2;padding:.8rem 0}.version:first-of-type{border-top:0}
.meta{color:#5b6475;font-size:.85rem}
.error{color:#a1192b;background:#fdecee;border:1px solid #f3b7bf;border-radius:6px;padding:.6rem .8rem}
";

fn page(title: &str, logout: bool, body: &str) -> String {
    let logout = if logout {
        r#"<form class="inline" method="post" action="/logout"><button class="secondary">Log out</button></form>"#
    } else {
        ""
    };
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{title} · lua-devserver</title><style>{CSS}</style></head>\
         <body><header><a href=\"/\">lua-devserver</a>{logout}</header><main>\n{body}\n</main></body></html>\n",
        title = escape(title),
    )
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=\"error\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<section><h1>Sign in</h1>{error}\
         <p>Enter the API key this devserver was started with (<code>--api-key</code> or <code>LUA_API_KEY</code>).</p>\
         <form method=\"post\" action=\"/login\"><input type=\"password\" name=\"key\" autofocus> \
         <button>Sign in</button></form></section>"
    );
    (status, Html(page("Sign in", false, &body))).into_response()
}

fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<section><h1>{} {}</h1><p class=\"error\">{}</p><p><a href=\"/\">Back to the agents</a></p></section>",
        status.as_u16(),
        escape(status.canonical_reason().unwrap_or("Error")),
        escape(message)
    );
    (status, Html(page("Error", false, &body))).into_response()
}

fn agents_page(state: &AppState, agents: &[store::AgentSummary]) -> Response {
    let mut rows = String::new();
    for a in agents {
        rows.push_str(&format!(
            "<tr><td><a href=\"{href}\">{name}</a></td><td><code>{id}</code></td><td>{latest}</td><td>{current}</td></tr>\n",
            href = escape(&agent_href(&a.agent.id)),
            name = a.agent.name.as_deref().map_or_else(|| "<em>(no name)</em>".to_owned(), escape),
            id = escape(&a.agent.id),
            latest = a.latest_published.map_or_else(|| "–".to_owned(), |v| format!("v{v}")),
            current = a.agent.current_version.map_or_else(|| "–".to_owned(), |v| format!("v{v}")),
        ));
    }
    let table = if agents.is_empty() {
        "<p class=\"meta\">No agents yet.</p>".to_owned()
    } else {
        format!(
            "<table><thead><tr><th>Name</th><th>Id</th><th>Latest published</th><th>Current</th></tr></thead>\
             <tbody>\n{rows}</tbody></table>"
        )
    };
    let body = format!(
        "<section><h1>Agents</h1>{table}</section>\
         <section><h2>New agent</h2><form method=\"post\" action=\"/agents\">\
         <input type=\"text\" name=\"id\" placeholder=\"baseAgent_agent_123\" required> \
         <input type=\"text\" name=\"name\" placeholder=\"Name\"> \
         <input type=\"text\" name=\"model\" placeholder=\"Model (optional)\"> \
         <button>Create</button></form></section>"
    );
    Html(page("Agents", state.api_key.is_some(), &body)).into_response()
}

fn render_agent(state: &AppState, agent: &Agent, versions: &[Version]) -> String {
    let href = escape(&agent_href(&agent.id));
    let latest_published = versions
        .iter()
        .filter(|v| v.status == Status::Published)
        .max_by_key(|v| v.created_date)
        .map(|v| v.version);
    // The editor starts from what sync compares against: the latest published version.
    let starting_point = latest_published
        .and_then(|n| versions.iter().find(|v| v.version == n))
        .or_else(|| versions.iter().max_by_key(|v| v.version));
    let (editor_text, is_json) = match starting_point.map(|v| &v.persona) {
        Some(Value::String(s)) => (s.clone(), false),
        Some(other) => (persona_text(other), true),
        None => (String::new(), false),
    };
    let mut list = String::new();
    let mut newest_first: Vec<&Version> = versions.iter().collect();
    newest_first.sort_by_key(|v| std::cmp::Reverse(v.version));
    for v in newest_first {
        let mut badges = format!(
            "<span class=\"badge {s}\">{s}</span>",
            s = v.status.as_str()
        );
        if v.is_current {
            badges.push_str("<span class=\"badge current\">current</span>");
        }
        if Some(v.version) == latest_published {
            badges.push_str("<span class=\"badge latest\">latest published</span>");
        }
        let action = match (v.status, v.is_current) {
            (Status::Draft, _) => format!(
                "<form class=\"inline\" method=\"post\" action=\"{href}/versions/{n}/publish\"><button>Publish</button></form>",
                n = v.version
            ),
            (Status::Published, false) => format!(
                "<form class=\"inline\" method=\"post\" action=\"{href}/versions/{n}/deploy\"><button class=\"secondary\">Roll back to this</button></form>",
                n = v.version
            ),
            (Status::Published, true) => String::new(),
        };
        list.push_str(&format!(
            "<div class=\"version\" id=\"v{n}\"><strong>v{n}</strong>{badges} \
             <span class=\"meta\">{time} · by {by}</span> {action}\n<pre>{text}</pre></div>\n",
            n = v.version,
            time = format_utc(v.created_date),
            by = escape(&v.created_by),
            text = escape(&persona_text(&v.persona)),
        ));
    }
    if versions.is_empty() {
        list.push_str("<p class=\"meta\">No persona versions yet.</p>");
    }
    let name_value = agent.name.as_deref().map(escape).unwrap_or_default();
    let body = format!(
        "<p class=\"meta\"><a href=\"/\">← Agents</a></p>\
         <section><h1>{title}</h1>\
         <p class=\"meta\">Id <code>{id}</code> · model {model} · created {created}</p>\
         <form method=\"post\" action=\"{href}/name\"><label>Name <input type=\"text\" name=\"name\" value=\"{name_value}\"></label> \
         <button>Save name</button></form></section>\
         <section><h2>Edit persona</h2>\
         <form method=\"post\" action=\"{href}/persona\">\
         <textarea name=\"persona\">\n{editor}</textarea>\
         <p><label>Format <select name=\"format\"><option value=\"text\"{text_sel}>text</option>\
         <option value=\"json\"{json_sel}>JSON object (base, voice, ...)</option></select></label></p>\
         <button name=\"action\" value=\"draft\" class=\"secondary\">Save draft</button> \
         <button name=\"action\" value=\"publish\">Publish</button></form></section>\
         <section><h2>Persona versions</h2>\n{list}</section>",
        title = agent
            .name
            .as_deref()
            .map_or_else(|| "(no name)".to_owned(), escape),
        id = escape(&agent.id),
        model = agent.model.as_deref().map_or_else(
            || "<em>none</em>".to_owned(),
            |m| format!("<code>{}</code>", escape(m))
        ),
        created = format_utc(agent.created_date),
        // The newline after <textarea> is eaten by HTML parsers, so a leading newline survives.
        editor = escape(&editor_text),
        text_sel = if is_json { "" } else { " selected" },
        json_sel = if is_json { " selected" } else { "" },
    );
    let title = agent.name.clone().unwrap_or_else(|| agent.id.clone());
    page(&title, state.api_key.is_some(), &body)
}

/// A persona as display text: the string itself, or pretty JSON for the object form.
fn persona_text(persona: &Value) -> String {
    match persona {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

fn agent_href(id: &str) -> String {
    format!("/agents/{}", encode_segment(id))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn format_utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, day_secs) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60
    )
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn formats_utc_times() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_100_000), "2023-11-14 22:15:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; lua_dev_session=tok; b=2"),
        );
        assert_eq!(session_token(&h), Some("tok"));
        assert_eq!(session_token(&HeaderMap::new()), None);
    }

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode_segment("a_b-c.d"), "a_b-c.d");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }
}
