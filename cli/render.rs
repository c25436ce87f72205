//! Human and GitHub renderings of the engine's report and outcome. Pure functions from
//! data to text, generic over components (no component is named here).

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use lua_core::Shape;
use lua_core::config::CheckPolicy;
use lua_core::engine::{
    Action, Choice, Classification, Direction, Item, Outcome, Plan, Presence, Report, Status,
};

use crate::sanitize::Rendered;

pub const NO_DRIFT: &str = "✅ No drift detected. Local code is in sync with server.";
pub const DRIFT: &str = "⚠️  Drift detected!";

/// `src/index.ts:5:12` for the local value, when known.
pub fn location(item: &Item) -> Option<String> {
    item.local.place().map(|p| p.to_string())
}

/// Appends `local 1.0.0 -> server 1.0.1`, `local 1.0.0, missing on server`: one drifted
/// item of a keyed set, in a line (written in place: the listings write thousands).
fn push_keyed_change(out: &mut String, item: &Item) {
    let local = item.local_version();
    let server = item.server_version();
    // Unversioned items (MCP servers) are there or not: their value says nothing more.
    // Writing to a String cannot fail.
    let _ = match item.presence() {
        Some(Presence::LocalOnly) => match local {
            None => write!(out, "missing on server"),
            Some(v) => write!(out, "local {v}, missing on server"),
        },
        Some(Presence::ServerOnly) => match server {
            None => write!(out, "missing locally"),
            Some(v) => write!(out, "missing locally, server {v}"),
        },
        _ => {
            let local_text = item.local_text.as_deref().unwrap_or_default();
            let server_text = item.server_text.as_deref().unwrap_or_default();
            match (local, server) {
                (Some(l), Some(s)) => write!(out, "local {l} -> server {s}"),
                (Some(l), None) => write!(out, "local {l} -> server {server_text}"),
                (None, Some(s)) => write!(out, "local {local_text} -> server {s}"),
                (None, None) => write!(out, "local {local_text} -> server {server_text}"),
            }
        }
    };
}

/// The drifted items of keyed sets, one aligned line each, grouped by component.
pub fn keyed_lines(items: &[&Item], color: bool) -> Rendered {
    let mut out = Rendered::new();
    push_keyed_lines(&mut out, items, color);
    out
}

/// Appends [`keyed_lines`] to `out`, through one scratch buffer rather than a few
/// strings per item.
fn push_keyed_lines(out: &mut Rendered, items: &[&Item], color: bool) {
    let id_width = items.iter().map(|i| i.id.len()).max().unwrap_or(0);
    let key_width = items
        .iter()
        .map(|i| i.key.as_deref().unwrap_or("").chars().count())
        .max()
        .unwrap_or(0);
    let mut buf = String::new();
    for (n, item) in items.iter().enumerate() {
        let key = item.key.as_deref().unwrap_or("");
        if n > 0 {
            out.text("\n");
        }
        buf.clear();
        let _ = write!(buf, "  {:<id_width$}  ", item.id);
        out.text(&buf).styled(color, Style::new().bold(), key);
        buf.clear();
        let pad = key_width.saturating_sub(key.chars().count());
        buf.extend(std::iter::repeat_n(' ', pad));
        buf.push_str("  ");
        push_keyed_change(&mut buf, item);
        out.text(&buf);
        buf.clear();
        if let Some(c) = item.classification() {
            buf.push_str("  (");
            buf.extend(
                c.as_str()
                    .chars()
                    .map(|ch| if ch == '_' { ' ' } else { ch }),
            );
            buf.push(')');
        }
        out.styled(color, Style::new().dimmed(), &buf);
    }
}

/// Every drifted item: the diff block of each single value, then one line per item of
/// the keyed sets.
pub fn drift_listing(report: &Report, color: bool) -> Rendered {
    let mut out = Rendered::new();
    let mut first = true;
    for item in report.drifted().filter(|i| i.shape == Shape::Single) {
        if !first {
            out.text("\n\n");
        }
        first = false;
        out.append(&item_diff(item, color));
    }
    let keyed: Vec<&Item> = report
        .drifted()
        .filter(|i| i.shape == Shape::Keyed)
        .collect();
    if !keyed.is_empty() {
        if !first {
            out.text("\n\n");
        }
        push_keyed_lines(&mut out, &keyed, color);
    }
    out
}

