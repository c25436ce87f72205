//! The guard of a write: the sha256 a file must hold right before lua replaces it (its
//! *base*). Hashing streams the file, so any size and any bytes can be guarded.
//!
//! A leaf: knows files and hashes, not what a write is.

use std::fs::File;
use std::io::{self, Seek as _};

use sha2::{Digest as _, Sha256};

/// The sha256 (lowercase hex) of an open file's whole content, read from its start.
pub(crate) fn file_sha256(file: &File) -> io::Result<String> {
    let mut reader = file;
    reader.rewind()?;
    let mut hasher = Sha256::new();
    io::copy(&mut reader, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

/// Whether `file` holds exactly the bytes whose sha256 is `base`.
pub(crate) fn holds(file: &File, base: &str) -> bool {
    file_sha256(file).is_ok_and(|hash| hash == base)
}
