//! The shapes of data handed to the devserver from outside, beyond agents and personas: deployed
//! primitives, MCP servers, backups and governance. Seed files, control-route bodies and
//! `--backup-from` all deserialize into these types, so each rule is written once.
//!
//! Parsing and validation only: this module knows neither HTTP nor SQL. Errors are plain
//! messages that name the field (`skills[0].versions[1]`); callers add where it came from.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use lua_contract::{PRIMITIVE_KINDS, PrimitiveKind};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

/// Largest accepted governance value, serialized as JSON.
pub(crate) const GOVERNANCE_MAX_BYTES: usize = 64 * 1024;

/// Checks a governance value the way the PATCH does: a JSON object (or null, which clears it),
/// at most [`GOVERNANCE_MAX_BYTES`] serialized, without a top-level `apiKey` (the contract says
/// clients strip it; refusing makes a client that forgets visible instead of storing a secret).
pub(crate) fn check_governance(value: &Value) -> Result<(), String> {
    let Value::Object(map) = value else {
        if value.is_null() {
            return Ok(());
        }
        return Err("`governance` must be a JSON object or null".to_owned());
    };
    if map.contains_key("apiKey") {
        return Err(
            "`governance.apiKey` is not accepted: strip the API key from governance before sending it"
                .to_owned(),
        );
    }
    let size = value.to_string().len();
    if size > GOVERNANCE_MAX_BYTES {
        return Err(format!(
            "`governance` is too large: {size} bytes of JSON, at most {GOVERNANCE_MAX_BYTES}"
        ));
    }
    Ok(())
}

/// A kind of versioned primitive: a row of `lua-contract`'s table, the one the client reads
/// too. Routes, listings and the dashboard go over [`Kind::all`]; a new row there is served
/// without a change here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Kind(&'static PrimitiveKind);

impl Kind {
    /// The rows the seed file names one by one (its `skills`, `webhooks`, ... fields).
    pub(crate) const SKILLS: Kind = Kind(&lua_contract::SKILL);
    pub(crate) const WEBHOOKS: Kind = Kind(&lua_contract::WEBHOOK);
    pub(crate) const JOBS: Kind = Kind(&lua_contract::JOB);
    pub(crate) const PREPROCESSORS: Kind = Kind(&lua_contract::PREPROCESSOR);
    pub(crate) const POSTPROCESSORS: Kind = Kind(&lua_contract::POSTPROCESSOR);

    /// Every kind served, in the contract's order.
    pub(crate) fn all() -> impl Iterator<Item = Kind> {
        PRIMITIVE_KINDS.iter().map(Kind)
    }

    /// The listing's key and path segment (`/developer/skills/{agentId}` -> `{"skills": [...]}`).
    pub(crate) fn key(self) -> &'static str {
        self.0.plural
    }

    /// Prefix of generated item ids (`skill_3f2a...`).
    pub(crate) fn singular(self) -> &'static str {
        self.0.singular
    }

    pub(crate) fn parse(s: &str) -> Option<Kind> {
        PrimitiveKind::by_plural(s).map(Kind)
    }
}

/// How a listing marks an item's active version. All four are ways the contract allows; the
/// default carries every marker, the others let client tests exercise each step of the
/// active-version rule against a real server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ActiveBy {
    /// Versions have `id` and `active`, the item has `activeVersionId` (the default).
    #[default]
    Id,
    /// Versions have `versionId` (not `id`) and no `active`; the item has `activeVersionId`.
    VersionId,
    /// Versions have `id` and `active`; no `activeVersionId`.
    Flag,
    /// No marker at all: the active version is listed last.
    Last,
}

impl ActiveBy {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ActiveBy::Id => "id",
            ActiveBy::VersionId => "versionId",
            ActiveBy::Flag => "flag",
            ActiveBy::Last => "last",
        }
    }

    pub(crate) fn parse(s: &str) -> ActiveBy {
        match s {
            "versionId" => ActiveBy::VersionId,
            "flag" => ActiveBy::Flag,
            "last" => ActiveBy::Last,
            _ => ActiveBy::Id,
        }
    }
}

/// A deployed primitive (skill, webhook, job, pre- or postprocessor) with its versions.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PrimitiveSpec {
    /// Entity id (what the yaml calls `skillId`, ...); generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The name items are compared by.
    pub name: String,
    /// Version strings in deployment order, e.g. `["1.0.0", "1.0.1"]`.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Which of `versions` is active; default the last one.
    #[serde(default)]
    pub active: Option<String>,
    /// How the listing marks the active version (default `"id"`).
    #[serde(default)]
    pub active_by: ActiveBy,
}

