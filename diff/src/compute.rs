//! Computing a [`Drift`]: the line diff, its hunks, and the word-level
//! segments of changed line pairs. No rendering happens here.

use std::time::{Duration, Instant};

use similar::{
    Algorithm, DiffOp, InlineChangeMode, InlineChangeOptions, TextDiff,
    capture_diff_slices_deadline,
};

use crate::drift::{Drift, Hunk, Line, LineTag, Segment, ShowWhitespace};
use crate::lines::LineEnding;
use crate::lines::{SplitLine, ending_note, split_lines};

/// Unchanged lines kept around each change.
pub(crate) const CONTEXT: usize = 3;

/// Budget for one [`compute`] call, line diff and word highlights together.
/// On expiry `similar` returns a valid but coarser diff, and word highlights
/// are skipped; so even 100,000-line values cannot stall the caller.
pub(crate) const TIME_BUDGET: Duration = Duration::from_millis(500);

/// Word highlights are skipped for lines longer than this (in chars): a
/// word diff of huge lines costs time and is unreadable anyway.
pub(crate) const MAX_INLINE_CHARS: usize = 2_000;

/// Diffs `server` (old) against `local` (new) by lines, with 3 context lines
/// and word-level segments for paired changed lines.
///
/// Uses the Patience algorithm under a 500 ms budget; past it the diff is
/// still valid, only coarser, and word highlights are dropped.
pub fn compute(server: &str, local: &str) -> Drift {
    compute_with_deadline(server, local, Instant::now() + TIME_BUDGET)
}

/// [`compute`] with an explicit deadline (tests use an expired one).
pub(crate) fn compute_with_deadline(server: &str, local: &str, deadline: Instant) -> Drift {
    let old = split_lines(server);
    let new = split_lines(local);
    let old_texts: Vec<&str> = old.iter().map(|(text, _)| *text).collect();
    let new_texts: Vec<&str> = new.iter().map(|(text, _)| *text).collect();
    let ops = normalize_ops(&capture_diff_slices_deadline(
        Algorithm::Patience,
        &old_texts,
        &new_texts,
        Some(deadline),
    ));

    let mut added = 0;
    let mut removed = 0;
    for op in &ops {
        let (_, old_range, new_range) = op.as_tag_tuple();
        if !matches!(op, DiffOp::Equal { .. }) {
            removed += old_range.len();
            added += new_range.len();
        }
    }

    let (mut hunks, mut unchanged_after, mut note) = (Vec::new(), 0, None);
    if added + removed == 0 {
        // Every line reads the same: any difference is in the terminators.
        note = ending_note(&old, &new);
        match note {
            Some(n) if n.missing_final_newline().is_some() => hunks.push(last_lines(&old)),
            Some(_) => unchanged_after = old.len(),
            None => {}
        }
    } else {
        let (groups, after) = group_ops(&ops, CONTEXT);
        unchanged_after = after;
        hunks = groups
            .into_iter()
            .map(|(before, ops)| build_hunk(before, &ops, &old, &new, deadline))
            .collect();
    }

    Drift {
        hunks,
        ending_note: note,
        unchanged_after,
        added,
        removed,
        server_empty: server.is_empty(),
        local_empty: local.is_empty(),
    }
}

/// The context hunk of a final-newline note: the last lines of the (equal)
/// values, with a single left-out line shown rather than collapsed.
fn last_lines(lines: &[SplitLine<'_>]) -> Hunk {
    let shown = if lines.len() <= CONTEXT + 1 {
        lines.len()
    } else {
        CONTEXT
    };
    let start = lines.len() - shown;
    Hunk {
        unchanged_before: start,
        lines: (start..lines.len())
            .map(|i| make_line(LineTag::Equal, line_at(lines, i), Some(i), Some(i)))
            .collect(),
        old_start: start,
        old_len: shown,
        new_start: start,
        new_len: shown,
    }
}

/// The line diff every output of this crate is built on.
pub(crate) fn line_diff<'a>(
    old: &'a str,
    new: &'a str,
    deadline: Instant,
) -> TextDiff<'a, 'a, str> {
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .deadline(deadline)
        .diff_lines(old, new)
}

