//! Where a new last property goes in the config object, and the edits that put it there.
//!
//! Pure text layout over the object's outline; it knows nothing of imports or modules.

use oxc_span::Span;

use crate::layout::{after_line_code, line_indent, skip_trivia, starts_line};
use crate::literal::{Quote, print_key};
use crate::outline::Container;
use crate::plan::Edit;

/// Where and how a new last property goes into the config object.
pub(super) struct Slot {
    /// Indentation the property's own lines get.
    pub(super) indent: String,
    kind: SlotKind,
}

enum SlotKind {
    /// `{}` or `{ }`: replace the inside with the property on its own line.
    Empty {
        inside: (usize, usize),
        brace_indent: String,
    },
    /// An empty object with a line break or comment inside: a new line after `{`.
    EmptyBlock { at: usize },
    /// One property per line: add a comma after the last one if it has none, then the
    /// property on a new line (with a trailing comma if the last one had one).
    Block {
        comma_at: Option<usize>,
        at: usize,
        trailing: bool,
    },
    /// Properties on the closing brace's line: `, key: value` after the last one.
    Inline { at: usize, after_comma: bool },
}

/// The slot after the last property of the object at `span`.
pub(super) fn slot(text: &str, span: Span, container: &Container, unit: &str) -> Slot {
    let (open, close) = (span.start as usize, (span.end as usize).saturating_sub(1));
    let brace_indent = line_indent(text, open).to_owned();
    let inner_indent = format!("{brace_indent}{unit}");
    let Some(last) = container.parts.last() else {
        let inside = &text[open + 1..close];
        let kind = if inside.trim().is_empty() && !inside.contains('\n') {
            SlotKind::Empty {
                inside: (open + 1, close),
                brace_indent,
            }
        } else {
            SlotKind::EmptyBlock {
                at: after_line_code(text, open + 1),
            }
        };
        return Slot {
            indent: inner_indent,
            kind,
        };
    };
    let last_end = last.span.end as usize;
    let next = skip_trivia(text, last_end);
    let comma = (next < close && text.as_bytes().get(next) == Some(&b',')).then_some(next);
    let anchor = comma.map_or(last_end, |c| c + 1);
    if !text[last_end..close].contains('\n') {
        return Slot {
            indent: line_indent(text, last_end).to_owned(),
            kind: SlotKind::Inline {
                at: anchor,
                after_comma: comma.is_some(),
            },
        };
    }
    let start = last.span.start as usize;
    let indent = if starts_line(text, start) {
        line_indent(text, start).to_owned()
    } else {
        inner_indent
    };
    Slot {
        indent,
        kind: SlotKind::Block {
            comma_at: comma.is_none().then_some(last_end),
            at: after_line_code(text, anchor),
            trailing: comma.is_some(),
        },
    }
}

impl Slot {
    pub(super) fn edits(&self, property: &str, eol: &str, file: &str) -> Vec<Edit> {
        let edit = |start: usize, end: usize, text: String| Edit {
            file: file.to_owned(),
            start: crate::source::to_u32(start),
            end: crate::source::to_u32(end),
            text,
        };
        let indent = &self.indent;
        match &self.kind {
            SlotKind::Empty {
                inside: (start, end),
                brace_indent,
            } => vec![edit(
                *start,
                *end,
                format!("{eol}{indent}{property},{eol}{brace_indent}"),
            )],
            SlotKind::EmptyBlock { at } => {
                vec![edit(*at, *at, format!("{eol}{indent}{property},"))]
            }
            SlotKind::Block {
                comma_at,
                at,
                trailing,
            } => {
                let mut edits = Vec::new();
                if let Some(c) = comma_at {
                    edits.push(edit(*c, *c, ",".into()));
                }
                let comma = if *trailing { "," } else { "" };
                edits.push(edit(*at, *at, format!("{eol}{indent}{property}{comma}")));
                edits
            }
            SlotKind::Inline { at, after_comma } => {
                let text = if *after_comma {
                    format!(" {property},")
                } else {
                    format!(", {property}")
                };
                vec![edit(*at, *at, text)]
            }
        }
    }
}

/// `governance` (shorthand) or `key: local`.
pub(super) fn bound_property(key: &str, local: &str, quote: Quote) -> String {
    if key == local {
        key.to_owned()
    } else {
        format!("{}: {local}", print_key(key, quote))
    }
}
