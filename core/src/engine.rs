//! The generic engine: compile -> fetch every enabled component concurrently -> compare
//! -> classify against the recorded base -> resolve (check / accept / push /
//! interactive) -> record sync state.
//!
//! **Invariant: the engine names no component.** Everything component-specific happens
//! behind [`Syncable`]; policies come from `[components.<id>]` by id.

use lua_compile::{CacheStatus, Compiled, Unreadable};
use lua_platform::{ClientConfig, PlatformClient, PlatformError};

use crate::component::{Local, LocalCtx, Remote, Server, Syncable};
use crate::config::{CheckPolicy, ComponentPolicy, Config, DefaultChoice, OnUnreachable};
use crate::error::CoreError;
use crate::state::{self, StateEntry, SyncState};
use crate::{registry, value};

/// Exit statuses of the product (see README "Exit codes").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// In sync, or drift only where policy says warn, or all drift resolved.
    Ok = 0,
    /// Drift found by `--check` (in a component whose policy is `fail`).
    Drift = 1,
    /// Error: config, compile, auth, protocol, refused or guarded action, unreachable under `fail`.
    Error = 2,
}

/// How drift is resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Report only; drift under `check = "fail"` exits 1.
    Check,
    /// Pull server values into the code without asking (`--accept`).
    Accept,
    /// Push local values to the server without asking (`--push`).
    Push,
    /// Ask per drifted component.
    Interactive,
}

/// The three choices of the prompt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    Push,
    Pull,
    Skip,
}

/// How drift relates to the last sync recorded in `.lua/sync-state.json`.
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

/// Where one component stands after comparing.
#[derive(Clone, Debug)]
pub enum Status {
    InSync,
    Drift,
    /// The server has nothing published for this component: no drift.
    NotPublished,
    /// The code does not set this component: nothing to compare.
    NotInCode,
    /// The local value cannot be evaluated statically: never reported as drift.
    Unreadable(Unreadable),
    Unreachable(PlatformError),
    Error(PlatformError),
}

impl Status {
    /// Stable id for JSON output.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::InSync => "in_sync",
            Status::Drift => "drift",
            Status::NotPublished => "not_published",
            Status::NotInCode => "not_in_code",
            Status::Unreadable(_) => "unreadable",
            Status::Unreachable(_) => "unreachable",
            Status::Error(_) => "error",
        }
    }
}

/// One compared component.
#[derive(Clone, Debug)]
pub struct Item {
    pub id: &'static str,
    pub title: &'static str,
    pub policy: ComponentPolicy,
    pub status: Status,
    pub remote: Option<Remote>,
    pub local: Local,
    /// Canonical text of each side, as compared and diffed.
    pub server_text: Option<String>,
    pub local_text: Option<String>,
    pub server_hash: Option<String>,
    pub local_hash: Option<String>,
    /// The line diff (server -> local), set when `status` is drift.
    pub drift: Option<lua_diff::Drift>,
    /// Set when `status` is drift.
    pub classification: Option<Classification>,
    /// The recorded base, if any.
    pub base: Option<StateEntry>,
}

impl Item {
    /// One line saying why this classification, e.g. "changed on the server since your
    /// last sync (v7 -> v9)".
    pub fn reason(&self) -> Option<String> {
        let class = self.classification?;
        let versions = match (
            self.base.as_ref().and_then(|b| b.server_version),
            self.remote.as_ref().and_then(|r| r.version),
        ) {
            (Some(a), Some(b)) if a != b => format!(" (v{a} -> v{b})"),
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
            (Local::Value { node, .. }, Some(remote)) => {
                lua_compile::needs_force_for(node, &remote.value)
            }
            (Local::Value { node, .. }, None) => lua_compile::needs_force(node),
            _ => false,
        }
    }

