//! The words of a write, shared by write-back, the inserts and [`crate::commit_files`] and
//! below all of them: what a caller asks ([`WriteOptions`], [`FileWrite`]) and what a write
//! did ([`WriteReport`]). Plain data.

use std::path::PathBuf;

/// Options for [`crate::write_back`], the insert functions and [`crate::commit_files`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Allow flattening a value built from several pieces (concatenation, template with
    /// substitutions, object with spreads or computed keys) into one literal.
    pub force: bool,
    /// Folders outside the project root that writes may go to (monorepos keeping shared
    /// text above the root), absolute or relative to the root. Without them a file whose
    /// real path is outside the root is refused ([`crate::WriteError::Outside`]).
    pub allowed_outside: Vec<PathBuf>,
}

/// What a write did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WriteReport {
    /// Files rewritten or created, relative to the project root, sorted. Empty when the
    /// source already held the new value.
    pub files: Vec<String>,
    /// Files created (a subset of `files`).
    pub created: Vec<String>,
    /// Things the user should know that did not stop the write, as sentences.
    pub warnings: Vec<String>,
}

/// One file of a commit ([`crate::commit_files`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileWrite {
    /// Project-relative, `/`-separated.
    pub rel: String,
    /// The sha256 (lowercase hex) the file must hold right before it is replaced; `None`:
    /// the file must not exist (it is created).
    pub base: Option<String>,
    /// The new content: any bytes, not only UTF-8.
    pub bytes: Vec<u8>,
}
