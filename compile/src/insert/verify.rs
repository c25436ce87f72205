//! The check before any write: evaluate the edited project in memory and compare.
//!
//! The new property must read back as exactly the value, every other property as before;
//! a new module must read back on its own. Uses the evaluator through a [`Loader`] overlay.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use serde_json::Value;

use crate::error::WriteError;
use crate::fsio::{Changes, Store};
use crate::model::{Compiled, Node};
use crate::source::{Loader, parent_rel};

use super::NewModule;
use super::import::specifier_for;

/// Evaluate the new module on its own (through a one-line entry beside it) and check it
/// reads back exactly.
pub(super) fn verify_module(path: &str, text: &str, new: &NewModule<'_>) -> Result<(), WriteError> {
    let dir = parent_rel(path);
    let entry = if dir.is_empty() {
        "__lua_check__.ts".to_owned()
    } else {
        format!("{dir}/__lua_check__.ts")
    };
    let specifier = specifier_for(&entry, path);
    let mut files = BTreeMap::new();
    files.insert(path.to_owned(), text.to_owned());
    files.insert(
        entry.clone(),
        format!(
            "import {{ {e} }} from '{specifier}';\nnew LuaAgent({{ v: {e} }});\n",
            e = new.export
        ),
    );
    let compiled = crate::evaluate_files(&files, &entry).map_err(|e| not_exact(&e.to_string()))?;
    match compiled.fields.get("v").map(Node::to_json) {
        Some(Ok(v)) if v == *new.value => Ok(()),
        _ => Err(not_exact("the new module does not read back as the value")),
    }
}

fn not_exact(detail: &str) -> WriteError {
    WriteError::Shape {
        reason: format!("the edit would not read back exactly ({detail})"),
    }
}

/// Evaluate the project with `changes` applied in memory: `key` must read as `expected`
/// (or, without one, as some static value) and every other property as before.
pub(super) fn verify(
    store: &dyn Store,
    compiled: &Compiled,
    changes: &Changes,
    key: &str,
    expected: Option<&Value>,
) -> Result<(), WriteError> {
    let loader = Overlay { store, changes };
    let again =
        crate::eval::evaluate(&loader, &compiled.entry).map_err(|e| not_exact(&e.to_string()))?;
    match again.fields.get(key).map(Node::to_json) {
        Some(Ok(v)) if expected.is_none_or(|e| *e == v) => {}
        Some(Ok(_)) => return Err(not_exact(&format!("`{key}` reads as another value"))),
        Some(Err(u)) => return Err(WriteError::Unreadable(u.clone())),
        None => return Err(not_exact(&format!("`{key}` is not read"))),
    }
    // `key` itself may have been derived before (a class agent's name): only the others.
    for (other, node) in compiled.fields.iter().filter(|(other, _)| *other != key) {
        let same = match (node.to_json(), again.fields.get(other).map(Node::to_json)) {
            (Ok(a), Some(Ok(b))) => a == b,
            (Err(_), Some(Err(_))) => true,
            _ => false,
        };
        if !same {
            return Err(not_exact(&format!("`{other}` would change")));
        }
    }
    Ok(())
}

/// The project as it will be after `changes`: changed and created files from memory, the
/// rest from the store.
struct Overlay<'s> {
    store: &'s dyn Store,
    changes: &'s Changes,
}

impl Overlay<'_> {
    fn changed(&self, rel: &str) -> Option<&String> {
        self.changes
            .replace
            .get(rel)
            .or_else(|| self.changes.create.get(rel))
    }
}

impl Loader for Overlay<'_> {
    fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        match self.changed(rel) {
            Some(text) => Ok(text.as_bytes().to_vec()),
            None => self.store.read(rel),
        }
    }
    fn is_file(&self, rel: &str) -> bool {
        self.changed(rel).is_some() || self.store.is_file(rel)
    }
    fn display_path(&self, rel: &str) -> PathBuf {
        self.store.path(rel)
    }
}
