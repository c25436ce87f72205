//! The interactive [`Decider`]: shows each drifted component's diff and asks with an
//! arrow-key menu (inquire). Esc or Ctrl-C aborts with nothing (more) written, and
//! both leave the screen the same: the question marked `<canceled>`, no menu.

use inquire::ui::{Color, RenderConfig, Styled};
use inquire::{Confirm, InquireError, Select};
use lua_core::engine::{Aborted, Choice, Decider, Decision, Prompt};
use unicode_width::UnicodeWidthStr;

use crate::printer::Printer;
use crate::render;

pub const PUSH_LABEL: &str = "📤 Push local to server";
pub const PULL_LABEL: &str = "📥 Pull server to local";
pub const SKIP_LABEL: &str = "⏭️  Skip";

pub struct TerminalDecider<'a> {
    pub printer: &'a Printer,
}

fn label(choice: Choice) -> &'static str {
    match choice {
        Choice::Push => PUSH_LABEL,
        Choice::Pull => PULL_LABEL,
        Choice::Skip => SKIP_LABEL,
    }
}

impl Decider for TerminalDecider<'_> {
    fn decide(&mut self, prompt: &Prompt<'_>) -> Result<Decision, Aborted> {
        let item = prompt.item;
        self.printer.out("");
        self.printer
            .out_rendered(&render::item_diff(item, self.printer.color));
        self.printer.out("");
        if let Some(preview) = &prompt.pull_preview {
            self.printer.out(preview);
        }
        if let Some(warning) = &prompt.pull_warning {
            self.printer.warn(warning);
        }
        let labels: Vec<&str> = prompt.choices.iter().map(|c| label(*c)).collect();
        let start = prompt
            .choices
            .iter()
            .position(|c| *c == prompt.default)
            .unwrap_or(0);
        let name = match &item.key {
            Some(key) => format!("{} {key}", item.id),
            None => item.id.to_string(),
        };
        let question = format!("What would you like to do with {name}?");
        let mut drawn = vec![format!("? {question} ")];
        drawn.extend(labels.iter().map(|l| format!("{POINTER} {l}")));
        drawn.push(format!("[{HELP}]"));
        let answer = Select::new(&question, labels)
            .with_render_config(render_config(self.printer.color_err))
            .with_starting_cursor(start)
            .with_help_message(HELP)
            .prompt()
            .map_err(|e| self.aborted(e, &question, &drawn))?;
        let choice = prompt
            .choices
            .iter()
            .copied()
            .find(|c| label(*c) == answer)
            .unwrap_or(Choice::Skip);
        let mut confirmed_flatten = false;
        if choice == Choice::Pull && prompt.pull_warning.is_some() {
            let question = "Replace the pieces with one literal?";
            confirmed_flatten = Confirm::new(question)
                .with_render_config(render_config(self.printer.color_err))
                .with_default(false)
                .prompt()
                .map_err(|e| self.aborted(e, question, &[format!("? {question} (y/N) ")]))?;
            if !confirmed_flatten {
                return Ok(Decision {
                    choice: Choice::Skip,
                    confirmed_flatten: false,
                });
            }
        }
        Ok(Decision {
            choice,
            confirmed_flatten,
        })
    }
}

/// The menu's pointer, as in the reference CLI.
const POINTER: &str = "❯";
const HELP: &str = "↑↓ to move, enter to select, esc to abort";

/// inquire's look (its colours only when stderr is coloured) with the `❯` pointer.
fn render_config(color: bool) -> RenderConfig<'static> {
    let config = if color {
        RenderConfig::default_colored()
    } else {
        RenderConfig::empty()
    };
    let pointer = Styled::new(POINTER);
    config.with_highlighted_option_prefix(if color {
        pointer.with_fg(Color::LightCyan)
    } else {
        pointer
    })
}

impl TerminalDecider<'_> {
    /// Esc makes inquire draw `? question <canceled>`; on Ctrl-C it returns with the menu
    /// still drawn and the cursor below it. Draw the Esc end state over it then.
    fn aborted(&self, error: InquireError, question: &str, drawn: &[String]) -> Aborted {
        if matches!(error, InquireError::OperationInterrupted) {
            let width = terminal_width();
            let rows = drawn
                .iter()
                .map(|line| UnicodeWidthStr::width(line.as_str()).div_ceil(width).max(1))
                .sum();
            self.printer
                .replace_prompt(rows, &canceled(question, self.printer.color_err));
        }
        Aborted
    }
}

fn terminal_width() -> usize {
    crossterm::terminal::size()
        .map(|(cols, _)| usize::from(cols))
        .ok()
        .filter(|&cols| cols > 0)
        .unwrap_or(80)
}

/// `? question <canceled>`, styled as inquire styles it.
fn canceled(question: &str, color: bool) -> crate::sanitize::Rendered {
    use anstyle::{AnsiColor, Style};
    let mut out = crate::sanitize::Rendered::new();
    out.styled(
        color,
        Style::new().fg_color(Some(AnsiColor::BrightGreen.into())),
        "?",
    )
    .text(&format!(" {question} "))
    .styled(
        color,
        Style::new().fg_color(Some(AnsiColor::Red.into())),
        "<canceled>",
    );
    out
}
