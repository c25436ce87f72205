//! The engine's data: what a check found ([`Report`], [`Item`], [`Status`]) and what a
//! resolution did ([`Outcome`], [`Action`]). Plain data with the helpers that read it;
//! no I/O, no component names.

use std::sync::OnceLock;

use lua_compile::Unreadable;
use lua_platform::PlatformError;

use crate::component::{Local, Place, Reason, Remote, SINGLE, Shape, Version};
use crate::config::{CheckPolicy, ComponentPolicy, DefaultChoice, OnUnreachable};
use crate::project::Project;
use crate::state::{StateEntry, SyncState};

/// Exit statuses of the product (see README "Exit codes"). The CLI decides which one a
/// run ends with; the engine only reports facts. The classes 3 and 9-12 are lua-cli's
/// (its `CLI_EXIT`), so scripts written for it branch the same way; [`Exit::of_error`]
/// and [`Exit::of_platform`] are the one mapping from an error to its class.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// In sync, or drift only where policy says warn, or all drift resolved.
    Ok = 0,
    /// Drift found by `--check`, or drift left unresolved.
    Drift = 1,
    /// Usage and every error without a class of its own: config, compile, protocol,
    /// refused or guarded action, not compared.
    Error = 2,
    /// The platform does not know the agent, route or version (404).
    NotFound = 3,
    /// No credential, or the platform refused it (401), or the session was signed out.
    NotAuthenticated = 9,
    /// The credential may not do this (403), or another 4xx refusal.
    Forbidden = 10,
    /// The platform failed (5xx, 429 after retries) or gave no answer at all.
    Unavailable = 11,
    /// The model provider behind the agent refused (424 `PROVIDER_REJECTED`).
    ProviderRejected = 12,
}

impl Exit {
    /// Whether this ends the run as an error (not 0 or 1).
    pub fn is_error(self) -> bool {
        !matches!(self, Exit::Ok | Exit::Drift)
    }

    /// The class of a platform error, as lua-cli classifies it: 401 -> 9, 403 and other
    /// 4xx -> 10, 404 -> 3, 5xx / 429 / no answer -> 11, a provider's refusal -> 12;
    /// answers lua cannot use (protocol, redirect) and bad input stay 2.
    pub fn of_platform(e: &PlatformError) -> Exit {
        match e {
            PlatformError::MissingApiKey
            | PlatformError::SessionRevoked { .. }
            | PlatformError::Unauthorized { status: 401, .. } => Exit::NotAuthenticated,
            PlatformError::Unauthorized { .. } | PlatformError::Rejected { .. } => Exit::Forbidden,
            PlatformError::ProviderRejected { .. } => Exit::ProviderRejected,
            PlatformError::NotFound { .. } => Exit::NotFound,
            PlatformError::Server { .. }
            | PlatformError::Unreachable { .. }
            | PlatformError::Unanswered { .. }
            | PlatformError::DeadlineExceeded { .. } => Exit::Unavailable,
            // A refused certificate is not "unavailable": retrying (what scripts do on 11)
            // cannot help, and lua-cli only lands there by matching "fetch failed".
            PlatformError::InvalidConfig { .. }
            | PlatformError::InvalidAgentId { .. }
            | PlatformError::Redirected { .. }
            | PlatformError::Tls { .. }
            | PlatformError::Protocol { .. } => Exit::Error,
        }
    }

    /// The class of an engine error: a platform error's own, no credential 9, else 2.
    pub fn of_error(e: &crate::CoreError) -> Exit {
        match e {
            crate::CoreError::Platform(e) => Exit::of_platform(e),
            crate::CoreError::MissingApiKey => Exit::NotAuthenticated,
            crate::CoreError::Credentials(e) if e.signed_out() => Exit::NotAuthenticated,
            crate::CoreError::Credentials(
                crate::credentials::CredentialsError::SessionUnavailable { .. },
            ) => Exit::Unavailable,
            _ => Exit::Error,
        }
    }
}

/// How drift is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Report only; writes nothing.
    Check,
    /// Pull server values into the project without asking (`--accept`, `--pull`).
    Accept,
    /// Push local values to the server without asking (`--push`).
    Push,
    /// Ask per drifted item.
    Interactive,
}

/// The three choices of the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Push,
    Pull,
    Skip,
}

/// How drift relates to the last sync recorded in the sync state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Classification {
    ServerChanged,
    LocalChanged,
    BothChanged,
    UnknownBase,
}

