//! Static evaluation of the `LuaAgent` config object.
//!
//! The entry file is parsed with oxc, the first `new LuaAgent(...)` / `LuaAgent(...)` is found,
//! and its argument is evaluated generically: literals, templates, `+`, top-level `const`
//! bindings (any declaration order), relative imports and re-exports, member access on known
//! objects, TypeScript wrappers (`as`, `satisfies`, `!`, parentheses). Anything else becomes a
//! [`Node::Unreadable`] with a reason and a code frame; it never stops the other values.
//!
//! Imports are followed lazily, only when a value needs them, so an unrelated broken import
//! (a skill's helper, say) does not stop compilation. Every module is parsed once into one arena
//! that lives as long as the evaluation.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::rc::Rc;

use oxc_allocator::{Allocator, Vec as ArenaVec};
use oxc_ast::AstKind;
use oxc_ast::ast::{
    Argument, ArrayExpressionElement, BinaryOperator, BindingPattern, Declaration,
    ExportDefaultDeclarationKind, Expression, ImportDeclaration, ImportDeclarationSpecifier,
    ObjectExpression, ObjectPropertyKind, Program, PropertyKey, PropertyKind, Statement,
    StringLiteral, TemplateLiteral, UnaryOperator, VariableDeclaration, VariableDeclarationKind,
    VariableDeclarator,
};
use oxc_ast_visit::Visit;
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType, Span};

use crate::error::CompileError;
use crate::literal::{is_identifier_name, js_number_to_string};
use crate::model::{Compiled, LiteralKind, Node, Origin, Unreadable};
use crate::source::{Loader, SourceText, join_rel, sha256_hex};

/// How deep objects and arrays may nest inside each other. It keeps the manifest within
/// serde_json's own nesting limit, so a cached manifest can always be read back.
const MAX_DEPTH: u32 = 48;

/// How many evaluation steps (`const`s, imports, operators, member reads, nested values) one
/// value may go through. It bounds recursion, so hostile input cannot overflow the stack.
const MAX_STEPS: u32 = 512;

/// Where an evaluation is: how deep in objects and arrays, and after how many steps.
#[derive(Clone, Copy, Debug, Default)]
struct Depth {
    nest: u32,
    steps: u32,
}

impl Depth {
    /// One level deeper inside an object or array.
    fn nested(self) -> Self {
        Depth {
            nest: self.nest + 1,
            steps: self.steps + 1,
        }
    }

    /// One more step at the same level (a reference, an operand, an import).
    fn step(self) -> Self {
        Depth {
            nest: self.nest,
            steps: self.steps + 1,
        }
    }

    /// Why evaluation stops here, if it does.
    fn exceeded(self) -> Option<String> {
        if self.nest > MAX_DEPTH {
            Some(format!(
                "objects and arrays nest more than {MAX_DEPTH} levels deep"
            ))
        } else if self.steps > MAX_STEPS {
            Some(format!(
                "the value is built through more than {MAX_STEPS} steps (`const`s, imports and operators referring to each other)"
            ))
        } else {
            None
        }
    }
}

/// How much copying of already evaluated values one evaluation may do, in [`weight`] units
/// (some 200,000 values, or 25 MiB of text).
const MAX_EXPANSION: u64 = 400_000;

/// The cost of copying a value: a few units per node (each carries an origin), plus one per
/// 64 bytes of text (values, keys, diagnostics' frames).
fn weight(node: &Node) -> u64 {
    let text = |s: &str| s.len() as u64 / 64;
    2 + match node {
        Node::String { value, .. } => text(value),
        Node::Object { entries, .. } => entries.iter().map(|(k, v)| text(k) + weight(v)).sum(),
        Node::Array { items, .. } => items.iter().map(weight).sum(),
        Node::Unreadable(u) => text(&u.frame) + text(&u.reason),
        _ => 0,
    }
}

/// Evaluate the project whose files `loader` reads, starting at `entry` (normalized).
pub(crate) fn evaluate(loader: &dyn Loader, entry: &str) -> Result<Compiled, CompileError> {
    crate::source::with_big_stack(|| evaluate_here(loader, entry)).unwrap_or_else(|| {
        Err(CompileError::Io {
            path: loader.display_path(entry),
            source: std::io::Error::other("could not start the compiler thread"),
        })
    })
}

