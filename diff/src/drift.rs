//! The data of a computed diff: [`Drift`], its [`Hunk`]s, their [`Line`]s and word
//! [`Segment`]s. Plain values with accessors; computing them is `compute.rs`, turning them
//! into text is `render.rs`.

use crate::lines::{EndingNote, LineEnding};

/// A computed diff between a `server` value (old, shown as `-`) and a
/// `local` value (new, shown as `+`).
///
/// Lines are compared by their text, without their terminators. It holds
/// only the changed regions ([`Hunk`]s) with their context lines, and the
/// counts of unchanged lines left out between them. When every line reads
/// the same and only the terminators differ (a missing final newline, `\r\n`
/// against `\n`), the difference is an [`EndingNote`] instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub(crate) hunks: Vec<Hunk>,
    pub(crate) ending_note: Option<EndingNote>,
    pub(crate) unchanged_after: usize,
    pub(crate) added: usize,
    pub(crate) removed: usize,
    pub(crate) server_empty: bool,
    pub(crate) local_empty: bool,
}

impl Drift {
    /// `true` when the two values are byte-for-byte equal (no changes).
    pub fn is_empty(&self) -> bool {
        self.ending_note.is_none() && self.added == 0 && self.removed == 0
    }

    /// Set when the lines read the same on both sides and only their
    /// terminators differ; the hunks then hold context lines only (the last
    /// lines, for a missing final newline).
    pub fn ending_note(&self) -> Option<&EndingNote> {
        self.ending_note.as_ref()
    }

    /// Number of lines only in the local value (`+` lines).
    pub fn added(&self) -> usize {
        self.added
    }

    /// Number of lines only in the server value (`-` lines).
    pub fn removed(&self) -> usize {
        self.removed
    }

    /// The changed regions, in order, each with up to 3 context lines (for
    /// an [`EndingNote`], the unchanged lines it refers to).
    pub fn hunks(&self) -> &[Hunk] {
        &self.hunks
    }

    /// Unchanged lines after the last hunk that are left out (collapsed).
    pub fn unchanged_after(&self) -> usize {
        self.unchanged_after
    }

    /// `true` when the server value is the empty string.
    pub fn server_empty(&self) -> bool {
        self.server_empty
    }

    /// `true` when the local value is the empty string.
    pub fn local_empty(&self) -> bool {
        self.local_empty
    }
}

/// One changed region with its context lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hunk {
    pub(crate) unchanged_before: usize,
    pub(crate) lines: Vec<Line>,
    pub(crate) old_start: usize,
    pub(crate) old_len: usize,
    pub(crate) new_start: usize,
    pub(crate) new_len: usize,
}

impl Hunk {
    /// Unchanged lines before this hunk that are left out (collapsed): the
    /// gap since the previous hunk, or since the start for the first one.
    pub fn unchanged_before(&self) -> usize {
        self.unchanged_before
    }

    /// The hunk's lines in display order (within a replaced block, all
    /// removed lines come before all added lines).
    pub fn lines(&self) -> &[Line] {
        &self.lines
    }

    /// Zero-based range of server lines this hunk covers.
    pub fn old_range(&self) -> std::ops::Range<usize> {
        self.old_start..self.old_start + self.old_len
    }

    /// Zero-based range of local lines this hunk covers.
    pub fn new_range(&self) -> std::ops::Range<usize> {
        self.new_start..self.new_start + self.new_len
    }
}

/// What happened to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineTag {
    /// In both values (context).
    Equal,
    /// Only in the server value.
    Delete,
    /// Only in the local value.
    Insert,
}

/// One line of a hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub(crate) tag: LineTag,
    pub(crate) text: String,
    pub(crate) ending: LineEnding,
    pub(crate) old_index: Option<usize>,
    pub(crate) new_index: Option<usize>,
    pub(crate) segments: Vec<Segment>,
    pub(crate) whitespace_only: bool,
    pub(crate) show_whitespace: ShowWhitespace,
}

/// Which whitespace of a changed line the renderer makes visible, decided
/// when the pair is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShowWhitespace {
    /// Trailing whitespace only (every changed line).
    Trailing,
    /// Also whitespace inside emphasized segments: a whitespace-only pair
    /// with word highlights, where those segments are what differs.
    Emphasized,
    /// All whitespace: a whitespace-only pair without word highlights.
    All,
}

impl Line {
    /// Equal, Delete or Insert.
    pub fn tag(&self) -> LineTag {
        self.tag
    }

    /// The line's text without its terminator.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line's terminator.
    pub fn ending(&self) -> LineEnding {
        self.ending
    }

    /// Zero-based index of the line in the server value, if it is there.
    pub fn old_index(&self) -> Option<usize> {
        self.old_index
    }

    /// Zero-based index of the line in the local value, if it is there.
    pub fn new_index(&self) -> Option<usize> {
        self.new_index
    }

    /// Word-level segments of a changed line paired with its counterpart;
    /// their texts concatenate to [`Line::text`]. Empty when there is no word
    /// highlight (unchanged or unpaired line, lines too dissimilar or too
    /// long, or the time budget ran out).
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// `true` for a changed line whose paired counterpart differs from it
    /// only in whitespace; the renderer then makes that whitespace visible.
    pub fn whitespace_only(&self) -> bool {
        self.whitespace_only
    }

    pub(crate) fn show_whitespace(&self) -> ShowWhitespace {
        self.show_whitespace
    }
}

/// A run of a changed line's text, emphasized when the words changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub(crate) text: String,
    pub(crate) emphasized: bool,
}

impl Segment {
    /// The run's text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// `true` when these words differ from the paired line.
    pub fn emphasized(&self) -> bool {
        self.emphasized
    }
}
