//! Module indexing: parse one file and collect its top-level bindings and exports.
//!
//! A [`Module`] is the parsed program (in the evaluation's arena) with, by name, what each
//! top-level binding is (`const`, `let`, import, function...) and what each export points to.
//! Nothing here evaluates a value or follows an import: it reads one file's syntax only.

use std::collections::HashMap;

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    BindingPattern, Declaration, ExportDefaultDeclarationKind, Expression, ImportDeclaration,
    ImportDeclarationSpecifier, Program, Statement, StringLiteral, VariableDeclaration,
    VariableDeclarationKind, VariableDeclarator,
};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};

use crate::error::CompileError;
use crate::model::{LiteralKind, Node, Origin, Unreadable};
use crate::source::SourceText;

/// Parse `text` (the file `rel`) into `alloc` and index it; a syntax error is
/// [`CompileError::Syntax`] with a code frame.
pub(super) fn parse<'a>(
    alloc: &'a Allocator,
    rel: &str,
    bytes: Vec<u8>,
) -> Result<Module<'a>, CompileError> {
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
            let src = SourceText::new(rel.into(), lossy);
            let offset = crate::source::to_u32(valid);
            let (line, column) = src.line_col(offset);
            return Err(CompileError::Syntax {
                file: rel.into(),
                line,
                column,
                message: "the file is not valid UTF-8".into(),
                frame: src.frame(offset, offset + 1, "not UTF-8"),
            });
        }
    };
    let src = SourceText::new(rel.into(), text);
    let arena_text: &'a str = alloc.alloc_str(&src.text);
    let source_type = SourceType::from_path(rel).unwrap_or_else(|_| SourceType::ts());
    let ret = Parser::new(alloc, arena_text, source_type).parse();
    if ret.panicked || ret.diagnostics.has_errors() {
        let diag = ret.diagnostics.errors().next();
        let message = diag.map_or_else(|| "cannot parse".to_owned(), |d| d.message.to_string());
        let span = diag
            .and_then(|d| d.labels.first().map(oxc_span::LabeledSpan::span))
            .unwrap_or_default();
        let label = diag
            .and_then(|d| d.labels.first().and_then(|l| l.label().map(str::to_owned)))
            .unwrap_or_else(|| message.clone());
        let (line, column) = src.line_col(span.start);
        return Err(CompileError::Syntax {
            file: rel.into(),
            line,
            column,
            frame: src.frame(span.start, span.end.max(span.start + 1), &label),
            message,
        });
    }
    let program: &'a Program<'a> = alloc.alloc(ret.program);
    Ok(index_module(src, program))
}

/// A parsed module and its top-level bindings.
pub(super) struct Module<'a> {
    pub(super) src: SourceText,
    pub(super) bindings: HashMap<&'a str, Binding<'a>>,
    pub(super) exports: HashMap<&'a str, Export<'a>>,
    pub(super) star_exports: Vec<&'a StringLiteral<'a>>,
    /// Local names under which `LuaAgent` is imported (`import { LuaAgent as Agent }`).
    pub(super) agent_names: Vec<&'a str>,
    pub(super) program: &'a Program<'a>,
}

impl Module<'_> {
    pub(super) fn rel(&self) -> &str {
        &self.src.rel
    }

    pub(super) fn origin(&self, span: Span, literal: LiteralKind) -> Origin {
        let (line, column) = self.src.line_col(span.start);
        Origin {
            file: self.rel().into(),
            start: span.start,
            end: span.end,
            line,
            column,
            literal,
        }
    }

    pub(super) fn unreadable(&self, span: Span, reason: impl Into<String>) -> Node {
        Node::Unreadable(self.unreadable_at(span, reason))
    }

    pub(super) fn unreadable_at(&self, span: Span, reason: impl Into<String>) -> Unreadable {
        let reason = reason.into();
        let (line, column) = self.src.line_col(span.start);
        Unreadable {
            field: String::new(),
            file: self.rel().into(),
            line,
            column,
            frame: self.src.frame(span.start, span.end, &reason),
            reason,
        }
    }

    pub(super) fn text(&self, span: Span) -> &str {
        self.src
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

#[derive(Clone, Copy)]
pub(super) enum Binding<'a> {
    Const(&'a VariableDeclarator<'a>),
    Mutable {
        keyword: &'static str,
        span: Span,
    },
    Destructured {
        span: Span,
    },
    Declared {
        what: &'static str,
        span: Span,
    },
    Import {
        decl: &'a ImportDeclaration<'a>,
        imported: Imported<'a>,
        span: Span,
    },
}