fn evaluate_here(loader: &dyn Loader, entry: &str) -> Result<Compiled, CompileError> {
    let allocator = Allocator::default();
    let mut ev = Evaluator {
        alloc: &allocator,
        loader,
        modules: HashMap::new(),
        inputs: BTreeMap::new(),
        stack: Vec::new(),
        memo: HashMap::new(),
        expanded: 0,
        exhausted: None,
        sites: Vec::new(),
    };
    let module = ev.load(entry)?;
    let found = find_agent(&module).ok_or_else(|| CompileError::NoAgent { file: entry.into() })?;
    let (fields, unkeyed, config) = ev.eval_config(&module, &found)?;
    let mut fields = fields;
    for (key, node) in &mut fields {
        assign_field_paths(node, &top_level_path(key));
    }
    Ok(Compiled {
        format: crate::FORMAT,
        entry: entry.into(),
        fields,
        inputs: ev.inputs,
        unkeyed,
        config,
    })
}

/// A parsed module and its top-level bindings.
struct Module<'a> {
    src: SourceText,
    bindings: HashMap<&'a str, Binding<'a>>,
    exports: HashMap<&'a str, Export<'a>>,
    star_exports: Vec<&'a StringLiteral<'a>>,
    /// Local names under which `LuaAgent` is imported (`import { LuaAgent as Agent }`).
    agent_names: Vec<&'a str>,
    program: &'a Program<'a>,
}