    /// The choices the policy allows, in the reference's order.
    pub fn allowed_choices(&self) -> Vec<Choice> {
        let mut out = Vec::with_capacity(3);
        if self.policy.allow.allows_push() {
            out.push(Choice::Push);
        }
        if self.policy.allow.allows_pull() {
            out.push(Choice::Pull);
        }
        out.push(Choice::Skip);
        out
    }

    /// The prompt's preselected choice: policy `default`, else by classification;
    /// always one of the allowed choices.
    pub fn default_choice(&self) -> Choice {
        let wanted = match self.policy.default {
            DefaultChoice::Push => Choice::Push,
            DefaultChoice::Pull => Choice::Pull,
            DefaultChoice::Skip => Choice::Skip,
            DefaultChoice::Ask => self
                .classification
                .map_or(Choice::Skip, Classification::default_choice),
        };
        if self.allowed_choices().contains(&wanted) {
            wanted
        } else {
            Choice::Skip
        }
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
    /// `.lua/sync-state.json` as read for this check (the bases); resolve builds on it.
    pub state: SyncState,
}

impl Report {
    pub fn drifted(&self) -> impl Iterator<Item = &Item> {
        self.items
            .iter()
            .filter(|i| matches!(i.status, Status::Drift))
    }

    pub fn has_drift(&self) -> bool {
        self.drifted().next().is_some()
    }

    /// The first unreachable error, if the server could not be reached.
    pub fn unreachable(&self) -> Option<&PlatformError> {
        self.items.iter().find_map(|i| match &i.status {
            Status::Unreachable(e) => Some(e),
            _ => None,
        })
    }

    /// Exit status of a `--check` with this report.
    pub fn check_exit(&self) -> Exit {
        let mut exit = self.error_exit();
        for item in self.drifted() {
            if item.policy.check == CheckPolicy::Fail {
                exit = exit.max(Exit::Drift);
            }
        }
        exit
    }

    /// `Exit::Error` when an item errored, or the server was unreachable under `fail`.
    pub fn error_exit(&self) -> Exit {
        let failed = self.items.iter().any(|i| match &i.status {
            Status::Error(_) => true,
            Status::Unreachable(_) => self.on_unreachable == OnUnreachable::Fail,
            _ => false,
        });
        if failed { Exit::Error } else { Exit::Ok }
    }
}

/// What the prompt shows for one drifted component.
pub struct Prompt<'a> {
    pub item: &'a Item,
    pub choices: Vec<Choice>,
    pub default: Choice,
    /// Said when pulling would flatten a value built from several pieces.
    pub pull_warning: Option<String>,
}

/// The user's answer for one component.
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

/// What happened to one drifted component.
#[derive(Clone, Debug)]
pub enum Action {
    Pushed {
        version: Option<u64>,
    },
    Pulled {
        files: Vec<String>,
    },
    Skipped {
        reason: String,
    },
    /// Changed on both sides and left alone by `--accept`/`--push`: drift remains (exit 1).
    Conflict {
        message: String,
    },
    /// Not done, and that is an error the user must see (exit 2).
    Refused {
        message: String,
    },
    /// The server moved between the diff and the push: nothing pushed (exit 2).
    Guarded {
        message: String,
    },
    Failed {
        message: String,
    },
}

impl Action {
    pub fn is_failure(&self) -> bool {
        matches!(
            self,
            Action::Refused { .. } | Action::Guarded { .. } | Action::Failed { .. }
        )
    }
}

#[derive(Clone, Debug)]
pub struct Resolution {
    pub id: &'static str,
    pub title: &'static str,
    pub action: Action,
}

/// The result of resolving a report.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub resolutions: Vec<Resolution>,
    pub aborted: bool,
    pub exit: Exit,
}

/// Options for [`Engine::resolve`].
#[derive(Clone, Copy, Debug)]
pub struct ResolveOptions {
    pub mode: Mode,
    /// Resolve conflicts and flatten composite values without asking.
    pub force: bool,
}

