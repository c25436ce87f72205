//! The expression evaluator: literals, objects, arrays, identifiers, member reads, `-x`.
//!
//! Each kind of expression read statically has its own function; `eval` dispatches. Text
//! built from parts (templates, `+`) is in `text.rs`, imports in `imports.rs`; both call back
//! into `eval` for their operands (one recursive evaluation, bounded by [`Depth`]).

use std::collections::BTreeMap;
use std::rc::Rc;

use oxc_ast::ast::{
    ArrayExpression, ArrayExpressionElement, BinaryOperator, ComputedMemberExpression, Expression,
    ObjectExpression, ObjectProperty, ObjectPropertyKind, PropertyKey, PropertyKind, SpreadElement,
    StringLiteral, UnaryExpression, UnaryOperator,
};
use oxc_span::{GetSpan, Span};

use super::agent::Shadowed;
use super::limits::Depth;
use super::module::{Binding, Imported, Module};
use super::{EvalResult, Evaluator};
use crate::error::CompileError;
use crate::literal::js_number_to_string;
use crate::model::{LiteralKind, Node, Unreadable};

impl<'a> Evaluator<'a, '_> {
    /// The value of `expr`, or why it has none statically: one named function per kind of
    /// expression read, one reason per kind that only exists at run time.
    pub(super) fn eval(
        &mut self,
        m: &Rc<Module<'a>>,
        expr: &'a Expression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        if let Some(reason) = depth.exceeded() {
            return Ok(m.unreadable(expr.span(), reason));
        }
        let expr = expr.get_inner_expression();
        let span = expr.span();
        match expr {
            Expression::StringLiteral(lit) => Ok(string_literal(m, lit)),
            Expression::TemplateLiteral(tpl) => self.eval_template(m, tpl, shadowed, depth),
            Expression::NumericLiteral(n) => Ok(number(m, span, n.value, LiteralKind::Other)),
            Expression::BooleanLiteral(b) => Ok(Node::Bool {
                value: b.value,
                origin: m.origin(span, LiteralKind::Other),
            }),
            Expression::NullLiteral(_) => Ok(Node::Null {
                origin: m.origin(span, LiteralKind::Other),
            }),
            Expression::Identifier(id) => {
                self.eval_identifier(m, id.name.as_str(), span, shadowed, depth)
            }
            Expression::ObjectExpression(obj) => self.eval_object_value(m, obj, shadowed, depth),
            Expression::ArrayExpression(arr) => self.eval_array(m, arr, shadowed, depth),
            Expression::BinaryExpression(bin) if bin.operator == BinaryOperator::Addition => {
                self.eval_concat(m, expr, shadowed, depth)
            }
            Expression::BinaryExpression(bin) => Ok(m.unreadable(
                span,
                format!(
                    "the operator `{}` is evaluated at run time",
                    bin.operator.as_str()
                ),
            )),
            Expression::UnaryExpression(un) if un.operator == UnaryOperator::UnaryNegation => {
                self.eval_negation(m, un, shadowed, depth)
            }
            Expression::UnaryExpression(un) => Ok(m.unreadable(
                span,
                format!(
                    "the operator `{}` is evaluated at run time",
                    un.operator.as_str()
                ),
            )),
            Expression::StaticMemberExpression(mem) => {
                let key = mem.property.name.as_str();
                self.eval_member(m, &mem.object, key, span, shadowed, depth)
            }
            Expression::ComputedMemberExpression(mem) => {
                self.eval_computed_member(m, mem, shadowed, depth)
            }
            other => Ok(m.unreadable(span, run_time_only(other))),
        }
    }

    /// An object literal used as a value: every key must be known.
    fn eval_object_value(
        &mut self,
        m: &Rc<Module<'a>>,
        obj: &'a ObjectExpression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        let (entries, unkeyed, composite) = self.eval_object(m, obj, shadowed, depth)?;
        if let Some(first) = unkeyed.into_iter().next() {
            let reason = format!(
                "its keys are not all known statically: `{}` at {}:{}: {}",
                first.field, first.line, first.column, first.reason
            );
            return Ok(m.unreadable(obj.span, reason));
        }
        let kind = if composite {
            LiteralKind::Composite
        } else {
            LiteralKind::ObjectLiteral
        };
        Ok(Node::Object {
            entries,
            origin: m.origin(obj.span, kind),
        })
    }

    /// An array literal; a spread of a known array is flattened into it.
    fn eval_array(
        &mut self,
        m: &Rc<Module<'a>>,
        arr: &'a ArrayExpression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        let mut items = Vec::with_capacity(arr.elements.len());
        let mut composite = false;
        for el in &arr.elements {
            match el {
                ArrayExpressionElement::SpreadElement(s) => {
                    match self.eval(m, &s.argument, shadowed, depth.step())? {
                        Node::Array { items: spread, .. } => {
                            composite = true;
                            items.extend(spread);
                        }
                        Node::Unreadable(u) => items.push(Node::Unreadable(u)),
                        other => items.push(m.unreadable(
                            s.span,
                            format!("spreading {} is not read statically", describe(&other)),
                        )),
                    }
                }
                ArrayExpressionElement::Elision(e) => {
                    items.push(m.unreadable(e.span, "array holes have no JSON value"));
                }
                _ => match el.as_expression() {
                    Some(e) => items.push(self.eval(m, e, shadowed, depth.nested())?),
                    None => items.push(m.unreadable(el.span(), "not a value")),
                },
            }
        }
        let kind = if composite {
            LiteralKind::Composite
        } else {
            LiteralKind::ArrayLiteral
        };
        Ok(Node::Array {
            items,
            origin: m.origin(arr.span, kind),
        })
    }

    /// `-x` of a number.
    fn eval_negation(
        &mut self,
        m: &Rc<Module<'a>>,
        un: &'a UnaryExpression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        let span = un.span;
        Ok(match self.eval(m, &un.argument, shadowed, depth.step())? {
            Node::Number { value, origin } => {
                let plain = matches!(
                    un.argument.get_inner_expression(),
                    Expression::NumericLiteral(_)
                );
                let kind = if plain && origin.file == m.rel() {
                    LiteralKind::Other
                } else {
                    LiteralKind::Composite
                };
                number(m, span, -value, kind)
            }
            Node::Unreadable(u) => Node::Unreadable(u),
            other => m.unreadable(
                span,
                format!("negating {} is evaluated at run time", describe(&other)),
            ),
        })
    }

    /// `obj[key]` with a key known statically.
    fn eval_computed_member(
        &mut self,
        m: &Rc<Module<'a>>,
        mem: &'a ComputedMemberExpression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        let span = mem.span;
        match self.eval(m, &mem.expression, shadowed, depth.step())? {
            Node::String { value, .. } => {
                self.eval_member(m, &mem.object, &value, span, shadowed, depth)
            }
            Node::Number { value, .. } => match js_number_to_string(value) {
                Some(key) => self.eval_member(m, &mem.object, &key, span, shadowed, depth),
                None => Ok(m.unreadable(span, "this index is not read statically")),
            },
            Node::Unreadable(u) => Ok(Node::Unreadable(u)),
            other => Ok(m.unreadable(
                span,
                format!("indexing with {} is not read statically", describe(&other)),
            )),
        }
    }

    /// Object literal: (entries, parts that could not be keyed, built with spreads?).
    pub(super) fn eval_object(
        &mut self,
        m: &Rc<Module<'a>>,
        obj: &'a ObjectExpression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> Result<ObjectParts, CompileError> {
        let mut parts: ObjectParts = (BTreeMap::new(), Vec::new(), false);
        for prop in &obj.properties {
            match prop {
                ObjectPropertyKind::SpreadProperty(spread) => {
                    self.eval_object_spread(m, spread, shadowed, depth, &mut parts)?;
                }
                ObjectPropertyKind::ObjectProperty(p) => {
                    self.eval_object_property(m, p, shadowed, depth, &mut parts)?;
                }
            }
        }
        Ok(parts)
    }

    /// `...x` inside an object literal: a known object's entries are merged; anything else
    /// is a part that could not be keyed, and makes the keys before it unreadable.
    fn eval_object_spread(
        &mut self,
        m: &Rc<Module<'a>>,
        spread: &'a SpreadElement<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
        (entries, unkeyed, composite): &mut ObjectParts,
    ) -> Result<(), CompileError> {
        let reason = match self.eval(m, &spread.argument, shadowed, depth.step())? {
            Node::Object { entries: more, .. } => {
                *composite = true;
                entries.extend(more);
                return Ok(());
            }
            Node::Null { .. } => return Ok(()),
            Node::Unreadable(u) => u.reason,
            other => format!("spreading {} is not read statically", describe(&other)),
        };
        let mut u = m.unreadable_at(spread.span, reason);
        u.field = m.text(spread.span).chars().take(60).collect();
        // What the spread sets at run time may replace the keys before it.
        let (line, column) = (u.line, u.column);
        for node in entries.values_mut() {
            *node = m.unreadable(
                spread.span,
                format!("the spread at {line}:{column} after it may replace it at run time"),
            );
        }
        unkeyed.push(u);
        Ok(())
    }

    /// `key: value` inside an object literal (a computed key must be known statically).
    fn eval_object_property(
        &mut self,
        m: &Rc<Module<'a>>,
        p: &'a ObjectProperty<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
        (entries, unkeyed, _): &mut ObjectParts,
    ) -> Result<(), CompileError> {
        let key = if p.computed {
            match p.key.as_expression() {
                Some(k) => match self.eval(m, k, shadowed, depth.step())? {
                    Node::String { value, .. } => Some(value),
                    Node::Number { value, .. } => js_number_to_string(value),
                    _ => None,
                },
                None => None,
            }
        } else {
            static_key(&p.key)
        };
        let Some(key) = key else {
            let mut u = m.unreadable_at(p.key.span(), "this computed key is not known statically");
            u.field = format!(
                "[{}]",
                m.text(p.key.span()).chars().take(60).collect::<String>()
            );
            unkeyed.push(u);
            return Ok(());
        };
        let node = if p.kind == PropertyKind::Init {
            self.eval(m, &p.value, shadowed, depth.nested())?
        } else {
            m.unreadable(p.span, "getters and setters run at run time")
        };
        entries.insert(key, node);
        Ok(())
    }

    fn eval_member(
        &mut self,
        m: &Rc<Module<'a>>,
        object: &'a Expression<'a>,
        key: &str,
        span: Span,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        // `ns.X` where `import * as ns from "./m"`: the export X of ./m.
        if let Expression::Identifier(id) = object.get_inner_expression() {
            let name = id.name.as_str();
            let is_shadowed = shadowed.is_some_and(|s| s.contains(name));
            if let (
                false,
                Some(Binding::Import {
                    decl,
                    imported: Imported::Namespace,
                    span: ispan,
                }),
            ) = (is_shadowed, m.bindings.get(name).copied())
            {
                return self.eval_import(m, decl, key, ispan, depth);
            }
        }
        Ok(match self.eval(m, object, shadowed, depth.step())? {
            Node::Object { mut entries, .. } => match entries.remove(key) {
                Some(node) => node,
                None => m.unreadable(span, format!("the object has no key `{key}`")),
            },
            Node::Array { mut items, .. } => match key.parse::<usize>() {
                Ok(i) if i < items.len() => items.swap_remove(i),
                _ => m.unreadable(span, format!("the array has no item `{key}`")),
            },
            Node::Unreadable(u) => Node::Unreadable(u),
            other => m.unreadable(
                span,
                format!(
                    "reading `{key}` of {} is not done statically",
                    describe(&other)
                ),
            ),
        })
    }

    pub(super) fn eval_identifier(
        &mut self,
        m: &Rc<Module<'a>>,
        name: &str,
        span: Span,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        if shadowed.is_some_and(|s| s.contains(name)) {
            return Ok(m.unreadable(
                span,
                format!("`{name}` is declared inside a function or block; only top-level `const`s are read"),
            ));
        }
        let Some(binding) = m.bindings.get(name).copied() else {
            let reason = match name {
                "undefined" => "`undefined` has no JSON value".to_owned(),
                "process" => "`process` is only known at run time".to_owned(),
                _ => format!("`{name}` is not a top-level `const` of {}", m.rel()),
            };
            return Ok(m.unreadable(span, reason));
        };
        match binding {
            Binding::Const(decl) => {
                let Some(init) = &decl.init else {
                    return Ok(
                        m.unreadable(decl.span, format!("`{name}` is declared without a value"))
                    );
                };
                let key = (m.rel().to_owned(), format!("const {name}"));
                self.memoized(m, key, decl.id.span(), |ev| {
                    ev.eval(m, init, None, depth.step())
                })
            }
            Binding::Mutable { keyword, span } => Ok(m.unreadable(
                span,
                format!("`{keyword}` bindings can change at run time; use `const`"),
            )),
            Binding::Destructured { span } => Ok(m.unreadable(
                span,
                format!("`{name}` comes from destructuring, which is not read statically"),
            )),
            Binding::Declared { what: "enum", span } => Ok(m.unreadable(
                span,
                format!("`{name}` is a TypeScript enum; enums are not read statically"),
            )),
            Binding::Declared { what, span } => {
                Ok(m.unreadable(span, format!("`{name}` is {what}, not a value")))
            }
            Binding::Import {
                decl,
                imported: Imported::Named(imported),
                span,
            } => self.eval_import(m, decl, imported, span, depth),
            Binding::Import {
                imported: Imported::Namespace,
                span,
                ..
            } => Ok(m.unreadable(
                span,
                format!("`{name}` is a whole module; read one export, as in `{name}.X`"),
            )),
        }
    }
}

