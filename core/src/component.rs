//! The [`Syncable`] trait: the contract between the engine and one syncable field.
//!
//! A component is one file in `lua-components` that implements this trait and submits a
//! [`Registration`] with `inventory::submit!`. The engine never names a component; it
//! only calls these methods. Contract for every method: **never print** (return data or
//! errors; the CLI decides what the user sees), and do I/O only where the method says so.
//!
//! A component is either one value ([`Shape::Single`]: the name, the persona) or a set
//! of items keyed by name ([`Shape::Keyed`]: skills, MCP servers). Both sides are maps
//! from an item key to a value; a single value is the map with one key, [`SINGLE`].
//! The engine compares, classifies, asks and resolves **per item**: each item has its
//! own server version, its own base in the sync state (`<component>/<key>`), its own
//! prompt choice and its own result.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use lua_compile::{Node, Unreadable};
use lua_platform::PlatformError;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::project::{Project, PullCtx};
use crate::value;

pub use crate::server::Server;

/// The key of the one item of a [`Shape::Single`] component.
pub const SINGLE: &str = "";

/// Whether a component is one value or a keyed set of items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Single,
    Keyed,
}

/// What a value present on one side only means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OneSided {
    /// Nothing to compare: not drift (the name the code does not set, a persona never
    /// published).
    NotCompared,
    /// A real difference (the model the code does not name; a skill deployed from
    /// another machine).
    Drift,
}

/// A version as the platform numbers it: persona versions are integers, primitive
/// versions are strings (`1.0.1`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Version {
    Number(u64),
    Text(String),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Number(n) => write!(f, "v{n}"),
            Version::Text(s) => f.write_str(s),
        }
    }
}

/// One server-side item: the latest *published* value.
#[derive(Clone, Debug, PartialEq)]
pub struct Remote {
    /// The value as the platform returned it.
    pub value: Value,
    /// The platform's version of this value, where it versions it.
    pub version: Option<Version>,
    /// The platform's id of the entity (a skill's id), for reports.
    pub entity_id: Option<String>,
    /// Why the server's value cannot be compared (its version is absent, empty or of an
    /// unknown shape): the item is then "not compared", with this reason, never in sync.
    pub not_compared: Option<String>,
}

impl Remote {
    /// An unversioned value.
    pub fn value(value: Value) -> Self {
        Self {
            value,
            version: None,
            entity_id: None,
            not_compared: None,
        }
    }
}

/// Where a local value was read: a position in a project file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A statically known local value.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalValue {
    pub value: Value,
    /// The compiled node it came from, when it came from the TypeScript source.
    pub node: Option<Node>,
    /// Where it is written (source position, or a line of `lua.skill.yaml`).
    pub place: Option<Place>,
    /// The version the project records for it, where it records one.
    pub version: Option<Version>,
    /// The platform's id of the entity, where the project records one.
    pub entity_id: Option<String>,
}

impl LocalValue {
    /// A value read from a compiled node (its place is the node's origin).
    pub fn from_node(value: Value, node: Node) -> Self {
        let place = node.origin().map(|o| Place {
            file: o.file.clone(),
            line: o.line,
            column: o.column,
        });
        Self {
            value,
            node: Some(node),
            place,
            version: None,
            entity_id: None,
        }
    }
}

/// One local-side item.
#[derive(Clone, Debug, PartialEq)]
pub enum Local {
    /// Statically known value.
    Value(LocalValue),
    /// The project does not set it.
    Missing,
    /// It exists but cannot be evaluated statically.
    Unreadable(Unreadable),
}

impl Local {
    pub fn value(&self) -> Option<&Value> {
        match self {
            Local::Value(v) => Some(&v.value),
            _ => None,
        }
    }

    pub fn place(&self) -> Option<Place> {
        match self {
            Local::Value(v) => v.place.clone(),
            Local::Unreadable(u) => Some(Place {
                file: u.file.clone(),
                line: u.line,
                column: u.column,
            }),
            Local::Missing => None,
        }
    }
}

/// The server side of a component: items by key. Empty: the server has nothing.
pub type Remotes = BTreeMap<String, Remote>;
/// The local side of a component: items by key. A key absent here is [`Local::Missing`].
pub type Locals = BTreeMap<String, Local>;