/// Drops empty ops and merges adjacent equal ops, so that grouping can rely
/// on changes and equal runs alternating.
fn normalize_ops(ops: &[DiffOp]) -> Vec<DiffOp> {
    let mut out: Vec<DiffOp> = Vec::with_capacity(ops.len());
    for &op in ops {
        if op.old_range().is_empty() && op.new_range().is_empty() {
            continue;
        }
        if let (
            Some(DiffOp::Equal {
                old_index,
                new_index,
                len,
            }),
            DiffOp::Equal {
                old_index: o2,
                new_index: n2,
                len: l2,
            },
        ) = (out.last_mut(), op)
            && *old_index + *len == o2
            && *new_index + *len == n2
        {
            *len += l2;
            continue;
        }
        out.push(op);
    }
    out
}

/// Splits ops into hunks with `context` lines around changes.
///
/// Unlike `similar`'s `grouped_ops`, a gap of a single line is shown rather
/// than collapsed: a `... (1 unchanged line) ...` marker would take the same
/// room as the line itself. Returns each hunk's ops with the count of lines
/// collapsed before it, and the count collapsed after the last hunk.
fn group_ops(ops: &[DiffOp], context: usize) -> (Vec<(usize, Vec<DiffOp>)>, usize) {
    let Some(last_change) = ops
        .iter()
        .rposition(|op| !matches!(op, DiffOp::Equal { .. }))
    else {
        return (Vec::new(), 0);
    };
    let mut groups = Vec::new();
    let mut current: Vec<DiffOp> = Vec::new();
    let mut skipped_before = 0;
    let mut unchanged_after = 0;
    let mut seen_change = false;

    let equal = |old_index: usize, new_index: usize, len: usize| DiffOp::Equal {
        old_index,
        new_index,
        len,
    };

    for (i, &op) in ops.iter().enumerate() {
        let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        else {
            seen_change = true;
            current.push(op);
            continue;
        };
        if !seen_change {
            // Leading run: keep its last `context` lines.
            if len <= context + 1 {
                current.push(op);
            } else {
                skipped_before = len - context;
                if context > 0 {
                    current.push(equal(
                        old_index + len - context,
                        new_index + len - context,
                        context,
                    ));
                }
            }
        } else if i > last_change {
            // Trailing run: keep its first `context` lines.
            if len <= context + 1 {
                current.push(op);
            } else {
                unchanged_after = len - context;
                if context > 0 {
                    current.push(equal(old_index, new_index, context));
                }
            }
        } else if len <= 2 * context + 1 {
            current.push(op);
        } else {
            if context > 0 {
                current.push(equal(old_index, new_index, context));
            }
            groups.push((skipped_before, std::mem::take(&mut current)));
            skipped_before = len - 2 * context;
            if context > 0 {
                current.push(equal(
                    old_index + len - context,
                    new_index + len - context,
                    context,
                ));
            }
        }
    }
    groups.push((skipped_before, current));
    (groups, unchanged_after)
}

fn line_at<'a>(lines: &[SplitLine<'a>], i: usize) -> SplitLine<'a> {
    lines.get(i).copied().unwrap_or(("", LineEnding::None))
}

fn make_line(
    tag: LineTag,
    (text, ending): SplitLine<'_>,
    old_index: Option<usize>,
    new_index: Option<usize>,
) -> Line {
    Line {
        tag,
        text: text.to_owned(),
        ending,
        old_index,
        new_index,
        segments: Vec::new(),
        whitespace_only: false,
        show_whitespace: ShowWhitespace::Trailing,
    }
}

