//! Resolve a report's drift as one plan: decide every item (mode, policy or the injected
//! [`Decider`]), compose every pull into one [`Overlay`] (restores first, then edits, each
//! seeing the ones before), commit the overlay once through the guarded writer, then send
//! the pushes in order, each behind a fresh re-fetch and confirmed before it is recorded.

use std::sync::Mutex;

use lua_compile::{Overlay, WriteOptions};

use crate::component::{Local, PullError, PullItem, Reason, SINGLE, Syncable};
use crate::config::Allow;
use crate::engine::plan::{Direction, Plan, PlannedFile, Step};
use crate::engine::types::{
    Aborted, Action, Choice, Classification, Decider, Decision, Item, Mode, Prompt, Resolution,
    RunOptions,
};
use crate::project::{Project, PullCtx};
use crate::server::Server;
use crate::state::{StateEntry, SyncState};

/// What resolving needs besides the items.
pub struct Run<'a> {
    pub server: &'a Server,
    /// The project as the check read it (the snapshots every guard is based on).
    pub project: Project,
    pub state: SyncState,
    pub write: WriteOptions,
    pub options: RunOptions,
}

/// A decided item: what to do, or what was decided without doing anything.
pub struct Decided<'r> {
    pub component: &'r dyn Syncable,
    pub item: &'r Item,
    pub decision: Result<Decision, Action>,
}

/// The decision for one drifted item: from the mode and policy, or from the decider.
/// `Ok(Err(action))` is an action decided without any choice (skips, refusals).
pub async fn decide(
    component: &dyn Syncable,
    item: &Item,
    run: &Run<'_>,
    decider: &mut dyn Decider,
) -> Result<Result<Decision, Action>, Aborted> {
    let force = run.options.force;
    Ok(match run.options.mode {
        Mode::Check => Err(Action::Skipped {
            reason: Reason::CheckOnly,
            message: "check only".into(),
        }),
        Mode::Accept => auto(item, Choice::Pull, force),
        Mode::Push => auto(item, Choice::Push, force),
        Mode::Interactive => {
            let choices = item.allowed_choices();
            let pull_preview = if choices.contains(&Choice::Pull) {
                let scratch = Mutex::new(Overlay::new(run.project.root(), run.project.compared()));
                let ctx = PullCtx::new(&run.project, run.server, force, &scratch);
                component
                    .pull_preview(&ctx, &pull_item(item, &item.local))
                    .await
            } else {
                None
            };
            let prompt = Prompt {
                item,
                default: item.default_choice(),
                choices,
                pull_warning: item.pull_needs_force().then(|| flatten_message(item)),
                pull_preview,
            };
            let decision = decider.decide(&prompt)?;
            if decision.choice == Choice::Skip {
                Err(Action::Skipped {
                    reason: Reason::UserSkipped,
                    message: "skipped".into(),
                })
            } else {
                Ok(decision)
            }
        }
    })
}