/// The engine over all registered components.
pub struct Engine {
    config: Config,
    components: Vec<Box<dyn Syncable>>,
}

impl Engine {
    /// Collect the registry and validate the configuration against it.
    pub fn new(config: Config) -> Result<Self, CoreError> {
        let components = registry::components()?;
        let ids: Vec<&str> = components.iter().map(|c| c.id()).collect();
        config.check_component_ids(&ids)?;
        Ok(Self { config, components })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Ids of the components taking part (enabled, `check` not off), in order.
    pub fn active_ids(&self) -> Vec<&'static str> {
        self.active().map(|(c, _)| c.id()).collect()
    }

    /// Compile the project (reusing `.lua/manifest.json` when no input changed).
    pub fn compile(&self) -> Result<(Compiled, CacheStatus), CoreError> {
        Ok(lua_compile::compile(
            &self.config.root,
            self.config.entry(),
        )?)
    }

    /// The platform, as components see it. Needs an agent id and `LUA_API_KEY`.
    pub fn server(&self) -> Result<Server, CoreError> {
        let agent_id = self.config.agent_id()?.to_string();
        let api_key = self
            .config
            .api_key
            .clone()
            .ok_or(CoreError::MissingApiKey)?;
        let settings = &self.config.settings.server;
        let client = PlatformClient::new(ClientConfig {
            base_url: settings.url.clone(),
            api_key: Some(api_key),
            timeout: std::time::Duration::from_secs(settings.timeout_secs.max(1)),
            retries: settings.retries,
            client_version: env!("CARGO_PKG_VERSION").to_string(),
            deadline: Some(std::time::Duration::from_secs(settings.deadline_secs)),
        })?;
        Ok(Server::new(client, agent_id))
    }

    /// Components that take part: enabled and not `check = "off"`.
    fn active(&self) -> impl Iterator<Item = (&dyn Syncable, ComponentPolicy)> {
        self.components.iter().filter_map(|c| {
            let policy = self.config.policy(c.id());
            (policy.enabled && policy.check != CheckPolicy::Off).then_some((c.as_ref(), policy))
        })
    }

    /// Fetch every active component concurrently and compare with the compiled code.
    pub async fn check(&self, compiled: &Compiled, server: &Server) -> Report {
        let loaded = state::load(&self.config.root, server.agent_id());
        let active: Vec<_> = self.active().collect();
        let fetched = futures::future::join_all(
            active
                .iter()
                .map(|(component, _)| component.fetch_published(server)),
        )
        .await;
        let items = active
            .into_iter()
            .zip(fetched)
            .map(|((component, policy), fetched)| {
                let base = loaded.state.components.get(component.id()).cloned();
                compare(
                    component,
                    policy,
                    component.read_local(compiled),
                    fetched,
                    base,
                )
            })
            .collect();
        Report {
            agent_id: server.agent_id().to_string(),
            server_url: server.client().base_url().to_string(),
            entry: compiled.entry.clone(),
            items,
            warnings: loaded.warning.into_iter().collect(),
            on_unreachable: self.config.settings.sync.on_unreachable,
            state: loaded.state,
        }
    }

