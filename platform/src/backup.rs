//! The agent's source backup (`API_CONTRACT.md`, "Primitives"): summary, manifest, blob
//! URLs through the platform client, and the blob downloads themselves through a
//! **separate** HTTP client that sends no `Authorization` header (on the platform the
//! URLs are presigned storage URLs on another host: the API key must never go there).
//!
//! A blob is accepted only if the SHA-256 of its bytes (after gunzip, when the body starts
//! with `1f 8b`) starts with the manifest's hash; otherwise it is a typed error.

use std::collections::{BTreeMap, HashSet};
use std::io::Read as _;
use std::time::Duration;

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::agent_segment;
use crate::client::PlatformClient;
use crate::error::{PlatformError, excerpt};
use crate::primitives::{Indexed, Shape};
use crate::transport::Transport;
use crate::urls::redirect_target;

/// Largest blob accepted (compressed or not), so a hostile URL cannot fill memory.
pub const MAX_BLOB_BYTES: usize = 16 * 1024 * 1024;

/// `GET .../backup`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupInfo {
    pub file_count: u64,
    pub created_at: Option<String>,
}

impl BackupInfo {
    /// The contract: a backup exists when `fileCount > 0`.
    pub fn exists(&self) -> bool {
        self.file_count > 0
    }
}

/// `GET .../backup/manifest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupManifest {
    pub files: Vec<BackupFile>,
    pub created_at: Option<String>,
}

/// One file of the backup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupFile {
    pub relative_path: String,
    /// Lower-case hex SHA-256 of the file's bytes: 64 characters, or its first 16.
    pub hash: String,
    /// Restored under `.lua/external/` rather than the project root.
    pub external: bool,
}

impl PlatformClient {
    /// The backup summary.
    pub async fn backup_info(&self, agent_id: &str) -> Result<BackupInfo, PlatformError> {
        let path = format!("/developer/agents/{}/backup", agent_segment(agent_id)?);
        let payload = self.get_fresh(&path).await?;
        let shape = Shape {
            client: self,
            path: &path,
        };
        let file_count = payload
            .get("fileCount")
            .and_then(Value::as_u64)
            .ok_or_else(|| {
                shape.error("fileCount is not a non-negative integer".into(), &payload)
            })?;
        Ok(BackupInfo {
            file_count,
            created_at: shape.opt_string("backup", &payload, "createdAt")?,
        })
    }

    /// The backup manifest. Every hash must be 16 or 64 hex characters and every path
    /// non-empty; duplicates are refused (which file would win is not defined).
    pub async fn backup_manifest(&self, agent_id: &str) -> Result<BackupManifest, PlatformError> {
        let path = format!(
            "/developer/agents/{}/backup/manifest",
            agent_segment(agent_id)?
        );
        let payload = self.get_fresh(&path).await?;
        let shape = Shape {
            client: self,
            path: &path,
        };
        let items = payload
            .get("files")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                shape.error("expected an object with a \"files\" list".into(), &payload)
            })?;
        let mut files: Vec<BackupFile> = Vec::with_capacity(items.len());
        // Paths seen (with their `external` flag): a listing of thousands of files is
        // checked for repeats in one pass, not by a scan per file.
        let mut seen: HashSet<(String, bool)> = HashSet::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let at = Indexed("files", i);
            let relative_path = shape.string(at, item, "relativePath")?;
            let hash = shape.string(at, item, "hash")?.to_ascii_lowercase();
            if !is_hash(&hash) {
                return Err(shape.error(format!("{at}.hash is not 16 or 64 hex characters"), item));
            }
            if relative_path.trim().is_empty() {
                return Err(shape.error(format!("{at}.relativePath is empty"), item));
            }
            let external = match item.get("external") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(other) => {
                    return Err(shape.error(format!("{at}.external is not a boolean"), other));
                }
            };
            if !seen.insert((relative_path.clone(), external)) {
                return Err(shape.error(
                    format!("{at}.relativePath {relative_path:?} is listed twice"),
                    item,
                ));
            }
            files.push(BackupFile {
                relative_path,
                hash,
                external,
            });
        }
        Ok(BackupManifest {
            files,
            created_at: shape.opt_string("manifest", &payload, "createdAt")?,
        })
    }

    /// Download URLs for `hashes` (`POST .../backup/blob-urls`). Every hash asked for must
    /// come back with an http(s) URL, or the answer is a protocol error.
    pub async fn blob_urls(
        &self,
        agent_id: &str,
        hashes: &[String],
    ) -> Result<BTreeMap<String, String>, PlatformError> {
        let path = format!(
            "/developer/agents/{}/backup/blob-urls",
            agent_segment(agent_id)?
        );
        let payload = self.post(&path, &json!({ "hashes": hashes })).await?;
        let shape = Shape {
            client: self,
            path: &path,
        };
        let urls = payload
            .get("urls")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                shape.error("expected an object with a \"urls\" map".into(), &payload)
            })?;
        let mut out = BTreeMap::new();
        for hash in hashes {
            let url = urls
                .get(hash)
                .or_else(|| urls.get(&hash.to_ascii_uppercase()))
                .and_then(Value::as_str)
                .ok_or_else(|| shape.error(format!("no URL for hash {hash}"), &payload))?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(shape.error(
                    format!("the URL for hash {hash} is not http(s)"),
                    &Value::String(without_query(url)),
                ));
            }
            out.insert(hash.clone(), url.to_string());
        }
        Ok(out)
    }
}