impl PrimitiveSpec {
    /// Checks one item; `at` names it in messages (`skills[2]`).
    pub(crate) fn check(&self, at: &str) -> Result<(), String> {
        check_name(&self.name).map_err(|e| format!("{at}.name: {e}"))?;
        if let Some(id) = &self.id {
            check_entity_id(id).map_err(|e| format!("{at}.id: {e}"))?;
        }
        let mut seen = HashSet::new();
        for (i, v) in self.versions.iter().enumerate() {
            check_version(v).map_err(|e| format!("{at}.versions[{i}]: {e}"))?;
            if !seen.insert(v.as_str()) {
                return Err(format!("{at}.versions[{i}]: version {v:?} appears twice"));
            }
        }
        if let Some(active) = &self.active
            && !seen.contains(active.as_str())
        {
            return Err(format!(
                "{at}.active: {active:?} is not one of the item's versions"
            ));
        }
        Ok(())
    }
}

/// An MCP server on the agent (no versions).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct McpServerSpec {
    /// Entity id (`mcpServerId` in the yaml); generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// The name servers are compared by.
    pub name: String,
    /// `"manual"` (or absent) for servers a developer added; anything else comes from an
    /// integration and is not compared. Omitted from the listing when absent.
    #[serde(default)]
    pub source: Option<String>,
    /// `false` for a disabled server. Omitted from the listing when absent.
    #[serde(default)]
    pub active: Option<bool>,
}

impl McpServerSpec {
    pub(crate) fn check(&self, at: &str) -> Result<(), String> {
        check_name(&self.name).map_err(|e| format!("{at}.name: {e}"))?;
        if let Some(id) = &self.id {
            check_entity_id(id).map_err(|e| format!("{at}.id: {e}"))?;
        }
        if let Some(source) = &self.source {
            check_name(source).map_err(|e| format!("{at}.source: {e}"))?;
        }
        Ok(())
    }
}

/// An agent's source backup: what `lua sync` restores primitives from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupSpec {
    /// The files; their order is the manifest's.
    pub files: Vec<BackupFileSpec>,
    /// List 16-character hash prefixes in the manifest instead of full hashes (both are in the
    /// contract).
    #[serde(default)]
    pub short_hashes: bool,
}

/// How a backup file's `content` is written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// The content is the file's text (the default).
    #[default]
    Utf8,
    /// The content is the file's bytes in standard base64.
    Base64,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackupFileSpec {
    /// Where the file goes, relative to the project root. Stored as given, even when it escapes
    /// the root (`../x`): refusing such paths is the client's job, and tests need to see it.
    pub relative_path: String,
    /// The content, as `encoding` says.
    pub content: String,
    /// `utf8` (default) or `base64`.
    #[serde(default)]
    pub encoding: Encoding,
    /// An `external` file (restored under `.lua/external/`).
    #[serde(default)]
    pub external: bool,
    /// Serve the blob gzip-compressed (its body then starts with `1f 8b`).
    #[serde(default)]
    pub gzip: bool,
    /// Claim this hash in the manifest instead of the content's SHA-256: a corrupt blob, for
    /// testing that clients verify what they download. 64 hex digits.
    #[serde(default)]
    pub hash: Option<String>,
}

/// A backup file ready to store: its manifest entry and the exact bytes its blob URL serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreparedFile {
    pub relative_path: String,
    /// Full lowercase hex SHA-256 (of the content, or the claimed one).
    pub hash: String,
    pub external: bool,
    pub gzip: bool,
    /// The blob's body: the content, gzip-compressed when `gzip`.
    pub data: Vec<u8>,
}