/// The diff block of one drifted item (a line for an item of a keyed set), followed by
/// the classification's reason.
pub fn item_diff(item: &Item, color: bool) -> Rendered {
    let server = item.server_text.as_deref().unwrap_or("");
    let local = item.local_text.as_deref().unwrap_or("");
    let style = lua_diff::Style { color };
    let multi_line = server.contains('\n') || local.contains('\n');
    // A one-line value is diffed by `render` itself: no line diff to compute first.
    let mut out = if item.shape == Shape::Keyed {
        keyed_lines(&[item], color)
    } else if let Some(drift) = multi_line.then(|| item.drift()).flatten() {
        Rendered::diff_block(lua_diff::render_block(item.title, drift, style))
    } else {
        Rendered::diff_block(lua_diff::render(item.title, server, local, style))
    };
    let mut facts = Vec::new();
    if let Some(v) = item.server_version() {
        facts.push(format!("server {v}"));
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
        let style = if item.classification() == Some(Classification::BothChanged) {
            Style::new().bold().fg_color(Some(AnsiColor::Red.into()))
        } else {
            Style::new().fg_color(Some(AnsiColor::Cyan.into()))
        };
        out.text("\n")
            .styled(color, style, &format!("  {}: {reason}", item.label()));
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
        Status::NotCompared(why) => Some(format!(
            "{}: not compared: {why}; it is not in sync until the server's value can be compared.",
            item.label()
        )),
        _ => None,
    }
}

/// Said after the drift listing when some components failed: why nothing is resolved.
pub fn not_resolved_after_errors(report: &Report) -> String {
    let failed: Vec<String> = report
        .items
        .iter()
        .filter(|i| matches!(i.status, Status::Error(_) | Status::Unreachable(_)))
        .map(|i| i.id.to_string())
        .collect();
    format!(
        "Nothing was resolved: {} could not be checked (see the error above); fix that and run lua sync again.",
        failed.join(", ")
    )
}

/// The headline when nothing drifted but some items could not be compared.
pub fn not_compared_headline(report: &Report) -> Option<String> {
    let items: Vec<&Item> = report.not_compared().collect();
    if items.is_empty() {
        return None;
    }
    let names: Vec<String> = items.iter().map(|i| i.label()).collect();
    Some(format!(
        "⚠️  {} component{} not compared: {} (see above). No other drift detected.",
        items.len(),
        if items.len() == 1 { "" } else { "s" },
        names.join(", ")
    ))
}

/// How to accept, in `lua.toml`, that a component cannot be compared.
pub fn not_compared_hint(item: &Item) -> String {
    format!(
        "{} could not be compared, so the check cannot pass. If that is expected, add to lua.toml:\n  [components.{}]\n  check = \"warn\"   # or \"off\" to skip it",
        item.label(),
        item.id
    )
}

/// The `--check` summary: per drifted component its location and the first differing
/// line of each side, then the hints.
pub fn check_summary(report: &Report, color: bool) -> Rendered {
    let drifted: Vec<&Item> = report.drifted().collect();
    let mut out = Rendered::new();
    let count = drifted.len();
    let keyed: Vec<&Item> = drifted
        .iter()
        .copied()
        .filter(|i| i.shape == Shape::Keyed)
        .collect();
    // Items of keyed sets are counted one by one; a single value is one component.
    let noun = if keyed.is_empty() {
        "component"
    } else {
        "item"
    };
    out.text(&format!(
        "{count} {noun}{} drifted:\n",
        if count == 1 { "" } else { "s" }
    ));
    for item in drifted.iter().filter(|i| i.shape == Shape::Single) {
        let policy = match item.policy.check {
            CheckPolicy::Warn => " [warn only]",
            _ => "",
        };
        let class = item
            .classification()
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
            .server_version()
            .map(|v| format!(" ({v})"))
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
    if !keyed.is_empty() {
        out.text("\n").text(&keyed_counts(&keyed));
    }
    out.text(&resolve_hints(&drifted, noun));
    out
}

/// Per component of keyed sets, how many items drifted and how: the items themselves were
/// listed with the drift above.
fn keyed_counts(keyed: &[&Item]) -> String {
    let width = keyed.iter().map(|i| i.id.len()).max().unwrap_or(0);
    let mut per_component: Vec<(&str, [usize; 3])> = Vec::new();
    for item in keyed {
        let slot = match item.presence() {
            Some(Presence::LocalOnly) => 1,
            Some(Presence::ServerOnly) => 2,
            _ => 0,
        };
        match per_component.iter_mut().find(|(id, _)| *id == item.id) {
            Some((_, counts)) => counts[slot] += 1,
            None => {
                let mut counts = [0; 3];
                counts[slot] = 1;
                per_component.push((item.id, counts));
            }
        }
    }
    let mut out = String::new();
    for (id, counts) in per_component {
        let parts: Vec<String> = ["differ", "missing on server", "missing locally"]
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n > 0)
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        out.push_str(&format!("  {id:<width$}  {}\n", parts.join(", ")));
    }
    out
}

