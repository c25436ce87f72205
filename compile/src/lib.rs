//! `lua-compile`: read an agent project's config statically, and write values back into it.
//!
//! The entry file (usually `src/index.ts`) is parsed with a real TypeScript parser (oxc); the
//! first `new LuaAgent({...})` (or call `LuaAgent({...})`) is found and its config object is
//! evaluated *generically*: every top-level property becomes a [`Node`] that keeps its
//! [`Origin`] (file, byte span, literal kind), following `const`s and relative imports.
//! Values that only exist at run time become [`Node::Unreadable`] with file:line:col, a reason
//! and a code frame; they are never guessed. [`compile`] caches the result in
//! `.lua/manifest.json` and reuses it while no input file changed.
//!
//! [`write_back`] is the other direction: it replaces exactly the bytes of the literal that
//! defines a value (in whichever file defines it), refuses if the file changed since compile,
//! and writes atomically. Invariant (property-tested): for any string `s`, writing `s` and
//! compiling again yields `s` byte for byte.
//!
//! The insert functions add what is not there yet: [`insert_property`] (`key: value` as the
//! config object's last property), [`insert_shorthand_with_import`] (an import plus
//! `governance,`), [`create_module`] and the all-or-nothing [`insert_with_new_module`]. They
//! follow the file's style and are checked by evaluating the edited project in memory before
//! anything is written: the new property must read back as exactly the value.
//!
//! [`commit_files`] is the project's one guarded writer, for any files and bytes: each file
//! carries its base (the sha256 it must hold, or absent), and the commit is all or nothing,
//! also across `kill -9` thanks to a journal that [`recover`] finishes or undoes.
//! [`ProjectLock`] keeps a second `lua` from changing the project meanwhile. Write-back and
//! the inserts commit through it, with compile's recorded hashes as bases.
//!
//! How it fits: the engine in `lua-core` calls [`compile`], hands the [`Node`] of each field
//! to the component that owns it, and calls [`write_back`] when the user pulls.
//!
//! What it must not know: component names (`persona`, `name`... are just keys here), HTTP or
//! the platform, and the terminal (diagnostics are plain text; the CLI decides colour).

mod cache;
mod commit;
mod error;
mod eval;
mod fsio;
mod guard;
mod insert;
mod install;
mod journal;
mod layout;
mod literal;
mod lock;
mod model;
mod options;
mod outline;
mod plan;
mod recover;
mod resolve;
mod source;
mod swap;
mod temp;
mod watch;
mod write;

use std::collections::BTreeMap;
use std::path::Path;

pub use cache::manifest_bytes;
pub use commit::commit_files;
pub use error::{CompileError, WriteError};
pub use insert::{
    NewModule, create_module, insert_property, insert_property_files, insert_shorthand_with_import,
    insert_shorthand_with_import_files, insert_with_new_module, insert_with_new_module_files,
};
pub use lock::ProjectLock;
pub use model::{CacheStatus, Compiled, LiteralKind, Node, Origin, Unreadable};
pub use options::{FileWrite, WriteOptions, WriteReport};
pub use recover::{Recovered, recover};
pub use source::MAX_SOURCE_BYTES;
pub use write::{needs_force, needs_force_for, write_back, write_back_files};

/// Version of the manifest format; a manifest with another version is recompiled.
pub const FORMAT: u32 = 2;

/// Compile `entry` (relative to `root`); reuse `root/.lua/manifest.json` when it exists,
/// parses, has the same format and entry, and every input file's current sha256 equals the
/// recorded one; else evaluate and (atomically) write it.
pub fn compile(root: &Path, entry: &str) -> Result<(Compiled, CacheStatus), CompileError> {
    let entry = source::entry_rel(root, entry);
    if let Some(cached) = cache::load_current(root, &entry) {
        return Ok((cached, CacheStatus::Reused));
    }
    let compiled = eval::evaluate(&source::FsLoader { root }, &entry)?;
    cache::store(root, &compiled)?;
    Ok((compiled, CacheStatus::Compiled))
}

/// Same as [`compile`] without touching the cache (used by benches and fuzzing).
pub fn evaluate(root: &Path, entry: &str) -> Result<Compiled, CompileError> {
    let entry = source::entry_rel(root, entry);
    eval::evaluate(&source::FsLoader { root }, &entry)
}

/// Evaluate a project held in memory: relative path (`/` separators) -> file text. Imports
/// resolve among these files only. Used by tests, benches and fuzzing; behaves exactly like
/// [`evaluate`] on the same files written to disk.
pub fn evaluate_files(
    files: &BTreeMap<String, String>,
    entry: &str,
) -> Result<Compiled, CompileError> {
    eval::evaluate(
        &source::MemoryLoader { files },
        &source::normalize_rel(entry),
    )
}
