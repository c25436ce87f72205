//! The data the compiler produces: evaluated values with their origins.
//!
//! Everything here is serialized into `.lua/manifest.json`, so the types are plain data and
//! their serde shape is part of the manifest format (bump [`crate::FORMAT`] when it changes).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Result of compiling a project. Serialized as `.lua/manifest.json` (deterministic: sorted keys,
/// pretty, trailing newline).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Compiled {
    /// Manifest format version ([`crate::FORMAT`]).
    pub format: u32,
    /// Entry path relative to the project root, `/` separators.
    pub entry: String,
    /// Top-level properties of the `LuaAgent` config object, by key.
    pub fields: BTreeMap<String, Node>,
    /// Every file the evaluation read (relative path, `/` separators) -> sha256 hex of its bytes.
    pub inputs: BTreeMap<String, String>,
    /// Parts of the config object that could not be read as a key: spreads of values not known
    /// statically, computed keys. When this is not empty, a key missing from `fields` may still
    /// be set at run time, so "absent" is not certain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unkeyed: Vec<Unreadable>,
    /// Where the config object literal itself is (in whichever file defines it): the object
    /// that [`crate::insert_property`] adds properties to. `composite` when it has spreads.
    pub config: Origin,
}

impl Compiled {
    /// Whether the config object states `key` (possibly through a known spread; a class
    /// agent: along its chain). `false` does not prove the key is unset at run time when
    /// [`Compiled::unkeyed`] is not empty, and a derived value (a class agent's name from
    /// its class name) is not stated.
    pub fn has_property(&self, key: &str) -> bool {
        // A value derived from the code (a class agent's name) is stated nowhere.
        self.fields
            .get(key)
            .is_some_and(|n| n.origin().is_none_or(|o| o.literal != LiteralKind::Derived))
    }

    /// The node of property `key` of the config object, if it states one.
    pub fn property(&self, key: &str) -> Option<&Node> {
        self.fields.get(key)
    }
}

/// An evaluated value with its origin, or why it could not be evaluated.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Node {
    /// A string.
    String {
        /// The string as JavaScript sees it (escapes resolved, template line endings as LF).
        value: String,
        /// Where it is defined.
        origin: Origin,
    },
    /// An object literal (or an object built from one by spreads).
    Object {
        /// Its properties, by key.
        entries: BTreeMap<String, Node>,
        /// Where it is defined.
        origin: Origin,
    },
    /// A finite number.
    Number {
        /// The value.
        value: f64,
        /// Where it is defined.
        origin: Origin,
    },
    /// `true` or `false`.
    Bool {
        /// The value.
        value: bool,
        /// Where it is defined.
        origin: Origin,
    },
    /// `null`.
    Null {
        /// Where it is defined.
        origin: Origin,
    },
    /// An array literal.
    Array {
        /// Its items in order.
        items: Vec<Node>,
        /// Where it is defined.
        origin: Origin,
    },
    /// A value that cannot be known without running the code.
    Unreadable(Unreadable),
}

impl Node {
    /// The plain JSON value, or the first [`Unreadable`] found inside (depth first, keys in
    /// sorted order).
    pub fn to_json(&self) -> Result<serde_json::Value, &Unreadable> {
        use serde_json::Value;
        Ok(match self {
            Node::String { value, .. } => Value::String(value.clone()),
            Node::Number { value, .. } => number_to_json(*value),
            Node::Bool { value, .. } => Value::Bool(*value),
            Node::Null { .. } => Value::Null,
            Node::Array { items, .. } => {
                Value::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?)
            }
            Node::Object { entries, .. } => {
                let mut map = serde_json::Map::new();
                for (key, node) in entries {
                    map.insert(key.clone(), node.to_json()?);
                }
                Value::Object(map)
            }
            Node::Unreadable(u) => return Err(u),
        })
    }

    /// Where the value is defined; `None` for [`Node::Unreadable`] (its location is in the
    /// [`Unreadable`] itself).
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            Node::String { origin, .. }
            | Node::Object { origin, .. }
            | Node::Number { origin, .. }
            | Node::Bool { origin, .. }
            | Node::Null { origin }
            | Node::Array { origin, .. } => Some(origin),
            Node::Unreadable(_) => None,
        }
    }

    /// Every [`Unreadable`] inside this node (itself included), depth first.
    pub fn unreadables(&self) -> Vec<&Unreadable> {
        let mut out = Vec::new();
        self.collect_unreadables(&mut out);
        out
    }

    fn collect_unreadables<'s>(&'s self, out: &mut Vec<&'s Unreadable>) {
        match self {
            Node::Unreadable(u) => out.push(u),
            Node::Array { items, .. } => items.iter().for_each(|n| n.collect_unreadables(out)),
            Node::Object { entries, .. } => {
                entries.values().for_each(|n| n.collect_unreadables(out));
            }
            _ => {}
        }
    }
}

/// JSON for a number: integral values within the exactly representable range print without a
/// fraction (`3`, not `3.0`), as JavaScript's `JSON.stringify` does.
pub(crate) fn number_to_json(value: f64) -> serde_json::Value {
    const SAFE: f64 = 9_007_199_254_740_991.0;
    if value.fract() == 0.0 && value.abs() <= SAFE {
        // Exact: |value| <= 2^53 - 1 and integral, so the cast loses nothing.
        let int = value as i64;
        return serde_json::Value::from(int);
    }
    serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Where a value is defined in the source.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// File relative to the project root, `/` separators.
    pub file: String,
    /// UTF-8 byte offset where the defining expression starts (a quote, for a string literal).
    pub start: u32,
    /// UTF-8 byte offset just past the defining expression.
    pub end: u32,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column of `start`, counted in chars.
    pub column: u32,
    /// What kind of source expression the span covers; decides how write-back rewrites it.
    pub literal: LiteralKind,
}

/// The kind of source expression an [`Origin`] spans.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LiteralKind {
    /// `'...'`
    SingleQuoted,
    /// `"..."`
    DoubleQuoted,
    /// `` `...` `` without substitutions.
    Template,
    /// Built from several pieces (concatenation, template with substitutions, an object with
    /// spreads...): writing back flattens it into one literal, so it needs `force`.
    Composite,
    /// `{ ... }`
    ObjectLiteral,
    /// `[ ... ]`
    ArrayLiteral,
    /// Any other single literal: a number (possibly negated), `true`, `false`, `null`.
    Other,
    /// No literal: a value derived from the code (a class agent's name from its class
    /// name); the span is what it is derived from. Never written back.
    Derived,
    /// `{ ... }` of a class body: a class agent's members (not an object literal).
    ClassBody,
}

/// A value that cannot be evaluated statically, with where and why.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// Path of the value in the config object, such as `persona` or `persona.voice` or
    /// `skills[0]`; for [`Compiled::unkeyed`] entries, the source of the spread or key.
    pub field: String,
    /// File relative to the project root, `/` separators.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column, counted in chars.
    pub column: u32,
    /// Why it cannot be read, as a sentence fragment without a final period.
    pub reason: String,
    /// Code frame (plain text, no colour) pointing at the expression, as miette renders it.
    pub frame: String,
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: cannot read `{}` statically: {}",
            self.file, self.line, self.column, self.field, self.reason
        )?;
        if !self.frame.is_empty() {
            write!(f, "\n{}", self.frame)?;
        }
        Ok(())
    }
}

impl std::error::Error for Unreadable {}

/// Whether [`crate::compile`] reused the cached manifest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheStatus {
    /// `.lua/manifest.json` was current: nothing was parsed.
    Reused,
    /// The project was evaluated (and the manifest rewritten).
    Compiled,
}
