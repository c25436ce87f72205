//! The overall deadline of a client's network phase.
//!
//! The budget is spent only while at least one request of the client is in flight
//! (attempts and the backoff sleeps between them), so the time a person spends reading a
//! diff at a prompt between the check and the push is not counted, while a run against a
//! dead or black-holing server ends within the budget whatever `retries` says.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// A client's network budget. `None` limit: unbounded (each attempt still has its timeout).
#[derive(Debug)]
pub(crate) struct Budget {
    limit: Option<Duration>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Time spent with requests in flight, up to `since`.
    spent: Duration,
    /// When the current in-flight period began.
    since: Option<Instant>,
    in_flight: usize,
}

impl State {
    fn spent(&self) -> Duration {
        self.spent + self.since.map_or(Duration::ZERO, |since| since.elapsed())
    }
}

/// Marks one logical request as in flight until dropped (also when its future is dropped).
pub(crate) struct InFlight<'a> {
    budget: &'a Budget,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut state = self.budget.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        if state.in_flight == 0
            && let Some(since) = state.since.take()
        {
            state.spent += since.elapsed();
        }
    }
}

impl Budget {
    pub(crate) fn new(limit: Option<Duration>) -> Self {
        Self {
            limit,
            state: Mutex::new(State::default()),
        }
    }

    pub(crate) fn limit(&self) -> Option<Duration> {
        self.limit
    }

    /// Starts spending the budget (if nothing else was in flight) until the guard drops.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        let mut state = self.state();
        if state.in_flight == 0 {
            state.since = Some(Instant::now());
        }
        state.in_flight += 1;
        InFlight { budget: self }
    }

    /// What is left; `None` when unbounded.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        let limit = self.limit?;
        Some(limit.saturating_sub(self.state().spent()))
    }

    /// True once a bounded budget is spent.
    pub(crate) fn exhausted(&self) -> bool {
        self.remaining().is_some_and(|left| left.is_zero())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state consistent, so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_time_in_flight_is_spent() {
        let budget = Budget::new(Some(Duration::from_millis(50)));
        assert_eq!(budget.remaining(), Some(Duration::from_millis(50)));
        // Idle time (a person at a prompt) costs nothing.
        std::thread::sleep(Duration::from_millis(60));
        assert!(!budget.exhausted());
        {
            let _a = budget.enter();
            let _b = budget.enter();
            std::thread::sleep(Duration::from_millis(60));
        }
        assert!(budget.exhausted());
        assert_eq!(Budget::new(None).remaining(), None);
        assert!(!Budget::new(None).exhausted());
    }
}
