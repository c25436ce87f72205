//! The style of the file an insert edits: line ending, indentation unit, quote, semicolons.
//!
//! Read from the text and the compiled config; it plans no edit.

use crate::layout::{eol, indent_unit, line_indent, line_start, starts_line};
use crate::literal::Quote;
use crate::model::{Compiled, LiteralKind};
use crate::outline::{Container, Outline, slice};

/// The file's style, as far as an insert needs it.
pub(super) struct Style {
    pub(super) eol: &'static str,
    pub(super) unit: String,
    pub(super) quote: Quote,
    pub(super) semicolon: bool,
}

/// The style of `text`, the file holding the config object.
pub(super) fn style_of(
    text: &str,
    compiled: &Compiled,
    container: &Container,
    outline: &Outline,
) -> Style {
    let quote = compiled
        .fields
        .values()
        .find_map(|n| match n.origin() {
            Some(o) if o.file == compiled.config.file => match o.literal {
                LiteralKind::SingleQuoted => Some(Quote::Single),
                LiteralKind::DoubleQuoted => Some(Quote::Double),
                _ => None,
            },
            _ => None,
        })
        .or(outline.first_quote)
        .filter(|q| *q != Quote::Backtick)
        .unwrap_or(Quote::Single);
    let brace_indent = line_indent(text, compiled.config.start as usize);
    let unit = container
        .parts
        .iter()
        .find(|p| {
            let start = p.span.start as usize;
            starts_line(text, start) && line_start(text, start) > compiled.config.start as usize
        })
        .and_then(|p| {
            line_indent(text, p.span.start as usize)
                .strip_prefix(brace_indent)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| indent_unit(text));
    let semicolon = outline
        .imports
        .last()
        .is_none_or(|imp| slice(text, imp.span).trim_end().ends_with(';'));
    Style {
        eol: eol(text),
        unit,
        quote,
        semicolon,
    }
}
