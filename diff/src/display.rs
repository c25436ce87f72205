//! How a character of a value is shown on a terminal: the one place that decides it, used
//! by the drift view here and by the CLI's sanitiser for every other printed string.
//! Control characters become Unicode control pictures (`\u{1b}` is `␛`, DEL `␡`, C1
//! controls `�`); bidirectional controls and zero-width spaces become `<U+XXXX>`, so no
//! text can inject a terminal escape, move the cursor or reorder a line.

/// Characters that would be invisible or would reorder the terminal line:
/// bidirectional controls and zero-width spaces. Always escaped.
pub(crate) fn is_hidden_format_char(ch: char) -> bool {
    matches!(
        ch,
        '\u{200B}' | '\u{2060}' | '\u{FEFF}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Appends `ch` as displayed in the block. `visible` makes whitespace
/// visible: space `·`, tab `→`, any other whitespace `␣`. Otherwise a tab is
/// 4 spaces. Control characters always become their Unicode control picture
/// (`\r` is `␍`), hidden format characters `<U+XXXX>`: a value can never
/// inject terminal escapes or carriage returns.
pub fn push_display_char(out: &mut String, ch: char, visible: bool) {
    match ch {
        '\t' if visible => out.push('→'),
        '\t' => out.push_str("    "),
        c if c.is_control() => out.push(control_picture(c)),
        c if is_hidden_format_char(c) => out.push_str(&format!("<U+{:04X}>", u32::from(c))),
        ' ' if visible => out.push('·'),
        c if c.is_whitespace() && visible => out.push('␣'),
        c => out.push(c),
    }
}

fn control_picture(c: char) -> char {
    let code = u32::from(c);
    match code {
        0..=0x1F => char::from_u32(0x2400 + code).unwrap_or('�'),
        0x7F => '␡',
        _ => '�',
    }
}

/// `text` as it may be shown on a terminal: every character through
/// [`push_display_char`] (tabs become 4 spaces), except `\n`, which is kept so multi-line
/// messages stay multi-line.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_terminal_safe(&mut out, text);
    out
}

/// Appends [`terminal_safe`]`(text)` to `out`, without building it apart first.
pub fn push_terminal_safe(out: &mut String, text: &str) {
    // Printable ASCII and `\n` are shown as they are: copy them in runs.
    let mut rest = text;
    while !rest.is_empty() {
        let run = plain_prefix(rest.as_bytes());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(ch) = rest.chars().next() else {
            break;
        };
        push_display_char(out, ch, false);
        rest = &rest[ch.len_utf8()..];
    }
}

/// Printable ASCII or `\n`: shown as it is.
fn plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b) | (b == b'\n')
}

/// The length of the leading run of [`plain`] bytes. Whole blocks are tested without
/// branching per byte (vectorised), so a megabyte of JSON is scanned in well under a
/// millisecond.
fn plain_prefix(bytes: &[u8]) -> usize {
    const BLOCK: usize = 32;
    let mut skipped = 0;
    for block in bytes.chunks_exact(BLOCK) {
        if !block.iter().fold(true, |all, &b| all & plain(b)) {
            break;
        }
        skipped += BLOCK;
    }
    let tail = &bytes[skipped..];
    skipped + tail.iter().position(|&b| !plain(b)).unwrap_or(tail.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_never_survive() {
        assert_eq!(
            terminal_safe("a\u{1b}]0;PWNED\u{7}\u{1b}[2J\r\nb\u{202E}c\td\u{9b}"),
            "a␛]0;PWNED␇␛[2J␍\nb<U+202E>c    d�"
        );
        assert_eq!(terminal_safe("plain ✅ text"), "plain ✅ text");
    }

    #[test]
    fn long_plain_runs_stop_at_the_first_special_character() {
        for at in [0, 1, 31, 32, 33, 64, 95, 100] {
            let mut text = "x".repeat(100);
            text.insert(at, '\t');
            assert_eq!(plain_prefix(text.as_bytes()), at);
            assert_eq!(terminal_safe(&text), text.replacen('\t', "    ", 1));
        }
        assert_eq!(plain_prefix("a\n".repeat(40).as_bytes()), 80);
    }

    #[test]
    fn runs_and_single_characters_agree() {
        // Every character the slow path treats specially, between plain runs.
        let samples = [
            "",
            "\n",
            "a\tb",
            "\u{7f}x",
            "é\u{85}\u{a0}",
            "\u{200B}\u{FEFF}z",
            "~ \r\n\u{1b}",
        ];
        for text in samples {
            let mut slow = String::new();
            for ch in text.chars() {
                if ch == '\n' {
                    slow.push('\n');
                } else {
                    push_display_char(&mut slow, ch, false);
                }
            }
            assert_eq!(terminal_safe(text), slow, "{text:?}");
        }
    }
}
