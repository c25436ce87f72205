//! Snapshots of the rendered drift view, as a user sees it (colour off,
//! except one snapshot that pins the escape codes).

use lua_diff::{Style, compute, preview, render, render_block, render_short, unified};

const PLAIN: Style = Style { color: false };
const COLOR: Style = Style { color: true };

/// Invariants every rendered block must hold, whatever the input.
fn checked(out: String) -> String {
    for line in out.lines() {
        assert_eq!(line.trim_end(), line, "trailing whitespace in {line:?}");
    }
    assert!(!out.contains('\r'), "carriage return reached the output");
    assert!(out.ends_with('\n'));
    out
}

fn block(server: &str, local: &str) -> String {
    checked(render_block("persona", &compute(server, local), PLAIN))
}

const PERSONA_OLD: &str = "<persona>
  <identity>
    Old Agent Name
  </identity>
  <rules>
    Be kind.
    Be brief.
  </rules>
</persona>
";

#[test]
fn changed_line_reference_example() {
    let local = PERSONA_OLD.replace("Old Agent Name", "New Agent Name");
    insta::assert_snapshot!(block(PERSONA_OLD, &local));
}

#[test]
fn changed_line_word_segments_are_structured_even_without_colour() {
    let local = PERSONA_OLD.replace("Old Agent Name", "New Agent Name");
    let drift = compute(PERSONA_OLD, &local);
    let changed: Vec<_> = drift.hunks()[0]
        .lines()
        .iter()
        .filter(|l| !l.segments().is_empty())
        .map(|l| {
            l.segments()
                .iter()
                .map(|s| (s.text(), s.emphasized()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(
        changed,
        [
            vec![("    ", false), ("Old", true), (" Agent Name", false)],
            vec![("    ", false), ("New", true), (" Agent Name", false)],
        ]
    );
}

#[test]
fn added_line() {
    let local = PERSONA_OLD.replace("    Be brief.\n", "    Be brief.\n    Never guess.\n");
    let drift = compute(PERSONA_OLD, &local);
    assert_eq!((drift.added(), drift.removed()), (1, 0));
    insta::assert_snapshot!(block(PERSONA_OLD, &local));
}

#[test]
fn removed_line() {
    let local = PERSONA_OLD.replace("    Be kind.\n", "");
    let drift = compute(PERSONA_OLD, &local);
    assert_eq!((drift.added(), drift.removed()), (0, 1));
    insta::assert_snapshot!(block(PERSONA_OLD, &local));
}

#[test]
fn whitespace_only_change_trailing_space() {
    let local = PERSONA_OLD.replace("Be kind.", "Be kind.  ");
    insta::assert_snapshot!(block(PERSONA_OLD, &local));
}

#[test]
fn tab_only_change() {
    let server = "rules:\n    Be kind.\n    Be brief.\n";
    let local = "rules:\n\tBe kind.\n    Be brief.\n";
    insta::assert_snapshot!(block(server, local));
}

#[test]
fn only_the_whitespace_that_differs_is_made_visible() {
    let out = block("keep  this\na b c\n", "keep  this\na  b  c\n");
    assert!(
        out.contains("\n  keep  this\n- a·b·c\n+ a··b··c\n"),
        "{out}"
    );
}

#[test]
fn tabs_in_unchanged_and_changed_text_are_expanded() {
    let server = "a\tb\nkeep\tthis\n";
    let local = "a\tc\nkeep\tthis\n";
    insta::assert_snapshot!(block(server, local));
}

#[test]
fn blank_lines_kept_added_and_removed() {
    let server = "Intro.\n\nFirst rule.\nSecond rule.\n\n\nOutro.\n";
    let local = "Intro.\n\nFirst rule.\n\nSecond rule.\n\nOutro.\n";
    insta::assert_snapshot!(block(server, local));
}

#[test]
fn whitespace_only_blank_line_change() {
    let server = "a\n\nb\n";
    let local = "a\n  \nb\n";
    insta::assert_snapshot!(block(server, local));
}

/// The issue's example: the server has one more last line, neither side ends
/// in a newline. One removed line, no changed `greet` line, no note.
#[test]
fn last_line_removed() {
    let server = "Always greet the customer by name.\nNever promise refunds.";
    let local = "Always greet the customer by name.";
    let out = block(server, local);
    assert!(!out.contains('⏎') && !out.contains("No newline"), "{out}");
    insta::assert_snapshot!(out);
}

#[test]
fn last_line_added() {
    let server = "You are helpful.\nBe brief.";
    let local = "You are helpful.\nBe brief.\nNever guess.";
    let out = block(server, local);
    assert!(!out.contains("- Be brief."), "{out}");
    insta::assert_snapshot!(out);
}

/// A last line removed while the new last line keeps its newline: the
/// newline is not the one difference, so it is not mentioned.
#[test]
fn last_line_removed_with_final_newline_on_one_side() {
    let out = block("one\ntwo\nthree", "one\ntwo\n");
    assert!(out.contains("\n  two\n- three\n"), "{out}");
    assert!(!out.contains("No newline"), "{out}");
}

/// Only the final newline differs: the last lines as context and one note,
/// on either side, and a single line left out is shown, not collapsed.
#[test]
fn only_the_final_newline_differs() {
    let local_missing = block(
        "one\ntwo\nthree\nfour\nfive\n",
        "one\ntwo\nthree\nfour\nfive",
    );
    let server_missing = block("one\ntwo", "one\ntwo\n");
    let four_lines = block("a\nb\nc\nd\n", "a\nb\nc\nd");
    assert!(
        four_lines.contains("\n  a\n  b\n  c\n  d\n"),
        "{four_lines}"
    );
    insta::assert_snapshot!(format!("{local_missing}\n{server_missing}"));
}

#[test]
fn only_line_endings_differ() {
    let out = block("a\r\nb\r\nc\n", "a\nb\nc\n");
    insta::assert_snapshot!(out);
}

#[test]
fn empty_server_side() {
    let out = block("", "You are helpful.\n\nBe brief.\n");
    insta::assert_snapshot!(out);
}

#[test]
fn empty_local_side() {
    let out = block("You are helpful.\nBe brief.", "");
    insta::assert_snapshot!(out);
}

#[test]
fn identical_values() {
    let drift = compute(PERSONA_OLD, PERSONA_OLD);
    assert!(drift.is_empty());
    assert_eq!((drift.added(), drift.removed()), (0, 0));
    insta::assert_snapshot!(block(PERSONA_OLD, PERSONA_OLD));
}

#[test]
fn object_like_canonical_text() {
    let server =
        "## base\nYou are a support agent for Acme.\nAnswer briefly.\n\n## voice\nSpeak slowly.";
    let local = "## base\nYou are a support agent for Acme.\nAnswer briefly.\n\n## voice\nSpeak slowly and warmly.\n\n## tone\nFriendly.";
    insta::assert_snapshot!(block(server, local));
}

fn huge_persona(lines: usize) -> String {
    (0..lines)
        .map(|i| format!("Rule {i}: be helpful, accurate and kind to every customer.\n"))
        .collect()
}

#[test]
fn huge_persona_two_changes_far_apart() {
    let server = huge_persona(10_000);
    let local = server
        .replace("Rule 1000: be helpful", "Rule 1000: be very helpful")
        .replace(
            "Rule 9000: be helpful, accurate and kind",
            "Rule 9000: be helpful and kind",
        );
    let drift = compute(&server, &local);
    assert_eq!(drift.hunks().len(), 2);
    assert_eq!((drift.added(), drift.removed()), (2, 2));
    insta::assert_snapshot!(checked(render_block("persona", &drift, PLAIN)));
}

#[test]
fn crlf_input_never_leaks_carriage_returns() {
    // Both sides CRLF: the line endings are not the difference, so only the
    // changed words show.
    let server = "Hello\r\nBe kind.\r\nBye\r\n";
    let local = "Hello\r\nBe nice.\r\nBye\r\n";
    let same_endings = block(server, local);
    // Only the endings differ: a note says so instead of printing
    // identical-looking lines as changed.
    let mixed = block(server, &server.replace("\r\n", "\n"));
    // A lone CR inside a short value is escaped.
    let short = checked(render("name", "Bot\r", "Bot", PLAIN));
    insta::assert_snapshot!(format!("{same_endings}\n{mixed}\n{short}"));
}

#[test]
fn unicode_and_emoji() {
    let server = "Sois poli 🙂 avec les clients.\n日本語で答えてください。\nÜbergrößenträger 👨‍👩‍👧\n";
    let local = "Sois poli 😀 avec les clients.\n日本語で答えてください。\nÜbergrößenträger 👨‍👩‍👧‍👦\n";
    insta::assert_snapshot!(block(server, local));
}

#[test]
fn control_characters_and_bidi_are_visible() {
    let server = "plain\n";
    let local = "plain\nhidden \u{1b}[2J\u{202e}txet\u{200b}\n";
    insta::assert_snapshot!(block(server, local));
}

#[test]
fn short_form() {
    let changed = checked(render("name", "Old Name", "New Name", PLAIN));
    let trailing_space = checked(render("name", "Support Bot", "Support Bot ", PLAIN));
    let quotes = checked(render_short("name", "", "Say \"hi\"\\", PLAIN));
    let same = checked(render("name", "Bot", "Bot", PLAIN));
    insta::assert_snapshot!(format!("{changed}\n{trailing_space}\n{quotes}\n{same}"));
}

#[test]
fn render_picks_block_for_multi_line_values() {
    let out = render("persona", "one line\n", "one line\nand another", PLAIN);
    assert!(out.contains("\n  one line\n+ and another\n"), "{out}");
    assert!(!out.contains("Server:"));
    let out = render("name", "a", "b", PLAIN);
    assert!(out.contains("- Server: \"a\"\n+ Local:  \"b\"\n"), "{out}");
}

#[test]
fn colour_block_escape_codes() {
    let local = PERSONA_OLD.replace("Old Agent Name", "New Agent Name");
    let out = render_block("persona", &compute(PERSONA_OLD, &local), COLOR);
    for line in out.lines().filter(|l| l.contains('\u{1b}')) {
        assert!(line.ends_with("\u{1b}[0m"), "line does not reset: {line:?}");
    }
    insta::assert_snapshot!(checked(out));
}

#[test]
fn colour_short_form_highlights_the_changed_word() {
    let out = render("name", "Support Bot", "Sales Bot", COLOR);
    assert!(
        out.contains("\u{1b}[1m\u{1b}[4m\u{1b}[31mSupport\u{1b}[0m"),
        "{out:?}"
    );
    assert!(
        out.contains("\u{1b}[1m\u{1b}[4m\u{1b}[32mSales\u{1b}[0m"),
        "{out:?}"
    );
}

#[test]
fn unified_output() {
    let local = PERSONA_OLD.replace("Old Agent Name", "New Agent Name");
    let mut out = unified(PERSONA_OLD, &local, "server", "local");
    out.push_str("----\n");
    out.push_str(&unified("a\nb", "a\nc", "server", "local"));
    insta::assert_snapshot!(out);
    assert_eq!(unified("same\n", "same\n", "server", "local"), "");
}

#[test]
fn preview_first_non_empty_line() {
    assert_eq!(
        preview("\n  \n  You are   helpful.\nMore.", 40),
        "You are helpful."
    );
    assert_eq!(
        preview("You are a friendly support agent.", 12),
        "You are a f…"
    );
    assert_eq!(preview("You are a friendly", 8), "You are…");
    assert_eq!(preview("exactly", 7), "exactly");
    assert_eq!(preview("exactly!", 7), "exactl…");
    assert_eq!(preview("héllo 👋 wörld", 8), "héllo 👋…");
    assert_eq!(preview("tab\there\r\nnext", 20), "tab here");
    assert_eq!(preview("esc\u{1b}[31m", 20), "esc␛[31m");
    assert_eq!(preview("", 10), "");
    assert_eq!(preview(" \n\t\n", 10), "");
    assert_eq!(preview("anything", 0), "");
    assert_eq!(preview("anything", 1), "…");
    let all = [
        preview("\n\n## base\nYou are...", 20),
        preview("A very long first line that goes on and on", 20),
    ]
    .join("\n");
    insta::assert_snapshot!(all);
}
