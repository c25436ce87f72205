//! Finding the `LuaAgent(...)` call in the entry file, and the names declared around it.
//!
//! A syntax walk over one indexed [`Module`]; it evaluates nothing.

use std::collections::HashSet;

use oxc_allocator::Vec as ArenaVec;
use oxc_ast::AstKind;
use oxc_ast::ast::{Argument, Expression};
use oxc_ast_visit::Visit;
use oxc_span::Span;

use super::module::Module;

/// Names declared in functions or blocks around the `LuaAgent(...)` call: they shadow the
/// top-level bindings of the same name, which therefore must not be used for them.
pub(super) type Shadowed = HashSet<String>;

/// The `LuaAgent(...)` call found in the entry file.
pub(super) struct Found<'a> {
    pub(super) span: Span,
    pub(super) arguments: &'a ArenaVec<'a, Argument<'a>>,
    pub(super) shadowed: Shadowed,
}

/// The first `new LuaAgent(...)` or `LuaAgent(...)` in source order (also `new lua.LuaAgent`
/// and an aliased import), with the names declared in the scopes around it.
pub(super) fn find_agent<'a>(m: &Module<'a>) -> Option<Found<'a>> {
    let mut names: Vec<&str> = vec!["LuaAgent"];
    names.extend(m.agent_names.iter().copied());
    let mut finder = AgentFinder {
        names,
        scopes: Vec::new(),
        found: None,
    };
    finder.visit_program(m.program);
    finder.found
}

struct AgentFinder<'a, 'n> {
    names: Vec<&'n str>,
    scopes: Vec<Vec<String>>,
    found: Option<Found<'a>>,
}

impl AgentFinder<'_, '_> {
    fn is_agent(&self, callee: &Expression<'_>) -> bool {
        match callee.get_inner_expression() {
            Expression::Identifier(id) => self.names.contains(&id.name.as_str()),
            Expression::StaticMemberExpression(mem) => mem.property.name == "LuaAgent",
            _ => false,
        }
    }

    fn shadowed(&self) -> Shadowed {
        // Scope 0 is the module: its names are the top-level bindings themselves.
        self.scopes.iter().skip(1).flatten().cloned().collect()
    }
}

impl<'a> Visit<'a> for AgentFinder<'a, '_> {
    fn enter_node(&mut self, kind: AstKind<'a>) {
        if self.found.is_some() {
            return;
        }
        let (span, callee, arguments) = match kind {
            AstKind::NewExpression(e) => (e.span, &e.callee, &e.arguments),
            AstKind::CallExpression(e) => (e.span, &e.callee, &e.arguments),
            _ => return,
        };
        if self.is_agent(callee) {
            self.found = Some(Found {
                span,
                arguments,
                shadowed: self.shadowed(),
            });
        }
    }

    fn enter_scope(
        &mut self,
        _flags: oxc_syntax::scope::ScopeFlags,
        _scope_id: &std::cell::Cell<Option<oxc_syntax::scope::ScopeId>>,
    ) {
        self.scopes.push(Vec::new());
    }

    fn leave_scope(&mut self) {
        self.scopes.pop();
    }

    fn visit_binding_identifier(&mut self, it: &oxc_ast::ast::BindingIdentifier<'a>) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(it.name.as_str().to_owned());
        }
    }
}
