//! Adding an import to the file that holds the config, and naming modules as imports do.
//!
//! Plans one edit (after the last import, or at the top of the file); it never writes.

use crate::error::WriteError;
use crate::layout::after_line_code;
use crate::literal::{Quote, is_identifier_name};
use crate::outline::Outline;
use crate::plan::{Edit, Planner};
use crate::source::{normalize_rel, parent_rel};

use super::style::Style;

/// The file an import goes into: its path, text, outline and style.
pub(super) struct ConfigFile<'t> {
    pub(super) file: &'t str,
    pub(super) text: &'t str,
    pub(super) outline: &'t Outline,
    pub(super) style: &'t Style,
}

/// Plan the import of `export` from `module` (path relative to the root) into the file that
/// holds the config; the local name it is bound to. An existing import of it is reused.
pub(super) fn import_edit(
    planner: &mut Planner<'_>,
    into: &ConfigFile<'_>,
    module: &str,
    export: &str,
    key: &str,
) -> Result<String, WriteError> {
    let ConfigFile {
        text,
        outline,
        style,
        ..
    } = *into;
    let file = into.file.to_owned();
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
pub(super) fn specifier_for(importer: &str, module: &str) -> String {
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
pub(super) fn strip_module_ext(path: &str) -> String {
    for ext in [".ts", ".tsx", ".js", ".jsx"] {
        if let Some(stem) = path.strip_suffix(ext) {
            return stem.to_owned();
        }
    }
    path.to_owned()
}