#[derive(Clone, Copy)]
pub(super) enum Imported<'a> {
    Named(&'a str),
    Namespace,
}

#[derive(Clone, Copy)]
pub(super) enum Export<'a> {
    Local(&'a str),
    Default(&'a Expression<'a>),
    DefaultDeclared {
        what: &'static str,
        span: Span,
    },
    From {
        source: &'a StringLiteral<'a>,
        name: &'a str,
    },
    NamespaceFrom {
        span: Span,
    },
}

/// Where the export `name` is defined, for diagnostics.
pub(super) fn export_span(m: &Module<'_>, name: &str, export: Export<'_>) -> Span {
    match export {
        Export::Local(local) => match m.bindings.get(local) {
            Some(Binding::Const(d)) => d.id.span(),
            Some(
                Binding::Mutable { span, .. }
                | Binding::Destructured { span }
                | Binding::Declared { span, .. }
                | Binding::Import { span, .. },
            ) => *span,
            None => find_export_specifier(m, name).unwrap_or_default(),
        },
        Export::Default(expr) => expr.span(),
        Export::DefaultDeclared { span, .. } | Export::NamespaceFrom { span } => span,
        Export::From { source, .. } => source.span,
    }
}

/// The span of `export { x as name }` when `x` is not declared at all (so it points somewhere
/// useful in the "not a top-level const" message).
fn find_export_specifier(m: &Module<'_>, name: &str) -> Option<Span> {
    m.program.body.iter().find_map(|stmt| match stmt {
        Statement::ExportNamedDeclaration(e) => e
            .specifiers
            .iter()
            .find(|s| s.exported.name().as_str() == name)
            .map(|s| s.span),
        _ => None,
    })
}

/// Collect the top-level bindings, exports and `LuaAgent` import names of a program.
fn index_module<'a>(src: SourceText, program: &'a Program<'a>) -> Module<'a> {
    let mut m = Module {
        src,
        bindings: HashMap::new(),
        exports: HashMap::new(),
        star_exports: Vec::new(),
        agent_names: Vec::new(),
        program,
    };
    for stmt in &program.body {
        index_statement(&mut m, stmt);
    }
    m
}

/// What one top-level statement binds or exports.
fn index_statement<'a>(m: &mut Module<'a>, stmt: &'a Statement<'a>) {
    match stmt {
        Statement::VariableDeclaration(d) => add_variables(m, d, false),
        Statement::ImportDeclaration(imp) => add_import(m, imp),
        Statement::ExportDeclaration(e) => match &e.declaration {
            Declaration::VariableDeclaration(d) => add_variables(m, d, true),
            decl => {
                if let Some((name, binding)) = declared(decl) {
                    m.bindings.insert(name, binding);
                    m.exports.insert(name, Export::Local(name));
                }
            }
        },
        Statement::ExportNamedDeclaration(e) if !e.export_kind.is_type() => {
            for spec in e.specifiers.iter().filter(|s| !s.export_kind.is_type()) {
                m.exports.insert(
                    spec.exported.name().as_str(),
                    Export::Local(spec.local.name().as_str()),
                );
            }
        }
        Statement::ExportFromDeclaration(e) if !e.export_kind.is_type() => {
            for spec in e.specifiers.iter().filter(|s| !s.export_kind.is_type()) {
                m.exports.insert(
                    spec.exported.name().as_str(),
                    Export::From {
                        source: &e.source,
                        name: spec.local.name().as_str(),
                    },
                );
            }
        }
        Statement::ExportAllDeclaration(e) if !e.export_kind.is_type() => match &e.exported {
            None => m.star_exports.push(&e.source),
            Some(name) => {
                m.exports
                    .insert(name.name().as_str(), Export::NamespaceFrom { span: e.span });
            }
        },
        Statement::ExportDefaultDeclaration(e) => {
            if let Some(export) = default_export(&e.declaration) {
                m.exports.insert("default", export);
            }
        }
        Statement::TSExportAssignment(e) => {
            m.exports.insert("default", Export::Default(&e.expression));
        }
        other => {
            if let Some(decl) = other.as_declaration()
                && let Some((name, binding)) = declared(decl)
            {
                m.bindings.insert(name, binding);
            }
        }
    }
}

