//! Plain-text outputs for machines and summaries: a unified diff and a
//! one-line preview.

use std::time::Instant;

use crate::compute::{CONTEXT, TIME_BUDGET, line_diff};
use crate::render::push_display_char;

/// A plain unified diff of `server` against `local`: `--- {server_label}`,
/// `+++ {local_label}`, then `@@ -a,b +c,d @@` hunks with 3 context lines,
/// and `\ No newline at end of file` where a side lacks a final newline.
///
/// Meant for JSON reports, so lines keep their original terminators and
/// nothing is escaped or coloured. Equal values give an empty string.
///
/// Unlike the block ([`crate::compute`]), this stays an exact, applicable patch: a
/// last line that loses its newline is removed and added again, as `git diff`
/// shows it. Callers that compare texts without final newlines (the JSON report
/// diffs canonical texts) add one to both sides, so only real changes show.
pub fn unified(server: &str, local: &str, server_label: &str, local_label: &str) -> String {
    if let (Some(old), Some(new)) = (one_line(server), one_line(local)) {
        // Two one-line values (a version, an id): the diff is known without diffing.
        if old == new {
            return String::new();
        }
        return format!("--- {server_label}\n+++ {local_label}\n@@ -1 +1 @@\n-{old}\n+{new}\n");
    }
    let diff = line_diff(server, local, Instant::now() + TIME_BUDGET);
    diff.unified_diff()
        .context_radius(CONTEXT)
        .header(server_label, local_label)
        .missing_newline_hint(true)
        .to_string()
}

/// The text of `value` when it is exactly one line ending in `\n` (no other line break).
fn one_line(value: &str) -> Option<&str> {
    let text = value.strip_suffix('\n')?;
    (!text.contains(['\n', '\r'])).then_some(text)
}

/// A one-line preview of a value for summaries: its first line with
/// non-whitespace content, trimmed, whitespace runs collapsed to one space,
/// control characters shown as symbols; cut to at most `max_chars`
/// characters, the last being `…` when anything was cut.
/// An empty or blank value gives `""`.
pub fn preview(value: &str, max_chars: usize) -> String {
    let line = value
        .split(['\n', '\r'])
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default();
    let mut shown = String::with_capacity(line.len());
    for (i, word) in line.split_whitespace().enumerate() {
        if i > 0 {
            shown.push(' ');
        }
        for ch in word.chars() {
            push_display_char(&mut shown, ch, false);
        }
    }
    if shown.chars().nth(max_chars).is_none() {
        return shown;
    }
    if max_chars == 0 {
        return String::new();
    }
    let mut cut: String = shown.chars().take(max_chars - 1).collect();
    cut.truncate(cut.trim_end().len());
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-line shortcut gives what the line diff gives.
    #[test]
    fn one_line_values_diff_as_the_line_diff_does() {
        let slow = |server: &str, local: &str| {
            line_diff(server, local, Instant::now() + TIME_BUDGET)
                .unified_diff()
                .context_radius(CONTEXT)
                .header("server", "local")
                .missing_newline_hint(true)
                .to_string()
        };
        let lines = [
            "\n",
            "1.0.0\n",
            "1.0.1\n",
            " \n",
            "\t x \n",
            "é\u{85}\u{2028}\n",
            "%\n",
            "1.0.0",
            "a\r\n",
            "a\nb\n",
            "",
        ];
        for server in lines {
            for local in lines {
                assert_eq!(
                    unified(server, local, "server", "local"),
                    slow(server, local),
                    "{server:?} -> {local:?}"
                );
            }
        }
    }
}
