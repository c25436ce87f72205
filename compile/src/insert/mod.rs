//! Write-back that adds instead of replacing: a property of the `LuaAgent({...})` config
//! object, an import in the file that holds it, a new module.
//!
//! Every edit follows the file's style (indentation, quotes, trailing commas, semicolons,
//! line endings), is planned against the text compile read (refused if it changed), and is
//! checked before anything is written: the project is evaluated again with the new text in
//! memory, and the write goes ahead only if the new property reads back as exactly the value
//! asked for and every other property reads as before.
//!
//! Layers: `style` (the file's style) < `slot` (where the property goes) < `import` (the
//! import edit, specifiers) < `module` (a new module's path and text) < `verify` (the
//! in-memory read-back) < this file (the public entry points and the plan of each insert).
//!
//! It must not know component names: the key and the value are given.

mod class;
mod import;
mod module;
mod slot;
mod style;
mod verify;

use std::collections::BTreeMap;
use std::path::Path;

use oxc_span::Span;
use serde_json::Value;

use self::import::{ConfigFile, import_edit};
use self::module::{module_path, module_text};
use self::slot::{bound_property, slot};
use self::style::style_of;
use self::verify::{verify, verify_module};
use crate::commit::commit_fs;
use crate::error::WriteError;
use crate::fsio::{Changes, FsStore, MemStore, Store, commit_mem};
use crate::literal::{Layout, print_property};
use crate::model::Compiled;
use crate::options::{WriteOptions, WriteReport};
use crate::outline::{Container, Outline, outline};
use crate::plan::Planner;

/// A module for [`insert_with_new_module`] and [`create_module`] to create:
/// `export const <export> = <value>;`.
#[derive(Clone, Copy, Debug)]
pub struct NewModule<'a> {
    /// Path relative to the project root, `/` separators, such as `src/governance.ts`.
    pub path: &'a str,
    /// The exported `const`'s name (an identifier), such as `governance`.
    pub export: &'a str,
    /// Its value.
    pub value: &'a Value,
    /// Top-level keys of an object value written with `as const` (`mode: 'sdk' as const`).
    pub as_const: &'a [&'a str],
}

/// Add `key: <value>` as the last property of the `LuaAgent({...})` config object (in
/// whichever file holds it, [`Compiled::config`]). Refused if the config already has `key`
/// ([`WriteError::PropertyExists`]: write its value with [`crate::write_back`] instead).
pub fn insert_property(
    root: &Path,
    compiled: &Compiled,
    key: &str,
    value: &Value,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    commit_disk(root, compiled, key, Insert::Value(value), &opts)
}

/// [`insert_property`] on a project held in memory (see [`crate::write_back_files`]).
pub fn insert_property_files(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    key: &str,
    value: &Value,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let _ = opts;
    commit_memory(files, compiled, key, Insert::Value(value))
}

/// Add `import { <export> } from '<module>';` after the last import of the file that holds
/// the config object (unless it already imports it), and the property `key` bound to it:
/// the shorthand `governance,` when `key` equals `export`, else `key: export`. `module` is
/// the module's path relative to the root (`src/governance.ts`); it must exist and export
/// `export` as a value that reads statically.
pub fn insert_shorthand_with_import(
    root: &Path,
    compiled: &Compiled,
    key: &str,
    module: &str,
    export: &str,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    commit_disk(
        root,
        compiled,
        key,
        Insert::Import { module, export },
        &opts,
    )
}

/// [`insert_shorthand_with_import`] on a project held in memory.
pub fn insert_shorthand_with_import_files(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    key: &str,
    module: &str,
    export: &str,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let _ = opts;
    commit_memory(files, compiled, key, Insert::Import { module, export })
}

/// Create `module.path` holding `export const <export> = <value>;` in the style of the file
/// that holds the config object. Refused if the path exists ([`WriteError::FileExists`]).
/// The new file is not imported anywhere: see [`insert_with_new_module`].
pub fn create_module(
    root: &Path,
    compiled: &Compiled,
    module: &NewModule<'_>,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let store = FsStore { root };
    let changes = plan_module_only(&store, compiled, module)?;
    let warnings = commit_fs(root, &changes.writes(compiled), &opts)?;
    Ok(changes.report(warnings))
}

/// All or nothing: create `module` ([`create_module`]), import it into the file that holds
/// the config object and add the property `key` ([`insert_shorthand_with_import`]). If the
/// second write fails, the created file is removed.
pub fn insert_with_new_module(
    root: &Path,
    compiled: &Compiled,
    key: &str,
    module: &NewModule<'_>,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    commit_disk(root, compiled, key, Insert::NewModule(module), &opts)
}

/// [`insert_with_new_module`] on a project held in memory.
pub fn insert_with_new_module_files(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    key: &str,
    module: &NewModule<'_>,
    opts: WriteOptions,
) -> Result<WriteReport, WriteError> {
    let _ = opts;
    commit_memory(files, compiled, key, Insert::NewModule(module))
}

/// What an insert binds the new property to.
#[derive(Clone, Copy)]
enum Insert<'a> {
    Value(&'a Value),
    Import { module: &'a str, export: &'a str },
    NewModule(&'a NewModule<'a>),
}

