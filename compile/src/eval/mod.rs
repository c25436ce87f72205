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

//!
//! The files, in layers (each uses only those before it):
//! - `limits`: the bounds (nesting, steps, copying) that keep hostile input finite;
//! - `module`: parse one file and index its top-level bindings and exports;
//! - `agent`: find the `LuaAgent(...)` call and the names declared around it;
//! - `class`: lua-cli's other form, `class X extends LuaAgent { ... }` (through base classes
//!   in other files), read when the entry has no `LuaAgent(...)` call;
//! - the evaluator, one recursive walk split by what it reads: this file (the run, the
//!   module cache, the config object, memoized bindings and cycle detection), `expr`
//!   (each kind of expression), `text` (templates and `+`) and `imports` (specifier to
//!   file, import to export).
//!
//! It must not know component names or anything outside the project's files.

mod agent;
mod class;
mod expr;
mod imports;
mod limits;
mod module;
mod text;

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use oxc_allocator::Allocator;
use oxc_ast::ast::Expression;
use oxc_span::{GetSpan, Span};

use self::agent::{Found, find_agent};
use self::imports::ImportSite;
use self::limits::{Depth, MAX_EXPANSION, weight};
use self::module::Module;
use crate::error::CompileError;
use crate::literal::is_identifier_name;
use crate::model::{Compiled, LiteralKind, Node, Origin, Unreadable};
use crate::source::{Loader, sha256_hex};

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
    let (fields, unkeyed, config) = match find_agent(&module) {
        Some(found) => ev.eval_config(&module, &found)?,
        // lua-cli's other form: `class X extends LuaAgent { ... }` (`class`).
        None => ev
            .eval_class_agent(&module)?
            .ok_or_else(|| CompileError::NoAgent { file: entry.into() })?,
    };
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
        let module = Rc::new(module::parse(self.alloc, rel, bytes)?);
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
                format!("the config is {}", expr::describe(&other)),
            )),
        }
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
}

/// The evaluated config object: its keys, the parts that could not be keyed, where it is.
type ConfigParts = (BTreeMap<String, Node>, Vec<Unreadable>, Origin);

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
