//! The one place a run's report and outcome become its exit code (README "Exit codes").

use lua_core::engine::{Exit, Mode, Outcome, Report};

/// A failed fetch's class (3, 9-12, or 2: see [`Exit::of_platform`]); 2 for other errors ( an unreachable server under `fail`, a refused, guarded
/// or failed action, a `--check` that could not compare a `fail` component), else 1 for
/// drift (found by `--check` where the policy fails, or left unresolved), else 0.
pub fn code(report: &Report, outcome: Option<&Outcome>, mode: Mode) -> Exit {
    let mut exit = Exit::Ok;
    if mode == Mode::Check && report.fails_check() {
        exit = Exit::Drift;
    }
    if let Some(outcome) = outcome {
        if outcome.aborted || outcome.resolutions.iter().any(|r| r.action.leaves_drift()) {
            exit = exit.max(Exit::Drift);
        }
        if outcome.resolutions.iter().any(|r| r.action.is_failure()) {
            // Only the action's message survives: its class is not known here.
            exit = Exit::Error;
        }
    }
    if let Some(class) = report.error_exit() {
        exit = class;
    } else if mode == Mode::Check && report.fails_closed() {
        exit = Exit::Error;
    }
    exit
}
