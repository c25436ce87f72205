//! `lua-core`: the generic engine of `lua sync`.
//!
//! It owns the [`Syncable`] trait (the contract every component implements), the
//! [`inventory`]-based component registry, project configuration (`lua.toml` +
//! environment, via `figment`), the three-way sync state (`lua.sync.json`) and
//! the [`engine`] that runs compile -> fetch (concurrently) -> compare -> classify ->
//! resolve -> record state.
//!
//! What it must not know: any concrete component (no `name`, no `persona` here: they
//! live in `lua-components` and register themselves), clap, or the terminal. It never
//! prints; it returns data ([`engine::Report`], [`engine::Outcome`]) and asks an
//! injected [`engine::Decider`] when a human must choose.

pub mod component;
pub mod config;
pub mod credentials;
pub mod disk;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod project;
pub mod registry;
pub mod report;
pub mod server;
pub mod session;
pub mod state;
pub mod value;

pub use component::{
    Local, LocalValue, Locals, OneSided, Place, PullError, PullItem, PullStage, Pulled,
    PushRequest, Reason, Registration, Remote, Remotes, SINGLE, Shape, Syncable, Version,
};
pub use error::CoreError;
pub use project::{Project, PullCtx, Snapshot};
pub use server::Server;

// Re-exported: the trait's macro and the registry's; the crates the types come from
// (`lua-compile`, `lua-diff`, `lua-platform`) are each dependent's own dependency.
pub use async_trait::async_trait;
pub use inventory;
