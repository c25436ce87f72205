//! The one place a run's report and outcome become its exit code (README "Exit codes").

use lua_core::engine::{Exit, Mode, Outcome, Report};

/// 2 for errors (a failed fetch, an unreachable server under `fail`, a refused, guarded
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
            exit = Exit::Error;
        }
    }
    if report.has_errors() || (mode == Mode::Check && report.fails_closed()) {
        exit = Exit::Error;
    }
    exit
}