/// `--accept` / `--push`: the choice, unless policy, the component or the item's state
/// rule it out.
fn auto(item: &Item, choice: Choice, force: bool) -> Result<Decision, Action> {
    let (allowed, flag) = match choice {
        Choice::Pull => (item.policy.allow.allows_pull(), "pull"),
        _ => (item.policy.allow.allows_push(), "push"),
    };
    if !allowed {
        return Err(Action::Skipped {
            reason: Reason::NotAllowed,
            message: format!(
                "{flag} is not allowed for {} by lua.toml (components.{}.allow = \"{}\")",
                item.id,
                item.id,
                allow_str(item.policy.allow)
            ),
        });
    }
    if choice == Choice::Push {
        if item.not_declared {
            return Err(Action::Skipped {
                reason: Reason::NotDeclared,
                message: if item.key.is_some() {
                    "only on the server: the project does not declare it, so --push leaves it there (pull it with `lua sync --accept`)".to_string()
                } else {
                    "not declared in the source, so the project does not manage it: the server's value is left intact (pull it with `lua sync --accept`)".to_string()
                },
            });
        }
        if let Some(hint) = &item.push_unsupported {
            return Err(Action::Unresolved {
                reason: Reason::PushNotSupported,
                message: hint.clone(),
            });
        }
        if item.is_placeholder() && !force {
            let place = item
                .local
                .place()
                .map(|p| format!(" at {p}"))
                .unwrap_or_default();
            return Err(Action::Unresolved {
                reason: Reason::Placeholder,
                message: format!(
                    "empty in the source{place} (the template's placeholder), so it is not pushed: set it in the code, or use --force to push the empty value"
                ),
            });
        }
    }
    if item.classification() == Some(Classification::BothChanged) && !force {
        return Err(Action::Conflict {
            message: format!(
                "CONFLICT: {} changed on both sides since the last sync; not resolved by --{} (run `lua sync` to choose, or add --force)",
                item.label(),
                if flag == "pull" { "accept" } else { "push" }
            ),
        });
    }
    if choice == Choice::Pull && item.pull_needs_force() && !force {
        return Err(Action::Refused {
            reason: Reason::NeedsForce,
            message: flatten_message(item),
        });
    }
    Ok(Decision {
        choice,
        confirmed_flatten: false,
    })
}

fn pull_item<'i>(item: &'i Item, local: &'i Local) -> PullItem<'i> {
    PullItem {
        key: item.key.as_deref().unwrap_or(SINGLE),
        local,
        remote: item.remote.as_ref(),
    }
}

/// A pull composed into the overlay, waiting for the commit.
struct Pending<'r> {
    item: &'r Item,
    files: Vec<String>,
    notes: Vec<String>,
}

/// Compose every pull into one overlay, in stage order (restores first), each pull seeing
/// the project as the ones before it left it. Returns the pulls that are ready and the
/// resolutions of the ones that are not.
async fn compose_pulls<'r>(
    pulls: &[&Decided<'r>],
    run: &Run<'_>,
    overlay: &Mutex<Overlay>,
    resolutions: &mut Vec<Resolution>,
) -> Vec<Pending<'r>> {
    let mut order: Vec<&Decided<'r>> = pulls.to_vec();
    order.sort_by_key(|d| d.component.pull_stage());
    let mut project = run.project.clone();
    let mut dirty = false;
    let mut pending = Vec::new();
    for decided in order {
        let item = decided.item;
        let component = decided.component;
        let force =
            run.options.force || decided.decision.as_ref().is_ok_and(|d| d.confirmed_flatten);
        if dirty {
            match planned_project(&run.project, overlay) {
                Ok(p) => project = p,
                Err(message) => {
                    resolutions.push(resolution(
                        item,
                        Action::Failed {
                            reason: Reason::Recompile,
                            message,
                        },
                    ));
                    continue;
                }
            }
        }
        // The item as the project now has it (an earlier restore may have rewritten it).
        let key = item.key.as_deref().unwrap_or(SINGLE);
        let now = match component.read_local(&project) {
            Ok(mut locals) => locals.remove(key).unwrap_or(Local::Missing),
            Err(u) => Local::Unreadable(u),
        };
        let result = {
            let ctx = PullCtx::new(&project, run.server, force, overlay);
            component.pull(&ctx, &pull_item(item, &now)).await
        };
        match result {
            Ok(pulled) => {
                dirty |= !pulled.files.is_empty();
                pending.push(Pending {
                    item,
                    files: pulled.files,
                    notes: pulled.notes,
                });
            }
            Err(PullError::Unresolved { reason, message }) => {
                resolutions.push(resolution(item, Action::Unresolved { reason, message }));
            }
            Err(PullError::Refused { reason, message }) => {
                resolutions.push(resolution(item, Action::Refused { reason, message }));
            }
        }
        // What a pull composed, even one that then refused (a restore done before the
        // item found its source missing), stays in the overlay.
        dirty |= overlay.lock().map(|o| o.has_changes()).unwrap_or(true);
    }
    pending
}

