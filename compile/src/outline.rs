//! The source layout write-back needs, found by parsing a file again: the entries of the
//! object or array literal at a span, the top-level imports, and the names a file binds.
//!
//! Evaluation keeps only values and origins; write-back asks for these few facts about one
//! file at a time, when it writes.

use std::collections::HashSet;

use oxc_allocator::Allocator;
use oxc_ast::AstKind;
use oxc_ast::ast::{
    BindingPattern, Declaration, ImportDeclarationSpecifier, ObjectPropertyKind, PropertyKey,
    Statement,
};
use oxc_ast_visit::Visit;
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};

use crate::literal::{Quote, js_number_to_string};

/// One entry of an object or array literal.
#[derive(Clone, Debug)]
pub(crate) struct Part {
    /// The whole entry (`key: value`, `...spread`, or an array item).
    pub span: Span,
    /// The key when it is written statically (identifier or string), for object entries.
    pub key: Option<String>,
    /// A computed key (`[K]: v`), a spread, a getter/setter or a method: the entry cannot be
    /// reprinted from its value.
    pub dynamic: bool,
}

/// The literal at a span.
#[derive(Debug, Default)]
pub(crate) struct Container {
    pub parts: Vec<Part>,
}

impl Container {
    pub fn has_dynamic(&self) -> bool {
        self.parts.iter().any(|p| p.dynamic)
    }
}

/// A top-level `import` declaration.
#[derive(Debug)]
pub(crate) struct Import {
    pub span: Span,
    /// The module specifier as JavaScript reads it.
    pub specifier: String,
    /// The quote of the specifier.
    pub quote: Quote,
    /// (imported name, local name) of each named or default specifier.
    pub names: Vec<(String, String)>,
}

/// What write-back needs to know about one file.
#[derive(Debug, Default)]
pub(crate) struct Outline {
    /// The literal at the requested span, if there is one there.
    pub container: Option<Container>,
    pub imports: Vec<Import>,
    /// Every name bound at the top level (imports and declarations).
    pub top_names: HashSet<String>,
    /// The quote of the first quoted string in the file (import specifiers included).
    pub first_quote: Option<Quote>,
}

pub(crate) fn slice(text: &str, span: Span) -> &str {
    text.get(span.start as usize..span.end as usize)
        .unwrap_or("")
}

/// The outline of `text` (file `rel`), with the literal at `span` if given.
pub(crate) fn outline(text: &str, rel: &str, span: Option<Span>) -> Outline {
    crate::source::with_big_stack(|| outline_here(text, rel, span)).unwrap_or_default()
}

fn outline_here(text: &str, rel: &str, span: Option<Span>) -> Outline {
    let allocator = Allocator::default();
    let source_type = SourceType::from_path(rel).unwrap_or_else(|_| SourceType::ts());
    let ret = Parser::new(&allocator, text, source_type).parse();
    let mut out = Outline::default();
    for stmt in &ret.program.body {
        index_statement(stmt, text, &mut out);
    }
    let mut finder = Finder {
        span,
        text,
        container: None,
        first_quote: None,
    };
    finder.visit_program(&ret.program);
    out.container = finder.container;
    out.first_quote = finder.first_quote;
    out
}

fn index_statement(stmt: &Statement<'_>, text: &str, out: &mut Outline) {
    match stmt {
        Statement::ImportDeclaration(imp) => {
            let mut names = Vec::new();
            for spec in imp.specifiers.iter().flatten() {
                let (imported, local) = match spec {
                    ImportDeclarationSpecifier::ImportSpecifier(s) => {
                        (s.imported.name().as_str().to_owned(), &s.local)
                    }
                    ImportDeclarationSpecifier::ImportDefaultSpecifier(s) => {
                        ("default".to_owned(), &s.local)
                    }
                    ImportDeclarationSpecifier::ImportNamespaceSpecifier(s) => {
                        ("*".to_owned(), &s.local)
                    }
                };
                out.top_names.insert(local.name.as_str().to_owned());
                names.push((imported, local.name.as_str().to_owned()));
            }
            out.imports.push(Import {
                span: imp.span,
                specifier: imp.source.value.as_str().to_owned(),
                quote: quote_of(slice(text, imp.source.span)),
                names,
            });
        }
        Statement::ExportDeclaration(e) => declared_names(&e.declaration, out),
        other => {
            if let Some(decl) = other.as_declaration() {
                declared_names(decl, out);
            }
        }
    }
}

