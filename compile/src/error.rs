//! Typed errors: compiling (the project cannot be evaluated at all) and writing back.
//!
//! A value that merely cannot be read statically is not an error: it is a
//! [`crate::Node::Unreadable`] and the other values are still read.

use std::io;
use std::path::PathBuf;

use crate::model::Unreadable;

/// Why a project could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file, relative to the project root when it is inside it.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// A file read during evaluation does not parse.
    #[error("{file}:{line}:{column}: syntax error: {message}\n{frame}")]
    Syntax {
        /// File relative to the project root.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column in chars.
        column: u32,
        /// The parser's message.
        message: String,
        /// Plain code frame.
        frame: String,
    },
    /// The entry file has no `new LuaAgent({...})`, `LuaAgent({...})` nor a class that
    /// extends `LuaAgent` (directly or through its base classes).
    #[error("{file}: no `new LuaAgent({{...}})` nor `class ... extends LuaAgent` found")]
    NoAgent {
        /// The entry file, relative to the project root.
        file: String,
    },
    /// `LuaAgent(x)` where `x` is not statically an object.
    #[error(
        "{file}:{line}:{column}: the LuaAgent config is not statically an object: {reason}\n{frame}"
    )]
    AgentNotObject {
        /// File relative to the project root.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column in chars.
        column: u32,
        /// Plain code frame.
        frame: String,
        /// Why.
        reason: String,
    },
    /// A relative import needed by the config cannot be followed: missing module, missing
    /// export, or a cycle (the reason names the chain).
    #[error("{file}:{line}:{column}: cannot import `{specifier}`: {reason}")]
    Import {
        /// The importing file, relative to the project root.
        file: String,
        /// 1-based line of the import.
        line: u32,
        /// 1-based column of the import, in chars.
        column: u32,
        /// The module specifier as written.
        specifier: String,
        /// Why.
        reason: String,
    },
    /// `.lua/manifest.json` could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// Why [`crate::write_back`] wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file's sha256 differs from the one recorded in `Compiled::inputs`.
    #[error("{file} changed since compile read it; nothing written")]
    Changed {
        /// File relative to the project root.
        file: String,
    },
    /// The value is built from several pieces; writing flattens it, so it needs `force`.
    #[error(
        "{file}:{line}:{column}: the value is built from several pieces; writing it back would \
         replace them with one literal (use force to do so); nothing written"
    )]
    Composite {
        /// File relative to the project root.
        file: String,
        /// 1-based line.
        line: u32,
        /// 1-based column in chars.
        column: u32,
    },
    /// The value (or part of it) could not be read statically, so its source cannot be rewritten.
    #[error("{0}")]
    Unreadable(Unreadable),
    /// The new value does not fit the source (for example an object where the code has a string).
    #[error("cannot write the new value into the source: {reason}; nothing written")]
    Shape {
        /// Why.
        reason: String,
    },
    /// The config object already has the property an insert would add.
    #[error(
        "{file}:{line}:{column}: the LuaAgent config already has `{key}`; write its value instead; nothing written"
    )]
    PropertyExists {
        /// File of the config object, relative to the project root.
        file: String,
        /// 1-based line of the config object.
        line: u32,
        /// 1-based column of the config object, in chars.
        column: u32,
        /// The key.
        key: String,
    },
    /// A file to be created already exists.
    #[error("{file} already exists; nothing written")]
    FileExists {
        /// The file, relative to the project root.
        file: String,
    },
    /// The file resolves (through symlinks or `..` imports) to a path outside the project
    /// root and the folders allowed by `WriteOptions::allowed_outside`.
    #[error(
        "{file} is {}, outside the project; nothing written (a folder outside the project must be allowed explicitly)",
        target.display()
    )]
    Outside {
        /// The file as the project names it, relative to the root.
        file: String,
        /// Its real path.
        target: PathBuf,
    },
    /// The file's permissions forbid writing it.
    #[error("{file} is read-only: {reason}; nothing written")]
    ReadOnly {
        /// The file, relative to the project root.
        file: String,
        /// Why, as a sentence fragment.
        reason: String,
    },
    /// A file of a commit is named in a way lua does not follow.
    #[error("{file}: {reason}; nothing written")]
    Invalid {
        /// The file as the caller named it.
        file: String,
        /// Why.
        reason: String,
    },
    /// The project is being changed by another `lua` (its lock or its commit journal).
    #[error("the project is in use by {holder}; try again when it is done")]
    Locked {
        /// Who: "pid 123 (lua sync --accept)".
        holder: String,
    },
    /// The journal of an interrupted commit cannot be followed (not lua's, or names paths
    /// outside the project); nothing was changed.
    #[error(
        "{}: {reason}; nothing was changed: check the files it names, then remove it",
        path.display()
    )]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}
