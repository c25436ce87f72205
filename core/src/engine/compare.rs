//! Compare one component's two sides item by item and classify drift against the
//! recorded base. Pure: the sides were fetched and read before.

use std::cmp::Ordering;
use std::sync::OnceLock;

use lua_compile::Unreadable;
use lua_platform::PlatformError;

use crate::component::{Local, Locals, OneSided, Place, Remote, Remotes, SINGLE, Shape, Syncable};
use crate::config::ComponentPolicy;
use crate::engine::types::{Classification, Item, Presence, Status, state_key};
use crate::state::SyncState;
use crate::value;

/// Everything known about one component before comparing.
pub struct Sides {
    pub fetched: Result<Remotes, PlatformError>,
    pub read: Result<Locals, Unreadable>,
    /// Where the project keeps the component's items ([`Syncable::anchor`]).
    pub anchor: Option<Place>,
}

/// The items of one component.
pub fn compare_component(
    component: &dyn Syncable,
    policy: ComponentPolicy,
    sides: Sides,
    state: &SyncState,
) -> Vec<Item> {
    let whole = |status: Status, local: Local| Item {
        id: component.id(),
        key: None,
        title: component.title(),
        shape: component.shape(),
        policy,
        status,
        remote: None,
        local,
        server_text: None,
        local_text: None,
        server_hash: None,
        local_hash: None,
        base: state.components.get(component.id()).cloned(),
        push_unsupported: component.push_unsupported(SINGLE),
        anchor: sides.anchor.clone(),
        drift: OnceLock::new(),
    };
    let remotes = match sides.fetched {
        Err(e) => {
            // The local side of a single value is still worth reporting (where it is).
            let local = match (&sides.read, component.shape()) {
                (Ok(locals), Shape::Single) => {
                    locals.get(SINGLE).cloned().unwrap_or(Local::Missing)
                }
                _ => Local::Missing,
            };
            let canonical = local.value().map(|v| component.canonical(v));
            let status = if e.is_unreachable() {
                Status::Unreachable(e)
            } else {
                Status::Error(e)
            };
            let mut item = whole(status, local);
            item.local_text = canonical.as_ref().map(|v| component.text(v));
            item.local_hash = canonical.as_ref().map(value::hash_value);
            return vec![item];
        }
        Ok(remotes) => remotes,
    };
    let mut locals = match sides.read {
        Err(u) => return vec![whole(Status::Unreadable(u.clone()), Local::Unreadable(u))],
        Ok(locals) => locals,
    };
    if component.shape() == Shape::Single {
        // The one item is compared even when neither side has it.
        locals.entry(SINGLE.to_string()).or_insert(Local::Missing);
    }
    let mut items = Vec::with_capacity(remotes.len().max(locals.len()));
    for (key, remote, local) in union(remotes, locals) {
        let local = local.unwrap_or(Local::Missing);
        if let Some(mut item) = compare_item(component, policy, key, local, remote, state) {
            item.anchor.clone_from(&sides.anchor);
            items.push(item);
        }
    }
    items
}

/// Both sides' items by key, in key order, each side moved out of its map (no copies).
fn union(remotes: Remotes, locals: Locals) -> Vec<(String, Option<Remote>, Option<Local>)> {
    let mut out = Vec::with_capacity(remotes.len().max(locals.len()));
    let mut remotes = remotes.into_iter().peekable();
    let mut locals = locals.into_iter().peekable();
    loop {
        let order = match (remotes.peek(), locals.peek()) {
            (None, None) => break,
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some((r, _)), Some((l, _))) => r.cmp(l),
        };
        match order {
            Ordering::Less => {
                if let Some((key, remote)) = remotes.next() {
                    out.push((key, Some(remote), None));
                }
            }
            Ordering::Greater => {
                if let Some((key, local)) = locals.next() {
                    out.push((key, None, Some(local)));
                }
            }
            Ordering::Equal => {
                if let (Some((key, remote)), Some((_, local))) = (remotes.next(), locals.next()) {
                    out.push((key, Some(remote), Some(local)));
                }
            }
        }
    }
    out
}

