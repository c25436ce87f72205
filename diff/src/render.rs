//! Turning a [`Drift`] (or two one-line values) into the framed text block.
//! Colour is the caller's decision ([`Style`]); this module never looks at
//! the terminal or the environment.

use crate::display::is_hidden_format_char;
pub(crate) use crate::display::push_display_char;
use std::time::Instant;

use anstyle::AnsiColor;

use crate::compute::{TIME_BUDGET, compute, inline_segments};
use crate::drift::{Drift, Line, LineTag, ShowWhitespace};
use crate::lines::{EndingNote, LineEnding, Side};

/// The `====` rule above and below a block: 60 `=`.
const RULE: &str = "============================================================";
/// The legend under the title, as in the reference.
const LEGEND: &str = "- Server (deployed)  + Local (code)";

/// How to render: with ANSI colours or as plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// Emit ANSI escape codes (red/green/gray, bold title, emphasized words).
    pub color: bool,
}

/// Which colour role a piece of output plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Dim,
    Title,
    Note,
    Removed,
    RemovedEmph,
    Added,
    AddedEmph,
}

impl Role {
    fn style(self) -> anstyle::Style {
        let fg = |c: AnsiColor| anstyle::Style::new().fg_color(Some(c.into()));
        match self {
            Role::Plain => anstyle::Style::new(),
            Role::Dim => fg(AnsiColor::BrightBlack),
            Role::Title => anstyle::Style::new().bold(),
            Role::Note => fg(AnsiColor::Yellow),
            Role::Removed => fg(AnsiColor::Red),
            Role::RemovedEmph => fg(AnsiColor::Red).bold().underline(),
            Role::Added => fg(AnsiColor::Green),
            Role::AddedEmph => fg(AnsiColor::Green).bold().underline(),
        }
    }

    fn for_tag(tag: LineTag, emphasized: bool) -> Role {
        match (tag, emphasized) {
            (LineTag::Delete, false) => Role::Removed,
            (LineTag::Delete, true) => Role::RemovedEmph,
            (LineTag::Insert, false) => Role::Added,
            (LineTag::Insert, true) => Role::AddedEmph,
            (LineTag::Equal, _) => Role::Dim,
        }
    }
}

/// Output buffer; every line is written whole, so each coloured line resets
/// its styles before the newline.
struct Out {
    buf: String,
    color: bool,
}

impl Out {
    fn new(style: Style) -> Self {
        Out {
            buf: String::new(),
            color: style.color,
        }
    }

    fn line(&mut self, pieces: &[(Role, &str)]) {
        // Merge neighbours of one role so each styled run is emitted once.
        let mut runs: Vec<(Role, String)> = Vec::with_capacity(pieces.len());
        for &(role, text) in pieces {
            match runs.last_mut() {
                Some((last, run)) if *last == role => run.push_str(text),
                _ => runs.push((role, text.to_owned())),
            }
        }
        for (role, text) in &runs {
            if text.is_empty() {
                continue;
            }
            let style = role.style();
            if self.color && !style.is_plain() {
                self.buf.push_str(&format!(
                    "{}{}{}",
                    style.render(),
                    text,
                    style.render_reset()
                ));
            } else {
                self.buf.push_str(text);
            }
        }
        self.buf.push('\n');
    }

    fn single(&mut self, role: Role, text: &str) {
        self.line(&[(role, text)]);
    }

    fn header(&mut self, title: &str) {
        self.header_with(title, LEGEND);
    }

    fn header_with(&mut self, title: &str, legend: &str) {
        self.single(Role::Dim, RULE);
        let title = format!("{} DIFF", title.trim().to_uppercase());
        self.single(Role::Title, title.trim());
        self.single(Role::Dim, legend);
        self.single(Role::Dim, RULE);
        self.single(Role::Plain, "");
    }

    fn footer(mut self) -> String {
        self.single(Role::Plain, "");
        self.single(Role::Dim, RULE);
        self.buf
    }
}

/// The drift view for multi-line values: the reference's framed block.
///
/// Title uppercased plus ` DIFF`, the legend, then unchanged lines as
/// `  text`, removed as `- text`, added as `+ text`, with collapsed runs as
/// `  ... (N unchanged lines) ...`. See the crate docs for how whitespace
/// and control characters are shown. An empty drift renders
/// `  (no differences)`. The result ends with a newline and no line has
/// trailing whitespace.
pub fn render_block(title: &str, drift: &Drift, style: Style) -> String {
    block(title, LEGEND, drift, style)
}

