//! The dashboard's HTML, through maud (every interpolated value is escaped unless marked
//! otherwise, and nothing here marks anything otherwise). No inline script or style: the one
//! stylesheet is served from `/assets/dashboard.css`.
//!
//! Views take plain data and return markup; they know no state, no session, no database.

use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use crate::store::{Agent, AgentSummary, Status, Version};

/// Where the stylesheet is served (`dashboard::router`).
pub(super) const CSS_PATH: &str = "/assets/dashboard.css";
/// Where the icon is served (so the browser's favicon request does not fail).
pub(super) const ICON_PATH: &str = "/assets/icon.svg";
/// The icon itself.
pub(super) const ICON: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/icon.svg"));
/// The stylesheet itself.
pub(super) const CSS: &str =
    include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/dashboard.css"));

/// An error page as the answer, with its status.
pub(super) fn error_answer(status: StatusCode, message: &str) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let page = error_page(status.as_u16(), reason, message);
    (status, Html(page.into_string())).into_response()
}

/// What every page's frame needs to know about the visitor.
pub(super) struct Chrome {
    /// Show the "Log out" button (signed in, and not in insecure mode).
    pub logout: bool,
    /// The CSRF token every form carries as the hidden field `csrf`.
    pub csrf: String,
}

impl Chrome {
    /// For pages without forms that change anything.
    fn bare() -> Chrome {
        Chrome {
            logout: false,
            csrf: String::new(),
        }
    }
}

/// The hidden field with the CSRF token, in every form that changes something.
fn csrf_field(chrome: &Chrome) -> Markup {
    html! { input type="hidden" name="csrf" value=(chrome.csrf); }
}

