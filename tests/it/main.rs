//! The root package's end-to-end tests, in one test binary (one link instead of one per
//! file, as cargo's and uv's test suites do): each module is one area of behaviour, run
//! against the real `lua` binary and a real devserver through [`support`].

// Helpers outside `#[test]` functions are test code too, but clippy.toml's
// allow-*-in-tests only covers `#[test]` functions and `#[cfg(test)]` modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod auth;
mod compat;
mod config;
mod extension;
mod extension_field;
mod extension_keyed;
mod extension_kind;
mod fail_closed;
mod faults;
mod governance;
mod hostile_backup;
mod interactive;
mod invariants;
mod many;
mod messages;
mod model;
mod network;
mod npm;
mod output;
mod persona;
mod policies;
mod primitives;
mod projects;
mod scripts;
mod secrets;
mod session;
mod state;
mod sync;
mod terminal;