/// An evaluated object literal: entries, the parts that could not be keyed (spreads and
/// computed keys not known statically), and whether known spreads contributed.
pub(super) type ObjectParts = (BTreeMap<String, Node>, Vec<Unreadable>, bool);

pub(super) const LONE_SURROGATE: &str =
    "the text contains a lone surrogate escape, which has no UTF-8 form";

pub(super) fn number(m: &Module<'_>, span: Span, value: f64, kind: LiteralKind) -> Node {
    if value.is_finite() {
        Node::Number {
            value,
            origin: m.origin(span, kind),
        }
    } else {
        m.unreadable(span, "the number is not finite, so it has no JSON value")
    }
}

/// A property key known without evaluating anything.
fn static_key(key: &PropertyKey<'_>) -> Option<String> {
    match key {
        PropertyKey::StaticIdentifier(id) => Some(id.name.as_str().into()),
        PropertyKey::StringLiteral(s) if !s.lone_surrogates => Some(s.value.as_str().into()),
        PropertyKey::NumericLiteral(n) => js_number_to_string(n.value),
        _ => None,
    }
}

pub(super) fn describe(node: &Node) -> &'static str {
    match node {
        Node::String { .. } => "a string",
        Node::Object { .. } => "an object",
        Node::Number { .. } => "a number",
        Node::Bool { .. } => "a boolean",
        Node::Null { .. } => "null",
        Node::Array { .. } => "an array",
        Node::Unreadable(_) => "an unreadable value",
    }
}

