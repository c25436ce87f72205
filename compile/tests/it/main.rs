//! lua-compile's integration tests, in one test binary (one link instead of one per
//! file): each module is one area of compile and write-back, on real files.

// Helpers outside `#[test]` functions are test code too, but clippy.toml's
// allow-*-in-tests only covers `#[test]` functions and `#[cfg(test)]` modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cache;
mod child;
mod commit;
mod crash;
mod evaluate;
mod fixtures;
mod guard;
mod hardening;
mod insert;
mod insert_roundtrip;
mod lock;
mod race;
mod recover;
mod roundtrip;
mod write_back;
