//! Text built from parts: template literals and `+` chains, with JavaScript's conversions.
//!
//! The operands are evaluated by `eval` (`expr.rs`); this file only combines their values.

use std::rc::Rc;

use oxc_ast::ast::{BinaryOperator, Expression, TemplateLiteral};
use oxc_span::GetSpan;

use super::agent::Shadowed;
use super::expr::{LONE_SURROGATE, describe, number};
use super::limits::Depth;
use super::module::Module;
use super::{EvalResult, Evaluator};
use crate::literal::js_number_to_string;
use crate::model::{LiteralKind, Node};

impl<'a> Evaluator<'a, '_> {
    pub(super) fn eval_template(
        &mut self,
        m: &Rc<Module<'a>>,
        tpl: &'a TemplateLiteral<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        let span = tpl.span;
        let mut value = String::new();
        for (i, quasi) in tpl.quasis.iter().enumerate() {
            if quasi.lone_surrogates {
                return Ok(m.unreadable(span, LONE_SURROGATE));
            }
            let Some(cooked) = &quasi.value.cooked else {
                return Ok(m.unreadable(quasi.span, "the template has an invalid escape sequence"));
            };
            value.push_str(cooked.as_str());
            if let Some(sub) = tpl.expressions.get(i) {
                match self.eval(m, sub, shadowed, depth.step())? {
                    Node::Unreadable(u) => return Ok(Node::Unreadable(u)),
                    node => match stringify(&node) {
                        Some(s) => value.push_str(&s),
                        None => {
                            return Ok(m.unreadable(
                                sub.span(),
                                format!(
                                    "{} inside `${{}}` is not converted to text statically",
                                    describe(&node)
                                ),
                            ));
                        }
                    },
                }
            }
        }
        let kind = if tpl.expressions.is_empty() {
            LiteralKind::Template
        } else {
            LiteralKind::Composite
        };
        Ok(Node::String {
            value,
            origin: m.origin(span, kind),
        })
    }

    /// `a + b + c`, flattened first: a long chain nests to the left and must not recurse.
    pub(super) fn eval_concat(
        &mut self,
        m: &Rc<Module<'a>>,
        expr: &'a Expression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> EvalResult {
        let mut operands = Vec::new();
        let mut cur = expr;
        while let Expression::BinaryExpression(bin) = cur {
            if bin.operator != BinaryOperator::Addition {
                break;
            }
            operands.push(&bin.right);
            cur = &bin.left;
        }
        operands.push(cur);
        operands.reverse();
        let span = expr.span();
        // The running result is extended in place: copying it at every `+` would make a long
        // chain quadratic.
        let mut acc: Option<Sum> = None;
        for operand in operands {
            let node = self.eval(m, operand, shadowed, depth.step())?;
            if let Node::Unreadable(u) = node {
                return Ok(Node::Unreadable(u));
            }
            let next = match acc {
                None => Ok(Sum::start(node)),
                Some(left) => left.add(&node),
            };
            match next {
                Ok(sum) => acc = Some(sum),
                Err((left, right)) => {
                    return Ok(m.unreadable(
                        span,
                        format!("`+` on {left} and {right} is not read statically"),
                    ));
                }
            }
        }
        Ok(match acc {
            Some(Sum::Str(value)) => Node::String {
                value,
                origin: m.origin(span, LiteralKind::Composite),
            },
            Some(Sum::Num(n)) => number(m, span, n, LiteralKind::Composite),
            Some(Sum::Other(node)) => node,
            None => m.unreadable(span, "empty expression"),
        })
    }
}

/// The running result of a `+` chain.
enum Sum {
    Str(String),
    Num(f64),
    /// The first operand, while it is neither (`[] + 'x'` is refused at the next operand).
    Other(Node),
}

impl Sum {
    fn start(node: Node) -> Sum {
        match node {
            Node::String { value, .. } => Sum::Str(value),
            Node::Number { value, .. } => Sum::Num(value),
            other => Sum::Other(other),
        }
    }

    /// JavaScript's `+` for the operand kinds read statically; the kinds of both sides if not.
    fn add(self, right: &Node) -> Result<Sum, (&'static str, &'static str)> {
        match (self, right) {
            (Sum::Num(a), Node::Number { value: b, .. }) => Ok(Sum::Num(a + b)),
            (Sum::Str(mut s), right) => match stringify(right) {
                Some(text) => {
                    s.push_str(&text);
                    Ok(Sum::Str(s))
                }
                None => Err(("a string", describe(right))),
            },
            (left, Node::String { value, .. }) => {
                let left_text = match &left {
                    Sum::Num(n) => js_number_to_string(*n),
                    Sum::Other(node) => stringify(node),
                    Sum::Str(_) => None,
                };
                match left_text {
                    Some(mut s) => {
                        s.push_str(value);
                        Ok(Sum::Str(s))
                    }
                    None => Err((left.describe(), "a string")),
                }
            }
            (left, right) => Err((left.describe(), describe(right))),
        }
    }

    fn describe(&self) -> &'static str {
        match self {
            Sum::Str(_) => "a string",
            Sum::Num(_) => "a number",
            Sum::Other(node) => describe(node),
        }
    }
}

/// `String(value)` for the scalar kinds.
fn stringify(node: &Node) -> Option<String> {
    match node {
        Node::String { value, .. } => Some(value.clone()),
        Node::Number { value, .. } => js_number_to_string(*value),
        Node::Bool { value, .. } => Some(value.to_string()),
        Node::Null { .. } => Some("null".into()),
        _ => None,
    }
}
