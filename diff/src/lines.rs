//! Splitting a value into lines with their terminators kept apart, and the
//! note for values whose only difference is how their lines end.

/// How a line ended in its value. Lines are split at `\n`, `\r\n` and a
/// lone `\r` (as `similar` does); the terminator is kept apart from the text,
/// which alone is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// Last line of a value without a final newline.
    None,
    /// `\n`
    Lf,
    /// `\r\n`
    CrLf,
    /// A lone `\r`.
    Cr,
}

/// A line's text (without terminator) and its terminator.
pub(crate) type SplitLine<'a> = (&'a str, LineEnding);

/// Splits at `\n`, `\r\n` and a lone `\r`. A final terminator does not start
/// another (empty) line: `"a\n"` is one line, `"a\n\n"` two.
pub(crate) fn split_lines(value: &str) -> Vec<SplitLine<'_>> {
    let bytes = value.as_bytes();
    let mut lines = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                lines.push((&value[start..i], LineEnding::Lf));
                start = i + 1;
            }
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => {
                lines.push((&value[start..i], LineEnding::CrLf));
                i += 1;
                start = i + 1;
            }
            b'\r' => {
                lines.push((&value[start..i], LineEnding::Cr));
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < value.len() {
        lines.push((&value[start..], LineEnding::None));
    }
    lines
}

/// Which value a note is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    /// The server value (old, `-`).
    Server,
    /// The local value (new, `+`).
    Local,
}

/// The difference between two values whose lines all read the same: only
/// their terminators differ. It is shown as a note, never as changed lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EndingNote {
    missing_final_newline: Option<Side>,
    terminators: Option<Terminators>,
}

/// Lines (other than a missing final newline) whose terminators differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terminators {
    /// How many lines end differently.
    pub count: usize,
    /// Zero-based index of the first of them.
    pub first_line: usize,
    /// How that line ends on the server.
    pub server: LineEnding,
    /// How that line ends locally.
    pub local: LineEnding,
}

impl EndingNote {
    /// The side whose last line has no newline while the other's has one.
    pub fn missing_final_newline(&self) -> Option<Side> {
        self.missing_final_newline
    }

    /// Lines that end differently (`\r\n` against `\n`, say), if any.
    pub fn terminators(&self) -> Option<Terminators> {
        self.terminators
    }
}

/// The note for two line lists of equal texts, or `None` when they end alike.
pub(crate) fn ending_note(old: &[SplitLine<'_>], new: &[SplitLine<'_>]) -> Option<EndingNote> {
    let mut missing_final_newline = None;
    let mut terminators: Option<Terminators> = None;
    let last = old.len().min(new.len()).checked_sub(1);
    for (i, ((_, o), (_, n))) in old.iter().zip(new).enumerate() {
        if o == n {
            continue;
        }
        if Some(i) == last && (*o == LineEnding::None || *n == LineEnding::None) {
            missing_final_newline = Some(if *o == LineEnding::None {
                Side::Server
            } else {
                Side::Local
            });
            continue;
        }
        match &mut terminators {
            Some(t) => t.count += 1,
            None => {
                terminators = Some(Terminators {
                    count: 1,
                    first_line: i,
                    server: *o,
                    local: *n,
                });
            }
        }
    }
    (missing_final_newline.is_some() || terminators.is_some()).then_some(EndingNote {
        missing_final_newline,
        terminators,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use LineEnding::{Cr, CrLf, Lf, None as Eof};

    #[test]
    fn splits_at_every_terminator_without_a_phantom_last_line() {
        assert_eq!(split_lines(""), []);
        assert_eq!(split_lines("a"), [("a", Eof)]);
        assert_eq!(split_lines("a\n"), [("a", Lf)]);
        assert_eq!(split_lines("a\n\n"), [("a", Lf), ("", Lf)]);
        assert_eq!(
            split_lines("a\r\nb\rc\nd"),
            [("a", CrLf), ("b", Cr), ("c", Lf), ("d", Eof)]
        );
        assert_eq!(split_lines("é\r"), [("é", Cr)]);
    }

    #[test]
    fn notes_a_missing_final_newline_and_other_terminators() {
        let note = |a: &str, b: &str| ending_note(&split_lines(a), &split_lines(b));
        assert_eq!(note("a\nb\n", "a\nb\n"), None);
        let n = note("a\nb\n", "a\nb").unwrap();
        assert_eq!(n.missing_final_newline(), Some(Side::Local));
        assert_eq!(n.terminators(), None);
        let n = note("a\r\nb", "a\nb\n").unwrap();
        assert_eq!(n.missing_final_newline(), Some(Side::Server));
        assert_eq!(
            n.terminators(),
            Some(Terminators {
                count: 1,
                first_line: 0,
                server: CrLf,
                local: Lf
            })
        );
    }
}