/// Why a blob was not accepted. URLs are shown without their query (a presigned URL's
/// query is a credential).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("cannot download backup blob {hash} from {url}: {reason}")]
    Unreachable {
        hash: String,
        url: String,
        reason: String,
    },
    #[error("backup blob {hash} from {url}: HTTP {status}{}", if message.is_empty() { String::new() } else { format!(": {message}") })]
    Status {
        hash: String,
        url: String,
        status: u16,
        message: String,
    },
    #[error("backup blob {hash} from {url} is over the {limit}-byte limit")]
    TooLarge {
        hash: String,
        url: String,
        limit: usize,
    },
    #[error("backup blob {hash} from {url} is not valid gzip: {reason}")]
    Gzip {
        hash: String,
        url: String,
        reason: String,
    },
    #[error(
        "backup blob {hash} from {url} does not match its hash (its SHA-256 is {actual}); refused"
    )]
    HashMismatch {
        hash: String,
        url: String,
        actual: String,
    },
    /// A blob URL answered with a redirect. Never followed: the contract's blob URLs
    /// answer the file itself, and a followed redirect could take the download anywhere.
    #[error(
        "backup blob {hash} from {url} answered HTTP {status}, a redirect to {location}; lua does not follow redirects of blob URLs (the platform's blob URLs answer the file itself)"
    )]
    Redirected {
        hash: String,
        url: String,
        status: u16,
        location: String,
    },
    #[error("cannot build the download client: {reason}")]
    Client { reason: String },
}

/// Downloads blobs: no `Authorization`, no cookies, no redirects followed, a size cap,
/// hash verified. Built on the same transport as the API client (trust store loaded on
/// the first TLS handshake, so building it costs nothing).
#[derive(Clone, Debug)]
pub struct BlobClient {
    transport: Transport,
    timeout: Duration,
    max_bytes: usize,
}

impl BlobClient {
    /// A client with a transport of its own (from the environment).
    pub fn new(timeout: Duration) -> Result<Self, BlobError> {
        Self::with_limit(timeout, MAX_BLOB_BYTES)
    }

    pub fn with_limit(timeout: Duration, max_bytes: usize) -> Result<Self, BlobError> {
        let transport = Transport::from_env().map_err(|reason| BlobError::Client { reason })?;
        Ok(Self::on(transport, timeout, max_bytes))
    }

    /// A client on `transport`: the same connections as the API client of the run.
    pub fn on(transport: Transport, timeout: Duration, max_bytes: usize) -> Self {
        Self {
            transport,
            timeout,
            max_bytes,
        }
    }

    /// GET `url` and return the file's bytes, verified against `hash`.
    pub async fn download(&self, url: &str, hash: &str) -> Result<Vec<u8>, BlobError> {
        let shown = without_query(url);
        let h = hash.to_string();
        let unreachable = |reason: String| BlobError::Unreachable {
            hash: h.clone(),
            url: shown.clone(),
            reason,
        };
        let mut resp = self
            .transport
            .http()
            .get(url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| unreachable(reqwest_reason(&e)))?;
        let status = resp.status().as_u16();
        if matches!(status, 301 | 302 | 303 | 307 | 308) {
            let location = redirect_target(
                url,
                resp.headers()
                    .get(reqwest::header::LOCATION)
                    .map(reqwest::header::HeaderValue::as_bytes),
            );
            return Err(BlobError::Redirected {
                hash: h,
                url: shown,
                status,
                // A presigned target's query is a credential too.
                location: without_query(&location),
            });
        }
        let body = self.read_body(&mut resp, status, &h, &shown).await?;
        if !(200..300).contains(&status) {
            return Err(BlobError::Status {
                hash: h,
                url: shown,
                status,
                message: excerpt(&String::from_utf8_lossy(&body)),
            });
        }
        let bytes = self.decoded(body, &h, &shown)?;
        verify(&bytes, hash).map_err(|actual| BlobError::HashMismatch {
            hash: h,
            url: shown,
            actual,
        })?;
        Ok(bytes)
    }
}

