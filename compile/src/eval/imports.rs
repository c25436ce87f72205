//! Import resolution: from a specifier to a file, and from an import to the export it names.
//!
//! `resolve_module` maps `./x` to the file TypeScript would pick (`.js` written for `.ts`,
//! `index` files); `eval_import` / `eval_export` follow named imports, re-exports and
//! `export *` to the expression that defines the value, which the expression evaluator
//! (`expr.rs`) then reads. Only relative specifiers are followed: packages are never read.

use std::collections::HashSet;
use std::rc::Rc;

use oxc_ast::ast::{ImportDeclaration, StringLiteral};
use oxc_span::Span;

use super::limits::{Depth, MAX_STEPS};
use super::module::{Export, Module, export_span};
use super::{EvalResult, Evaluator};
use crate::error::CompileError;
use crate::model::Node;
use crate::source::join_rel;

/// Where an import is written, for error messages.
#[derive(Clone)]
pub(super) struct ImportSite {
    file: String,
    line: u32,
    column: u32,
    specifier: String,
}

impl ImportSite {
    pub(super) fn error(&self, reason: String) -> CompileError {
        CompileError::Import {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            specifier: self.specifier.clone(),
            reason,
        }
    }
}

/// Where a specifier leads.
pub(super) enum Resolved {
    Found(String),
    Unsupported(String),
    Missing(String),
}

fn is_relative(specifier: &str) -> bool {
    specifier.starts_with("./")
        || specifier.starts_with("../")
        || specifier == "."
        || specifier == ".."
}

fn import_site(m: &Module<'_>, source: &StringLiteral<'_>) -> ImportSite {
    let (line, column) = m.src.line_col(source.span.start);
    ImportSite {
        file: m.rel().into(),
        line,
        column,
        specifier: source.value.as_str().into(),
    }
}