/// The project as the overlay has it: compiled again, in memory.
fn planned_project(base: &Project, overlay: &Mutex<Overlay>) -> Result<Project, String> {
    let overlay = overlay
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let entry = &base.compiled().entry;
    match lua_compile::evaluate_overlay(&overlay, entry) {
        Ok(compiled) => Ok(Project::planned(base.root(), compiled, &overlay)),
        Err(e) => Err(format!(
            "the project as this resolution leaves it does not compile, so nothing more is pulled into it: {e}"
        )),
    }
}

/// Plan and apply (unless `--dry-run`) every decided item. Returns the plan and the
/// resolutions; records bases in `run.state` only for what was written or confirmed.
pub async fn apply<'r>(decided: &'r [Decided<'r>], run: &mut Run<'_>) -> (Plan, Vec<Resolution>) {
    let mut resolutions = Vec::new();
    let mut plan = Plan {
        dry_run: run.options.dry_run,
        ..Plan::default()
    };
    let pulls: Vec<&Decided<'r>> = decided
        .iter()
        .filter(|d| matches!(&d.decision, Ok(d) if d.choice == Choice::Pull))
        .collect();
    let pushes: Vec<&Decided<'r>> = decided
        .iter()
        .filter(|d| matches!(&d.decision, Ok(d) if d.choice == Choice::Push))
        .collect();
    for d in decided {
        if let Err(action) = &d.decision {
            resolutions.push(resolution(d.item, action.clone()));
        }
    }

    let overlay = Mutex::new(Overlay::new(run.project.root(), run.project.compared()));
    let pending = compose_pulls(&pulls, run, &overlay, &mut resolutions).await;
    let changes = overlay
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .changes();
    for p in &pending {
        plan.steps.push(Step {
            id: p.item.id,
            key: p.item.key.clone(),
            title: p.item.title,
            direction: Direction::Pull,
            files: p.files.clone(),
            request: None,
            guard: p.item.local_hash.clone(),
        });
    }
    for d in &pushes {
        let key = d.item.key.as_deref().unwrap_or(SINGLE);
        plan.steps.push(Step {
            id: d.item.id,
            key: d.item.key.clone(),
            title: d.item.title,
            direction: Direction::Push,
            files: Vec::new(),
            request: d
                .component
                .describe_push(run.server, key, d.item.local.value()),
            guard: d.item.server_hash.clone(),
        });
    }
    plan.files = changes
        .iter()
        .map(|c| PlannedFile {
            path: c.rel.clone(),
            old: c.old.clone(),
            new: c.new.clone(),
        })
        .collect();
    if run.options.dry_run {
        sort_as_decided(&mut resolutions, decided);
        return (plan, resolutions);
    }

    // Local apply: one commit of every file, guarded by what each held when compared.
    let committed = if changes.is_empty() {
        Ok(Vec::new())
    } else {
        crate::disk::commit(run.project.root(), &changes, &run.write)
    };
    match committed {
        Ok(warnings) => {
            let recompiled = if changes.is_empty() {
                Ok(())
            } else {
                recompile(run)
            };
            for (i, p) in pending.into_iter().enumerate() {
                let action = match &recompiled {
                    Err(message) => Action::Failed {
                        reason: Reason::Recompile,
                        message: message.clone(),
                    },
                    Ok(()) => {
                        record(
                            &mut run.state,
                            p.item,
                            p.item.server_hash.as_deref(),
                            p.item.remote.as_ref().and_then(|r| r.version.clone()),
                        );
                        let mut notes = p.notes;
                        if i == 0 {
                            notes.extend(warnings.iter().cloned());
                        }
                        Action::Pulled {
                            files: p.files,
                            notes,
                        }
                    }
                };
                resolutions.push(resolution(p.item, action));
            }
        }
        Err(e) => {
            for p in pending {
                resolutions.push(resolution(
                    p.item,
                    Action::Refused {
                        reason: Reason::WriteRefused,
                        message: e.to_string(),
                    },
                ));
            }
        }
    }

    // Remote apply: in the plan's order, each confirmed before it is recorded.
    for d in pushes {
        let action = push(d.component, d.item, run).await;
        resolutions.push(resolution(d.item, action));
    }
    sort_as_decided(&mut resolutions, decided);
    (plan, resolutions)
}

