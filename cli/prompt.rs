//! The interactive [`Decider`]: shows each drifted component's diff and asks with an
//! arrow-key menu (inquire). Esc or Ctrl-C aborts with nothing (more) written.

use inquire::{Confirm, InquireError, Select};
use lua_core::engine::{Aborted, Choice, Decider, Decision, Prompt};

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
        self.printer.out(&format!(
            "\n{}\n",
            render::item_diff(item, self.printer.color)
        ));
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
        let answer = Select::new(&question, labels)
            .with_starting_cursor(start)
            .with_help_message("↑↓ to move, enter to select, esc to abort")
            .prompt()
            .map_err(aborted)?;
        let choice = prompt
            .choices
            .iter()
            .copied()
            .find(|c| label(*c) == answer)
            .unwrap_or(Choice::Skip);
        let mut confirmed_flatten = false;
        if choice == Choice::Pull && prompt.pull_warning.is_some() {
            confirmed_flatten = Confirm::new("Replace the pieces with one literal?")
                .with_default(false)
                .prompt()
                .map_err(aborted)?;
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

fn aborted(_: InquireError) -> Aborted {
    Aborted
}
