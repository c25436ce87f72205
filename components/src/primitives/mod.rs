//! The deployed primitives of an agent: skills, webhooks, jobs, preprocessors,
//! postprocessors and MCP servers.
//!
//! - [`skill_yaml`]: the local side, `lua.skill.yaml` (entries with lines; lossless edits).
//! - [`component`] + [`kind`] + [`kinds`]: one generic [`component::Primitives`] component,
//!   instantiated per kind from a table (ids `skills`, `webhooks`, `jobs`,
//!   `preprocessors`, `postprocessors`, `mcp_servers`).
//! - [`restore`]: pulling source files from the agent's backup, safely.
//!
//! The platform calls (listings, backup, blobs) live in `lua-platform`.

pub mod component;
mod fsio;
pub mod kind;
pub mod kinds;
pub mod restore;
pub mod restore_paths;
pub mod skill_yaml;
mod yaml_tree;