/// [`render_block`] for two sides that are not server and local (two versions, say):
/// the legend reads `- {old}  + {new}`; everything else is the same.
pub fn render_block_between(
    title: &str,
    old: &str,
    new: &str,
    drift: &Drift,
    style: Style,
) -> String {
    block(title, &format!("- {old}  + {new}"), drift, style)
}

fn block(title: &str, legend: &str, drift: &Drift, style: Style) -> String {
    let mut out = Out::new(style);
    out.header_with(title, legend);
    if drift.is_empty() {
        out.single(Role::Dim, "  (no differences)");
        return out.footer();
    }
    if drift.server_empty() {
        out.single(Role::Dim, "  (server value is empty)");
    }
    if drift.local_empty() {
        out.single(Role::Dim, "  (local value is empty)");
    }
    for hunk in drift.hunks() {
        collapsed(&mut out, hunk.unchanged_before());
        for line in hunk.lines() {
            render_line(&mut out, line);
        }
    }
    collapsed(&mut out, drift.unchanged_after());
    if let Some(note) = drift.ending_note() {
        for text in ending_note_lines(note) {
            out.single(Role::Note, &text);
        }
    }
    out.footer()
}

/// The note lines for values that differ only in how their lines end, in
/// the manner of git's `\ No newline at end of file`.
fn ending_note_lines(note: &EndingNote) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(t) = note.terminators() {
        let plural = if t.count == 1 { "" } else { "s" };
        lines.push(format!(
            "\\ Line endings differ on {} line{plural} (line {} ends in {} on the server, {} locally)",
            t.count,
            t.first_line + 1,
            ending_name(t.server),
            ending_name(t.local),
        ));
    }
    if let Some(side) = note.missing_final_newline() {
        let side = match side {
            Side::Server => "server",
            Side::Local => "local",
        };
        lines.push(format!("\\ No newline at end of the {side} value"));
    }
    lines
}

fn ending_name(ending: LineEnding) -> &'static str {
    match ending {
        LineEnding::None => "no newline",
        LineEnding::Lf => "\\n",
        LineEnding::CrLf => "\\r\\n",
        LineEnding::Cr => "\\r",
    }
}

/// The drift view for one-line values, inside the same frame:
/// `- Server: "Old Name"` and `+ Local:  "New Name"`.
///
/// Values are quoted with `\`, `"` and control characters escaped (`\t`,
/// `\n`, `\u{..}`), so whitespace differences stay visible. Equal values
/// render `  (no differences)`.
pub fn render_short(title: &str, server: &str, local: &str, style: Style) -> String {
    let mut out = Out::new(style);
    out.header(title);
    if server == local {
        out.single(Role::Dim, "  (no differences)");
        return out.footer();
    }
    let segments = inline_segments(server, local, Instant::now() + TIME_BUDGET);
    let (old_segments, new_segments) = match &segments {
        Some((old, new)) => (
            old.iter().map(|s| (s.emphasized(), s.text())).collect(),
            new.iter().map(|s| (s.emphasized(), s.text())).collect(),
        ),
        None => (vec![(false, server)], vec![(false, local)]),
    };
    quoted_line(&mut out, LineTag::Delete, "- Server: ", &old_segments);
    quoted_line(&mut out, LineTag::Insert, "+ Local:  ", &new_segments);
    out.footer()
}

/// [`render_short`] when both values are single lines (no `\n`), else
/// [`render_block`] of [`compute`]`(server, local)`.
pub fn render(title: &str, server: &str, local: &str, style: Style) -> String {
    if server.contains('\n') || local.contains('\n') {
        render_block(title, &compute(server, local), style)
    } else {
        render_short(title, server, local, style)
    }
}

fn collapsed(out: &mut Out, count: usize) {
    match count {
        0 => {}
        1 => out.single(Role::Dim, "  ... (1 unchanged line) ..."),
        n => out.single(Role::Dim, &format!("  ... ({n} unchanged lines) ...")),
    }
}

