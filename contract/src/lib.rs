//! `lua-contract`: the tables of `API_CONTRACT.md` that both sides of the wire read, so the
//! client (`lua-platform`, `lua-components`) and the local platform (`lua-devserver`) cannot
//! disagree on them. Today one table: the versioned primitive kinds, one row each.
//!
//! Data only: it uses no other crate of the workspace and knows no HTTP, no storage and no
//! component. A kind the table does not list is still a [`PrimitiveKind`] value anyone may
//! build (a component registered from outside, say); the table is what both sides serve.

/// One kind of versioned primitive: its listing `GET /developer/<plural>/{agentId}` answers
/// `{"<plural>": [...]}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PrimitiveKind {
    /// The noun for one item (`skill`): generated item ids, the reference CLI's commands.
    pub singular: &'static str,
    /// The listing's path segment and payload key (`skills`).
    pub plural: &'static str,
}

impl PrimitiveKind {
    /// The row of the shared table whose plural is `plural`.
    pub fn by_plural(plural: &str) -> Option<&'static PrimitiveKind> {
        PRIMITIVE_KINDS.iter().find(|k| k.plural == plural)
    }
}

pub const SKILL: PrimitiveKind = PrimitiveKind {
    singular: "skill",
    plural: "skills",
};
pub const WEBHOOK: PrimitiveKind = PrimitiveKind {
    singular: "webhook",
    plural: "webhooks",
};
pub const JOB: PrimitiveKind = PrimitiveKind {
    singular: "job",
    plural: "jobs",
};
pub const PREPROCESSOR: PrimitiveKind = PrimitiveKind {
    singular: "preprocessor",
    plural: "preprocessors",
};
pub const POSTPROCESSOR: PrimitiveKind = PrimitiveKind {
    singular: "postprocessor",
    plural: "postprocessors",
};

/// The versioned kinds the platform serves, in the contract's order. A new kind is one row
/// here: the devserver serves its listing and the client can read it.
pub static PRIMITIVE_KINDS: &[PrimitiveKind] = &[SKILL, WEBHOOK, JOB, PREPROCESSOR, POSTPROCESSOR];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_by_plural_and_unique() {
        assert_eq!(PrimitiveKind::by_plural("jobs"), Some(&JOB));
        assert_eq!(PrimitiveKind::by_plural("job"), None);
        for (i, a) in PRIMITIVE_KINDS.iter().enumerate() {
            for b in &PRIMITIVE_KINDS[i + 1..] {
                assert!(
                    a.plural != b.plural && a.singular != b.singular,
                    "{a:?} {b:?}"
                );
            }
        }
    }
}
