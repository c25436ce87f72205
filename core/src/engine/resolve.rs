//! Resolve a report's drift item by item: decide (mode, policy or the injected
//! [`Decider`]), then push behind a fresh re-fetch (the guard) or pull behind the
//! project's guards, and record each new base in the sync state.

use lua_compile::WriteOptions;

use crate::component::{Local, PullError, PullItem, Reason, SINGLE, Syncable};
use crate::config::Allow;
use crate::engine::types::{
    Action, Choice, Classification, Decider, Decision, Item, Mode, Prompt, ResolveOptions,
};
use crate::project::{Project, PullCtx};
use crate::server::Server;
use crate::state::{StateEntry, SyncState};

/// What resolving needs besides the item: the run's mutable state.
pub struct Run<'a> {
    pub server: &'a Server,
    pub project: Project,
    pub state: SyncState,
    pub write: WriteOptions,
    pub options: ResolveOptions,
}

/// The decision for one drifted item: from the mode and policy, or from the decider.
/// `Ok(Err(action))` is an action decided without any choice (skips, refusals).
pub async fn decide(
    component: &dyn Syncable,
    item: &Item,
    run: &Run<'_>,
    decider: &mut dyn Decider,
) -> Result<Result<Decision, Action>, crate::engine::types::Aborted> {
    let force = run.options.force;
    let auto = |choice: Choice| -> Result<Decision, Action> {
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
        if choice == Choice::Push
            && let Some(hint) = &item.push_unsupported
        {
            return Err(Action::Unresolved {
                reason: Reason::PushNotSupported,
                message: hint.clone(),
            });
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
    };
    Ok(match run.options.mode {
        Mode::Check => Err(Action::Skipped {
            reason: Reason::CheckOnly,
            message: "check only".into(),
        }),
        Mode::Accept => auto(Choice::Pull),
        Mode::Push => auto(Choice::Push),
        Mode::Interactive => {
            let choices = item.allowed_choices();
            let pull_preview = if choices.contains(&Choice::Pull) {
                let ctx = pull_ctx(run, force);
                component.pull_preview(&ctx, &pull_item(item)).await
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
            Ok(decider.decide(&prompt)?)
        }
    })
}

fn pull_ctx<'a>(run: &'a Run<'_>, force: bool) -> PullCtx<'a> {
    PullCtx {
        project: &run.project,
        server: run.server,
        force,
        write: run.write.clone(),
    }
}

fn pull_item(item: &Item) -> PullItem<'_> {
    PullItem {
        key: item.key.as_deref().unwrap_or(SINGLE),
        local: &item.local,
        remote: item.remote.as_ref(),
    }
}

/// Push one item, guarded by a fresh re-fetch of the component.
pub async fn push(component: &dyn Syncable, item: &Item, run: &mut Run<'_>) -> Action {
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

/// Pull one item into the project, then re-read the project for the next one.
pub async fn pull(component: &dyn Syncable, item: &Item, force: bool, run: &mut Run<'_>) -> Action {
    // An earlier pull in this run may have rewritten a file: read the project again and
    // make sure this item still holds what the diff showed.
    let key = item.key.as_deref().unwrap_or(SINGLE);
    let now = match component.read_local(&run.project) {
        Ok(mut locals) => locals.remove(key).unwrap_or(Local::Missing),
        Err(u) => Local::Unreadable(u),
    };
    let now_hash = now
        .value()
        .map(|v| crate::value::hash_value(&component.canonical(v)));
    if now_hash != item.local_hash {
        return Action::Refused {
            reason: Reason::ChangedSinceCompared,
            message: format!(
                "{} changed in the project since it was compared; nothing written. Run `lua sync` again.",
                item.label()
            ),
        };
    }
    let current = Item {
        local: now,
        ..item.clone()
    };
    let result = {
        let ctx = pull_ctx(run, force);
        component.pull(&ctx, &pull_item(&current)).await
    };
    match result {
        Ok(pulled) => {
            record(
                &mut run.state,
                item,
                item.server_hash.as_deref(),
                item.remote.as_ref().and_then(|r| r.version.clone()),
            );
            if !pulled.files.is_empty()
                && let Err(action) = recompile(run)
            {
                return action;
            }
            Action::Pulled {
                files: pulled.files,
                notes: pulled.notes,
            }
        }
        Err(PullError::Unresolved { reason, message }) => Action::Unresolved { reason, message },
        Err(PullError::Refused { reason, message }) => Action::Refused { reason, message },
    }
}

fn recompile(run: &mut Run<'_>) -> Result<(), Action> {
    let root = run.project.root().to_path_buf();
    match lua_compile::compile(&root, &run.project.compiled().entry) {
        Ok((fresh, _)) => {
            run.project = Project::new(root, fresh);
            Ok(())
        }
        Err(e) => Err(Action::Failed {
            reason: Reason::Recompile,
            message: format!("pulled, but the code no longer compiles: {e}"),
        }),
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