impl Module<'_> {
    fn rel(&self) -> &str {
        &self.src.rel
    }

    fn origin(&self, span: Span, literal: LiteralKind) -> Origin {
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

    fn unreadable(&self, span: Span, reason: impl Into<String>) -> Node {
        Node::Unreadable(self.unreadable_at(span, reason))
    }

    fn unreadable_at(&self, span: Span, reason: impl Into<String>) -> Unreadable {
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

    fn text(&self, span: Span) -> &str {
        self.src
            .text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }
}

#[derive(Clone, Copy)]
enum Binding<'a> {
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
enum Imported<'a> {
    Named(&'a str),
    Namespace,
}

#[derive(Clone, Copy)]
enum Export<'a> {
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

/// Where an import is written, for error messages.
#[derive(Clone)]
struct ImportSite {
    file: String,
    line: u32,
    column: u32,
    specifier: String,
}

impl ImportSite {
    fn error(&self, reason: String) -> CompileError {
        CompileError::Import {
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            specifier: self.specifier.clone(),
            reason,
        }
    }
}

/// Names declared in functions or blocks around the `LuaAgent(...)` call: they shadow the
/// top-level bindings of the same name, which therefore must not be used for them.
type Shadowed = HashSet<String>;

struct Evaluator<'a, 'l> {
    alloc: &'a Allocator,
    loader: &'l dyn Loader,
    modules: HashMap<String, Rc<Module<'a>>>,
    inputs: BTreeMap<String, String>,
    /// Bindings and exports being evaluated, to detect cycles: (file, key).
    stack: Vec<(String, String)>,
    /// Finished bindings and exports: (file, key) -> value (field paths not yet assigned).
    memo: HashMap<(String, String), (Node, u64)>,
    /// Weight of the values copied out of `memo` so far (see [`MAX_EXPANSION`]).
    expanded: u64,
    /// The diagnostic given for every copy once [`MAX_EXPANSION`] is reached.
    exhausted: Option<Unreadable>,
    /// The imports being followed, innermost last: where a cycle error points.
    sites: Vec<ImportSite>,
}

type EvalResult = Result<Node, CompileError>;

impl<'a> Evaluator<'a, '_> {
    /// Read, hash and parse `rel`, once.
    fn load(&mut self, rel: &str) -> Result<Rc<Module<'a>>, CompileError> {
        if let Some(m) = self.modules.get(rel) {
            return Ok(Rc::clone(m));
        }
        let bytes = self.loader.read(rel).map_err(|source| CompileError::Io {
            path: self.loader.display_path(rel),
            source,
        })?;
        self.inputs.insert(rel.into(), sha256_hex(&bytes));
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
        let arena_text: &'a str = self.alloc.alloc_str(&src.text);
        let source_type = SourceType::from_path(rel).unwrap_or_else(|_| SourceType::ts());
        let ret = Parser::new(self.alloc, arena_text, source_type).parse();
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
        let program: &'a Program<'a> = self.alloc.alloc(ret.program);
        let module = Rc::new(index_module(src, program));
        self.modules.insert(rel.into(), Rc::clone(&module));
        Ok(module)
    }

    /// Evaluate the config argument: its keys, the parts that could not be keyed, and where
    /// the object literal is.
    fn eval_config(
        &mut self,
        m: &Rc<Module<'a>>,
        found: &Found<'a>,
    ) -> Result<ConfigParts, CompileError> {
        let not_object = |m: &Module<'a>, span: Span, reason: String| {
            let (line, column) = m.src.line_col(span.start);
            CompileError::AgentNotObject {
                file: m.rel().into(),
                line,
                column,
                frame: m.src.frame(span.start, span.end, &reason),
                reason,
            }
        };
        let Some(arg) = found.arguments.first() else {
            return Err(not_object(
                m,
                found.span,
                "LuaAgent is called without a config".into(),
            ));
        };
        let Some(expr) = arg.as_expression() else {
            return Err(not_object(
                m,
                arg.span(),
                "a spread argument is not read statically".into(),
            ));
        };
        // The config object itself is kept open: keys it states are read even when a spread
        // or computed key elsewhere in it is not.
        if let Expression::ObjectExpression(obj) = expr.get_inner_expression() {
            let (entries, unkeyed, composite) =
                self.eval_object(m, obj, Some(&found.shadowed), Depth::default())?;
            let kind = if composite {
                LiteralKind::Composite
            } else {
                LiteralKind::ObjectLiteral
            };
            return Ok((entries, unkeyed, m.origin(obj.span, kind)));
        }
        match self.eval(m, expr, Some(&found.shadowed), Depth::default())? {
            Node::Object { entries, origin } => Ok((entries, Vec::new(), origin)),
            Node::Unreadable(u) => {
                let (line, column) = (u.line, u.column);
                Err(CompileError::AgentNotObject {
                    file: u.file,
                    line,
                    column,
                    frame: u.frame,
                    reason: u.reason,
                })
            }
            other => Err(not_object(
                m,
                expr.span(),
                format!("the config is {}", describe(&other)),
            )),
        }
    }

    fn eval(
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
        Ok(match expr {
            Expression::StringLiteral(lit) => {
                if lit.lone_surrogates {
                    return Ok(m.unreadable(span, LONE_SURROGATE));
                }
                let kind = if m.text(span).starts_with('\'') {
                    LiteralKind::SingleQuoted
                } else {
                    LiteralKind::DoubleQuoted
                };
                Node::String {
                    value: lit.value.as_str().into(),
                    origin: m.origin(span, kind),
                }
            }
            Expression::TemplateLiteral(tpl) => self.eval_template(m, tpl, shadowed, depth)?,
            Expression::NumericLiteral(n) => number(m, span, n.value, LiteralKind::Other),
            Expression::BooleanLiteral(b) => Node::Bool {
                value: b.value,
                origin: m.origin(span, LiteralKind::Other),
            },
            Expression::NullLiteral(_) => Node::Null {
                origin: m.origin(span, LiteralKind::Other),
            },
            Expression::Identifier(id) => {
                self.eval_identifier(m, id.name.as_str(), span, shadowed, depth)?
            }
            Expression::ObjectExpression(obj) => {
                let (entries, unkeyed, composite) = self.eval_object(m, obj, shadowed, depth)?;
                if let Some(first) = unkeyed.into_iter().next() {
                    let reason = format!(
                        "its keys are not all known statically: `{}` at {}:{}: {}",
                        first.field, first.line, first.column, first.reason
                    );
                    return Ok(m.unreadable(span, reason));
                }
                let kind = if composite {
                    LiteralKind::Composite
                } else {
                    LiteralKind::ObjectLiteral
                };
                Node::Object {
                    entries,
                    origin: m.origin(span, kind),
                }
            }
            Expression::ArrayExpression(arr) => {
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
                                    format!(
                                        "spreading {} is not read statically",
                                        describe(&other)
                                    ),
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
                Node::Array {
                    items,
                    origin: m.origin(span, kind),
                }
            }
            Expression::BinaryExpression(bin) if bin.operator == BinaryOperator::Addition => {
                self.eval_concat(m, expr, shadowed, depth)?
            }
            Expression::BinaryExpression(bin) => m.unreadable(
                span,
                format!(
                    "the operator `{}` is evaluated at run time",
                    bin.operator.as_str()
                ),
            ),
            Expression::UnaryExpression(un) if un.operator == UnaryOperator::UnaryNegation => {
                match self.eval(m, &un.argument, shadowed, depth.step())? {
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
                }
            }
            Expression::UnaryExpression(un) => m.unreadable(
                span,
                format!(
                    "the operator `{}` is evaluated at run time",
                    un.operator.as_str()
                ),
            ),
            Expression::StaticMemberExpression(mem) => {
                let key = mem.property.name.as_str();
                self.eval_member(m, &mem.object, key, span, shadowed, depth)?
            }
            Expression::ComputedMemberExpression(mem) => {
                match self.eval(m, &mem.expression, shadowed, depth.step())? {
                    Node::String { value, .. } => {
                        self.eval_member(m, &mem.object, &value, span, shadowed, depth)?
                    }
                    Node::Number { value, .. } => match js_number_to_string(value) {
                        Some(key) => {
                            self.eval_member(m, &mem.object, &key, span, shadowed, depth)?
                        }
                        None => m.unreadable(span, "this index is not read statically"),
                    },
                    Node::Unreadable(u) => Node::Unreadable(u),
                    other => m.unreadable(
                        span,
                        format!("indexing with {} is not read statically", describe(&other)),
                    ),
                }
            }
            Expression::CallExpression(_) => {
                m.unreadable(span, "function calls are evaluated at run time")
            }
            Expression::NewExpression(_) => {
                m.unreadable(span, "`new` expressions are evaluated at run time")
            }
            Expression::TaggedTemplateExpression(_) => {
                m.unreadable(span, "tagged templates are evaluated at run time")
            }
            Expression::ArrowFunctionExpression(_) | Expression::FunctionExpression(_) => {
                m.unreadable(span, "functions have no JSON value")
            }
            Expression::ClassExpression(_) => m.unreadable(span, "classes have no JSON value"),
            Expression::ConditionalExpression(_) | Expression::LogicalExpression(_) => {
                m.unreadable(span, "conditions are evaluated at run time")
            }
            Expression::AwaitExpression(_) => m.unreadable(span, "`await` happens at run time"),
            Expression::ChainExpression(_) => {
                m.unreadable(span, "optional chaining is evaluated at run time")
            }
            Expression::BigIntLiteral(_) => m.unreadable(span, "BigInt values have no JSON value"),
            Expression::RegExpLiteral(_) => {
                m.unreadable(span, "regular expressions have no JSON value")
            }
            _ => m.unreadable(span, "this expression is evaluated at run time"),
        })
    }

    fn eval_template(
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
    fn eval_concat(
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

    /// Object literal: (entries, parts that could not be keyed, built with spreads?).
    fn eval_object(
        &mut self,
        m: &Rc<Module<'a>>,
        obj: &'a ObjectExpression<'a>,
        shadowed: Option<&Shadowed>,
        depth: Depth,
    ) -> Result<ObjectParts, CompileError> {
        let mut entries = BTreeMap::new();
        let mut unkeyed = Vec::new();
        let mut composite = false;
        for prop in &obj.properties {
            match prop {
                ObjectPropertyKind::SpreadProperty(spread) => {
                    match self.eval(m, &spread.argument, shadowed, depth.step())? {
                        Node::Object { entries: more, .. } => {
                            composite = true;
                            entries.extend(more);
                        }
                        Node::Null { .. } => {}
                        other => {
                            let reason = match other {
                                Node::Unreadable(u) => u.reason,
                                other => {
                                    format!("spreading {} is not read statically", describe(&other))
                                }
                            };
                            let mut u = m.unreadable_at(spread.span, reason);
                            u.field = m.text(spread.span).chars().take(60).collect();
                            // What the spread sets at run time may replace the keys before it.
                            let (line, column) = (u.line, u.column);
                            for node in entries.values_mut() {
                                *node = m.unreadable(
                                    spread.span,
                                    format!(
                                        "the spread at {line}:{column} after it may replace it at run time"
                                    ),
                                );
                            }
                            unkeyed.push(u);
                        }
                    }
                }
                ObjectPropertyKind::ObjectProperty(p) => {
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
                        let mut u = m.unreadable_at(
                            p.key.span(),
                            "this computed key is not known statically",
                        );
                        u.field = format!(
                            "[{}]",
                            m.text(p.key.span()).chars().take(60).collect::<String>()
                        );
                        unkeyed.push(u);
                        continue;
                    };
                    let node = if p.kind == PropertyKind::Init {
                        self.eval(m, &p.value, shadowed, depth.nested())?
                    } else {
                        m.unreadable(p.span, "getters and setters run at run time")
                    };
                    entries.insert(key, node);
                }
            }
        }
        Ok((entries, unkeyed, composite))
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

    fn eval_identifier(
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

    /// The value of export `name` of the module `decl` imports, seen from `m`.
    fn eval_import(
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
        let key = (target.rel().to_owned(), format!("export {name}"));
        if let Some(export) = target.exports.get(name).copied() {
            let span = export_span(target, name, export);
            return self.memoized(target, key, span, |ev| match export {
                Export::Local(local) => ev.eval_identifier(target, local, span, None, depth.step()),
                Export::Default(expr) => ev.eval(target, expr, None, depth.step()),
                Export::DefaultDeclared { what, span } => {
                    Ok(target
                        .unreadable(span, format!("the default export is {what}, not a value")))
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
                    match ev.resolve_module(target.rel(), source.value.as_str()) {
                        Resolved::Found(rel) => {
                            let next = ev.load(&rel)?;
                            ev.follow(site, |ev, site| {
                                ev.eval_export(&next, inner, site, depth.step())
                            })
                        }
                        Resolved::Unsupported(reason) => Ok(target.unreadable(source.span, reason)),
                        Resolved::Missing(reason) => Err(site.error(reason)),
                    }
                }
            });
        }
        // `export * from "./other"`: the first re-exported module that has the name.
        if name != "default" {
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
                    return self.follow(star_site, |ev, site| {
                        ev.eval_export(&next, name, site, depth.step())
                    });
                }
            }
        }
        let what = if name == "default" {
            "default export".to_owned()
        } else {
            format!("export named `{name}`")
        };
        Err(site.error(format!("{} has no {what}", target.rel())))
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

    /// Evaluate a binding or export once, detecting cycles: a cycle within one file is an
    /// unreadable value (JavaScript would throw); across files it is an import error naming
    /// the chain.
    fn memoized(
        &mut self,
        m: &Rc<Module<'a>>,
        key: (String, String),
        span: Span,
        f: impl FnOnce(&mut Self) -> EvalResult,
    ) -> EvalResult {
        if let Some((node, weight)) = self.memo.get(&key) {
            // Every use copies the value: a few lines referring to each other twice per level
            // would otherwise expand exponentially ("billion laughs").
            self.expanded += weight;
            if self.expanded > MAX_EXPANSION {
                // One diagnostic, reused: rendering a frame per copy would be its own blow-up.
                let u = self.exhausted.get_or_insert_with(|| {
                    m.unreadable_at(
                        span,
                        "the config repeats the same values too many times to expand them",
                    )
                });
                return Ok(Node::Unreadable(u.clone()));
            }
            return Ok(node.clone());
        }
        if let Some(pos) = self.stack.iter().position(|k| *k == key) {
            let cycle = &self.stack[pos..];
            if cycle.iter().all(|(file, _)| *file == key.0) {
                let names: Vec<&str> = cycle.iter().map(|(_, k)| k.as_str()).collect();
                return Ok(m.unreadable(
                    span,
                    format!(
                        "the value refers to itself ({} -> {})",
                        names.join(" -> "),
                        key.1
                    ),
                ));
            }
            let mut files: Vec<&str> = Vec::new();
            for (file, _) in cycle {
                if files.last() != Some(&file.as_str()) {
                    files.push(file);
                }
            }
            files.push(&key.0);
            let reason = format!("import cycle: {}", files.join(" -> "));
            if let Some(site) = self.sites.last() {
                return Err(site.error(reason));
            }
            let (line, column) = m.src.line_col(span.start);
            return Err(CompileError::Import {
                file: m.rel().into(),
                line,
                column,
                specifier: m.rel().into(),
                reason,
            });
        }
        self.stack.push(key.clone());
        let result = f(self);
        self.stack.pop();
        let node = result?;
        self.memo.insert(key, (node.clone(), weight(&node)));
        Ok(node)
    }

    fn resolve_module(&self, importer: &str, specifier: &str) -> Resolved {
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

/// The evaluated config object: its keys, the parts that could not be keyed, where it is.
type ConfigParts = (BTreeMap<String, Node>, Vec<Unreadable>, Origin);

/// An evaluated object literal: entries, the parts that could not be keyed (spreads and
/// computed keys not known statically), and whether known spreads contributed.
type ObjectParts = (BTreeMap<String, Node>, Vec<Unreadable>, bool);

enum Resolved {
    Found(String),
    Unsupported(String),
    Missing(String),
}

const LONE_SURROGATE: &str = "the text contains a lone surrogate escape, which has no UTF-8 form";

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

fn export_span(m: &Module<'_>, name: &str, export: Export<'_>) -> Span {
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

fn number(m: &Module<'_>, span: Span, value: f64, kind: LiteralKind) -> Node {
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

fn describe(node: &Node) -> &'static str {
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
        match stmt {
            Statement::VariableDeclaration(d) => add_variables(&mut m, d, false),
            Statement::ImportDeclaration(imp) => add_import(&mut m, imp),
            Statement::ExportDeclaration(e) => match &e.declaration {
                Declaration::VariableDeclaration(d) => add_variables(&mut m, d, true),
                decl => {
                    if let Some((name, binding)) = declared(decl) {
                        m.bindings.insert(name, binding);
                        m.exports.insert(name, Export::Local(name));
                    }
                }
            },
            Statement::ExportNamedDeclaration(e) if !e.export_kind.is_type() => {
                for spec in &e.specifiers {
                    if spec.export_kind.is_type() {
                        continue;
                    }
                    m.exports.insert(
                        spec.exported.name().as_str(),
                        Export::Local(spec.local.name().as_str()),
                    );
                }
            }
            Statement::ExportFromDeclaration(e) if !e.export_kind.is_type() => {
                for spec in &e.specifiers {
                    if spec.export_kind.is_type() {
                        continue;
                    }
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
                let export = match &e.declaration {
                    ExportDefaultDeclarationKind::FunctionDeclaration(f) => {
                        Some(Export::DefaultDeclared {
                            what: "a function",
                            span: f.span,
                        })
                    }
                    ExportDefaultDeclarationKind::ClassDeclaration(c) => {
                        Some(Export::DefaultDeclared {
                            what: "a class",
                            span: c.span,
                        })
                    }
                    ExportDefaultDeclarationKind::TSInterfaceDeclaration(_) => None,
                    other => other.as_expression().map(Export::Default),
                };
                if let Some(export) = export {
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
    m
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

/// The `LuaAgent(...)` call found in the entry file.
struct Found<'a> {
    span: Span,
    arguments: &'a ArenaVec<'a, Argument<'a>>,
    shadowed: Shadowed,
}

/// The first `new LuaAgent(...)` or `LuaAgent(...)` in source order (also `new lua.LuaAgent`
/// and an aliased import), with the names declared in the scopes around it.
fn find_agent<'a>(m: &Module<'a>) -> Option<Found<'a>> {
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

/// `persona`, or `["my key"]` for a key that is not an identifier.
fn top_level_path(key: &str) -> String {
    if is_identifier_name(key) {
        key.to_owned()
    } else {
        format!("[{}]", quote_key(key))
    }
}

fn quote_key(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
}

/// Name every unreadable value after its place in the config (`persona.voice`, `skills[0]`).
fn assign_field_paths(node: &mut Node, path: &str) {
    match node {
        Node::Unreadable(u) => u.field = path.to_owned(),
        Node::Object { entries, .. } => {
            for (key, child) in entries {
                let child_path = if is_identifier_name(key) {
                    format!("{path}.{key}")
                } else {
                    format!("{path}[{}]", quote_key(key))
                };
                assign_field_paths(child, &child_path);
            }
        }
        Node::Array { items, .. } => {
            for (i, child) in items.iter_mut().enumerate() {
                assign_field_paths(child, &format!("{path}[{i}]"));
            }
        }
        _ => {}
    }
}
