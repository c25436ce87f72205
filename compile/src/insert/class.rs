//! Adding a member to a class agent (`class SupportBot extends LuaAgent { ... }`): `key =
//! <value>;` as the most derived class's last member, in the file's style (indentation of
//! its members, quotes, line endings). Only plain values: binding a member to an import
//! is written by hand.

use serde_json::Value;

use crate::error::WriteError;
use crate::layout::{eol, indent_unit, line_indent, line_start, starts_line};
use crate::literal::{Layout, Quote, print_key, print_value};
use crate::model::Origin;
use crate::plan::{Edit, Planner};

/// The edit that adds `key = value;` to the class body at `body`.
pub(super) fn member_edit(
    planner: &mut Planner<'_>,
    body: &Origin,
    key: &str,
    value: &Value,
) -> Result<Edit, WriteError> {
    let src = planner.text(&body.file)?;
    let text = src.text.as_str();
    let (open, close) = (body.start as usize, (body.end as usize).saturating_sub(1));
    if text.as_bytes().get(open) != Some(&b'{') || text.as_bytes().get(close) != Some(&b'}') {
        return Err(WriteError::Shape {
            reason: format!(
                "the agent class is not at {}:{}:{} any more",
                body.file, body.line, body.column
            ),
        });
    }
    let eol = eol(text);
    let unit = indent_unit(text);
    let brace_indent = line_indent(text, open).to_owned();
    // The members' own indentation: the first line inside the body that has code.
    let inner = text[open + 1..close]
        .split('\n')
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .map(|l| l[..l.len() - l.trim_start_matches([' ', '\t']).len()].to_owned())
        .unwrap_or_else(|| format!("{brace_indent}{unit}"));
    let quote = if text.matches('\'').count() > text.matches('"').count() {
        Quote::Single
    } else {
        Quote::Double
    };
    let layout = Layout {
        indent: &inner,
        unit: &unit,
        eol,
        quote,
    };
    let member = format!(
        "{inner}{} = {};",
        print_key(key, quote),
        print_value(value, &layout)
    );
    let (at, insert) = if starts_line(text, close) && text[open + 1..close].contains('\n') {
        (line_start(text, close), format!("{member}{eol}"))
    } else {
        (close, format!("{eol}{member}{eol}{brace_indent}"))
    };
    let at = crate::source::to_u32(at);
    Ok(Edit {
        file: body.file.clone(),
        start: at,
        end: at,
        text: insert,
    })
}