impl Classification {
    /// Stable id for JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::ServerChanged => "server_changed",
            Classification::LocalChanged => "local_changed",
            Classification::BothChanged => "both_changed",
            Classification::UnknownBase => "unknown_base",
        }
    }

    /// The choice preselected for this classification.
    pub fn default_choice(self) -> Choice {
        match self {
            Classification::ServerChanged => Choice::Pull,
            Classification::LocalChanged | Classification::UnknownBase => Choice::Push,
            Classification::BothChanged => Choice::Skip,
        }
    }
}

/// Which sides hold a drifted item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Both,
    /// Missing on the server.
    LocalOnly,
    /// Missing in the project.
    ServerOnly,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Both => "both",
            Presence::LocalOnly => "local_only",
            Presence::ServerOnly => "server_only",
        }
    }
}

/// Where one item stands after comparing.
#[derive(Clone, Debug)]
pub enum Status {
    InSync,
    /// The sides differ; the line diff is [`Item::drift`] (computed when first asked for).
    Drift {
        classification: Classification,
        presence: Presence,
    },
    /// The server has nothing for this component: nothing to compare.
    NotPublished,
    /// The project does not set this component: nothing to compare.
    NotInCode,
    /// The local side cannot be read statically: **not compared**.
    Unreadable(Unreadable),
    /// The server's value cannot be compared (why: [`Remote::not_compared`]): **not
    /// compared**, never in sync.
    NotCompared(String),
    Unreachable(PlatformError),
    Error(PlatformError),
}

impl Status {
    /// Stable id for JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::InSync => "in_sync",
            Status::Drift { .. } => "drift",
            Status::NotPublished => "not_published",
            Status::NotInCode => "not_in_code",
            Status::Unreadable(_) => "unreadable",
            Status::NotCompared(_) => "not_compared",
            Status::Unreachable(_) => "unreachable",
            Status::Error(_) => "error",
        }
    }

    /// Unreadable locally, or not comparable on the server: never in sync.
    pub fn is_not_compared(&self) -> bool {
        matches!(self, Status::Unreadable(_) | Status::NotCompared(_))
    }

    pub fn classification(&self) -> Option<Classification> {
        match self {
            Status::Drift { classification, .. } => Some(*classification),
            _ => None,
        }
    }
}

/// One compared item of one component (a single-value component has one item).
#[derive(Clone, Debug)]
pub struct Item {
    /// The component's id.
    pub id: &'static str,
    /// The item's key in a keyed set; `None` for a single value (and for a keyed
    /// component that could not be read or fetched at all).
    pub key: Option<String>,
    pub title: &'static str,
    pub shape: Shape,
    pub policy: ComponentPolicy,
    pub status: Status,
    pub remote: Option<Remote>,
    pub local: Local,
    /// Text of each side, as diffed.
    pub server_text: Option<String>,
    pub local_text: Option<String>,
    pub server_hash: Option<String>,
    pub local_hash: Option<String>,
    /// The recorded base, if any.
    pub base: Option<StateEntry>,
    /// Why sync cannot push this item, with the command that would deploy it. Asked of
    /// the component for a drifted item only (the only kind resolved); `None` otherwise.
    pub push_unsupported: Option<String>,
    /// Where the project keeps the component's items ([`crate::Syncable::anchor`]).
    pub anchor: Option<Place>,
    /// The line diff of a drifted item, computed on first use: most outputs never show it
    /// (one line per item of a keyed set, a unified diff in JSON), and a check of
    /// thousands of drifted items should not pay for word highlights nobody sees.
    pub(crate) drift: OnceLock<lua_diff::Drift>,
}

impl Item {
    /// The key of this item's base in the sync state: `<component>` or `<component>/<key>`.
    pub fn state_key(&self) -> String {
        state_key(self.id, self.key.as_deref().unwrap_or(SINGLE))
    }

    /// `persona`, or `skills order-skill`: how messages name this item.
    pub fn label(&self) -> String {
        match &self.key {
            Some(key) => format!("{} {key}", self.title),
            None => self.title.to_string(),
        }
    }

    pub fn is_drift(&self) -> bool {
        matches!(self.status, Status::Drift { .. })
    }

    /// The line diff, server -> local, of a drifted item (`None` otherwise): of the two
    /// texts as diffed, computed once, when first asked for.
    pub fn drift(&self) -> Option<&lua_diff::Drift> {
        if !self.is_drift() {
            return None;
        }
        Some(self.drift.get_or_init(|| {
            lua_diff::compute(
                self.server_text.as_deref().unwrap_or(""),
                self.local_text.as_deref().unwrap_or(""),
            )
        }))
    }

    pub fn classification(&self) -> Option<Classification> {
        self.status.classification()
    }