/// What `export default ...` exports (nothing for an interface: it is a type).
fn default_export<'a>(decl: &'a ExportDefaultDeclarationKind<'a>) -> Option<Export<'a>> {
    match decl {
        ExportDefaultDeclarationKind::FunctionDeclaration(f) => Some(Export::DefaultDeclared {
            what: "a function",
            span: f.span,
        }),
        ExportDefaultDeclarationKind::ClassDeclaration(c) => Some(Export::DefaultDeclared {
            what: "a class",
            span: c.span,
        }),
        ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => None,
        other => other.as_expression().map(Export::Default),
    }
}

/// The value binding a non-variable declaration introduces (functions, classes, enums).
fn declared<'a>(decl: &'a Declaration<'a>) -> Option<(&'a str, Binding<'a>)> {
    match decl {
        Declaration::FunctionDeclaration(f) => f.id.as_ref().map(|id| {
            (
                id.name.as_str(),
                Binding::Declared {
                    what: "a function",
                    span: id.span,
                },
            )
        }),
        Declaration::ClassDeclaration(c) => c.id.as_ref().map(|id| {
            (
                id.name.as_str(),
                Binding::Declared {
                    what: "a class",
                    span: id.span,
                },
            )
        }),
        Declaration::TSEnumDeclaration(e) => Some((
            e.id.name.as_str(),
            Binding::Declared {
                what: "enum",
                span: e.id.span,
            },
        )),
        _ => None,
    }
}

fn add_variables<'a>(m: &mut Module<'a>, d: &'a VariableDeclaration<'a>, exported: bool) {
    for declarator in &d.declarations {
        let mut names = Vec::new();
        bound_names(&declarator.id, &mut names);
        for (name, span) in names {
            let binding = match (&declarator.id, d.kind) {
                (BindingPattern::BindingIdentifier(_), VariableDeclarationKind::Const) => {
                    Binding::Const(declarator)
                }
                (BindingPattern::BindingIdentifier(_), kind) => Binding::Mutable {
                    keyword: match kind {
                        VariableDeclarationKind::Var => "var",
                        VariableDeclarationKind::Let => "let",
                        VariableDeclarationKind::Using => "using",
                        _ => "await using",
                    },
                    span: Span::new(d.span.start, declarator.id.span().end),
                },
                _ => Binding::Destructured { span },
            };
            m.bindings.insert(name, binding);
            if exported {
                m.exports.insert(name, Export::Local(name));
            }
        }
    }
}

fn bound_names<'a>(pattern: &'a BindingPattern<'a>, out: &mut Vec<(&'a str, Span)>) {
    match pattern {
        BindingPattern::BindingIdentifier(id) => out.push((id.name.as_str(), id.span)),
        BindingPattern::ObjectPattern(o) => {
            for p in &o.properties {
                bound_names(&p.value, out);
            }
            if let Some(rest) = &o.rest {
                bound_names(&rest.argument, out);
            }
        }
        BindingPattern::ArrayPattern(a) => {
            for p in a.elements.iter().flatten() {
                bound_names(p, out);
            }
            if let Some(rest) = &a.rest {
                bound_names(&rest.argument, out);
            }
        }
        BindingPattern::AssignmentPattern(a) => bound_names(&a.left, out),
    }
}

fn add_import<'a>(m: &mut Module<'a>, imp: &'a ImportDeclaration<'a>) {
    if imp.import_kind.is_type() {
        return;
    }
    let Some(specifiers) = &imp.specifiers else {
        return;
    };
    for spec in specifiers {
        let (local, imported, span) = match spec {
            ImportDeclarationSpecifier::ImportSpecifier(s) => {
                if s.import_kind.is_type() {
                    continue;
                }
                (
                    &s.local,
                    Imported::Named(s.imported.name().as_str()),
                    s.span,
                )
            }
            ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                (&s.local, Imported::Named("default"), s.span)
            }
            ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                (&s.local, Imported::Namespace, s.span)
            }
        };
        if let Imported::Named("LuaAgent") = imported {
            m.agent_names.push(local.name.as_str());
        }
        m.bindings.insert(
            local.name.as_str(),
            Binding::Import {
                decl: imp,
                imported,
                span,
            },
        );
    }
}