/// A string literal, with the quote it is written with.
fn string_literal(m: &Module<'_>, lit: &StringLiteral<'_>) -> Node {
    if lit.lone_surrogates {
        return m.unreadable(lit.span, LONE_SURROGATE);
    }
    let kind = if m.text(lit.span).starts_with('\'') {
        LiteralKind::SingleQuoted
    } else {
        LiteralKind::DoubleQuoted
    };
    Node::String {
        value: lit.value.as_str().into(),
        origin: m.origin(lit.span, kind),
    }
}

/// Why an expression that is none of the kinds read statically has no value here.
fn run_time_only(expr: &Expression<'_>) -> &'static str {
    match expr {
        Expression::CallExpression(_) => "function calls are evaluated at run time",
        Expression::NewExpression(_) => "`new` expressions are evaluated at run time",
        Expression::TaggedTemplateExpression(_) => "tagged templates are evaluated at run time",
        Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_) => {
            "functions have no JSON value"
        }
        Expression::ClassExpression(_) => "classes have no JSON value",
        Expression::ConditionalExpression(_) | Expression::LogicalExpression(_) => {
            "conditions are evaluated at run time"
        }
        Expression::AwaitExpression(_) => "`await` happens at run time",
        Expression::ChainExpression(_) => "optional chaining is evaluated at run time",
        Expression::BigIntLiteral(_) => "BigInt values have no JSON value",
        Expression::RegExpLiteral(_) => "regular expressions have no JSON value",
        _ => "this expression is evaluated at run time",
    }
}
