//! A file's own style, read from its text: line ending, indentation, and where a line's
//! code ends (before a trailing `//` comment). Write-back follows these so an edit looks as
//! if the file's author had typed it.

/// The file's line ending, judged by its first line break.
pub(crate) fn eol(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Byte offset where the line containing `offset` starts.
pub(crate) fn line_start(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.get(..offset)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1)
}

/// Leading whitespace of the line containing byte `offset`.
pub(crate) fn line_indent(text: &str, offset: usize) -> &str {
    let line = &text[line_start(text, offset)..];
    let len = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..len]
}

/// Whether only whitespace precedes `offset` on its line.
pub(crate) fn starts_line(text: &str, offset: usize) -> bool {
    text.get(line_start(text, offset)..offset)
        .is_some_and(|before| before.trim_start_matches([' ', '\t']).is_empty())
}

/// One indentation step of the file: a tab if indented lines start with tabs, else the
/// smallest indentation of a line that follows a line ending in `{`, `[` or `(` (code, not
/// text inside a template), else two spaces.
pub(crate) fn indent_unit(text: &str) -> String {
    let mut best: Option<usize> = None;
    let mut opens = false;
    for line in text.lines() {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let indent = &line[..line.len() - trimmed.len()];
        if opens && !trimmed.is_empty() && !indent.is_empty() {
            if indent.starts_with('\t') {
                return "\t".into();
            }
            let n = indent.len();
            best = Some(best.map_or(n, |b| b.min(n)));
        }
        let code = line.trim_end();
        opens = code.ends_with('{') || code.ends_with('[') || code.ends_with('(');
    }
    " ".repeat(best.unwrap_or(2).clamp(1, 8))
}

/// Skip whitespace and comments from `pos`; the offset of the next code byte (or the end).
pub(crate) fn skip_trivia(text: &str, mut pos: usize) -> usize {
    let bytes = text.as_bytes();
    while pos < bytes.len() {
        match bytes[pos] {
            b' ' | b'\t' | b'\r' | b'\n' => pos += 1,
            b'/' if bytes.get(pos + 1) == Some(&b'/') => {
                pos = text[pos..].find('\n').map_or(bytes.len(), |i| pos + i);
            }
            b'/' if bytes.get(pos + 1) == Some(&b'*') => {
                pos = text[pos + 2..]
                    .find("*/")
                    .map_or(bytes.len(), |i| pos + 2 + i + 2);
            }
            _ if text[pos..].starts_with('\u{feff}') => pos += '\u{feff}'.len_utf8(),
            _ => break,
        }
    }
    pos
}

/// Where to put a new line after the code that ends at `pos`: the end of that line (before
/// its line break) when the rest of the line is blank or a `//` comment, so the comment stays
/// with its code; else `pos` itself.
pub(crate) fn after_line_code(text: &str, pos: usize) -> usize {
    let rest_end = text[pos..].find('\n').map_or(text.len(), |i| pos + i);
    let rest = text[pos..rest_end].trim_matches([' ', '\t', '\r']);
    if rest.is_empty() || rest.starts_with("//") {
        if text[..rest_end].ends_with('\r') {
            rest_end - 1
        } else {
            rest_end
        }
    } else {
        pos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indent_units_follow_the_file() {
        assert_eq!(indent_unit("f({\n    a: 1,\n        b: {\n});\n"), "    ");
        assert_eq!(indent_unit("f({\n\ta: 1,\n});\n"), "\t");
        assert_eq!(indent_unit("const x = `\n a`;\n"), "  ");
        assert_eq!(indent_unit(""), "  ");
    }

    #[test]
    fn new_lines_go_after_trailing_comments() {
        let text = "  a: 1, // why\r\n  b: 2,\n";
        assert_eq!(after_line_code(text, 7), 14);
        assert_eq!(after_line_code("a, b", 2), 2);
        assert_eq!(skip_trivia("  /* x */ // y\n ,", 0), 16);
    }
}
