//! The generic engine: compile -> fetch every enabled component concurrently -> compare
//! item by item -> classify against the recorded base -> resolve (check / accept / push
//! / interactive) -> record sync state.
//!
//! **Invariant: the engine names no component.** Everything component-specific happens
//! behind [`Syncable`]; policies come from `[components.<id>]` by id.
//!
//! Layers: [`types`] (data) <- [`compare`] (pure) <- [`resolve`] (I/O) <- this module.

pub mod compare;
pub mod resolve;
pub mod types;

use std::collections::BTreeSet;
use std::task::Poll;

use lua_compile::{CacheStatus, Compiled, WriteOptions};
use lua_platform::{ClientConfig, PlatformClient};

use crate::component::{Shape, Syncable};
use crate::config::{CheckPolicy, ComponentPolicy, Config};
use crate::error::CoreError;
use crate::project::Project;
use crate::registry;
use crate::server::Server;
use crate::state;

pub use types::*;

/// Runtime turns a check gives its requests before reading the project: a turn lets the
/// I/O driver report connections made, the next writes the requests (more are spent only
/// while nothing has answered yet, and cost a non-blocking poll each).
const SENDING_TURNS: usize = 4;

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
            self.config.entry()?,
        )?)
    }

    /// The platform, as components see it. Needs an agent id and an API key.
    pub fn server(&self) -> Result<Server, CoreError> {
        self.server_on(None)
    }

    /// [`Engine::server`] on the connections of `transport` (shared by every agent of a
    /// run); `None`: connections of its own.
    pub fn server_on(
        &self,
        transport: Option<lua_platform::Transport>,
    ) -> Result<Server, CoreError> {
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
            transport,
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

    fn component(&self, id: &str) -> Option<&dyn Syncable> {
        self.components
            .iter()
            .find(|c| c.id() == id)
            .map(AsRef::as_ref)
    }

    /// Fetch every active component concurrently (one round trip) and compare with the
    /// project, item by item. Reads the sync state once; writes nothing.
    pub async fn check(&self, compiled: &Compiled, server: &Server) -> Report {
        let loaded = state::load(&self.config.root, server.agent_id());
        let project = Project::new(self.config.root.clone(), compiled.clone());
        let active: Vec<_> = self.active().collect();
        // Requests first, local sides while they are in flight: the fetches start and the
        // runtime gets a few turns to connect and send them, then the (blocking) reads
        // run, so parsing a large `lua.skill.yaml` overlaps the wait instead of adding to
        // it. Fetching writes nothing: the snapshots are still taken before anything could
        // rewrite a file.
        let mut fetching = std::pin::pin!(futures::future::join_all(
            active.iter().map(|(component, _)| component.fetch(server))
        ));
        let mut early = None;
        for _ in 0..SENDING_TURNS {
            if let Poll::Ready(fetched) = futures::poll!(fetching.as_mut()) {
                early = Some(fetched);
                break;
            }
            tokio::task::yield_now().await;
        }
        let reads: Vec<_> = active
            .iter()
            .map(|(component, _)| (component.read_local(&project), component.anchor(&project)))
            .collect();
        let fetched = answered_elsewhere(match early {
            Some(fetched) => fetched,
            None => fetching.await,
        });
        let items = active
            .into_iter()
            .zip(fetched.into_iter().zip(reads))
            .flat_map(|((component, policy), (fetched, (read, anchor)))| {
                compare::compare_component(
                    component,
                    policy,
                    compare::Sides {
                        fetched,
                        read,
                        anchor,
                    },
                    &loaded.state,
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
            project,
        }
    }

    /// Resolve the report's drift per mode and policy, item by item, then record the
    /// sync state (never under [`Mode::Check`], which writes nothing).
    pub async fn resolve(
        &self,
        report: &Report,
        server: &Server,
        options: ResolveOptions,
        decider: &mut dyn Decider,
    ) -> Result<Outcome, CoreError> {
        let mut run = resolve::Run {
            server,
            project: report.project.clone(),
            state: report.state.clone(),
            write: self.write_options(),
            options,
        };
        let mut outcome = Outcome::default();
        if options.mode == Mode::Check {
            return Ok(outcome);
        }
        self.record_agreement(report, &mut run.state);

        for item in report.drifted() {
            let Some(component) = self.component(item.id) else {
                continue;
            };
            let decision = match resolve::decide(component, item, &run, decider).await {
                Ok(d) => d,
                Err(Aborted) => {
                    outcome.aborted = true;
                    break;
                }
            };
            let action = act(component, item, decision, options.force, &mut run).await;
            outcome.resolutions.push(Resolution {
                id: item.id,
                key: item.key.clone(),
                title: item.title,
                action,
            });
        }
        if options.mode == Mode::Accept {
            outcome.resolutions.extend(refused_not_static(report));
        }
        if !outcome.aborted && run.state != report.state {
            state::save(&self.config.root, &run.state)?;
        }
        Ok(outcome)
    }

    /// The write options `lua.toml` allows (`sync.allow_write_outside`, resolved against
    /// the project root).
    fn write_options(&self) -> WriteOptions {
        WriteOptions {
            allowed_outside: self
                .config
                .settings
                .sync
                .allow_write_outside
                .iter()
                .map(|p| self.config.root.join(p))
                .collect(),
            ..WriteOptions::default()
        }
    }

    /// Values both sides agree on become the new base; bases of keyed items that are
    /// gone from both sides are forgotten.
    fn record_agreement(&self, report: &Report, state: &mut state::SyncState) {
        for item in &report.items {
            if let (Status::InSync, Some(hash)) = (&item.status, &item.local_hash) {
                resolve::record(
                    state,
                    item,
                    Some(hash),
                    item.remote.as_ref().and_then(|r| r.version.clone()),
                );
            }
        }
        for component in self.active().map(|(c, _)| c) {
            if component.shape() != Shape::Keyed {
                continue;
            }
            let mine: Vec<&Item> = report
                .items
                .iter()
                .filter(|i| i.id == component.id())
                .collect();
            // Only when the component was fully compared: never forget on an error.
            if mine.iter().any(|i| i.key.is_none()) {
                continue;
            }
            let live: BTreeSet<String> = mine.iter().map(|i| i.state_key()).collect();
            let prefix = format!("{}/", component.id());
            state
                .components
                .retain(|k, _| !k.starts_with(&prefix) || live.contains(k));
        }
    }
}

/// Carry out one decided item: skip, push or pull (or the action the decision already is).
async fn act(
    component: &dyn Syncable,
    item: &Item,
    decision: Result<Decision, Action>,
    force: bool,
    run: &mut resolve::Run<'_>,
) -> Action {
    match decision {
        Err(action) => action,
        Ok(Decision {
            choice: Choice::Skip,
            ..
        }) => Action::Skipped {
            reason: crate::component::Reason::UserSkipped,
            message: "skipped".into(),
        },
        Ok(Decision {
            choice: Choice::Push,
            ..
        }) => resolve::push(component, item, run).await,
        Ok(Decision {
            choice: Choice::Pull,
            confirmed_flatten,
        }) => resolve::pull(component, item, force || confirmed_flatten, run).await,
    }
}

/// "Unreachable" is said of a server that answered nothing in this run: when any fetch got
/// an answer, a fetch that got none (a listing that stalled) is an error of its component,
/// not a reason to call the run unchecked.
fn answered_elsewhere(
    fetched: Vec<Result<crate::component::Remotes, lua_platform::PlatformError>>,
) -> Vec<Result<crate::component::Remotes, lua_platform::PlatformError>> {
    let answered = fetched.iter().any(|f| match f {
        Ok(_) => true,
        Err(e) => e.server_answered(),
    });
    if !answered {
        return fetched;
    }
    fetched
        .into_iter()
        .map(|f| f.map_err(lua_platform::PlatformError::answered_elsewhere))
        .collect()
}

/// Under `--accept`: a pull refused because the code cannot be read statically, for every
/// item deployed but unreadable in the project whose policy allows pulls.
fn refused_not_static(report: &Report) -> Vec<Resolution> {
    let mut refused = Vec::new();
    for item in report.not_compared() {
        if item.remote.is_some() && item.policy.allow.allows_pull() {
            let Status::Unreadable(u) = &item.status else {
                continue;
            };
            refused.push(Resolution {
                id: item.id,
                key: item.key.clone(),
                title: item.title,
                action: Action::Refused {
                    reason: crate::component::Reason::NotStatic,
                    message: format!("cannot pull into code that is not static: {u}"),
                },
            });
        }
    }
    refused
}
