//! The one sanitiser for text printed to a terminal, whatever its origin: server answers,
//! `lua.toml` and environment values (URLs), file names, source text, import specifiers.
//!
//! Characters are shown by `lua_diff::display` (the drift view's own convention: ESC as
//! `␛`, other controls as control pictures, bidi and zero-width marks as `<U+XXXX>`), so a
//! string can never move the cursor, retitle the window, clear the screen or reorder a line.
//!
//! How it cannot be forgotten: the [`crate::printer::Printer`] sanitises every `&str` it is
//! given, and applies its styling after. Text that carries our own colour codes is a
//! [`Rendered`], which can only be built from sanitised pieces (or from the diff crate's
//! rendered block, which sanitises every value character itself) and has no `Display`, so
//! it cannot be smuggled back into a plain string by `format!`.

use anstyle::Style;

/// `text` safe to print: `\n` kept, everything else as `lua_diff::display` shows it.
pub fn clean(text: &str) -> String {
    lua_diff::terminal_safe(text)
}

/// `text` cleaned, then wrapped in `style` when `color` is on.
pub(crate) fn paint(color: bool, style: Style, text: &str) -> String {
    let text = clean(text);
    if color {
        format!("{}{text}{}", style.render(), style.render_reset())
    } else {
        text
    }
}

/// Text with our own styling, built only from sanitised pieces. Printed as is by
/// [`crate::printer::Printer::out_rendered`].
#[derive(Debug, Default)]
pub struct Rendered(String);

impl Rendered {
    pub fn new() -> Self {
        Self::default()
    }

    /// A block rendered by `lua_diff` (`render`, `render_block`, `render_short`), whose
    /// contract is that no raw control character of a value reaches it (property-tested
    /// in `diff/tests/it/properties.rs`); its only escapes are its own colours.
    pub fn diff_block(block: String) -> Self {
        Self(block)
    }

    /// Appends plain text, cleaned.
    pub fn text(&mut self, text: &str) -> &mut Self {
        lua_diff::push_terminal_safe(&mut self.0, text);
        self
    }

    /// Appends text, cleaned, then styled when `color` is on.
    pub fn styled(&mut self, color: bool, style: Style, text: &str) -> &mut Self {
        if color {
            use std::fmt::Write as _;
            // Writing to a String cannot fail.
            let _ = write!(self.0, "{}", style.render());
            lua_diff::push_terminal_safe(&mut self.0, text);
            let _ = write!(self.0, "{}", style.render_reset());
        } else {
            lua_diff::push_terminal_safe(&mut self.0, text);
        }
        self
    }

    /// Appends another rendered text (already built from cleaned pieces).
    pub fn append(&mut self, other: &Rendered) -> &mut Self {
        self.0.push_str(&other.0);
        self
    }

    /// What to write to the terminal.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Standard error through [`clean`], for the request logs of `-v` (their fields carry URLs
/// and server text). tracing writes each event with one `write` call.
pub struct CleanStderr;

impl std::io::Write for CleanStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = clean(&String::from_utf8_lossy(buf));
        let text = crate::scrub::scrub(&text);
        std::io::stderr().lock().write_all(text.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().lock().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for CleanStderr {
    type Writer = CleanStderr;

    fn make_writer(&'a self) -> Self::Writer {
        CleanStderr
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "\u{1b}]0;PWNED\u{7}\u{1b}[2J";

    #[test]
    fn pieces_are_cleaned_and_styles_are_ours() {
        let mut r = Rendered::new();
        r.text(HOSTILE)
            .styled(true, Style::new().bold(), HOSTILE)
            .styled(false, Style::new().bold(), "x");
        let shown = r.as_str();
        assert!(!shown.contains(HOSTILE));
        assert!(!shown.contains('\u{7}'));
        assert!(shown.starts_with("␛]0;PWNED␇␛[2J"));
        // The only ESC left are the style's own.
        let bold = Style::new().bold();
        let ours = format!("{}", bold.render()).matches('\u{1b}').count()
            + format!("{}", bold.render_reset()).matches('\u{1b}').count();
        assert_eq!(shown.matches('\u{1b}').count(), ours);
        assert_eq!(clean("a\nb\r"), "a\nb␍");
    }
}