fn commit_disk(
    root: &Path,
    compiled: &Compiled,
    key: &str,
    what: Insert<'_>,
    opts: &WriteOptions,
) -> Result<WriteReport, WriteError> {
    let store = FsStore { root };
    let changes = plan_insert(&store, compiled, key, what)?;
    let warnings = commit_fs(root, &changes.writes(compiled), opts)?;
    Ok(changes.report(warnings))
}

fn commit_memory(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    key: &str,
    what: Insert<'_>,
) -> Result<WriteReport, WriteError> {
    let changes = plan_insert(&MemStore { files }, compiled, key, what)?;
    let report = changes.report(Vec::new());
    commit_mem(files, changes);
    Ok(report)
}

/// Plan `what` as the config object's new last property `key`, and check it reads back.
fn plan_insert(
    store: &dyn Store,
    compiled: &Compiled,
    key: &str,
    what: Insert<'_>,
) -> Result<Changes, WriteError> {
    let config = &compiled.config;
    if compiled.has_property(key) {
        return Err(WriteError::PropertyExists {
            file: config.file.clone(),
            line: config.line,
            column: config.column,
            key: key.to_owned(),
        });
    }
    if config.literal == crate::model::LiteralKind::ClassBody {
        // A class agent: the member goes into the most derived class.
        let Insert::Value(value) = what else {
            return Err(WriteError::Shape {
                reason: format!(
                    "the agent is a class ({}:{}:{}); binding `{key}` to an import is not written automatically: declare `{key} = ...;` in the class",
                    config.file, config.line, config.column
                ),
            });
        };
        let mut planner = Planner::new(store, compiled, false);
        let edit = class::member_edit(&mut planner, config, key, value)?;
        planner.push_edit(edit);
        let changes = Changes {
            replace: planner.apply()?,
            create: BTreeMap::new(),
        };
        verify(store, compiled, &changes, key, Some(value))?;
        return Ok(changes);
    }
    if compiled.fields.contains_key(key) {
        return Err(WriteError::PropertyExists {
            file: config.file.clone(),
            line: config.line,
            column: config.column,
            key: key.to_owned(),
        });
    }
    let mut planner = Planner::new(store, compiled, false);
    let src = planner.text(&config.file)?;
    let text = src.text.as_str();
    let span = Span::new(config.start, config.end);
    let outline = outline(text, &config.file, Some(span));
    let container = config_container(compiled, &outline)?;
    let style = style_of(text, compiled, container, &outline);
    let slot = slot(text, span, container, &style.unit);
    let into = ConfigFile {
        file: &config.file,
        text,
        outline: &outline,
        style: &style,
    };
    let mut create = BTreeMap::new();
    let (property, expected) = match what {
        Insert::Value(value) => {
            let layout = Layout {
                indent: &slot.indent,
                unit: &style.unit,
                eol: style.eol,
                quote: style.quote,
            };
            (print_property(key, value, &layout), Some(value.clone()))
        }
        Insert::Import { module, export } => {
            let local = import_edit(&mut planner, &into, module, export, key)?;
            (bound_property(key, &local, style.quote), None)
        }
        Insert::NewModule(new) => {
            let path = module_path(store, new.path)?;
            create.insert(path.clone(), module_text(new, &style)?);
            let local = import_edit(&mut planner, &into, &path, new.export, key)?;
            (
                bound_property(key, &local, style.quote),
                Some(new.value.clone()),
            )
        }
    };
    for edit in slot.edits(&property, style.eol, &config.file) {
        planner.push_edit(edit);
    }
    let changes = Changes {
        replace: planner.apply()?,
        create,
    };
    verify(store, compiled, &changes, key, expected.as_ref())?;
    Ok(changes)
}

/// The config object in the outline of its file; refused if it is not where compile saw it.
fn config_container<'o>(
    compiled: &Compiled,
    outline: &'o Outline,
) -> Result<&'o Container, WriteError> {
    let config = &compiled.config;
    outline.container.as_ref().ok_or_else(|| WriteError::Shape {
        reason: format!(
            "the LuaAgent config object is not at {}:{}:{} any more",
            config.file, config.line, config.column
        ),
    })
}

/// Plan creating `new` alone (no import, no property), checked on its own.
fn plan_module_only(
    store: &dyn Store,
    compiled: &Compiled,
    new: &NewModule<'_>,
) -> Result<Changes, WriteError> {
    let path = module_path(store, new.path)?;
    let mut planner = Planner::new(store, compiled, false);
    let src = planner.text(&compiled.config.file)?;
    let text = src.text.as_str();
    let span = Span::new(compiled.config.start, compiled.config.end);
    let outline = outline(text, &compiled.config.file, Some(span));
    let container = outline.container.unwrap_or_default();
    let outline_rest = Outline {
        container: None,
        ..outline
    };
    let style = style_of(text, compiled, &container, &outline_rest);
    let module_text = module_text(new, &style)?;
    verify_module(&path, &module_text, new)?;
    let mut create = BTreeMap::new();
    create.insert(path, module_text);
    Ok(Changes {
        replace: BTreeMap::new(),
        create,
    })
}
