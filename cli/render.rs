//! Human and GitHub renderings of the engine's report and outcome. Pure functions from
//! data to text, generic over components (no component is named here).

use anstyle::{AnsiColor, Style};
use lua_core::Local;
use lua_core::config::CheckPolicy;
use lua_core::engine::{Action, Item, Outcome, Report, Status};

use crate::sanitize::Rendered;

pub const NO_DRIFT: &str = "✅ No drift detected. Local code is in sync with server.";
pub const DRIFT: &str = "⚠️  Drift detected!";

/// `src/index.ts:5:12` for the local value, when known.
pub fn location(item: &Item) -> Option<String> {
    match &item.local {
        Local::Value { node, .. } => node
            .origin()
            .map(|o| format!("{}:{}:{}", o.file, o.line, o.column)),
        Local::Unreadable(u) => Some(format!("{}:{}:{}", u.file, u.line, u.column)),
        Local::Missing => None,
    }
}

/// The diff block of one drifted item, followed by the classification's reason.
pub fn item_diff(item: &Item, color: bool) -> Rendered {
    let server = item.server_text.as_deref().unwrap_or("");
    let local = item.local_text.as_deref().unwrap_or("");
    let style = lua_core::diff::Style { color };
    let multi_line = server.contains('\n') || local.contains('\n');
    let mut out = Rendered::diff_block(match &item.drift {
        Some(drift) if multi_line => lua_core::diff::render_block(item.title, drift, style),
        _ => lua_core::diff::render(item.title, server, local, style),
    });
    let mut facts = Vec::new();
    if let Some(v) = item.remote.as_ref().and_then(|r| r.version) {
        facts.push(format!("server v{v}"));
    }
    if let Some(loc) = location(item) {
        facts.push(format!("code {loc}"));
    }
    if !facts.is_empty() {
        out.text("\n").styled(
            color,
            Style::new().dimmed(),
            &format!("  {}", facts.join(" · ")),
        );
    }
    if let Some(reason) = item.reason() {
        let style = if item.classification == Some(lua_core::engine::Classification::BothChanged) {
            Style::new().bold().fg_color(Some(AnsiColor::Red.into()))
        } else {
            Style::new().fg_color(Some(AnsiColor::Cyan.into()))
        };
        out.text("\n")
            .styled(color, style, &format!("  {}: {reason}", item.title));
    }
    out
}

/// A note about an item that is not drift but deserves a line (stderr).
pub fn notes_for(item: &Item) -> Option<String> {
    match &item.status {
        Status::NotPublished => Some(format!(
            "{}: nothing published on the server yet; no drift",
            item.title
        )),
        Status::Unreadable(u) => Some(format!(
            "{u}\n{} is not compared, and cannot be pulled into this code.",
            item.title
        )),
        _ => None,
    }
}

/// The `--check` summary: per drifted component its location and the first differing
/// line of each side, then the hints.
pub fn check_summary(report: &Report, color: bool) -> Rendered {
    let drifted: Vec<&Item> = report.drifted().collect();
    let mut out = Rendered::new();
    let count = drifted.len();
    out.text(&format!(
        "{} component{} drifted:\n",
        count,
        if count == 1 { "" } else { "s" }
    ));
    for item in drifted {
        let policy = match item.policy.check {
            CheckPolicy::Warn => " [warn only]",
            _ => "",
        };
        let class = item
            .classification
            .map(|c| format!(" ({})", c.as_str().replace('_', " ")))
            .unwrap_or_default();
        out.text("\n  ")
            .styled(color, Style::new().bold(), item.title)
            .text(&format!("{class}{policy}\n"));
        let first = crate::difference::first_difference(
            item.server_text.as_deref().unwrap_or(""),
            item.local_text.as_deref().unwrap_or(""),
        );
        let loc = location(item)
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        let version = item
            .remote
            .as_ref()
            .and_then(|r| r.version)
            .map(|v| format!(" (v{v})"))
            .unwrap_or_default();
        match first.line {
            None => {
                out.text("    Every line reads the same; only line endings differ.\n");
            }
            Some(line) => {
                if first.multi_line {
                    out.text(&format!(
                        "    First difference, line {line} of the value:\n"
                    ));
                }
                out.text(&format!("    Local{loc}: {}\n", first.local));
                out.text(&format!("    Server{version}: {}\n", first.server));
            }
        }
    }
    out.text("\nTo resolve:\n");
    out.text("  lua sync           choose per component (push, pull or skip)\n");
    out.text("  lua sync --accept  pull the server's values into your code\n");
    out.text("  lua sync --push    push your code's values to the server");
    out
}

/// What was pushed, pulled, skipped.
pub fn outcome_summary(outcome: &Outcome) -> String {
    let mut lines = Vec::new();
    for r in &outcome.resolutions {
        lines.push(match &r.action {
            Action::Pushed { version: Some(v) } => {
                format!("📤 {}: pushed local to server (now v{v})", r.title)
            }
            Action::Pushed { version: None } => format!("📤 {}: pushed local to server", r.title),
            Action::Pulled { files } => {
                format!("📥 {}: pulled server into {}", r.title, files.join(", "))
            }
            Action::Skipped { reason } => format!("⏭️  {}: {reason}", r.title),
            Action::Conflict { message } => format!("⚔️  {}: {message}", r.title),
            Action::Refused { message } => format!("❌ {}: not pulled: {message}", r.title),
            Action::Guarded { message } => format!("🛑 {}: {message}", r.title),
            Action::Failed { message } => format!("❌ {}: failed: {message}", r.title),
        });
    }
    if outcome.aborted {
        lines.push("Aborted: nothing more was written.".to_string());
    }
    lines.join("\n")
}

/// GitHub Actions workflow commands for the report.
pub fn github(report: &Report) -> String {
    let mut lines = Vec::new();
    for item in &report.items {
        let loc = match &item.local {
            Local::Value { node, .. } => node
                .origin()
                .map(|o| format!(" file={},line={},col={}", o.file, o.line, o.column)),
            Local::Unreadable(u) => {
                Some(format!(" file={},line={},col={}", u.file, u.line, u.column))
            }
            Local::Missing => None,
        }
        .unwrap_or_default();
        let from = item
            .remote
            .as_ref()
            .and_then(|r| r.version)
            .map(|v| format!(" v{v}"))
            .unwrap_or_default();
        match &item.status {
            Status::Drift => {
                let level = if item.policy.check == CheckPolicy::Fail {
                    "error"
                } else {
                    "warning"
                };
                let why = item.reason().map(|r| format!(" ({r})")).unwrap_or_default();
                lines.push(format!(
                    "::{level}{loc}::{} drifted from server{from}{}",
                    item.id,
                    escape_data(&why)
                ));
            }
            Status::Unreadable(u) => lines.push(format!(
                "::warning{loc}::{} cannot be read statically: {}",
                item.id,
                escape_data(&u.reason)
            )),
            // An unreachable server is said once for the run (see `github_command`).
            Status::Error(e) => {
                lines.push(format!(
                    "::error::{}: {}",
                    item.id,
                    escape_data(&e.to_string())
                ));
            }
            _ => {}
        }
    }
    if lines.is_empty() && report.unreachable().is_none() {
        lines.push("No drift detected. Local code is in sync with server.".to_string());
    }
    lines.join("\n")
}

/// One GitHub workflow command (`::warning::...`) carrying a multi-line text.
pub fn github_command(level: &str, text: &str) -> String {
    format!("::{level}::{}", escape_data(text))
}

/// GitHub's escaping for workflow command data.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
