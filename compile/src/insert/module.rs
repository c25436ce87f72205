//! A new module's path and text: `export const <export> = <value>;` in the file's style.
//!
//! Checks the path (inside the root, a TypeScript/JavaScript file, not there yet) and prints
//! the text; reading it back is `verify.rs`.

use std::path::Path;

use serde_json::Value;

use crate::error::WriteError;
use crate::fsio::Store;
use crate::literal::{Layout, is_identifier_name, print_container, print_property, print_value};
use crate::source::normalize_rel;

use super::NewModule;
use super::import::strip_module_ext;
use super::style::Style;

/// The normalized path of a module to create; refused outside the root, without a
/// TypeScript/JavaScript extension, or if it exists.
pub(super) fn module_path(store: &dyn Store, path: &str) -> Result<String, WriteError> {
    let rel = normalize_rel(path);
    if rel.is_empty() || rel.starts_with("..") || Path::new(path).is_absolute() {
        return Err(WriteError::Shape {
            reason: format!("the module `{path}` must be a path inside the project"),
        });
    }
    if strip_module_ext(&rel) == rel {
        return Err(WriteError::Shape {
            reason: format!("the module `{path}` must end in .ts, .tsx, .js or .jsx"),
        });
    }
    if store.exists(&rel) {
        return Err(WriteError::FileExists { file: rel });
    }
    Ok(rel)
}

/// `export const <export> = <value>;` with `as const` on the listed keys.
pub(super) fn module_text(new: &NewModule<'_>, style: &Style) -> Result<String, WriteError> {
    if !is_identifier_name(new.export) {
        return Err(WriteError::Shape {
            reason: format!("`{}` is not an identifier", new.export),
        });
    }
    let layout = Layout {
        indent: "",
        unit: &style.unit,
        eol: style.eol,
        quote: style.quote,
    };
    let body = match new.value {
        Value::Object(map) => {
            let inner = layout.inner();
            let child = layout.child(&inner);
            let entries: Vec<String> = map
                .iter()
                .map(|(k, v)| {
                    let text = print_property(k, v, &child);
                    if new.as_const.contains(&k.as_str()) {
                        format!("{text} as const")
                    } else {
                        text
                    }
                })
                .collect();
            print_container('{', '}', &entries, &layout)
        }
        other => print_value(other, &layout),
    };
    let semi = if style.semicolon { ";" } else { "" };
    Ok(format!(
        "export const {} = {body}{semi}{}",
        new.export, style.eol
    ))
}
