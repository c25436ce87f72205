//! All terminal output goes through [`Printer`]: reports to stdout, progress and
//! warnings to stderr, colour decided once. Every `&str` it is given is sanitised
//! ([`crate::sanitize::clean`]) before its styling is applied; text with our own colours
//! comes as a [`Rendered`], built only from sanitised pieces. Every line written, on
//! either stream, is scrubbed of the API key last ([`crate::scrub::scrub`]).

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use crate::args::ColorArg;
use crate::sanitize::{Rendered, clean, paint};
use crate::scrub::{scrub, scrub_json};

#[derive(Clone, Copy, Debug)]
pub struct Printer {
    /// Colour on stdout.
    pub color: bool,
    /// Colour on stderr.
    pub color_err: bool,
    pub quiet: bool,
    pub verbose: bool,
}

/// Whether to colour a stream: `--color`, then `NO_COLOR`, then `CLICOLOR_FORCE`, then
/// whether the stream is a terminal.
pub fn use_color(arg: ColorArg, is_terminal: bool) -> bool {
    match arg {
        ColorArg::Always => true,
        ColorArg::Never => false,
        ColorArg::Auto => {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0")
            {
                true
            } else {
                is_terminal
            }
        }
    }
}

impl Printer {
    pub fn new(color: ColorArg, quiet: bool, verbose: bool) -> Self {
        Self {
            color: use_color(color, std::io::stdout().is_terminal()),
            color_err: use_color(color, std::io::stderr().is_terminal()),
            quiet,
            verbose,
        }
    }

    /// Report text on stdout (always printed, even with --quiet), sanitised.
    pub fn out(&self, text: &str) {
        self.write_out(&clean(text));
    }

    /// Styled report text on stdout, as rendered (its pieces are sanitised already).
    pub fn out_rendered(&self, text: &Rendered) {
        self.write_out(text.as_str());
    }

    /// A JSON document on stdout: sanitised, and scrubbed string by string so it stays JSON.
    pub fn out_json(&self, text: &str) {
        self.write_out(&scrub_json(&clean(text)));
    }

    fn write_out(&self, text: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{}", scrub(text));
        let _ = out.flush();
    }

    /// Informational text on stderr (hidden by --quiet).
    pub fn info(&self, text: &str) {
        if !self.quiet {
            eprintln!("{}", scrub(&clean(text)));
        }
    }

    /// Detail on stderr, only with --verbose.
    pub fn detail(&self, text: &str) {
        if self.verbose {
            eprintln!("{}", scrub(&self.paint_err(Style::new().dimmed(), text)));
        }
    }

    /// A warning on stderr (shown even with --quiet).
    pub fn warn(&self, text: &str) {
        let label = self.paint_err(
            Style::new().bold().fg_color(Some(AnsiColor::Yellow.into())),
            "warning:",
        );
        eprintln!("{label} {}", scrub(&clean(text)));
    }

    /// An error on stderr.
    pub fn error(&self, text: &str) {
        let label = self.paint_err(
            Style::new().bold().fg_color(Some(AnsiColor::Red.into())),
            "error:",
        );
        eprintln!("{label} {}", scrub(&clean(text)));
    }

    /// Replace the last `rows` lines of the terminal (a prompt left drawn, the cursor on
    /// the line below it) with `text`: up `rows`, column 0, clear to the end of screen.
    pub fn replace_prompt(&self, rows: usize, text: &Rendered) {
        if rows > 0 {
            eprint!("\x1b[{rows}A");
        }
        eprintln!("\r\x1b[J{}", scrub(text.as_str()));
    }

    fn paint_err(&self, style: Style, text: &str) -> String {
        paint(self.color_err, style, text)
    }
}
