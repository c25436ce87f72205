//! Integration tests of `lua-components`, one binary (modules by area).

mod architecture;
