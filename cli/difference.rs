//! The first line where a drifted component's two sides differ, worded for the
//! `--check` summary. Pure text; no component is named here.

/// Where the two texts first differ, each side's line as the summary shows it.
#[derive(Debug, PartialEq, Eq)]
pub struct FirstDifference {
    /// 1-based line number in the values; `None` when every line reads the same
    /// (only line endings differ).
    pub line: Option<usize>,
    pub local: String,
    pub server: String,
    /// Whether either value has more than one line (then the line number helps).
    pub multi_line: bool,
}

/// Compares `server` and `local` line by line (terminators aside).
pub fn first_difference(server: &str, local: &str) -> FirstDifference {
    let s: Vec<&str> = server.lines().collect();
    let l: Vec<&str> = local.lines().collect();
    let multi_line = s.len() > 1 || l.len() > 1;
    let at = (0..s.len().max(l.len())).find(|&i| s.get(i) != l.get(i));
    let Some(i) = at else {
        return FirstDifference {
            line: None,
            local: String::new(),
            server: String::new(),
            multi_line,
        };
    };
    FirstDifference {
        line: Some(i + 1),
        local: shown(l.get(i).copied(), "local", l.len()),
        server: shown(s.get(i).copied(), "server", s.len()),
        multi_line,
    }
}

/// One side's line: quoted, or what stands in for it.
fn shown(line: Option<&str>, side: &str, lines: usize) -> String {
    match line {
        None if lines == 0 => format!("(no such line: the {side} value is empty)"),
        None => format!("(no such line: the {side} value ends here, after line {lines})"),
        Some("") => "(empty line)".to_string(),
        Some(text) if text.trim().is_empty() => "(whitespace only)".to_string(),
        Some(text) => format!("\"{}\"", lua_diff::preview(text, 60)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shorter_side_has_no_such_line() {
        let d = first_difference("greet\nnever", "greet");
        assert_eq!(d.line, Some(2));
        assert_eq!(d.server, "\"never\"");
        assert_eq!(
            d.local,
            "(no such line: the local value ends here, after line 1)"
        );
        let d = first_difference("", "hello");
        assert_eq!(d.server, "(no such line: the server value is empty)");
    }

    #[test]
    fn an_empty_line_is_not_a_missing_one() {
        let d = first_difference("a\n\nb", "a\nx\nb");
        assert_eq!((d.line, d.server.as_str()), (Some(2), "(empty line)"));
        let d = first_difference("a\n  \nb", "a\nx\nb");
        assert_eq!(d.server, "(whitespace only)");
    }

    #[test]
    fn equal_lines_and_single_lines() {
        let d = first_difference("a\r\nb", "a\nb");
        assert_eq!(d.line, None);
        let d = first_difference("Old", "New");
        assert!(!d.multi_line);
        assert_eq!(
            (d.server.as_str(), d.local.as_str()),
            ("\"Old\"", "\"New\"")
        );
    }
}