fn build_hunk(
    unchanged_before: usize,
    ops: &[DiffOp],
    old: &[SplitLine<'_>],
    new: &[SplitLine<'_>],
    deadline: Instant,
) -> Hunk {
    let mut lines = Vec::new();
    for op in ops {
        let (_, old_range, new_range) = op.as_tag_tuple();
        match op {
            DiffOp::Equal { .. } => {
                for (o, n) in old_range.zip(new_range) {
                    lines.push(make_line(LineTag::Equal, line_at(old, o), Some(o), Some(n)));
                }
            }
            DiffOp::Delete { .. } | DiffOp::Insert { .. } | DiffOp::Replace { .. } => {
                let mut deleted: Vec<Line> = old_range
                    .map(|o| make_line(LineTag::Delete, line_at(old, o), Some(o), None))
                    .collect();
                let mut inserted: Vec<Line> = new_range
                    .map(|n| make_line(LineTag::Insert, line_at(new, n), None, Some(n)))
                    .collect();
                // Pair removed and added lines in order; only pairs get word
                // highlights and whitespace analysis.
                for (d, i) in deleted.iter_mut().zip(inserted.iter_mut()) {
                    pair_lines(d, i, deadline);
                }
                lines.append(&mut deleted);
                lines.append(&mut inserted);
            }
        }
    }
    let (old_start, new_start) = ops.first().map_or((0, 0), |op| {
        let (_, o, n) = op.as_tag_tuple();
        (o.start, n.start)
    });
    let old_len = ops.iter().map(|op| op.old_range().len()).sum();
    let new_len = ops.iter().map(|op| op.new_range().len()).sum();
    Hunk {
        unchanged_before,
        lines,
        old_start,
        old_len,
        new_start,
        new_len,
    }
}

fn pair_lines(old: &mut Line, new: &mut Line, deadline: Instant) {
    let no_ws = |s: &str| s.chars().filter(|c| !c.is_whitespace()).collect::<String>();
    let whitespace_only = no_ws(&old.text) == no_ws(&new.text);
    for line in [&mut *old, &mut *new] {
        line.whitespace_only = whitespace_only;
    }
    let show_whitespace = if let Some((old_segments, new_segments)) =
        inline_segments(&old.text, &new.text, deadline)
    {
        old.segments = old_segments;
        new.segments = new_segments;
        ShowWhitespace::Emphasized
    } else if old.text == new.text {
        // A coarse diff (deadline) may pair equal texts: nothing to mark.
        ShowWhitespace::Trailing
    } else {
        ShowWhitespace::All
    };
    if whitespace_only {
        for line in [&mut *old, &mut *new] {
            line.show_whitespace = show_whitespace;
        }
    }
}

/// Word-level segments of a pair of line texts, or `None` when there is
/// nothing useful to highlight: equal texts, a line over
/// [`MAX_INLINE_CHARS`], texts too dissimilar (`similar`'s 0.5 ratio), or
/// the deadline passed (the result may then be coarse, so it is dropped).
pub(crate) fn inline_segments(
    old: &str,
    new: &str,
    deadline: Instant,
) -> Option<(Vec<Segment>, Vec<Segment>)> {
    if old == new
        || old.chars().nth(MAX_INLINE_CHARS).is_some()
        || new.chars().nth(MAX_INLINE_CHARS).is_some()
        || Instant::now() >= deadline
    {
        return None;
    }
    // Each text is a single line (no terminator), so this diff is exactly
    // one Replace op (or a bare Insert/Delete when a side is empty).
    let diff = line_diff(old, new, deadline);
    let op = diff
        .ops()
        .iter()
        .find(|op| matches!(op, DiffOp::Replace { .. }))?;
    let mut options = InlineChangeOptions::new();
    options.mode(InlineChangeMode::Words).semantic_cleanup(true);
    let mut old_segments = Vec::new();
    let mut new_segments = Vec::new();
    for change in diff.iter_inline_changes_with_options_deadline(op, options, Some(deadline)) {
        let target = match change.tag() {
            similar::ChangeTag::Delete => &mut old_segments,
            similar::ChangeTag::Insert => &mut new_segments,
            similar::ChangeTag::Equal => continue,
        };
        for &(emphasized, text) in change.values() {
            push_segment(target, text, emphasized);
        }
    }
    if Instant::now() >= deadline {
        return None;
    }
    let any_emphasis = |segments: &[Segment]| segments.iter().any(|s| s.emphasized);
    if !any_emphasis(&old_segments) && !any_emphasis(&new_segments) {
        return None;
    }
    // Guard the documented invariant: segments concatenate to the text.
    let joined =
        |segments: &[Segment]| segments.iter().map(|s| s.text.as_str()).collect::<String>();
    if joined(&old_segments) != old || joined(&new_segments) != new {
        return None;
    }
    Some((old_segments, new_segments))
}

fn push_segment(segments: &mut Vec<Segment>, text: &str, emphasized: bool) {
    if text.is_empty() {
        return;
    }
    match segments.last_mut() {
        Some(last) if last.emphasized == emphasized => last.text.push_str(text),
        _ => segments.push(Segment {
            text: text.to_owned(),
            emphasized,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(n: usize) -> String {
        (0..n).map(|i| format!("line {i}\n")).collect()
    }

    #[test]
    fn identical_values_have_no_hunks() {
        let drift = compute("a\nb\n", "a\nb\n");
        assert!(drift.is_empty());
        assert_eq!((drift.added(), drift.removed()), (0, 0));
        assert_eq!(drift.unchanged_after(), 0);
    }

    #[test]
    fn counts_added_and_removed_lines() {
        let drift = compute("a\nb\nc\n", "a\nB\nc\nd\ne\n");
        assert_eq!(drift.removed(), 1);
        assert_eq!(drift.added(), 3);
        assert!(!drift.is_empty());
    }

    #[test]
    fn counts_pure_insert_and_delete() {
        let drift = compute("", "x\ny\n");
        assert_eq!((drift.added(), drift.removed()), (2, 0));
        assert!(drift.server_empty() && !drift.local_empty());
        let drift = compute("x\ny\n", "");
        assert_eq!((drift.added(), drift.removed()), (0, 2));
        assert!(drift.local_empty());
    }

    #[test]
    fn a_missing_final_newline_alone_is_a_note_not_a_changed_line() {
        let drift = compute("a", "a\n");
        assert!(!drift.is_empty());
        assert_eq!((drift.added(), drift.removed()), (0, 0));
        let note = drift.ending_note().unwrap();
        assert_eq!(
            note.missing_final_newline(),
            Some(crate::lines::Side::Server)
        );
        let lines = drift.hunks()[0].lines();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].tag(), LineTag::Equal);
        assert_eq!(lines[0].ending(), LineEnding::None);
    }

    #[test]
    fn lines_are_compared_without_their_terminators() {
        // The last line lost: only that line is removed, though the line
        // before it now ends the value without a newline.
        let drift = compute("greet\nnever", "greet");
        assert_eq!((drift.added(), drift.removed()), (0, 1));
        assert_eq!(drift.ending_note(), None);
        let tags: Vec<_> = drift.hunks()[0].lines().iter().map(Line::tag).collect();
        assert_eq!(tags, [LineTag::Equal, LineTag::Delete]);
        // Only terminators differ: a note over all lines, no hunk.
        let drift = compute("a\r\nb\r\n", "a\nb\n");
        assert!(!drift.is_empty() && drift.hunks().is_empty());
        assert_eq!(drift.unchanged_after(), 2);
        let t = drift.ending_note().unwrap().terminators().unwrap();
        assert_eq!((t.count, t.first_line), (2, 0));
    }

    #[test]
    fn far_apart_changes_make_two_hunks_with_collapsed_counts() {
        let old = numbered(100);
        let new = old
            .replace("line 10\n", "LINE 10\n")
            .replace("line 80\n", "LINE 80\n");
        let drift = compute(&old, &new);
        let hunks = drift.hunks();
        assert_eq!(hunks.len(), 2);
        assert_eq!(hunks[0].unchanged_before(), 7);
        assert_eq!(hunks[0].old_range(), 7..14);
        assert_eq!(hunks[1].unchanged_before(), 80 - 3 - 14);
        assert_eq!(hunks[1].old_range(), 77..84);
        assert_eq!(drift.unchanged_after(), 100 - 84);
        assert_eq!((drift.added(), drift.removed()), (2, 2));
    }

    #[test]
    fn one_line_gaps_are_shown_not_collapsed() {
        // Change at line 4 (0-based): 4 leading equal lines = context + 1.
        let old = numbered(9);
        let new = old.replace("line 4\n", "LINE 4\n");
        let drift = compute(&old, &new);
        assert_eq!(drift.hunks().len(), 1);
        assert_eq!(drift.hunks()[0].unchanged_before(), 0);
        assert_eq!(drift.unchanged_after(), 0);
        assert_eq!(drift.hunks()[0].lines().len(), 10);

        // Two changes separated by exactly 2 * 3 + 1 equal lines: one hunk.
        let old = numbered(20);
        let new = old.replace("line 2\n", "x\n").replace("line 10\n", "y\n");
        let drift = compute(&old, &new);
        assert_eq!(drift.hunks().len(), 1);
    }

    #[test]
    fn word_segments_concatenate_to_the_text() {
        let drift = compute("You are a calm agent.\n", "You are a cheerful agent.\n");
        let lines = drift.hunks()[0].lines();
        assert_eq!(lines.len(), 2);
        for line in lines {
            let joined: String = line.segments().iter().map(Segment::text).collect();
            assert_eq!(joined, line.text());
        }
        let emphasized: Vec<&str> = lines[0]
            .segments()
            .iter()
            .filter(|s| s.emphasized())
            .map(Segment::text)
            .collect();
        assert_eq!(emphasized, ["calm"]);
        let emphasized: Vec<&str> = lines[1]
            .segments()
            .iter()
            .filter(|s| s.emphasized())
            .map(Segment::text)
            .collect();
        assert_eq!(emphasized, ["cheerful"]);
    }

    #[test]
    fn expired_deadline_still_gives_a_valid_diff_without_word_highlights() {
        let past = Instant::now();
        let drift = compute_with_deadline("a b c\nsame\n", "a B c\nsame\n", past);
        assert_eq!((drift.added(), drift.removed()), (1, 1));
        assert!(
            drift.hunks()[0]
                .lines()
                .iter()
                .all(|l| l.segments().is_empty())
        );
    }

    #[test]
    fn huge_lines_get_no_word_highlight() {
        let old = format!("{} end\n", "w ".repeat(1_500));
        let new = format!("{} END\n", "w ".repeat(1_500));
        let drift = compute(&old, &new);
        assert!(
            drift.hunks()[0]
                .lines()
                .iter()
                .all(|l| l.segments().is_empty())
        );
        // Just under the limit (1,993 chars): highlighted.
        let old = format!("{}end\n", "w ".repeat(995));
        let new = format!("{}END\n", "w ".repeat(995));
        let drift = compute(&old, &new);
        assert!(
            drift.hunks()[0]
                .lines()
                .iter()
                .all(|l| !l.segments().is_empty())
        );
    }

    #[test]
    fn dissimilar_pairs_get_no_word_highlight() {
        let drift = compute("alpha beta gamma\n", "one two three\n");
        assert!(
            drift.hunks()[0]
                .lines()
                .iter()
                .all(|l| l.segments().is_empty())
        );
        assert!(!drift.hunks()[0].lines()[0].whitespace_only());
    }

    #[test]
    fn line_indexes_are_reported() {
        let drift = compute("a\nb\nc\n", "a\nx\nc\n");
        let lines = drift.hunks()[0].lines();
        let idx: Vec<_> = lines
            .iter()
            .map(|l| (l.tag(), l.old_index(), l.new_index()))
            .collect();
        assert_eq!(
            idx,
            [
                (LineTag::Equal, Some(0), Some(0)),
                (LineTag::Delete, Some(1), None),
                (LineTag::Insert, None, Some(1)),
                (LineTag::Equal, Some(2), Some(2)),
            ]
        );
    }
}