fn page(title: &str, chrome: &Chrome, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " · lua-devserver" }
                link rel="stylesheet" href=(CSS_PATH);
                link rel="icon" href=(ICON_PATH) type="image/svg+xml";
            }
            body {
                header {
                    a href="/" { "lua-devserver" }
                    @if chrome.logout {
                        form.inline method="post" action="/logout" {
                            (csrf_field(chrome))
                            button.secondary { "Log out" }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

pub(super) fn login_page(error: Option<&str>) -> Markup {
    let body = html! {
        section {
            h1 { "Sign in" }
            @if let Some(error) = error { p.error { (error) } }
            p {
                "Enter the API key this devserver was started with ("
                code { "--api-key" } " or " code { "LUA_API_KEY" } ")."
            }
            form method="post" action="/login" {
                input type="password" name="key" autofocus;
                " "
                button { "Sign in" }
            }
        }
    };
    page("Sign in", &Chrome::bare(), body)
}

pub(super) fn error_page(status: u16, reason: &str, message: &str) -> Markup {
    let body = html! {
        section {
            h1 { (status) " " (reason) }
            p.error { (message) }
            p { a href="/" { "Back to the agents" } }
        }
    };
    page("Error", &Chrome::bare(), body)
}

fn version_cell(v: Option<i64>) -> Markup {
    html! {
        @match v {
            Some(v) => { "v" (v) }
            None => { "–" }
        }
    }
}

pub(super) fn agents_page(chrome: &Chrome, agents: &[AgentSummary]) -> Markup {
    let body = html! {
        section {
            h1 { "Agents" }
            @if agents.is_empty() {
                p.meta { "No agents yet." }
            } @else {
                table {
                    thead { tr { th { "Name" } th { "Id" } th { "Latest published" } th { "Current" } } }
                    tbody {
                        @for a in agents {
                            tr {
                                td {
                                    a href=(agent_href(&a.agent.id)) {
                                        @match a.agent.string("name") {
                                            Some(name) => (name),
                                            None => em { "(no name)" },
                                        }
                                    }
                                }
                                td { code { (a.agent.id) } }
                                td { (version_cell(a.latest_published)) }
                                td { (version_cell(a.agent.current_version)) }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { "New agent" }
            form method="post" action="/agents" {
                (csrf_field(chrome))
                input type="text" name="id" placeholder="baseAgent_agent_123" required;
                " "
                input type="text" name="name" placeholder="Name";
                " "
                input type="text" name="model" placeholder="Model (optional)";
                " "
                button { "Create" }
            }
        }
    };
    page("Agents", chrome, body)
}

/// The agent page; `extra` (governance, primitives, backup) goes after the persona versions.
pub(super) fn agent_page(
    chrome: &Chrome,
    agent: &Agent,
    versions: &[Version],
    extra: Markup,
) -> Markup {
    let href = agent_href(&agent.id);
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
    let mut newest_first: Vec<&Version> = versions.iter().collect();
    newest_first.sort_by_key(|v| std::cmp::Reverse(v.version));
    let body = html! {
        p.meta { a href="/" { "← Agents" } }
        section {
            h1 { (agent.string("name").unwrap_or("(no name)")) }
            p.meta {
                "Id " code { (agent.id) } " · model "
                @match agent.string("model") {
                    Some(m) => code { (m) },
                    None => em { "none" },
                }
                " · created " (format_utc(agent.created_date))
            }
            form method="post" action={ (href) "/name" } {
                (csrf_field(chrome))
                label { "Name " input type="text" name="name" value=(agent.string("name").unwrap_or("")); }
                " "
                button { "Save name" }
            }
        }
        section {
            h2 { "Edit persona" }
            form method="post" action={ (href) "/persona" } {
                (csrf_field(chrome))
                // The newline after <textarea> is eaten by HTML parsers, so a leading newline
                // of the text survives.
                textarea name="persona" { "\n" (editor_text) }
                p {
                    label {
                        "Format "
                        select name="format" {
                            option value="text" selected[!is_json] { "text" }
                            option value="json" selected[is_json] { "JSON object (base, voice, ...)" }
                        }
                    }
                }
                button.secondary name="action" value="draft" { "Save draft" }
                " "
                button name="action" value="publish" { "Publish" }
            }
        }
        section {
            h2 { "Persona versions" }
            @for v in &newest_first {
                (version_entry(chrome, &href, v, latest_published))
            }
            @if versions.is_empty() {
                p.meta { "No persona versions yet." }
            }
        }
        (extra)
    };
    let title = agent.string("name").unwrap_or(&agent.id).to_owned();
    page(&title, chrome, body)
}

fn version_entry(
    chrome: &Chrome,
    href: &str,
    v: &Version,
    latest_published: Option<i64>,
) -> Markup {
    let n = v.version;
    html! {
        div.version id={ "v" (n) } {
            strong { "v" (n) }
            span class={ "badge " (v.status.as_str()) } { (v.status.as_str()) }
            @if v.is_current { span.badge.current { "current" } }
            @if Some(n) == latest_published { span.badge.latest { "latest published" } }
            " "
            span.meta { (format_utc(v.created_date)) " · by " (v.created_by) }
            " "
            @match (v.status, v.is_current) {
                (Status::Draft, _) => {
                    form.inline method="post" action={ (href) "/versions/" (n) "/publish" } {
                        (csrf_field(chrome))
                        button { "Publish" }
                    }
                }
                (Status::Published, false) => {
                    form.inline method="post" action={ (href) "/versions/" (n) "/deploy" } {
                        (csrf_field(chrome))
                        button.secondary { "Roll back to this" }
                    }
                }
                (Status::Published, true) => {}
            }
            pre { (persona_text(&v.persona)) }
        }
    }
}

/// A persona as display text: the string itself, or pretty JSON for the object form.
fn persona_text(persona: &Value) -> String {
    match persona {
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_else(|_| other.to_string()),
    }
}

/// The agent page's path (also where its forms post, below it).
pub(super) fn agent_href(id: &str) -> String {
    format!("/agents/{}", encode_segment(id))
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(super) fn encode_segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

/// Everything but RFC 3986 unreserved characters.
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Epoch milliseconds as `YYYY-MM-DD HH:MM:SS UTC` (out-of-range values shown as the number).
pub(super) fn format_utc(ms: i64) -> String {
    match jiff::Timestamp::from_millisecond(ms) {
        Ok(t) => t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(),
        Err(_) => format!("{ms} ms"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_times() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_100_000), "2023-11-14 22:15:00 UTC");
        assert_eq!(format_utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(-1), "1969-12-31 23:59:59 UTC");
        assert_eq!(format_utc(i64::MAX), format!("{} ms", i64::MAX));
    }

    #[test]
    fn encodes_path_segments() {
        assert_eq!(encode_segment("a_b-c.d~"), "a_b-c.d~");
        assert_eq!(encode_segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn values_are_escaped() {
        let html = login_page(Some("<script>alert(\"x\")</script> & 'y'")).into_string();
        assert!(
            html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; 'y'"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
    }
}