fn render_line(out: &mut Out, line: &Line) {
    if line.tag() == LineTag::Equal {
        let mut text = String::with_capacity(line.text().len());
        for ch in line.text().chars() {
            push_display_char(&mut text, ch, false);
        }
        let text = text.trim_end();
        if text.is_empty() {
            out.single(Role::Plain, "");
        } else {
            out.single(Role::Dim, &format!("  {text}"));
        }
        return;
    }

    let pieces = changed_pieces(line);
    let prefix = if line.tag() == LineTag::Delete {
        "-"
    } else {
        "+"
    };
    let base = Role::for_tag(line.tag(), false);
    if pieces.is_empty() {
        out.single(base, prefix);
        return;
    }
    let prefix = format!("{prefix} ");
    let mut parts: Vec<(Role, &str)> = vec![(base, prefix.as_str())];
    parts.extend(
        pieces
            .iter()
            .map(|(emph, text)| (Role::for_tag(line.tag(), *emph), text.as_str())),
    );
    out.line(&parts);
}

/// The displayed text of a changed line as (emphasized, text) pieces.
///
/// Trailing whitespace is always made visible (lines never end in spaces,
/// and hiding it would hide a difference). A whitespace-only pair also shows
/// the whitespace that differs (its emphasized words, or all of it when
/// there is no word highlight). Line endings are never part of a changed
/// line: they are not compared, and an ending-only difference is a note.
fn changed_pieces(line: &Line) -> Vec<(bool, String)> {
    let text = line.text();
    let trailing_start = text.trim_end_matches(char::is_whitespace).len();
    let show = line.show_whitespace();
    let whole = [(false, text)];
    let segments: Vec<(bool, &str)> = if line.segments().is_empty() {
        whole.to_vec()
    } else {
        line.segments()
            .iter()
            .map(|s| (s.emphasized(), s.text()))
            .collect()
    };

    let mut pieces: Vec<(bool, String)> = Vec::new();
    let mut offset = 0;
    for (emph, segment) in segments {
        let mut shown = String::with_capacity(segment.len());
        let visible_here = match show {
            ShowWhitespace::Trailing => false,
            ShowWhitespace::Emphasized => emph,
            ShowWhitespace::All => true,
        };
        for (i, ch) in segment.char_indices() {
            push_display_char(&mut shown, ch, visible_here || offset + i >= trailing_start);
        }
        offset += segment.len();
        push_piece(&mut pieces, emph, shown);
    }
    pieces
}

fn push_piece(pieces: &mut Vec<(bool, String)>, emph: bool, text: String) {
    if text.is_empty() {
        return;
    }
    match pieces.last_mut() {
        Some((last_emph, last)) if *last_emph == emph => last.push_str(&text),
        _ => pieces.push((emph, text)),
    }
}

fn quoted_line(out: &mut Out, tag: LineTag, label: &str, segments: &[(bool, &str)]) {
    let base = Role::for_tag(tag, false);
    let escaped: Vec<(Role, String)> = segments
        .iter()
        .map(|(emph, text)| (Role::for_tag(tag, *emph), escape_quoted(text)))
        .collect();
    let mut parts: Vec<(Role, &str)> = vec![(base, label), (base, "\"")];
    parts.extend(escaped.iter().map(|(role, text)| (*role, text.as_str())));
    parts.push((base, "\""));
    out.line(&parts);
}

fn escape_quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() || is_hidden_format_char(c) => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_chars() {
        let show = |s: &str, visible: bool| {
            let mut out = String::new();
            for ch in s.chars() {
                push_display_char(&mut out, ch, visible);
            }
            out
        };
        assert_eq!(show("a\tb c\u{a0}d", false), "a    b c\u{a0}d");
        assert_eq!(show("a\tb c\u{a0}d", true), "a→b·c␣d");
        assert_eq!(show("\r\u{1b}[31m\u{7f}\u{85}", false), "␍␛[31m␡�");
        assert_eq!(show("x\u{202E}y", false), "x<U+202E>y");
    }

    #[test]
    fn quoted_escapes() {
        assert_eq!(
            escape_quoted("a \"b\" \\ \t\r\n\u{1b}"),
            "a \\\"b\\\" \\\\ \\t\\r\\n\\u{1b}"
        );
    }

    #[test]
    fn collapsed_wording() {
        let mut out = Out::new(Style::default());
        collapsed(&mut out, 0);
        collapsed(&mut out, 1);
        collapsed(&mut out, 12);
        assert_eq!(
            out.buf,
            "  ... (1 unchanged line) ...\n  ... (12 unchanged lines) ...\n"
        );
    }
}