    /// Resolve the report's drift per mode and policy, then record the sync state.
    pub async fn resolve(
        &self,
        report: &Report,
        compiled: &Compiled,
        server: &Server,
        options: ResolveOptions,
        decider: &mut dyn Decider,
    ) -> Result<Outcome, CoreError> {
        let mut state = report.state.clone();
        let mut compiled = compiled.clone();
        let mut resolutions = Vec::new();
        let mut aborted = false;

        // Values both sides agree on become the new base.
        for item in &report.items {
            if let (Status::InSync, Some(hash)) = (&item.status, &item.local_hash) {
                record(
                    &mut state,
                    item.id,
                    hash,
                    item.remote.as_ref().and_then(|r| r.version),
                );
            }
        }

        if options.mode != Mode::Check {
            for item in report.drifted() {
                let Some(component) = self.components.iter().find(|c| c.id() == item.id) else {
                    continue;
                };
                let decision = match self.decide(item, options, decider) {
                    Ok(d) => d,
                    Err(Aborted) => {
                        aborted = true;
                        break;
                    }
                };
                let action = match decision {
                    Err(action) => action,
                    Ok(Decision {
                        choice: Choice::Skip,
                        ..
                    }) => Action::Skipped {
                        reason: "skipped".into(),
                    },
                    Ok(Decision {
                        choice: Choice::Push,
                        ..
                    }) => {
                        self.push(component.as_ref(), item, server, &mut state)
                            .await
                    }
                    Ok(Decision {
                        choice: Choice::Pull,
                        confirmed_flatten,
                    }) => self.pull(
                        component.as_ref(),
                        item,
                        &mut compiled,
                        options.force || confirmed_flatten,
                        &mut state,
                    ),
                };
                resolutions.push(Resolution {
                    id: item.id,
                    title: item.title,
                    action,
                });
            }
            // A pull refused because the code cannot be read statically.
            if options.mode == Mode::Accept {
                for item in &report.items {
                    if let (Status::Unreadable(u), Some(_)) = (&item.status, &item.remote)
                        && item.policy.allow.allows_pull()
                    {
                        resolutions.push(Resolution {
                            id: item.id,
                            title: item.title,
                            action: Action::Refused {
                                message: format!("cannot pull into code that is not static: {u}"),
                            },
                        });
                    }
                }
            }
        }

        if !aborted && state != report.state {
            state::save(&self.config.root, &state)?;
        }
        let mut exit = report.error_exit();
        if options.mode == Mode::Check {
            exit = exit.max(report.check_exit());
        }
        // Drift left by an abort or a conflict is still drift.
        if aborted
            || resolutions
                .iter()
                .any(|r| matches!(r.action, Action::Conflict { .. }))
        {
            exit = exit.max(Exit::Drift);
        }
        if resolutions.iter().any(|r| r.action.is_failure()) {
            exit = Exit::Error;
        }
        Ok(Outcome {
            resolutions,
            aborted,
            exit,
        })
    }

    /// The decision for one drifted item: from the mode and policy, or from the decider.
    /// `Ok(Err(action))` is an action decided without any choice (skip notices, refusals).
    fn decide(
        &self,
        item: &Item,
        options: ResolveOptions,
        decider: &mut dyn Decider,
    ) -> Result<Result<Decision, Action>, Aborted> {
        let conflict = item.classification == Some(Classification::BothChanged);
        let auto = |choice: Choice, allowed: bool, flag: &str| {
            if !allowed {
                return Err(Action::Skipped {
                    reason: format!(
                        "{flag} is not allowed for {} by lua.toml (components.{}.allow = \"{}\")",
                        item.id,
                        item.id,
                        allow_str(item.policy.allow)
                    ),
                });
            }
            if conflict && !options.force {
                return Err(Action::Conflict {
                    message: format!(
                        "CONFLICT: {} changed on both sides since the last sync; not resolved by --{} (run `lua sync` to choose, or add --force)",
                        item.title,
                        if flag == "pull" { "accept" } else { "push" }
                    ),
                });
            }
            if choice == Choice::Pull && item.pull_needs_force() && !options.force {
                return Err(Action::Refused {
                    message: flatten_message(item),
                });
            }
            Ok(Decision {
                choice,
                confirmed_flatten: false,
            })
        };
        Ok(match options.mode {
            Mode::Check => Err(Action::Skipped {
                reason: "check only".into(),
            }),
            Mode::Accept => auto(Choice::Pull, item.policy.allow.allows_pull(), "pull"),
            Mode::Push => auto(Choice::Push, item.policy.allow.allows_push(), "push"),
            Mode::Interactive => {
                let prompt = Prompt {
                    item,
                    choices: item.allowed_choices(),
                    default: item.default_choice(),
                    pull_warning: item.pull_needs_force().then(|| flatten_message(item)),
                };
                Ok(decider.decide(&prompt)?)
            }
        })
    }

