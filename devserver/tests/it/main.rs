//! The devserver's integration tests, in one test binary (one link instead of one per
//! file): each module is one area, over real HTTP to a server started through [`common`].

// Helpers outside `#[test]` functions are test code too, but clippy.toml's
// allow-*-in-tests only covers `#[test]` functions and `#[cfg(test)]` modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod chromium;
mod common;

mod api;
mod backup;
mod dashboard;
mod dashboard_deployed;
mod faults;
mod governance;
mod in_process;
mod load;
mod network;
mod primitives;
mod security;
mod startup;
