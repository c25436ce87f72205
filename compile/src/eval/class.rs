//! Class agents, as lua-cli reads them: `export class SupportBot extends LuaAgent { name =
//! '...'; persona = ...; model = ...; }`, possibly through base classes in other files
//! (`class SupportBot extends BaseBot`, `BaseBot` imported): every member is read along the
//! chain, the most derived declaration winning; values keep their origins, so write-back
//! replaces the literal in the class that declares it. A member written as a method or an
//! arrow function (a `model` resolved at run time, say) is unreadable ("dynamic") without
//! stopping the others; a missing `name` is derived from the class name as lua-cli derives
//! it (`SupportBot` -> `support-bot`, lua-cli's `deriveNameFromClassName`).

use std::collections::BTreeMap;
use std::rc::Rc;

use oxc_ast::ast::{
    Class, ClassElement, Declaration, ExportDefaultDeclarationKind, Expression,
    MethodDefinitionKind, Statement,
};
use oxc_span::GetSpan;

use super::limits::Depth;
use super::module::{Binding, Export, Imported, Module};
use super::{ConfigParts, Evaluator};
use crate::error::CompileError;
use crate::model::{LiteralKind, Node};

/// Longest chain of base classes followed (a cycle or a very deep hierarchy stops here).
const MAX_CHAIN: usize = 32;

/// A class and the module that declares it.
type Declared<'a> = (Rc<Module<'a>>, &'a Class<'a>);

/// What a class extends.
enum Base<'a> {
    LuaAgent,
    Class(Declared<'a>),
    /// Not LuaAgent, nor a class the project declares.
    Other,
}

impl<'a> Evaluator<'a, '_> {
    /// The entry's agent class evaluated, or `None` when it declares none: the first
    /// top-level class (exported ones first) whose chain of base classes reaches `LuaAgent`.
    pub(super) fn eval_class_agent(
        &mut self,
        m: &Rc<Module<'a>>,
    ) -> Result<Option<ConfigParts>, CompileError> {
        let mut classes = top_level_classes(m);
        classes.sort_by_key(|(_, exported)| !exported);
        for (class, _) in classes {
            if let Some(chain) = self.chain(m, class)? {
                return Ok(Some(self.eval_chain(&chain)));
            }
        }
        Ok(None)
    }

    /// `class` and its bases up to the one that extends `LuaAgent` (most derived first);
    /// `None` when the chain does not reach `LuaAgent`.
    fn chain(
        &mut self,
        m: &Rc<Module<'a>>,
        class: &'a Class<'a>,
    ) -> Result<Option<Vec<Declared<'a>>>, CompileError> {
        let mut chain: Vec<Declared<'a>> = vec![(Rc::clone(m), class)];
        while chain.len() <= MAX_CHAIN {
            let Some((module, current)) = chain.last().cloned() else {
                return Ok(None);
            };
            match self.base_of(&module, current)? {
                Base::LuaAgent => return Ok(Some(chain)),
                Base::Class(next) => chain.push(next),
                Base::Other => return Ok(None),
            }
        }
        Ok(None)
    }

    fn base_of(
        &mut self,
        m: &Rc<Module<'a>>,
        class: &'a Class<'a>,
    ) -> Result<Base<'a>, CompileError> {
        let Some(sup) = class.heritage.as_ref().map(|h| &h.expression) else {
            return Ok(Base::Other);
        };
        let name = match sup.get_inner_expression() {
            Expression::Identifier(id) => id.name.as_str(),
            Expression::StaticMemberExpression(mem) if mem.property.name == "LuaAgent" => {
                return Ok(Base::LuaAgent);
            }
            _ => return Ok(Base::Other),
        };
        if name == "LuaAgent" || m.agent_names.contains(&name) {
            return Ok(Base::LuaAgent);
        }
        if let Some((class, _)) = top_level_classes(m)
            .into_iter()
            .find(|(c, _)| c.id.as_ref().is_some_and(|id| id.name == name))
        {
            return Ok(Base::Class((Rc::clone(m), class)));
        }
        // A base class imported from a relative module of the project.
        let Some(Binding::Import {
            decl,
            imported: Imported::Named(exported),
            ..
        }) = m.bindings.get(name).copied()
        else {
            return Ok(Base::Other);
        };
        let Some(rel) = self.class_module(m.rel(), decl.source.value.as_str()) else {
            return Ok(Base::Other);
        };
        let target = self.load(&rel)?;
        Ok(exported_class(&target, exported).map_or(Base::Other, |c| Base::Class((target, c))))
    }

    /// The file a relative specifier names, if it exists.
    fn class_module(&self, importer: &str, specifier: &str) -> Option<String> {
        if !(specifier.starts_with("./") || specifier.starts_with("../")) {
            return None;
        }
        match self.resolve_module(importer, specifier) {
            super::imports::Resolved::Found(rel) => Some(rel),
            _ => None,
        }
    }

    /// The members along the chain, base first so the most derived declaration wins.
    fn eval_chain(&mut self, chain: &[Declared<'a>]) -> ConfigParts {
        let mut fields: BTreeMap<String, Node> = BTreeMap::new();
        for (module, class) in chain.iter().rev() {
            for element in &class.body.body {
                if let Some((key, node)) = self.eval_class_member(module, element) {
                    fields.insert(key, node);
                }
            }
        }
        let (module, class) = &chain[0];
        if !fields.contains_key("name")
            && let Some(id) = &class.id
        {
            fields.insert(
                "name".into(),
                Node::String {
                    value: kebab(id.name.as_str()),
                    origin: module.origin(id.span, LiteralKind::Derived),
                },
            );
        }
        (
            fields,
            Vec::new(),
            module.origin(class.body.span, LiteralKind::ClassBody),
        )
    }

    /// One instance member: a property with a value is read; a method, getter or arrow
    /// function is a run-time resolver.
    fn eval_class_member(
        &mut self,
        m: &Rc<Module<'a>>,
        element: &'a ClassElement<'a>,
    ) -> Option<(String, Node)> {
        match element {
            ClassElement::PropertyDefinition(p) if !p.r#static => {
                let key = p.key.static_name()?.into_owned();
                let value = p.value.as_ref()?;
                let node = match value.get_inner_expression() {
                    Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_) => m
                        .unreadable(
                            value.span(),
                            "a function: resolved when the agent runs (dynamic)",
                        ),
                    _ => self
                        .eval(m, value, None, Depth::default())
                        .unwrap_or_else(|e| m.unreadable(value.span(), e.to_string())),
                };
                Some((key, node))
            }
            ClassElement::MethodDefinition(d)
                if !d.r#static
                    && matches!(
                        d.kind,
                        MethodDefinitionKind::Method | MethodDefinitionKind::Get
                    ) =>
            {
                let key = d.key.static_name()?.into_owned();
                Some((
                    key,
                    m.unreadable(d.span, "a method: resolved when the agent runs (dynamic)"),
                ))
            }
            _ => None,
        }
    }
}