/// "To resolve": only what the drifted items allow (their policies and components): no
/// `--push` when nothing can be pushed, and for items sync cannot push, what deploys them.
pub fn resolve_hints(drifted: &[&Item], noun: &str) -> String {
    let can = |choice: Choice| drifted.iter().any(|i| i.allows(choice));
    let (push, pull) = (can(Choice::Push), can(Choice::Pull));
    let mut out = String::from("\nTo resolve:\n");
    let choices = match (push, pull) {
        (true, true) => Some("push, pull or skip"),
        (true, false) => Some("push or skip"),
        (false, true) => Some("pull or skip"),
        // Nothing sync could do: the prompt would only offer skip.
        (false, false) => None,
    };
    if let Some(choices) = choices {
        out.push_str(&format!(
            "  lua sync           choose per {noun} ({choices})\n"
        ));
    }
    if pull {
        out.push_str("  lua sync --accept  pull the server's values into your code\n");
    }
    // An item only on the server has nothing to deploy from here: pulling is its fix.
    let unpushable = || {
        drifted
            .iter()
            .filter(|i| i.presence() != Some(Presence::ServerOnly))
            .filter_map(|i| Some((*i, i.push_unsupported.as_deref()?)))
    };
    if push {
        out.push_str("  lua sync --push    push your code's values to the server");
        out.push_str(if unpushable().next().is_none() {
            "\n"
        } else {
            " (skips the items below)\n"
        });
    }
    for (item, hint) in unpushable() {
        let _ = match &item.key {
            Some(key) => writeln!(out, "  {} {key}: {hint}", item.title),
            None => writeln!(out, "  {}: {hint}", item.title),
        };
    }
    // Said once: what the source does not declare is left on the server by --push.
    let undeclared: Vec<String> = drifted
        .iter()
        .filter(|i| i.not_declared && i.push_unsupported.is_none())
        .map(|i| i.label())
        .collect();
    if !undeclared.is_empty() {
        let _ = writeln!(
            out,
            "  Not declared in your code, so --push leaves the server's value: {}. To clear a server value on purpose, declare it as null in the LuaAgent config and push.",
            undeclared.join(", ")
        );
    }
    out.truncate(out.trim_end().len());
    out
}

/// `--dry-run`: every step of the plan, then every file it would write with its diff.
pub fn plan(plan: &Plan, color: bool) -> Rendered {
    let mut out = Rendered::new();
    if plan.is_empty() {
        out.text("Plan (dry run): nothing to write or send.\n");
        return out;
    }
    out.styled(
        color,
        Style::new().bold(),
        "Plan (dry run: nothing was written or sent):",
    )
    .text("\n");
    for step in &plan.steps {
        let line = match step.direction {
            Direction::Pull => format!(
                "  📥 pull {} -> {}",
                step.label(),
                if step.files.is_empty() {
                    "(no file changes)".to_string()
                } else {
                    step.files.join(", ")
                }
            ),
            Direction::Push => match &step.request {
                Some(r) => format!(
                    "  📤 push {}: {} {} {}",
                    step.label(),
                    r.method,
                    r.path,
                    body_summary(&r.body)
                ),
                None => format!("  📤 push {}", step.label()),
            },
        };
        out.text(&line).text("\n");
    }
    for file in &plan.files {
        let what = if file.old.is_none() { "new" } else { "changed" };
        out.text(&format!(
            "\n{} ({what}, {} bytes)\n",
            file.path,
            file.new.len()
        ));
        let Ok(new) = std::str::from_utf8(&file.new) else {
            out.text("  (binary)\n");
            continue;
        };
        // lua's own records are listed, not shown.
        if file.path.starts_with(".lua/") {
            continue;
        }
        let old = file
            .old
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let diff = lua_diff::unified(
            &old,
            new,
            &format!("{} (now)", file.path),
            &format!("{} (planned)", file.path),
        );
        out.text(&diff);
        if !diff.ends_with('\n') {
            out.text("\n");
        }
    }
    out
}

