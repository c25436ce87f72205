//! lua-diff's integration tests, in one test binary (one link instead of one per file).

// Helpers outside `#[test]` functions are test code too, but clippy.toml's
// allow-*-in-tests only covers `#[test]` functions and `#[cfg(test)]` modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod properties;
mod render;
