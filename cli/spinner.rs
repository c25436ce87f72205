//! A spinner on stderr while waiting for the server: only on a terminal, only when the
//! wait exceeds 200 ms, never with --quiet.

use std::future::Future;
use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::printer::Printer;

pub async fn while_waiting<T>(
    printer: &Printer,
    message: &str,
    work: impl Future<Output = T>,
) -> T {
    if printer.quiet || !std::io::stderr().is_terminal() {
        return work.await;
    }
    tokio::pin!(work);
    tokio::select! {
        out = &mut work => return out,
        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
        bar.set_style(style);
    }
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(80));
    let out = work.await;
    bar.finish_and_clear();
    out
}