/// A request body in one line, at most 160 characters.
fn body_summary(body: &serde_json::Value) -> String {
    let text = body.to_string();
    if text.chars().count() <= 160 {
        return text;
    }
    let cut: String = text.chars().take(157).collect();
    format!("{cut}...")
}

/// What was pushed, pulled, skipped.
pub fn outcome_summary(outcome: &Outcome) -> String {
    let mut lines = Vec::new();
    for r in &outcome.resolutions {
        let label = r.label();
        lines.push(match &r.action {
            Action::Pushed { version: Some(v) } => {
                format!("📤 {label}: pushed local to server (now {v})")
            }
            Action::Pushed { version: None } => format!("📤 {label}: pushed local to server"),
            Action::Pulled { files, notes } if files.is_empty() => {
                with_notes(format!("📥 {label}: pulled (no file changed)"), notes)
            }
            Action::Pulled { files, notes } => with_notes(
                format!("📥 {label}: pulled server into {}", files.join(", ")),
                notes,
            ),
            Action::Skipped { message, .. } => format!("⏭️  {label}: {message}"),
            Action::Conflict { message } => format!("⚔️  {label}: {message}"),
            Action::Unresolved { message, .. } => format!("⏸️  {label}: not resolved: {message}"),
            Action::Refused { message, .. } => format!("❌ {label}: not pulled: {message}"),
            Action::Guarded { message } => format!("🛑 {label}: {message}"),
            Action::Failed { message, .. } => format!("❌ {label}: failed: {message}"),
        });
    }
    if outcome.aborted {
        lines.push("Aborted: nothing was written or sent.".to_string());
    }
    lines.join("\n")
}

fn with_notes(line: String, notes: &[String]) -> String {
    let mut out = line;
    for note in notes {
        out.push_str(&format!("\n     note: {note}"));
    }
    out
}

/// GitHub Actions workflow commands for the report.
pub fn github(report: &Report) -> String {
    let mut out = String::new();
    let mut scratch = String::new();
    for item in &report.items {
        let level = if item.policy.check == CheckPolicy::Fail {
            "error"
        } else {
            "warning"
        };
        // Each command is a line; none is empty, so an empty `out` means none yet.
        let command = |out: &mut String, level: &str, located: bool| {
            if !out.is_empty() {
                out.push('\n');
            }
            let _ = write!(out, "::{level}");
            // An item only on the server points at where its component's items are kept.
            if let Some(p) = item.place().filter(|_| located) {
                let _ = write!(out, " file={},line={},col={}", p.file, p.line, p.column);
            }
            out.push_str("::");
            out.push_str(item.id);
            if let Some(key) = &item.key {
                out.push(' ');
                // A key is the server's name for the item: one line, like any data.
                push_escaped(out, key);
            }
        };
        match &item.status {
            Status::Drift { .. } if item.shape == Shape::Keyed => {
                command(&mut out, level, true);
                out.push_str(" drifted: ");
                scratch.clear();
                push_keyed_change(&mut scratch, item);
                push_escaped(&mut out, &scratch);
            }
            Status::Drift { .. } => {
                command(&mut out, level, true);
                out.push_str(" drifted from server");
                if let Some(v) = item.server_version() {
                    let _ = write!(out, " {v}");
                }
                if let Some(r) = item.reason() {
                    push_escaped(&mut out, &format!(" ({r})"));
                }
            }
            Status::Unreadable(u) => {
                command(&mut out, level, true);
                out.push_str(" not compared: cannot be read statically: ");
                push_escaped(&mut out, &u.reason);
            }
            Status::NotCompared(why) => {
                command(&mut out, level, true);
                out.push_str(" not compared: ");
                push_escaped(&mut out, why);
            }
            // An unreachable server is said once for the run (see `github_command`).
            Status::Error(e) => {
                command(&mut out, "error", false);
                out.push_str(": ");
                push_escaped(&mut out, &e.to_string());
            }
            _ => {}
        }
    }
    if out.is_empty() && report.unreachable().is_none() {
        out.push_str("No drift detected. Local code is in sync with server.");
    }
    out
}

/// One GitHub workflow command (`::warning::...`) carrying a multi-line text.
pub fn github_command(level: &str, text: &str) -> String {
    format!("::{level}::{}", escape_data(text))
}

/// GitHub's escaping for workflow command data.
fn escape_data(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_escaped(&mut out, s);
    out
}

/// Appends [`escape_data`]`(s)` to `out`.
fn push_escaped(out: &mut String, s: &str) {
    for ch in s.chars() {
        match ch {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
}