/// Why a push or pull was not done. Stable codes, exposed in the JSON report as `reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// `lua.toml` forbids this direction for the component.
    NotAllowed,
    /// Changed on both sides since the last sync.
    Conflict,
    /// Pulling would flatten a value built from several pieces.
    NeedsForce,
    /// The code that defines the value cannot be read statically.
    NotStatic,
    /// The code changed between the comparison and the write.
    ChangedSinceCompared,
    /// The project has nowhere to write the value.
    NotInProject,
    /// The server has no value to pull.
    NothingOnServer,
    /// Sync does not push this component; the message says how to deploy it.
    PushNotSupported,
    /// The server has no backup to restore source from.
    NoBackup,
    /// The server moved between the diff and the push.
    ServerMoved,
    /// Writing the local source was refused (guard, permissions, outside the root).
    WriteRefused,
    /// A request to the platform failed.
    Platform,
    /// The pulled code no longer compiles.
    Recompile,
    /// The user chose to skip.
    UserSkipped,
    /// `--check`: nothing is resolved.
    CheckOnly,
}

impl Reason {
    /// Stable id for JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotAllowed => "not_allowed",
            Reason::Conflict => "conflict",
            Reason::NeedsForce => "needs_force",
            Reason::NotStatic => "not_static",
            Reason::ChangedSinceCompared => "changed_since_compared",
            Reason::NotInProject => "not_in_project",
            Reason::NothingOnServer => "nothing_on_server",
            Reason::PushNotSupported => "push_not_supported",
            Reason::NoBackup => "no_backup",
            Reason::ServerMoved => "server_moved",
            Reason::WriteRefused => "write_refused",
            Reason::Platform => "platform_error",
            Reason::Recompile => "recompile_failed",
            Reason::UserSkipped => "skipped",
            Reason::CheckOnly => "check_only",
        }
    }
}

/// A pull that did not happen, and what that means for the run.
#[derive(Clone, Debug, PartialEq)]
pub enum PullError {
    /// Not done, and the drift stays (exit 1): no backup, nothing to pull.
    Unresolved { reason: Reason, message: String },
    /// Not done, and that is an error the user must see (exit 2).
    Refused { reason: Reason, message: String },
}

impl PullError {
    pub fn refused(reason: Reason, message: impl Into<String>) -> Self {
        PullError::Refused {
            reason,
            message: message.into(),
        }
    }

    pub fn unresolved(reason: Reason, message: impl Into<String>) -> Self {
        PullError::Unresolved {
            reason,
            message: message.into(),
        }
    }
}

impl From<lua_compile::WriteError> for PullError {
    fn from(e: lua_compile::WriteError) -> Self {
        PullError::refused(Reason::WriteRefused, e.to_string())
    }
}

/// What a pull wrote.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Pulled {
    /// Project-relative paths of the files written.
    pub files: Vec<String>,
    /// Things the user should know (a file's owner could not be kept, ...).
    pub notes: Vec<String>,
}

/// One item handed to [`Syncable::pull`].
pub struct PullItem<'a> {
    pub key: &'a str,
    pub local: &'a Local,
    /// `None` when the server has no such item.
    pub remote: Option<&'a Remote>,
}

/// One syncable field of an agent.
#[async_trait]
pub trait Syncable: Send + Sync {
    /// Stable id: the key in `lua.toml` (`[components.<id>]`), in JSON output and in
    /// the sync state. Lowercase, no spaces.
    fn id(&self) -> &'static str;

    /// Human title, used in headings (`PERSONA DIFF`) and prompts.
    fn title(&self) -> &'static str;

    /// One value, or a keyed set.
    fn shape(&self) -> Shape {
        Shape::Single
    }

    /// What a value on one side only means.
    fn one_sided(&self) -> OneSided {
        OneSided::NotCompared
    }

    /// Fetch the server side: the latest *published* value of each item. A single-value
    /// component returns at most [`SINGLE`]; an empty map means the server has nothing.
    /// A failed request is an error, never an empty map. Network I/O only.
    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError>;