impl BackupSpec {
    /// Decodes, hashes and compresses every file. Messages name the file (`files[3]`).
    pub(crate) fn prepare(&self) -> Result<Vec<PreparedFile>, String> {
        let mut seen = HashSet::new();
        self.files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let at = format!("files[{i}]");
                if f.relative_path.trim().is_empty() || f.relative_path.contains('\0') {
                    return Err(format!(
                        "{at}.relativePath: must be a non-empty path without NUL"
                    ));
                }
                if !seen.insert((f.relative_path.as_str(), f.external)) {
                    return Err(format!(
                        "{at}.relativePath: {:?} appears twice",
                        f.relative_path
                    ));
                }
                f.prepare().map_err(|e| format!("{at}.{e}"))
            })
            .collect()
    }

    /// Every regular file under `dir` (recursively, skipping `.git` and `node_modules`; symbolic
    /// links are not followed), in path order, as a backup: what `lua-devserver --backup-from
    /// DIR` uploads.
    pub fn from_dir(dir: &Path) -> Result<BackupSpec, crate::DevServerError> {
        let mut files = Vec::new();
        collect_files(dir, dir, &mut files).map_err(|source| {
            crate::DevServerError::BackupRead {
                path: dir.to_owned(),
                source,
            }
        })?;
        files.sort_by(|a, b| a.relative_path.cmp(&b.relative_path));
        Ok(BackupSpec {
            files,
            short_hashes: false,
        })
    }
}

impl BackupFileSpec {
    fn prepare(&self) -> Result<PreparedFile, String> {
        let bytes = match self.encoding {
            Encoding::Utf8 => self.content.clone().into_bytes(),
            Encoding::Base64 => base64::engine::general_purpose::STANDARD
                .decode(self.content.trim())
                .map_err(|e| format!("content: not valid base64: {e}"))?,
        };
        let hash = match &self.hash {
            Some(h) if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                h.to_ascii_lowercase()
            }
            Some(_) => return Err("hash: must be 64 hex digits".to_owned()),
            None => sha256_hex(&bytes),
        };
        let data = if self.gzip { gzip(&bytes)? } else { bytes };
        Ok(PreparedFile {
            relative_path: self.relative_path.clone(),
            hash,
            external: self.external,
            gzip: self.gzip,
            data,
        })
    }
}

/// Lowercase hex SHA-256.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|e| format!("gzip: {e}"))
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<BackupFileSpec>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if !matches!(entry.file_name().to_str(), Some(".git" | "node_modules")) {
                collect_files(root, &path, out)?;
            }
        } else if kind.is_file() {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let relative_path = relative
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            let bytes = std::fs::read(&path)?;
            out.push(BackupFileSpec {
                relative_path,
                content: base64::engine::general_purpose::STANDARD.encode(bytes),
                encoding: Encoding::Base64,
                external: false,
                gzip: false,
                hash: None,
            });
        }
    }
    Ok(())
}

/// Names and sources: non-empty, at most 200 characters, no control characters.
fn check_name(s: &str) -> Result<(), &'static str> {
    if s.trim().is_empty() {
        return Err("must not be empty");
    }
    if s.chars().count() > 200 {
        return Err("is longer than 200 characters");
    }
    if s.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

/// Version strings: non-empty, at most 100 characters, no whitespace or control characters.
fn check_version(s: &str) -> Result<(), &'static str> {
    if s.is_empty() {
        return Err("must not be empty");
    }
    if s.chars().count() > 100 {
        return Err("is longer than 100 characters");
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace");
    }
    Ok(())
}

/// Entity ids end up in URLs: the agent id alphabet.
fn check_entity_id(s: &str) -> Result<(), &'static str> {
    if s.is_empty() || s.len() > 128 {
        return Err("must be 1 to 128 characters");
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return Err("use only letters, digits, '_', '-' and '.'");
    }
    Ok(())
}

/// Checks a list of items of one kind: each item, and names and ids unique within the list.
pub(crate) fn check_items(kind: &str, items: &[PrimitiveSpec]) -> Result<(), String> {
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("{kind}[{i}]");
        item.check(&at)?;
        if !names.insert(item.name.as_str()) {
            return Err(format!("{at}.name: {:?} appears twice", item.name));
        }
        if let Some(id) = &item.id
            && !ids.insert(id.as_str())
        {
            return Err(format!("{at}.id: {id:?} appears twice"));
        }
    }
    Ok(())
}

