//! Write-back that adds instead of replacing: a property of the `LuaAgent({...})` config
//! object, an import in the file that holds it, a new module.
//!
//! Every edit follows the file's style (indentation, quotes, trailing commas, semicolons,
//! line endings), is planned against the text compile read (refused if it changed), and is
//! checked before anything is written: the project is evaluated again with the new text in
//! memory, and the write goes ahead only if the new property reads back as exactly the value
//! asked for and every other property reads as before.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use oxc_span::Span;
use serde_json::Value;

use crate::commit::commit_fs;
use crate::error::WriteError;
use crate::fsio::{Changes, FsStore, MemStore, Store, commit_mem};
use crate::layout::{
    after_line_code, eol, indent_unit, line_indent, line_start, skip_trivia, starts_line,
};
use crate::literal::{
    Layout, Quote, is_identifier_name, print_container, print_key, print_property, print_value,
};
use crate::model::{Compiled, LiteralKind, Node};
use crate::outline::{Container, Outline, outline, slice};
use crate::plan::{Edit, Planner};
use crate::source::{Loader, normalize_rel, parent_rel};
use crate::write::{WriteOptions, WriteReport};

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
    let warnings = commit_fs(root, compiled, &changes, &opts)?;
    Ok(WriteReport::of(&changes).with_warnings(warnings))
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
    let warnings = commit_fs(root, compiled, &changes, opts)?;
    Ok(WriteReport::of(&changes).with_warnings(warnings))
}

fn commit_memory(
    files: &mut BTreeMap<String, String>,
    compiled: &Compiled,
    key: &str,
    what: Insert<'_>,
) -> Result<WriteReport, WriteError> {
    let changes = plan_insert(&MemStore { files }, compiled, key, what)?;
    let report = WriteReport::of(&changes);
    commit_mem(files, changes);
    Ok(report)
}

/// The file's style, as far as an insert needs it.
struct Style {
    eol: &'static str,
    unit: String,
    quote: Quote,
    semicolon: bool,
}

