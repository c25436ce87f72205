//! `lua-components`: the syncable fields of an agent, one file each.
//!
//! Each module implements [`lua_core::Syncable`] and registers itself with
//! `inventory::submit!`; the engine finds them through the registry. Adding a field is
//! one new file here plus its `mod` line: no change in `lua-core` or the CLI.
//!
//! This crate must be linked into the binary (`use lua_components as _;`) or the
//! registrations vanish.

pub mod agent_field;
pub mod governance;
pub mod model;
pub mod name;
pub mod persona;
pub mod persona_lifecycle;
pub mod primitives;
