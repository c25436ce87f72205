//! The bounds one evaluation stays within: nesting, steps, and copying of evaluated values.
//!
//! Plain numbers and a [`Depth`] counter; it knows nothing of modules or the evaluator.

use crate::model::Node;

/// How deep objects and arrays may nest inside each other. It keeps the manifest within
/// serde_json's own nesting limit, so a cached manifest can always be read back.
const MAX_DEPTH: u32 = 48;

/// How many evaluation steps (`const`s, imports, operators, member reads, nested values) one
/// value may go through. It bounds recursion, so hostile input cannot overflow the stack.
pub(super) const MAX_STEPS: u32 = 512;

/// Where an evaluation is: how deep in objects and arrays, and after how many steps.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Depth {
    nest: u32,
    pub(super) steps: u32,
}

impl Depth {
    /// One level deeper inside an object or array.
    pub(super) fn nested(self) -> Self {
        Depth {
            nest: self.nest + 1,
            steps: self.steps + 1,
        }
    }

    /// One more step at the same level (a reference, an operand, an import).
    pub(super) fn step(self) -> Self {
        Depth {
            nest: self.nest,
            steps: self.steps + 1,
        }
    }

    /// Why evaluation stops here, if it does.
    pub(super) fn exceeded(self) -> Option<String> {
        if self.nest > MAX_DEPTH {
            Some(format!(
                "objects and arrays nest more than {MAX_DEPTH} levels deep"
            ))
        } else if self.steps > MAX_STEPS {
            Some(format!(
                "the value is built through more than {MAX_STEPS} steps (`const`s, imports and operators referring to each other)"
            ))
        } else {
            None
        }
    }
}

/// How much copying of already evaluated values one evaluation may do, in [`weight`] units
/// (some 200,000 values, or 25 MiB of text).
pub(super) const MAX_EXPANSION: u64 = 400_000;

/// The cost of copying a value: a few units per node (each carries an origin), plus one per
/// 64 bytes of text (values, keys, diagnostics' frames).
pub(super) fn weight(node: &Node) -> u64 {
    let text = |s: &str| s.len() as u64 / 64;
    2 + match node {
        Node::String { value, .. } => text(value),
        Node::Object { entries, .. } => entries.iter().map(|(k, v)| text(k) + weight(v)).sum(),
        Node::Array { items, .. } => items.iter().map(weight).sum(),
        Node::Unreadable(u) => text(&u.frame) + text(&u.reason),
        _ => 0,
    }
}
