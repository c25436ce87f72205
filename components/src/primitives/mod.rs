//! The deployed primitives of an agent: skills, webhooks, jobs, preprocessors,
//! postprocessors and MCP servers.
//!
//! - [`skill_yaml`]: the local side, `lua.skill.yaml` (entries with lines; lossless edits).
//! - [`restore`]: pulling source files from the agent's backup, safely.
//!
//! The platform calls (listings, backup, blobs) live in `lua-platform`.

mod fsio;
pub mod restore;
pub mod skill_yaml;
mod yaml_tree;
