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
use std::sync::Arc;

use lua_compile::{CacheStatus, Compiled, WriteOptions};
use lua_platform::{ClientConfig, PlatformClient};

use crate::component::{Locals, Place, Shape, Syncable};
use crate::config::{CheckPolicy, ComponentPolicy, Config};
use crate::error::CoreError;
use crate::project::Project;
use crate::registry;
use crate::server::Server;
use crate::state;

pub use types::*;

/// The engine over all registered components.
pub struct Engine {
    config: Config,
    /// Shared, so the local sides can be read on another thread during the requests.
    components: Vec<Arc<dyn Syncable>>,
}

impl Engine {
    /// Collect the registry and validate the configuration against it.
    pub fn new(config: Config) -> Result<Self, CoreError> {
        let components: Vec<Arc<dyn Syncable>> =
            registry::components()?.into_iter().map(Arc::from).collect();
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

    /// The platform, as components see it. Needs an agent id and an API key.
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
        self.active_shared().map(|(c, policy)| (c.as_ref(), policy))
    }

    fn active_shared(&self) -> impl Iterator<Item = (&Arc<dyn Syncable>, ComponentPolicy)> {
        self.components.iter().filter_map(|c| {
            let policy = self.config.policy(c.id());
            (policy.enabled && policy.check != CheckPolicy::Off).then_some((c, policy))
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
        // The local sides are read on a blocking thread while the requests are in flight:
        // parsing a large `lua.skill.yaml` takes milliseconds that would otherwise add to
        // the round trip. Fetching writes nothing, so the snapshots are still taken before
        // anything could rewrite a file.
        let readers: Vec<Arc<dyn Syncable>> = self
            .active_shared()
            .map(|(component, _)| Arc::clone(component))
            .collect();
        let reading = read_aside(readers, project.clone());
        let fetched =
            futures::future::join_all(active.iter().map(|(component, _)| component.fetch(server)))
                .await;
        let reads = reading.await;
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

/// What [`Engine::check`] reads of each component: its local side and where it lives.
type Read = (Result<Locals, lua_compile::Unreadable>, Option<Place>);

/// The local sides of `components`, read on a thread of their own while the caller awaits
/// the network (inline when no thread can be started). A panic in a component's read is
/// the caller's panic, as if it had run inline.
async fn read_aside(components: Vec<Arc<dyn Syncable>>, project: Project) -> Vec<Read> {
    fn read(components: &[Arc<dyn Syncable>], project: &Project) -> Vec<Read> {
        components
            .iter()
            .map(|c| (c.read_local(project), c.anchor(project)))
            .collect()
    }
    let (done, result) = futures::channel::oneshot::channel();
    let (theirs, their_project) = (components.clone(), project.clone());
    let spawned = std::thread::Builder::new()
        .name("lua-read".into())
        .spawn(move || {
            // The receiver only goes away with the check itself.
            let _ = done.send(read(&theirs, &their_project));
        });
    let Ok(thread) = spawned else {
        return read(&components, &project);
    };
    match result.await {
        Ok(reads) => reads,
        Err(_) => match thread.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => read(&components, &project),
        },
    }
}