/// Resolutions in the order the items were decided (the report's), whatever the order
/// they were applied in.
fn sort_as_decided(resolutions: &mut [Resolution], decided: &[Decided<'_>]) {
    let position = |r: &Resolution| {
        decided
            .iter()
            .position(|d| d.item.id == r.id && d.item.key == r.key)
            .unwrap_or(usize::MAX)
    };
    resolutions.sort_by_cached_key(position);
}

fn resolution(item: &Item, action: Action) -> Resolution {
    Resolution {
        id: item.id,
        key: item.key.clone(),
        title: item.title,
        action,
    }
}

/// Push one item, guarded by a fresh re-fetch of the component.
async fn push(component: &dyn Syncable, item: &Item, run: &mut Run<'_>) -> Action {
    let key = item.key.as_deref().unwrap_or(SINGLE);
    let local = match &item.local {
        Local::Value(v) => Some(&v.value),
        Local::Missing => None,
        Local::Unreadable(u) => {
            return Action::Refused {
                reason: Reason::NotStatic,
                message: format!("cannot push code that is not static: {u}"),
            };
        }
    };
    // Guard: the server must still hold what the diff showed.
    match component.fetch(&run.server.fresh()).await {
        Ok(now) if now.get(key) == item.remote.as_ref() => {}
        Ok(now) => {
            return Action::Guarded {
                message: moved_message(item, now.get(key).and_then(|r| r.version.as_ref())),
            };
        }
        Err(e) => {
            return Action::Failed {
                reason: Reason::Platform,
                message: format!("re-checking the server before pushing failed: {e}"),
            };
        }
    }
    match component.push(run.server, key, local).await {
        Ok(version) => {
            record(
                &mut run.state,
                item,
                item.local_hash.as_deref(),
                version.clone(),
            );
            Action::Pushed { version }
        }
        Err(e) => Action::Failed {
            reason: Reason::Platform,
            message: e.to_string(),
        },
    }
}

/// Compile what was committed, so the manifest cache holds it; an error is said.
fn recompile(run: &mut Run<'_>) -> Result<(), String> {
    let root = run.project.root().to_path_buf();
    match lua_compile::compile(&root, &run.project.compiled().entry) {
        Ok(_) => Ok(()),
        Err(e) => Err(format!("pulled, but the code no longer compiles: {e}")),
    }
}

/// Record (or, when both sides now have nothing, forget) an item's base.
pub fn record(
    state: &mut SyncState,
    item: &Item,
    hash: Option<&str>,
    version: Option<crate::component::Version>,
) {
    match hash {
        Some(hash) => {
            state.components.insert(
                item.state_key(),
                StateEntry {
                    hash: hash.to_string(),
                    server_version: version,
                },
            );
        }
        None => {
            state.components.remove(&item.state_key());
        }
    }
}

fn allow_str(allow: Allow) -> &'static str {
    match allow {
        Allow::Both => "both",
        Allow::Pull => "pull",
        Allow::Push => "push",
    }
}

fn flatten_message(item: &Item) -> String {
    let place = item
        .local
        .place()
        .map(|p| format!(" at {p}"))
        .unwrap_or_default();
    format!(
        "{}{place} is built from several pieces (constants, concatenation or substitutions); pulling would replace them with one literal. Use --force to do it anyway, or edit the code by hand.",
        item.label()
    )
}

fn moved_message(item: &Item, now: Option<&crate::component::Version>) -> String {
    let version = |v: Option<&crate::component::Version>| {
        v.map_or_else(|| "value".to_string(), ToString::to_string)
    };
    format!(
        "{} changed on the server while you were deciding ({} -> {}); nothing pushed. Run `lua sync` again to see the new diff.",
        item.label(),
        version(item.server_version()),
        version(now)
    )
}