impl BlobClient {
    /// The answer's body, capped: past `max_bytes` a success is refused; an error's body
    /// is only kept for its excerpt (64 KiB).
    async fn read_body(
        &self,
        resp: &mut reqwest::Response,
        status: u16,
        hash: &str,
        shown: &str,
    ) -> Result<Vec<u8>, BlobError> {
        let mut body = Vec::new();
        let limit = if resp.status().is_success() {
            self.max_bytes
        } else {
            64 * 1024
        };
        while let Some(chunk) = resp.chunk().await.map_err(|e| BlobError::Unreachable {
            hash: hash.to_string(),
            url: shown.to_string(),
            reason: reqwest_reason(&e),
        })? {
            if body.len() + chunk.len() > limit {
                if status >= 300 {
                    break;
                }
                return Err(BlobError::TooLarge {
                    hash: hash.to_string(),
                    url: shown.to_string(),
                    limit: self.max_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The file's bytes: gunzipped (within the size cap) when the body is gzip.
    fn decoded(&self, body: Vec<u8>, hash: &str, shown: &str) -> Result<Vec<u8>, BlobError> {
        if !body.starts_with(&[0x1f, 0x8b]) {
            return Ok(body);
        }
        gunzip(&body, self.max_bytes).map_err(|reason| match reason {
            GunzipError::TooLarge => BlobError::TooLarge {
                hash: hash.to_string(),
                url: shown.to_string(),
                limit: self.max_bytes,
            },
            GunzipError::Invalid(reason) => BlobError::Gzip {
                hash: hash.to_string(),
                url: shown.to_string(),
                reason,
            },
        })
    }
}

/// `Ok` when the SHA-256 of `bytes` starts with `hash` (case-insensitive); else the
/// actual digest.
pub fn verify(bytes: &[u8], hash: &str) -> Result<(), String> {
    let actual = hex::encode(Sha256::digest(bytes));
    if is_hash(&hash.to_ascii_lowercase()) && actual.starts_with(&hash.to_ascii_lowercase()) {
        Ok(())
    } else {
        Err(actual)
    }
}

fn is_hash(hash: &str) -> bool {
    matches!(hash.len(), 16 | 64) && hash.bytes().all(|b| b.is_ascii_hexdigit())
}

enum GunzipError {
    TooLarge,
    Invalid(String),
}

fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, GunzipError> {
    let mut out = Vec::new();
    let decoder = flate2::read::MultiGzDecoder::new(body);
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    decoder
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| GunzipError::Invalid(e.to_string()))?;
    if out.len() > limit {
        return Err(GunzipError::TooLarge);
    }
    Ok(out)
}

fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or(url).to_string()
}

fn reqwest_reason(e: &reqwest::Error) -> String {
    if let Some(tls) = crate::tls::rustls_error(e) {
        let host = e
            .url()
            .and_then(|u| u.host_str())
            .unwrap_or("the server")
            .to_owned();
        let refusal = crate::tls::refusal(tls, &host, None);
        return format!(
            "the certificate of {host} {}; {}",
            refusal.problem, refusal.remedy
        );
    }
    if e.is_timeout() {
        "no response in time".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        let mut msg = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            msg = s.to_string();
            source = s.source();
        }
        without_query(&msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    #[test]
    fn verify_prefix_of_16_or_64() {
        let full = hex::encode(Sha256::digest(b"hello"));
        assert!(verify(b"hello", &full).is_ok());
        assert!(verify(b"hello", &full[..16]).is_ok());
        assert!(verify(b"hello", &full[..16].to_ascii_uppercase()).is_ok());
        assert!(verify(b"hello", &full[..10]).is_err());
        assert!(verify(b"hellO", &full).is_err());
        assert!(verify(b"hello", "").is_err());
    }

    #[test]
    fn gunzip_caps_the_output() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&vec![b'a'; 10_000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz, 10_000).ok().map(|v| v.len()), Some(10_000));
        assert!(matches!(gunzip(&gz, 9_999), Err(GunzipError::TooLarge)));
        assert!(matches!(
            gunzip(&[0x1f, 0x8b, 0, 1], 100),
            Err(GunzipError::Invalid(_))
        ));
    }

    #[test]
    fn queries_are_not_shown() {
        assert_eq!(without_query("http://h/b/x?sig=abc"), "http://h/b/x");
    }
}
