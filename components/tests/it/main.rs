//! Integration tests of `lua-components`, one binary (modules by area).

// allow-*-in-tests only covers `#[test]` functions and `#[cfg(test)]` modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod architecture;