impl<'a> Evaluator<'a, '_> {
    /// The value of export `name` of the module `decl` imports, seen from `m`.
    pub(super) fn eval_import(
        &mut self,
        m: &Rc<Module<'a>>,
        decl: &'a ImportDeclaration<'a>,
        name: &str,
        span: Span,
        depth: Depth,
    ) -> EvalResult {
        let specifier = decl.source.value.as_str();
        if !is_relative(specifier) {
            return Ok(m.unreadable(
                span,
                format!("imported from the package `{specifier}`; only relative imports are read"),
            ));
        }
        let site = import_site(m, &decl.source);
        let target = match self.resolve_module(m.rel(), specifier) {
            Resolved::Found(rel) => rel,
            Resolved::Unsupported(reason) => return Ok(m.unreadable(decl.source.span, reason)),
            Resolved::Missing(reason) => return Err(site.error(reason)),
        };
        let target = self.load(&target)?;
        self.follow(site, |ev, site| {
            ev.eval_export(&target, name, site, depth.step())
        })
    }

    /// Run `f` while following the import at `site` (so a cycle found inside points at it).
    fn follow(
        &mut self,
        site: ImportSite,
        f: impl FnOnce(&mut Self, &ImportSite) -> EvalResult,
    ) -> EvalResult {
        self.sites.push(site.clone());
        let result = f(self, &site);
        self.sites.pop();
        result
    }

    fn eval_export(
        &mut self,
        target: &Rc<Module<'a>>,
        name: &str,
        site: &ImportSite,
        depth: Depth,
    ) -> EvalResult {
        if depth.steps > MAX_STEPS {
            return Err(site.error(format!(
                "imports, re-exports and `const`s chain more than {MAX_STEPS} steps deep"
            )));
        }
        if let Some(export) = target.exports.get(name).copied() {
            let key = (target.rel().to_owned(), format!("export {name}"));
            let span = export_span(target, name, export);
            return self.memoized(target, key, span, |ev| {
                ev.eval_declared_export(target, export, span, depth)
            });
        }
        // `export * from "./other"`: the first re-exported module that has the name.
        if name != "default"
            && let Some(found) = self.eval_star_export(target, name, depth)?
        {
            return Ok(found);
        }
        let what = if name == "default" {
            "default export".to_owned()
        } else {
            format!("export named `{name}`")
        };
        Err(site.error(format!("{} has no {what}", target.rel())))
    }

    /// The value of an export the module states itself (`export const`, `export { x }`,
    /// `export default`, `export { x } from`).
    fn eval_declared_export(
        &mut self,
        target: &Rc<Module<'a>>,
        export: Export<'a>,
        span: Span,
        depth: Depth,
    ) -> EvalResult {
        match export {
            Export::Local(local) => self.eval_identifier(target, local, span, None, depth.step()),
            Export::Default(expr) => self.eval(target, expr, None, depth.step()),
            Export::DefaultDeclared { what, span } => {
                Ok(target.unreadable(span, format!("the default export is {what}, not a value")))
            }
            Export::NamespaceFrom { span } => Ok(target.unreadable(
                span,
                "`export * as` re-exports a whole module; it is not read statically",
            )),
            Export::From {
                source,
                name: inner,
            } => {
                let site = import_site(target, source);
                match self.resolve_module(target.rel(), source.value.as_str()) {
                    Resolved::Found(rel) => {
                        let next = self.load(&rel)?;
                        self.follow(site, |ev, site| {
                            ev.eval_export(&next, inner, site, depth.step())
                        })
                    }
                    Resolved::Unsupported(reason) => Ok(target.unreadable(source.span, reason)),
                    Resolved::Missing(reason) => Err(site.error(reason)),
                }
            }
        }
    }

    /// `name` through the first `export * from` of `target` whose module has it, if any.
    fn eval_star_export(
        &mut self,
        target: &Rc<Module<'a>>,
        name: &str,
        depth: Depth,
    ) -> Result<Option<Node>, CompileError> {
        for source in target.star_exports.clone() {
            if !is_relative(source.value.as_str()) {
                continue;
            }
            let star_site = import_site(target, source);
            let rel = match self.resolve_module(target.rel(), source.value.as_str()) {
                Resolved::Found(rel) => rel,
                Resolved::Unsupported(_) => continue,
                Resolved::Missing(reason) => return Err(star_site.error(reason)),
            };
            let next = self.load(&rel)?;
            if self.has_export(&next, name, &mut HashSet::new())? {
                return self
                    .follow(star_site, |ev, site| {
                        ev.eval_export(&next, name, site, depth.step())
                    })
                    .map(Some);
            }
        }
        Ok(None)
    }

    fn has_export(
        &mut self,
        m: &Rc<Module<'a>>,
        name: &str,
        seen: &mut HashSet<String>,
    ) -> Result<bool, CompileError> {
        if m.exports.contains_key(name) {
            return Ok(true);
        }
        if !seen.insert(m.rel().to_owned()) {
            return Ok(false);
        }
        for source in m.star_exports.clone() {
            if !is_relative(source.value.as_str()) {
                continue;
            }
            let Resolved::Found(rel) = self.resolve_module(m.rel(), source.value.as_str()) else {
                continue;
            };
            let next = self.load(&rel)?;
            if self.has_export(&next, name, seen)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    pub(super) fn resolve_module(&self, importer: &str, specifier: &str) -> Resolved {
        if specifier.ends_with(".json") {
            return Resolved::Unsupported("JSON modules are not read statically".into());
        }
        let base = join_rel(importer, specifier);
        let mut candidates = Vec::new();
        for (js, ts) in [
            (".js", &[".ts", ".tsx"][..]),
            (".jsx", &[".tsx"]),
            (".mjs", &[".mts"]),
            (".cjs", &[".cts"]),
        ] {
            if let Some(stem) = base.strip_suffix(js) {
                candidates.extend(ts.iter().map(|ext| format!("{stem}{ext}")));
            }
        }
        if [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"]
            .iter()
            .any(|e| base.ends_with(e))
        {
            candidates.push(base.clone());
        }
        for ext in [".ts", ".tsx", ".js", ".jsx"] {
            candidates.push(format!("{base}{ext}"));
        }
        for ext in [".ts", ".tsx", ".js", ".jsx"] {
            candidates.push(if base.is_empty() {
                format!("index{ext}")
            } else {
                format!("{base}/index{ext}")
            });
        }
        match candidates.iter().find(|c| self.loader.is_file(c)) {
            Some(found) => Resolved::Found(found.clone()),
            None => Resolved::Missing(format!("no such module (tried {})", candidates.join(", "))),
        }
    }
}
