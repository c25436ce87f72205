//! The component registry: every [`Registration`] submitted with `inventory::submit!`
//! anywhere in the linked binary, sorted by order then id, with duplicates refused.
//!
//! Registration order is not guaranteed by `inventory`, so we sort. A crate that submits
//! registrations must be linked into the binary (`use lua_components as _;`), or its
//! components silently vanish.

use crate::component::{Registration, Syncable};
use crate::error::CoreError;

/// All registered components, constructed, in order.
pub fn components() -> Result<Vec<Box<dyn Syncable>>, CoreError> {
    let mut regs: Vec<&Registration> = inventory::iter::<Registration>.into_iter().collect();
    regs.sort_by(|a, b| a.order.cmp(&b.order).then(a.id.cmp(b.id)));
    let mut seen = std::collections::BTreeSet::new();
    for reg in &regs {
        if !seen.insert(reg.id) {
            return Err(CoreError::DuplicateComponent(reg.id.to_string()));
        }
    }
    let mut out = Vec::with_capacity(regs.len());
    for reg in regs {
        let component = (reg.make)();
        if component.id() != reg.id {
            return Err(CoreError::RegistrationMismatch {
                registered: reg.id.to_string(),
                actual: component.id().to_string(),
            });
        }
        out.push(component);
    }
    Ok(out)
}

/// Ids of all registered components, in order.
pub fn ids() -> Result<Vec<&'static str>, CoreError> {
    Ok(components()?.iter().map(|c| c.id()).collect())
}