    pub fn presence(&self) -> Option<Presence> {
        match self.status {
            Status::Drift { presence, .. } => Some(presence),
            _ => None,
        }
    }

    pub fn server_version(&self) -> Option<&Version> {
        self.remote.as_ref().and_then(|r| r.version.as_ref())
    }

    /// Where to point at this item in the project: where its local value is written, else
    /// where its component's items are kept (an item only on the server).
    pub fn place(&self) -> Option<Place> {
        self.local.place().or_else(|| self.anchor.clone())
    }

    pub fn local_version(&self) -> Option<&Version> {
        match &self.local {
            Local::Value(v) => v.version.as_ref(),
            _ => None,
        }
    }

    /// One line saying why this classification, e.g. "changed on the server since your
    /// last sync (v7 -> v9)".
    pub fn reason(&self) -> Option<String> {
        let class = self.classification()?;
        let versions = match (
            self.base.as_ref().and_then(|b| b.server_version.as_ref()),
            self.server_version(),
        ) {
            (Some(a), Some(b)) if a != b => format!(" ({a} -> {b})"),
            _ => String::new(),
        };
        Some(match class {
            Classification::ServerChanged => {
                format!("changed on the server since your last sync{versions}")
            }
            Classification::LocalChanged => "changed in your code since your last sync".into(),
            Classification::BothChanged => format!(
                "changed on BOTH sides since your last sync{versions}: conflict, review before choosing"
            ),
            Classification::UnknownBase => {
                "no previous sync recorded, so the direction of the change is unknown".into()
            }
        })
    }

    /// Whether pulling would flatten a value built from several pieces.
    pub fn pull_needs_force(&self) -> bool {
        match (&self.local, &self.remote) {
            (Local::Value(v), Some(remote)) => v
                .node
                .as_ref()
                .is_some_and(|node| lua_compile::needs_force_for(node, &remote.value)),
            _ => false,
        }
    }

    /// The choices the policy and the component allow, in the reference's order.
    pub fn allowed_choices(&self) -> Vec<Choice> {
        [Choice::Push, Choice::Pull, Choice::Skip]
            .into_iter()
            .filter(|&c| self.allows(c))
            .collect()
    }

    /// Whether `choice` is one of [`Item::allowed_choices`].
    pub fn allows(&self, choice: Choice) -> bool {
        match choice {
            Choice::Push => self.policy.allow.allows_push() && self.push_unsupported.is_none(),
            Choice::Pull => self.policy.allow.allows_pull(),
            Choice::Skip => true,
        }
    }

    /// The prompt's preselected choice: policy `default`, else by classification;
    /// always one of the allowed choices.
    pub fn default_choice(&self) -> Choice {
        let wanted = match self.policy.default {
            DefaultChoice::Push => Choice::Push,
            DefaultChoice::Pull => Choice::Pull,
            DefaultChoice::Skip => Choice::Skip,
            DefaultChoice::Ask => self
                .classification()
                .map_or(Choice::Skip, Classification::default_choice),
        };
        if self.allows(wanted) {
            wanted
        } else {
            Choice::Skip
        }
    }
}

/// `<component>` for a single value, `<component>/<key>` for an item of a keyed set.
pub fn state_key(component: &str, key: &str) -> String {
    if key == SINGLE {
        component.to_string()
    } else {
        format!("{component}/{key}")
    }
}

/// The result of compile + fetch + compare.
#[derive(Clone, Debug)]
pub struct Report {
    pub agent_id: String,
    pub server_url: String,
    pub entry: String,
    pub items: Vec<Item>,
    /// Warnings the user should see (corrupt state file...).
    pub warnings: Vec<String>,
    pub on_unreachable: OnUnreachable,
    /// The sync state as read for this check (the bases); resolve builds on it.
    pub state: SyncState,
    /// The project as read for this check (snapshots taken before any write).
    pub project: Project,
}