    async fn push(
        &self,
        component: &dyn Syncable,
        item: &Item,
        server: &Server,
        state: &mut SyncState,
    ) -> Action {
        let Local::Value { value: local, .. } = &item.local else {
            return Action::Refused {
                message: format!("{} has no local value to push", item.title),
            };
        };
        // Guard: the server must still hold what the diff showed.
        match component.fetch_published(&server.fresh()).await {
            Ok(now) if now == item.remote => {}
            Ok(now) => {
                return Action::Guarded {
                    message: moved_message(item, now.as_ref()),
                };
            }
            Err(e) => {
                return Action::Failed {
                    message: format!("re-checking the server before pushing failed: {e}"),
                };
            }
        }
        match component.push(server, local).await {
            Ok(version) => {
                if let Some(hash) = &item.local_hash {
                    record(state, item.id, hash, version);
                }
                Action::Pushed { version }
            }
            Err(e) => Action::Failed {
                message: e.to_string(),
            },
        }
    }

    fn pull(
        &self,
        component: &dyn Syncable,
        item: &Item,
        compiled: &mut Compiled,
        force: bool,
        state: &mut SyncState,
    ) -> Action {
        let Some(remote) = &item.remote else {
            return Action::Refused {
                message: format!("the server has no {} to pull", item.title),
            };
        };
        // An earlier pull in this run may have rewritten a file: read the code again and
        // make sure this component still holds what the diff showed.
        let node = match component.read_local(compiled) {
            Local::Value { value, .. } if Some(component.text(&value)) != item.local_text => {
                return Action::Refused {
                    message: format!(
                        "{} changed in the code since it was compared; nothing written. Run `lua sync` again.",
                        item.title
                    ),
                };
            }
            Local::Value { node, .. } => node,
            Local::Missing => {
                return Action::Refused {
                    message: format!(
                        "{} is not set in {}; add it to the LuaAgent config to pull it",
                        item.title, compiled.entry
                    ),
                };
            }
            Local::Unreadable(u) => {
                return Action::Refused {
                    message: format!("cannot pull into code that is not static: {u}"),
                };
            }
        };
        let ctx = LocalCtx {
            root: &self.config.root,
            compiled,
            force,
        };
        let action = match component.write_local(&ctx, &node, remote) {
            Ok(report) => {
                if let Some(hash) = &item.server_hash {
                    record(state, item.id, hash, remote.version);
                }
                Action::Pulled {
                    files: report.files,
                }
            }
            Err(e) => {
                return Action::Refused {
                    message: e.to_string(),
                };
            }
        };
        match lua_compile::compile(&self.config.root, &compiled.entry) {
            Ok((fresh, _)) => *compiled = fresh,
            Err(e) => {
                return Action::Failed {
                    message: format!("pulled, but the code no longer compiles: {e}"),
                };
            }
        }
        action
    }
}

fn record(state: &mut SyncState, id: &str, hash: &str, version: Option<u64>) {
    state.components.insert(
        id.to_string(),
        StateEntry {
            hash: hash.to_string(),
            server_version: version,
        },
    );
}