    /// Read the local side from the project. No I/O but through `project`, whose reads
    /// are snapshots taken once per run. The default reads the config property named
    /// like the component's id. `Err` means the side cannot be read at all (a broken
    /// `lua.skill.yaml`): the component is not compared.
    fn read_local(&self, project: &Project) -> Result<Locals, Unreadable> {
        Ok(BTreeMap::from([(
            SINGLE.to_string(),
            local_from_field(project, self.id()),
        )]))
    }

    /// Where the project keeps this component's items (the start of their section in a
    /// project file), to point at an item the project does not have: a GitHub annotation
    /// for an item only on the server. Reads only through `project`. Default: nowhere.
    fn anchor(&self, _project: &Project) -> Option<Place> {
        None
    }

    /// Map a value to the form it is compared, hashed and diffed in (component-specific
    /// equivalences). Pure. The default is the value itself.
    fn canonical(&self, value: &Value) -> Value {
        value.clone()
    }

    /// Whether two canonical values are the same. Pure. Default: [`value::same`].
    fn same(&self, server: &Value, local: &Value) -> bool {
        value::same(server, local)
    }

    /// The text a canonical value is diffed as. Pure. Default: [`value::canonical_text`].
    fn text(&self, value: &Value) -> String {
        value::canonical_text(value)
    }

    /// Why sync cannot push this item, with the command that would deploy it; `None`
    /// when it can.
    fn push_unsupported(&self, _key: &str) -> Option<String> {
        None
    }

    /// What a pull of this item would change, shown in the prompt (a per-file diff).
    /// Network and file reads only; never writes. Default: nothing to add.
    async fn pull_preview(&self, _ctx: &PullCtx<'_>, _item: &PullItem<'_>) -> Option<String> {
        None
    }

    /// Write the server side of one item into the project (pull). Must write nothing
    /// if what it would overwrite changed since it was read (the compile crate's guard,
    /// or the project snapshot's hash). Default: replace the literal that defines the
    /// value (exact, atomic, guarded).
    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        default_pull(self, ctx, item)
    }

    /// Push the local side of one item (`None`: the code has none) to the server.
    /// Returns the new server version, if the platform versions it; a success the
    /// platform did not confirm is an error. Network I/O only.
    async fn push(
        &self,
        server: &Server,
        key: &str,
        local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError>;
}

/// The default [`Syncable::pull`]: replace the literal that defines the value; refuse
/// when there is none to replace or it is not static.
pub fn default_pull<C: Syncable + ?Sized>(
    component: &C,
    ctx: &PullCtx<'_>,
    item: &PullItem<'_>,
) -> Result<Pulled, PullError> {
    let Some(remote) = item.remote else {
        return Err(PullError::unresolved(
            Reason::NothingOnServer,
            format!(
                "the server has no {}; nothing to pull (push it, or remove it from the code by hand)",
                component.title()
            ),
        ));
    };
    match item.local {
        // A value derived from the code (a class agent's name from its class name) is
        // stated nowhere: pulling states it, as the component's property.
        Local::Value(LocalValue {
            node: Some(node), ..
        }) if node
            .origin()
            .is_some_and(|o| o.literal == lua_compile::LiteralKind::Derived) =>
        {
            Ok(ctx.insert_property(component.id(), &remote.value)?)
        }
        Local::Value(LocalValue {
            node: Some(node), ..
        }) => Ok(ctx.replace(node, &remote.value)?),
        Local::Value(_) | Local::Missing => Err(PullError::refused(
            Reason::NotInProject,
            format!(
                "{} is not set in {}; add it to the LuaAgent config to pull it",
                component.title(),
                ctx.compiled().entry
            ),
        )),
        Local::Unreadable(u) => Err(PullError::refused(
            Reason::NotStatic,
            format!("cannot pull into code that is not static: {u}"),
        )),
    }
}

/// Read a top-level property of the LuaAgent config as a [`Local`].
pub fn local_from_field(project: &Project, key: &str) -> Local {
    let compiled = project.compiled();
    match compiled.fields.get(key) {
        // A spread or computed key that cannot be read may set this property at run time.
        None => match compiled.unkeyed.first() {
            Some(unreadable) => Local::Unreadable(unreadable.clone()),
            None => Local::Missing,
        },
        Some(node) => match node.to_json() {
            Ok(value) => Local::Value(LocalValue::from_node(value, node.clone())),
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