/// One item; `None` when neither side has it (nothing to say).
fn compare_item(
    component: &dyn Syncable,
    policy: ComponentPolicy,
    key: String,
    local: Local,
    remote: Option<Remote>,
    state: &SyncState,
) -> Option<Item> {
    let canonical_local = local.value().map(|v| component.canonical(v));
    let canonical_remote = remote.as_ref().map(|r| component.canonical(&r.value));
    // A first check has no state: no key to build for the lookup.
    let base = if state.components.is_empty() {
        None
    } else {
        state
            .components
            .get(&state_key(component.id(), &key))
            .cloned()
    };
    let local_text = canonical_local.as_ref().map(|v| component.text(v));
    let local_hash = canonical_local.as_ref().map(value::hash_value);
    // Text and hash are functions of the canonical value: equal values (most items of a
    // check) are rendered and hashed once.
    let (server_text, server_hash) = match (&canonical_remote, &canonical_local) {
        (Some(remote), Some(local)) if remote == local => (local_text.clone(), local_hash.clone()),
        (remote, _) => (
            remote.as_ref().map(|v| component.text(v)),
            remote.as_ref().map(value::hash_value),
        ),
    };
    // A single value's key is not kept in the item, but its hint is asked for by it.
    let single_key = (component.shape() == Shape::Single).then(|| key.clone());
    let mut item = Item {
        id: component.id(),
        key: (component.shape() == Shape::Keyed).then_some(key),
        title: component.title(),
        shape: component.shape(),
        policy,
        status: Status::InSync,
        local_text,
        local_hash,
        server_text,
        server_hash,
        base,
        push_unsupported: None,
        anchor: None,
        remote,
        local,
        drift: OnceLock::new(),
    };
    let one_sided_drifts = component.one_sided() == OneSided::Drift;
    let presence = match (&item.local, &canonical_local, &canonical_remote) {
        (Local::Unreadable(u), _, _) => {
            item.status = if item.remote.is_none() && !one_sided_drifts {
                Status::NotPublished
            } else {
                Status::Unreadable(u.clone())
            };
            return Some(item);
        }
        (_, None, None) if one_sided_drifts => return None,
        (_, None, None) => {
            item.status = Status::NotPublished;
            return Some(item);
        }
        (_, Some(_), None) if !one_sided_drifts => {
            item.status = Status::NotPublished;
            return Some(item);
        }
        (_, None, Some(_)) if !one_sided_drifts => {
            item.status = Status::NotInCode;
            return Some(item);
        }
        // Fail closed: a server value of no usable shape is never "in sync".
        (_, Some(_), Some(_))
            if item
                .remote
                .as_ref()
                .is_some_and(|r| r.not_compared.is_some()) =>
        {
            let why = item.remote.as_ref().and_then(|r| r.not_compared.clone());
            item.status = Status::NotCompared(why.unwrap_or_default());
            return Some(item);
        }
        (_, Some(local), Some(remote)) if component.same(remote, local) => {
            return Some(item);
        }
        (_, Some(_), Some(_)) => Presence::Both,
        (_, Some(_), None) => Presence::LocalOnly,
        (_, None, Some(_)) => Presence::ServerOnly,
    };
    // Only drift is resolved: an item in sync needs no hint (a check of thousands of items
    // builds none).
    let key = single_key
        .as_deref()
        .or(item.key.as_deref())
        .unwrap_or(SINGLE);
    item.push_unsupported = component.push_unsupported(key);
    let classification = classify(
        item.base.as_ref().map(|b| b.hash.as_str()),
        item.server_hash.as_deref(),
        item.local_hash.as_deref(),
    );
    item.status = Status::Drift {
        classification,
        presence,
    };
    Some(item)
}

/// Three-way classification; an absent side (`None`) differs from any recorded base.
pub fn classify(base: Option<&str>, server: Option<&str>, local: Option<&str>) -> Classification {
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
        // Deleted locally since the last sync.
        assert_eq!(
            classify(Some("b"), Some("b"), None),
            Classification::LocalChanged
        );
        // Added on the server by a teammate after we both had nothing: unknown.
        assert_eq!(classify(None, Some("s"), None), Classification::UnknownBase);
    }

    #[test]
    fn default_choices_by_classification() {
        use crate::engine::types::Choice;
        assert_eq!(Classification::ServerChanged.default_choice(), Choice::Pull);
        assert_eq!(Classification::LocalChanged.default_choice(), Choice::Push);
        assert_eq!(Classification::BothChanged.default_choice(), Choice::Skip);
        assert_eq!(Classification::UnknownBase.default_choice(), Choice::Push);
    }
}