fn declared_names(decl: &Declaration<'_>, out: &mut Outline) {
    match decl {
        Declaration::VariableDeclaration(d) => {
            for declarator in &d.declarations {
                pattern_names(&declarator.id, out);
            }
        }
        Declaration::FunctionDeclaration(f) => {
            if let Some(id) = &f.id {
                out.top_names.insert(id.name.as_str().to_owned());
            }
        }
        Declaration::ClassDeclaration(c) => {
            if let Some(id) = &c.id {
                out.top_names.insert(id.name.as_str().to_owned());
            }
        }
        Declaration::TSEnumDeclaration(e) => {
            out.top_names.insert(e.id.name.as_str().to_owned());
        }
        _ => {}
    }
}

fn pattern_names(pattern: &BindingPattern<'_>, out: &mut Outline) {
    match pattern {
        BindingPattern::BindingIdentifier(id) => {
            out.top_names.insert(id.name.as_str().to_owned());
        }
        BindingPattern::ObjectPattern(o) => {
            for p in &o.properties {
                pattern_names(&p.value, out);
            }
            if let Some(rest) = &o.rest {
                pattern_names(&rest.argument, out);
            }
        }
        BindingPattern::ArrayPattern(a) => {
            for p in a.elements.iter().flatten() {
                pattern_names(p, out);
            }
            if let Some(rest) = &a.rest {
                pattern_names(&rest.argument, out);
            }
        }
        BindingPattern::AssignmentPattern(a) => pattern_names(&a.left, out),
    }
}

fn quote_of(raw: &str) -> Quote {
    match raw.as_bytes().first() {
        Some(b'\'') => Quote::Single,
        Some(b'`') => Quote::Backtick,
        _ => Quote::Double,
    }
}

struct Finder<'t> {
    span: Option<Span>,
    text: &'t str,
    container: Option<Container>,
    first_quote: Option<Quote>,
}

impl<'a> Visit<'a> for Finder<'_> {
    fn enter_node(&mut self, kind: AstKind<'a>) {
        match kind {
            AstKind::StringLiteral(s) if self.first_quote.is_none() => {
                self.first_quote = Some(quote_of(slice(self.text, s.span)));
            }
            AstKind::ObjectExpression(obj)
                if self.container.is_none() && Some(obj.span) == self.span =>
            {
                let parts = obj.properties.iter().map(object_part).collect();
                self.container = Some(Container { parts });
            }
            AstKind::ArrayExpression(arr)
                if self.container.is_none() && Some(arr.span) == self.span =>
            {
                let parts = arr
                    .elements
                    .iter()
                    .map(|el| Part {
                        span: el.span(),
                        key: None,
                        dynamic: el.is_spread(),
                    })
                    .collect();
                self.container = Some(Container { parts });
            }
            _ => {}
        }
    }
}

fn object_part(prop: &ObjectPropertyKind<'_>) -> Part {
    match prop {
        ObjectPropertyKind::SpreadProperty(s) => Part {
            span: s.span,
            key: None,
            dynamic: true,
        },
        ObjectPropertyKind::ObjectProperty(p) => {
            let key = match &p.key {
                PropertyKey::StaticIdentifier(id) if !p.computed => {
                    Some(id.name.as_str().to_owned())
                }
                PropertyKey::StringLiteral(s) if !p.computed => Some(s.value.as_str().to_owned()),
                PropertyKey::NumericLiteral(n) if !p.computed => js_number_to_string(n.value),
                _ => None,
            };
            let plain = p.kind == oxc_ast::ast::PropertyKind::Init && !p.method;
            Part {
                span: p.span,
                dynamic: key.is_none() || !plain,
                key,
            }
        }
    }
}