fn plan_insert(
    store: &dyn Store,
    compiled: &Compiled,
    key: &str,
    what: Insert<'_>,
) -> Result<Changes, WriteError> {
    let config = &compiled.config;
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
    let container = outline
        .container
        .as_ref()
        .ok_or_else(|| WriteError::Shape {
            reason: format!(
                "the LuaAgent config object is not at {}:{}:{} any more",
                config.file, config.line, config.column
            ),
        })?;
    let style = style_of(text, compiled, container, &outline);
    let slot = slot(text, span, container, &style.unit);
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
            let local = import_edit(
                &mut planner,
                &config.file,
                text,
                &outline,
                &style,
                module,
                export,
                key,
            )?;
            (bound_property(key, &local, style.quote), None)
        }
        Insert::NewModule(new) => {
            let path = module_path(store, new.path)?;
            create.insert(path.clone(), module_text(new, &style)?);
            let local = import_edit(
                &mut planner,
                &config.file,
                text,
                &outline,
                &style,
                &path,
                new.export,
                key,
            )?;
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

fn style_of(text: &str, compiled: &Compiled, container: &Container, outline: &Outline) -> Style {
    let quote = compiled
        .fields
        .values()
        .find_map(|n| match n.origin() {
            Some(o) if o.file == compiled.config.file => match o.literal {
                LiteralKind::SingleQuoted => Some(Quote::Single),
                LiteralKind::DoubleQuoted => Some(Quote::Double),
                _ => None,
            },
            _ => None,
        })
        .or(outline.first_quote)
        .filter(|q| *q != Quote::Backtick)
        .unwrap_or(Quote::Single);
    let brace_indent = line_indent(text, compiled.config.start as usize);
    let unit = container
        .parts
        .iter()
        .find(|p| {
            let start = p.span.start as usize;
            starts_line(text, start) && line_start(text, start) > compiled.config.start as usize
        })
        .and_then(|p| {
            line_indent(text, p.span.start as usize)
                .strip_prefix(brace_indent)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| indent_unit(text));
    let semicolon = outline
        .imports
        .last()
        .is_none_or(|imp| slice(text, imp.span).trim_end().ends_with(';'));
    Style {
        eol: eol(text),
        unit,
        quote,
        semicolon,
    }
}

/// Where and how a new last property goes into the config object.
struct Slot {
    /// Indentation the property's own lines get.
    indent: String,
    kind: SlotKind,
}

enum SlotKind {
    /// `{}` or `{ }`: replace the inside with the property on its own line.
    Empty {
        inside: (usize, usize),
        brace_indent: String,
    },
    /// An empty object with a line break or comment inside: a new line after `{`.
    EmptyBlock { at: usize },
    /// One property per line: add a comma after the last one if it has none, then the
    /// property on a new line (with a trailing comma if the last one had one).
    Block {
        comma_at: Option<usize>,
        at: usize,
        trailing: bool,
    },
    /// Properties on the closing brace's line: `, key: value` after the last one.
    Inline { at: usize, after_comma: bool },
}

fn slot(text: &str, span: Span, container: &Container, unit: &str) -> Slot {
    let (open, close) = (span.start as usize, (span.end as usize).saturating_sub(1));
    let brace_indent = line_indent(text, open).to_owned();
    let inner_indent = format!("{brace_indent}{unit}");
    let Some(last) = container.parts.last() else {
        let inside = &text[open + 1..close];
        let kind = if inside.trim().is_empty() && !inside.contains('\n') {
            SlotKind::Empty {
                inside: (open + 1, close),
                brace_indent,
            }
        } else {
            SlotKind::EmptyBlock {
                at: after_line_code(text, open + 1),
            }
        };
        return Slot {
            indent: inner_indent,
            kind,
        };
    };
    let last_end = last.span.end as usize;
    let next = skip_trivia(text, last_end);
    let comma = (next < close && text.as_bytes().get(next) == Some(&b',')).then_some(next);
    let anchor = comma.map_or(last_end, |c| c + 1);
    if !text[last_end..close].contains('\n') {
        return Slot {
            indent: line_indent(text, last_end).to_owned(),
            kind: SlotKind::Inline {
                at: anchor,
                after_comma: comma.is_some(),
            },
        };
    }
    let start = last.span.start as usize;
    let indent = if starts_line(text, start) {
        line_indent(text, start).to_owned()
    } else {
        inner_indent
    };
    Slot {
        indent,
        kind: SlotKind::Block {
            comma_at: comma.is_none().then_some(last_end),
            at: after_line_code(text, anchor),
            trailing: comma.is_some(),
        },
    }
}

impl Slot {
    fn edits(&self, property: &str, eol: &str, file: &str) -> Vec<Edit> {
        let edit = |start: usize, end: usize, text: String| Edit {
            file: file.to_owned(),
            start: crate::source::to_u32(start),
            end: crate::source::to_u32(end),
            text,
        };
        let indent = &self.indent;
        match &self.kind {
            SlotKind::Empty {
                inside: (start, end),
                brace_indent,
            } => vec![edit(
                *start,
                *end,
                format!("{eol}{indent}{property},{eol}{brace_indent}"),
            )],
            SlotKind::EmptyBlock { at } => {
                vec![edit(*at, *at, format!("{eol}{indent}{property},"))]
            }
            SlotKind::Block {
                comma_at,
                at,
                trailing,
            } => {
                let mut edits = Vec::new();
                if let Some(c) = comma_at {
                    edits.push(edit(*c, *c, ",".into()));
                }
                let comma = if *trailing { "," } else { "" };
                edits.push(edit(*at, *at, format!("{eol}{indent}{property}{comma}")));
                edits
            }
            SlotKind::Inline { at, after_comma } => {
                let text = if *after_comma {
                    format!(" {property},")
                } else {
                    format!(", {property}")
                };
                vec![edit(*at, *at, text)]
            }
        }
    }
}

/// `governance` (shorthand) or `key: local`.
fn bound_property(key: &str, local: &str, quote: Quote) -> String {
    if key == local {
        key.to_owned()
    } else {
        format!("{}: {local}", print_key(key, quote))
    }
}

/// Plan the import of `export` from `module` (path relative to the root) into the file that
/// holds the config; the local name it is bound to. An existing import of it is reused.
#[allow(clippy::too_many_arguments)]
fn import_edit(
    planner: &mut Planner<'_>,
    compiled_file: &str,
    text: &str,
    outline: &Outline,
    style: &Style,
    module: &str,
    export: &str,
    key: &str,
) -> Result<String, WriteError> {
    let file = compiled_file.to_owned();
    let specifier = specifier_for(&file, &normalize_rel(module));
    let target = strip_module_ext(&normalize_rel(module));
    let existing = outline.imports.iter().find(|imp| {
        strip_module_ext(&crate::source::join_rel(&file, &imp.specifier)) == target
            && imp.names.iter().any(|(imported, _)| imported == export)
    });
    if let Some(imp) = existing
        && let Some((_, local)) = imp.names.iter().find(|(imported, _)| imported == export)
    {
        return Ok(local.clone());
    }
    let local = if export == "default" { key } else { export };
    if !is_identifier_name(local) {
        return Err(WriteError::Shape {
            reason: format!("`{local}` is not an identifier, so it cannot be imported by name"),
        });
    }
    if outline.top_names.contains(local) {
        return Err(WriteError::Shape {
            reason: format!(
                "{file} already declares `{local}`; import `{export}` from `{specifier}` by hand"
            ),
        });
    }
    let quote = outline.imports.last().map_or(style.quote, |imp| imp.quote);
    let q = match quote {
        Quote::Double => '"',
        _ => '\'',
    };
    let semi = if style.semicolon { ";" } else { "" };
    let names = if export == "default" {
        local.to_owned()
    } else {
        format!("{{ {export} }}")
    };
    let line = format!("import {names} from {q}{specifier}{q}{semi}");
    let (at, new) = match outline.imports.last() {
        Some(imp) => (
            after_line_code(text, imp.span.end as usize),
            format!("{}{line}", style.eol),
        ),
        None => (file_top(text), format!("{line}{}", style.eol)),
    };
    let at = crate::source::to_u32(at);
    planner.push_edit(Edit {
        file,
        start: at,
        end: at,
        text: new,
    });
    Ok(local.to_owned())
}

/// Where a first import goes: after a byte order mark and a `#!` line.
fn file_top(text: &str) -> usize {
    let mut at = if text.starts_with('\u{feff}') { 3 } else { 0 };
    if text[at..].starts_with("#!") {
        at = text[at..].find('\n').map_or(text.len(), |i| at + i + 1);
    }
    at
}

/// The import specifier of `module` seen from `importer` (`./governance`, `../shared/p`).
fn specifier_for(importer: &str, module: &str) -> String {
    let from: Vec<&str> = parent_rel(importer)
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let stripped = strip_module_ext(module);
    let to: Vec<&str> = stripped.split('/').filter(|s| !s.is_empty()).collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let ups = from.len() - common;
    let rest = to[common..].join("/");
    if ups == 0 {
        format!("./{rest}")
    } else {
        format!("{}{rest}", "../".repeat(ups))
    }
}

/// A module path without its TypeScript/JavaScript extension (what an import names).
fn strip_module_ext(path: &str) -> String {
    for ext in [".ts", ".tsx", ".js", ".jsx"] {
        if let Some(stem) = path.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    path.to_owned()
}

/// The normalized path of a module to create; refused outside the root, without a
/// TypeScript/JavaScript extension, or if it exists.
fn module_path(store: &dyn Store, path: &str) -> Result<String, WriteError> {
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
fn module_text(new: &NewModule<'_>, style: &Style) -> Result<String, WriteError> {
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

/// Evaluate the new module on its own (through a one-line entry beside it) and check it
/// reads back exactly.
fn verify_module(path: &str, text: &str, new: &NewModule<'_>) -> Result<(), WriteError> {
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
fn verify(
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
    for (other, node) in &compiled.fields {
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