/// Compare one component's two sides and classify drift against the base.
fn compare(
    component: &dyn Syncable,
    policy: ComponentPolicy,
    local: Local,
    fetched: Result<Option<Remote>, PlatformError>,
    base: Option<StateEntry>,
) -> Item {
    let local_value = match &local {
        Local::Value { value, .. } => Some(value.clone()),
        _ => None,
    };
    let local_text = local_value.as_ref().map(|v| component.text(v));
    let mut item = Item {
        id: component.id(),
        title: component.title(),
        policy,
        status: Status::InSync,
        remote: None,
        local_hash: local_text.as_deref().map(value::hash_text),
        local_text,
        local,
        server_text: None,
        server_hash: None,
        drift: None,
        classification: None,
        base,
    };
    let remote = match fetched {
        Err(e) if e.is_unreachable() => {
            item.status = Status::Unreachable(e);
            return item;
        }
        Err(e) => {
            item.status = Status::Error(e);
            return item;
        }
        Ok(None) => {
            item.status = Status::NotPublished;
            return item;
        }
        Ok(Some(remote)) => remote,
    };
    let server_text = component.text(&remote.value);
    item.server_hash = Some(value::hash_text(&server_text));
    item.server_text = Some(server_text);
    let remote_value = remote.value.clone();
    item.remote = Some(remote);
    item.status = match (&item.local, &local_value) {
        (Local::Unreadable(u), _) => Status::Unreadable(u.clone()),
        (_, None) => Status::NotInCode,
        (_, Some(local_value)) => {
            item.drift = component.diff(&remote_value, local_value);
            if item.drift.is_some() {
                Status::Drift
            } else {
                Status::InSync
            }
        }
    };
    if matches!(item.status, Status::Drift) {
        item.classification = Some(classify(
            item.base.as_ref().map(|b| b.hash.as_str()),
            item.server_hash.as_deref(),
            item.local_hash.as_deref(),
        ));
    }
    item
}

fn classify(base: Option<&str>, server: Option<&str>, local: Option<&str>) -> Classification {
    match base {
        None => Classification::UnknownBase,
        Some(base) => match (server == Some(base), local == Some(base)) {
            (true, false) => Classification::LocalChanged,
            (false, true) => Classification::ServerChanged,
            (false, false) => Classification::BothChanged,
            // Equal to the base on both sides yet drifted cannot happen; stay safe.
            (true, true) => Classification::UnknownBase,
        },
    }
}

fn allow_str(allow: crate::config::Allow) -> &'static str {
    match allow {
        crate::config::Allow::Both => "both",
        crate::config::Allow::Pull => "pull",
        crate::config::Allow::Push => "push",
    }
}

fn flatten_message(item: &Item) -> String {
    let place = match &item.local {
        Local::Value { node, .. } => node
            .origin()
            .map(|o| format!(" at {}:{}:{}", o.file, o.line, o.column))
            .unwrap_or_default(),
        _ => String::new(),
    };
    format!(
        "{}{place} is built from several pieces (constants, concatenation or substitutions); pulling would replace them with one literal. Use --force to do it anyway, or edit the code by hand.",
        item.title
    )
}

fn moved_message(item: &Item, now: Option<&Remote>) -> String {
    let version = |r: Option<&Remote>| {
        r.and_then(|r| r.version)
            .map_or_else(|| "value".to_string(), |v| format!("v{v}"))
    };
    format!(
        "{} changed on the server while you were deciding ({} -> {}); nothing pushed. Run `lua sync` again to see the new diff.",
        item.title,
        version(item.remote.as_ref()),
        version(now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_against_base() {
        assert_eq!(
            classify(None, Some("s"), Some("l")),
            Classification::UnknownBase
        );
        assert_eq!(
            classify(Some("b"), Some("b"), Some("l")),
            Classification::LocalChanged
        );
        assert_eq!(
            classify(Some("b"), Some("s"), Some("b")),
            Classification::ServerChanged
        );
        assert_eq!(
            classify(Some("b"), Some("s"), Some("l")),
            Classification::BothChanged
        );
    }

    #[test]
    fn default_choices_by_classification() {
        assert_eq!(Classification::ServerChanged.default_choice(), Choice::Pull);
        assert_eq!(Classification::LocalChanged.default_choice(), Choice::Push);
        assert_eq!(Classification::BothChanged.default_choice(), Choice::Skip);
        assert_eq!(Classification::UnknownBase.default_choice(), Choice::Push);
    }
}