impl Report {
    pub fn drifted(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.is_drift())
    }

    pub fn has_drift(&self) -> bool {
        self.drifted().next().is_some()
    }

    /// Items that could not be compared: the local side cannot be read, or the server's
    /// value is of no usable shape.
    pub fn not_compared(&self) -> impl Iterator<Item = &Item> {
        self.items.iter().filter(|i| i.status.is_not_compared())
    }

    /// The first unreachable error, if the server could not be reached.
    pub fn unreachable(&self) -> Option<&PlatformError> {
        self.items.iter().find_map(|i| match &i.status {
            Status::Unreachable(e) => Some(e),
            _ => None,
        })
    }

    /// Whether an item errored, or the server was unreachable under `fail`.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|i| match &i.status {
            Status::Error(_) => true,
            Status::Unreachable(_) => self.on_unreachable == OnUnreachable::Fail,
            _ => false,
        })
    }

    /// The exit class of the errors of a check (see [`Report::has_errors`]): the first
    /// failed fetch's, or [`Exit::Unavailable`] for an unreachable server under `fail`.
    pub fn error_exit(&self) -> Option<Exit> {
        self.items.iter().find_map(|i| match &i.status {
            Status::Error(e) => Some(Exit::of_platform(e)),
            Status::Unreachable(_) if self.on_unreachable == OnUnreachable::Fail => {
                Some(Exit::Unavailable)
            }
            _ => None,
        })
    }

    /// Whether a drifted item's policy fails the check.
    pub fn fails_check(&self) -> bool {
        self.drifted().any(|i| i.policy.check == CheckPolicy::Fail)
    }

    /// Whether a not-compared item's policy is `fail` (the check could not be done).
    pub fn fails_closed(&self) -> bool {
        self.not_compared()
            .any(|i| i.policy.check == CheckPolicy::Fail)
    }
}

/// What the prompt shows for one drifted item.
pub struct Prompt<'a> {
    pub item: &'a Item,
    pub choices: Vec<Choice>,
    pub default: Choice,
    /// Said when pulling would flatten a value built from several pieces.
    pub pull_warning: Option<String>,
    /// What a pull would change, from the component (a per-file diff).
    pub pull_preview: Option<String>,
}

/// The user's answer for one item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decision {
    pub choice: Choice,
    /// The user confirmed flattening a composite value on pull.
    pub confirmed_flatten: bool,
}

/// The user aborted (Esc / Ctrl-C): nothing more is written.
#[derive(Debug)]
pub struct Aborted;

/// Asks a human; injected so tests (and the CLI's terminal) can drive it.
pub trait Decider {
    fn decide(&mut self, prompt: &Prompt<'_>) -> Result<Decision, Aborted>;
}

/// What happened to one drifted item.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    Pushed {
        version: Option<Version>,
    },
    Pulled {
        files: Vec<String>,
        notes: Vec<String>,
    },
    /// Left alone by choice or policy; not an error.
    Skipped {
        reason: Reason,
        message: String,
    },
    /// Changed on both sides and left alone by `--accept`/`--push`: drift remains.
    Conflict {
        message: String,
    },
    /// Not done, and the drift remains (no backup, push not supported by sync).
    Unresolved {
        reason: Reason,
        message: String,
    },
    /// Not done, and that is an error the user must see.
    Refused {
        reason: Reason,
        message: String,
    },
    /// The server moved between the diff and the push: nothing pushed.
    Guarded {
        message: String,
    },
    /// The platform or the project failed while doing it.
    Failed {
        reason: Reason,
        message: String,
    },
}

impl Action {
    /// An error the run must exit 2 for.
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Action::Refused { .. } | Action::Guarded { .. } | Action::Failed { .. }
        )
    }

    /// Drift that stays and must keep exit 1.
    pub fn leaves_drift(&self) -> bool {
        matches!(self, Action::Conflict { .. } | Action::Unresolved { .. })
    }

    /// The stable reason code, where the action was not done.
    pub fn reason(&self) -> Option<Reason> {
        match self {
            Action::Pushed { .. } | Action::Pulled { .. } => None,
            Action::Conflict { .. } => Some(Reason::Conflict),
            Action::Guarded { .. } => Some(Reason::ServerMoved),
            Action::Skipped { reason, .. }
            | Action::Unresolved { reason, .. }
            | Action::Refused { reason, .. }
            | Action::Failed { reason, .. } => Some(*reason),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Resolution {
    pub id: &'static str,
    pub key: Option<String>,
    pub title: &'static str,
    pub action: Action,
}

impl Resolution {
    pub fn label(&self) -> String {
        match &self.key {
            Some(key) => format!("{} {key}", self.title),
            None => self.title.to_string(),
        }
    }
}

/// The result of resolving a report.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub resolutions: Vec<Resolution>,
    pub aborted: bool,
}

impl Outcome {
    pub fn find(&self, item: &Item) -> Option<&Resolution> {
        self.resolutions
            .iter()
            .find(|r| r.id == item.id && r.key == item.key)
    }
}

/// Options for [`crate::engine::Engine::resolve`].
#[derive(Clone, Copy, Debug)]
pub struct ResolveOptions {
    pub mode: Mode,
    /// Resolve conflicts and flatten composite values without asking.
    pub force: bool,
}