/// Top-level class declarations of `m`, with whether each is exported.
fn top_level_classes<'a>(m: &Module<'a>) -> Vec<(&'a Class<'a>, bool)> {
    m.program
        .body
        .iter()
        .filter_map(|stmt| match stmt {
            Statement::ClassDeclaration(c) => Some((&**c, false)),
            Statement::ExportDeclaration(e) => match &e.declaration {
                Declaration::ClassDeclaration(c) => Some((&**c, true)),
                _ => None,
            },
            Statement::ExportDefaultDeclaration(e) => match &e.declaration {
                ExportDefaultDeclarationKind::ClassDeclaration(c) => Some((&**c, true)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// The class `m` exports as `name` (`export class`, `export { Local as name }`, default).
fn exported_class<'a>(m: &Module<'a>, name: &str) -> Option<&'a Class<'a>> {
    let classes = top_level_classes(m);
    if name == "default" {
        let default = m.program.body.iter().find_map(|stmt| match stmt {
            Statement::ExportDefaultDeclaration(e) => match &e.declaration {
                ExportDefaultDeclarationKind::ClassDeclaration(c) => Some(&**c),
                _ => None,
            },
            _ => None,
        });
        if default.is_some() {
            return default;
        }
    }
    let local = match m.exports.get(name) {
        Some(Export::Local(local)) => *local,
        _ => return None,
    };
    classes
        .into_iter()
        .map(|(c, _)| c)
        .find(|c| c.id.as_ref().is_some_and(|id| id.name == local))
}

/// lua-cli's `deriveNameFromClassName`: drop a trailing `Tool`, a `-` before every capital,
/// lowercase, no leading `-` (`SupportBot` -> `support-bot`, `HTTPAgent` -> `h-t-t-p-agent`).
fn kebab(class: &str) -> String {
    let class = class.strip_suffix("Tool").unwrap_or(class);
    let mut out = String::new();
    for c in class.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
        }
        out.push(c.to_ascii_lowercase());
    }
    out.strip_prefix('-').map(str::to_owned).unwrap_or(out)
}

#[cfg(test)]
mod tests {
    use super::kebab;

    #[test]
    fn class_names_become_lua_cli_names() {
        assert_eq!(kebab("SupportBot"), "support-bot");
        assert_eq!(kebab("Bot"), "bot");
        assert_eq!(kebab("HTTPAgent"), "h-t-t-p-agent");
        assert_eq!(kebab("MyAgent2"), "my-agent2");
        assert_eq!(kebab("Order_Bot"), "order_-bot");
        assert_eq!(kebab("SearchTool"), "search");
    }
}
