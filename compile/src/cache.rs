//! The `.lua/manifest.json` cache: deterministic bytes, atomic writes, and reuse only when
//! every input file still has the recorded sha256.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::error::CompileError;
use crate::model::Compiled;
use crate::source::{read_regular, read_regular_capped, sha256_hex};

/// A manifest larger than this is not read (it is rebuilt): 64 MiB, four times the largest
/// source file.
const MAX_MANIFEST_BYTES: u64 = 64 << 20;

/// `root/.lua/manifest.json`.
pub(crate) fn manifest_path(root: &Path) -> PathBuf {
    root.join(".lua").join("manifest.json")
}

/// The manifest's bytes: pretty JSON, object keys sorted at every level, trailing newline.
pub fn manifest_bytes(compiled: &Compiled) -> Vec<u8> {
    let mut value = serde_json::to_value(compiled).unwrap_or(Value::Null);
    sort_keys(&mut value);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}

fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

/// The cached result, if the manifest exists, parses, matches `entry` and the format, and
/// every input still hashes the same.
pub(crate) fn load_current(root: &Path, entry: &str) -> Option<Compiled> {
    let bytes = read_regular_capped(&manifest_path(root), MAX_MANIFEST_BYTES).ok()?;
    let compiled: Compiled = serde_json::from_slice(&bytes).ok()?;
    if compiled.format != crate::FORMAT || compiled.entry != entry || compiled.inputs.is_empty() {
        return None;
    }
    let fresh = compiled.inputs.iter().all(|(rel, hash)| {
        read_regular(&root.join(rel)).is_ok_and(|bytes| sha256_hex(&bytes) == *hash)
    });
    fresh.then_some(compiled)
}

/// Write the manifest atomically (temp file in `.lua/`, fsync, rename, fsync of the folder),
/// after removing stale temp files there.
pub(crate) fn store(root: &Path, compiled: &Compiled) -> Result<(), CompileError> {
    let path = manifest_path(root);
    let dir = root.join(".lua");
    let err = |source| CompileError::Manifest {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(&dir).map_err(err)?;
    crate::temp::clean_stale(&dir);
    let tmp = crate::temp::temp_beside(&path, &manifest_bytes(compiled)).map_err(err)?;
    tmp.persist(&path).map_err(|e| err(e.error))?;
    crate::fsio::sync_dir(&dir).map_err(err)?;
    Ok(())
}
