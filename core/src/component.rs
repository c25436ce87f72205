//! The [`Syncable`] trait: the contract between the engine and one syncable field.
//!
//! A component is one file in `lua-components` that implements this trait and submits a
//! [`Registration`] with `inventory::submit!`. The engine never names a component; it
//! only calls these methods. Contract for every method: **never print** (return data or
//! errors; the CLI decides what the user sees), and do I/O only where the method says so.

use std::path::Path;

use async_trait::async_trait;
use lua_compile::{Compiled, Node, Unreadable, WriteError, WriteOptions, WriteReport};
use lua_platform::{Agent, PlatformClient, PlatformError};
use serde_json::Value;

use crate::value;

/// The server side of one component: the latest *published* value.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    /// The value as the platform returned it (string or object).
    pub value: Value,
    /// The platform's version number of this value, where the platform versions it.
    pub version: Option<u64>,
}

/// The local side of one component, read from the compiled project.
#[derive(Clone, Debug, PartialEq)]
pub enum Local {
    /// Statically known value, with the node (origin) it was read from.
    Value { value: Value, node: Node },
    /// The config object has no such property.
    Missing,
    /// The property exists but cannot be evaluated statically.
    Unreadable(Unreadable),
}

/// What a component may use to talk to the platform.
///
/// Reads go through the client's per-run cache (one request per path per run, shared by
/// all components), unless this is a `fresh` view (the push guard), which bypasses it.
#[derive(Clone)]
pub struct Server {
    client: PlatformClient,
    agent_id: String,
    fresh: bool,
}

impl Server {
    pub fn new(client: PlatformClient, agent_id: impl Into<String>) -> Self {
        Self {
            client,
            agent_id: agent_id.into(),
            fresh: false,
        }
    }

    /// A view whose reads bypass the per-run cache (used right before a push).
    pub fn fresh(&self) -> Self {
        Self {
            fresh: true,
            ..self.clone()
        }
    }

    pub fn agent_id(&self) -> &str {
        &self.agent_id
    }

    pub fn client(&self) -> &PlatformClient {
        &self.client
    }

    /// `GET /admin/agents/{agentId}` (cached per run unless fresh).
    pub async fn agent(&self) -> Result<Agent, PlatformError> {
        if self.fresh {
            self.client.agent_fresh(&self.agent_id).await
        } else {
            self.client.agent(&self.agent_id).await
        }
    }

    /// Whether reads bypass the per-run cache (the push guard's view).
    pub fn is_fresh(&self) -> bool {
        self.fresh
    }
}

/// What a component may use to write the local side.
pub struct LocalCtx<'a> {
    pub root: &'a Path,
    pub compiled: &'a Compiled,
    pub force: bool,
}

/// One syncable field of an agent.
#[async_trait]
pub trait Syncable: Send + Sync {
    /// Stable id: the key in `lua.toml` (`[components.<id>]`), in JSON output and in
    /// `.lua/sync-state.json`. Lowercase, no spaces.
    fn id(&self) -> &'static str;

    /// Human title, used in headings (`PERSONA DIFF`) and prompts.
    fn title(&self) -> &'static str;

    /// Fetch the latest *published* server value. `Ok(None)` means the server has
    /// nothing to compare (never published, or null): that is "no drift", not an error.
    /// A failed request is an error, never `None`. Network I/O only; no local I/O.
    async fn fetch_published(&self, server: &Server) -> Result<Option<Remote>, PlatformError>;

    /// Read the local value from the compiled project. Pure: no I/O. The default reads
    /// the config property named like the component's id.
    fn read_local(&self, compiled: &Compiled) -> Local {
        local_from_field(compiled, self.id())
    }

    /// The text both sides are compared and diffed as. Pure. The default is
    /// [`value::canonical_text`] (line endings and surrounding whitespace normalised).
    fn text(&self, value: &Value) -> String {
        value::canonical_text(value)
    }

    /// The drift between the two values, or `None` when they are the same. Pure. The
    /// default diffs [`Syncable::text`] of each side line by line (with word highlights).
    fn diff(&self, server: &Value, local: &Value) -> Option<lua_diff::Drift> {
        let (server, local) = (self.text(server), self.text(local));
        (server != local).then(|| lua_diff::compute(&server, &local))
    }

    /// Write the server value into the local source (pull). File I/O only; must write
    /// nothing if the source changed since compile read it (the compile crate's guard).
    fn write_local(
        &self,
        ctx: &LocalCtx<'_>,
        local_node: &Node,
        server: &Remote,
    ) -> Result<WriteReport, WriteError> {
        write_value(ctx, local_node, &server.value)
    }

    /// Push the local value to the server. Returns the new server version, if the
    /// platform versions this field. Network I/O only.
    async fn push(&self, server: &Server, local: &Value) -> Result<Option<u64>, PlatformError>;
}

/// Write `value` into the source that defines `node` (exact span, atomic, guarded).
pub fn write_value(
    ctx: &LocalCtx<'_>,
    node: &Node,
    value: &Value,
) -> Result<WriteReport, WriteError> {
    lua_compile::write_back(
        ctx.root,
        ctx.compiled,
        node,
        value,
        WriteOptions {
            force: ctx.force,
            ..WriteOptions::default()
        },
    )
}

/// Read a top-level property of the LuaAgent config as a [`Local`].
pub fn local_from_field(compiled: &Compiled, key: &str) -> Local {
    match compiled.fields.get(key) {
        // A spread or computed key that cannot be read may set this property at run time.
        None => match compiled.unkeyed.first() {
            Some(unreadable) => Local::Unreadable(unreadable.clone()),
            None => Local::Missing,
        },
        Some(node) => match node.to_json() {
            Ok(value) => Local::Value {
                value,
                node: node.clone(),
            },
            Err(unreadable) => Local::Unreadable(unreadable.clone()),
        },
    }
}

/// A component's registration, submitted with `inventory::submit!`.
///
/// ```ignore
/// inventory::submit! { Registration { id: "greeting", order: 50, make: || Box::new(Greeting) } }
/// ```
pub struct Registration {
    /// Must equal the component's [`Syncable::id`].
    pub id: &'static str,
    /// Display and processing order (lower first; ties broken by id).
    pub order: i32,
    /// Constructor.
    pub make: fn() -> Box<dyn Syncable>,
}

inventory::collect!(Registration);