/// The same for MCP servers.
pub(crate) fn check_mcp_servers(items: &[McpServerSpec]) -> Result<(), String> {
    let mut names = HashSet::new();
    let mut ids = HashSet::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("mcpServers[{i}]");
        item.check(&at)?;
        if !names.insert(item.name.as_str()) {
            return Err(format!("{at}.name: {:?} appears twice", item.name));
        }
        if let Some(id) = &item.id
            && !ids.insert(id.as_str())
        {
            return Err(format!("{at}.id: {id:?} appears twice"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn governance_rules_name_the_field() {
        assert!(check_governance(&json!({"mode": "sdk"})).is_ok());
        assert!(check_governance(&Value::Null).is_ok());
        let not_object = check_governance(&json!("sdk")).unwrap_err();
        assert!(
            not_object.contains("`governance` must be a JSON object"),
            "{not_object}"
        );
        let key = check_governance(&json!({"mode": "api", "apiKey": "k"})).unwrap_err();
        assert!(key.contains("governance.apiKey"), "{key}");
        let big = json!({"rules": {"blockTools": vec!["x".repeat(100); 700]}});
        let too_big = check_governance(&big).unwrap_err();
        assert!(
            too_big.contains("too large") && too_big.contains("65536"),
            "{too_big}"
        );
    }

    #[test]
    fn primitive_items_are_checked_with_their_place() {
        let item = |v: Value| serde_json::from_value::<PrimitiveSpec>(v).unwrap();
        let cases = [
            (vec![item(json!({"name": ""}))], "skills[0].name"),
            (
                vec![item(json!({"name": "a", "versions": ["1", "1"]}))],
                "skills[0].versions[1]",
            ),
            (
                vec![item(json!({"name": "a", "versions": ["1"], "active": "2"}))],
                "skills[0].active",
            ),
            (
                vec![item(json!({"name": "a"})), item(json!({"name": "a"}))],
                "skills[1].name",
            ),
            (
                vec![item(json!({"name": "a", "id": "a b"}))],
                "skills[0].id",
            ),
        ];
        for (items, needle) in cases {
            let err = check_items("skills", &items).unwrap_err();
            assert!(err.starts_with(needle), "{needle}: {err}");
        }
        let typo = serde_json::from_value::<PrimitiveSpec>(json!({"name": "a", "version": "1"}));
        assert!(typo.unwrap_err().to_string().contains("version"));
    }

    #[test]
    fn backup_files_are_hashed_before_compression() {
        let spec: BackupSpec = serde_json::from_value(json!({"files": [
            {"relativePath": "src/a.ts", "content": "export {}\n"},
            {"relativePath": "b.bin", "content": "AAEC", "encoding": "base64", "gzip": true},
        ]}))
        .unwrap();
        let files = spec.prepare().unwrap();
        assert_eq!(files[0].hash, sha256_hex(b"export {}\n"));
        assert_eq!(files[0].data, b"export {}\n");
        assert_eq!(files[1].hash, sha256_hex(&[0, 1, 2]));
        assert_eq!(&files[1].data[..2], &[0x1f, 0x8b]);
        let mut decoded = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&files[1].data[..]),
            &mut decoded,
        )
        .unwrap();
        assert_eq!(decoded, [0, 1, 2]);
    }

    #[test]
    fn bad_backup_files_name_the_file() {
        let prepare = |v: Value| {
            serde_json::from_value::<BackupSpec>(v)
                .unwrap()
                .prepare()
                .unwrap_err()
        };
        let e = prepare(
            json!({"files": [{"relativePath": "a", "content": "!", "encoding": "base64"}]}),
        );
        assert!(e.starts_with("files[0].content"), "{e}");
        let e = prepare(json!({"files": [{"relativePath": "a", "content": "", "hash": "abc"}]}));
        assert!(e.starts_with("files[0].hash"), "{e}");
        let e = prepare(json!({"files": [
            {"relativePath": "a", "content": ""}, {"relativePath": "a", "content": ""}
        ]}));
        assert!(e.starts_with("files[1].relativePath"), "{e}");
    }

    #[test]
    fn a_folder_becomes_a_backup_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src/skills")).unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
        std::fs::write(dir.path().join("src/skills/a.ts"), "a").unwrap();
        std::fs::write(dir.path().join("lua.skill.yaml"), "agent: {}\n").unwrap();
        std::fs::write(dir.path().join("node_modules/x/i.js"), "skip").unwrap();
        let spec = BackupSpec::from_dir(dir.path()).unwrap();
        let paths: Vec<_> = spec
            .files
            .iter()
            .map(|f| f.relative_path.as_str())
            .collect();
        assert_eq!(paths, ["lua.skill.yaml", "src/skills/a.ts"]);
        let files = spec.prepare().unwrap();
        assert_eq!(files[1].data, b"a");
    }
}
