//! The agent's source backup (`API_CONTRACT.md`, "Primitives"): summary, manifest, blob
//! URLs through the platform client, and the blob downloads themselves through a
//! **separate** HTTP client that sends no `Authorization` header (on the platform the
//! URLs are presigned storage URLs on another host: the API key must never go there).
//!
//! A blob is accepted only if the SHA-256 of its bytes (after gunzip, when the body starts
//! with `1f 8b`) starts with the manifest's hash; otherwise it is a typed error.
//!
//! A backup is untrusted input: [`LIMITS`] bound what one restore may cost (files in the
//! manifest, bytes per blob compressed and inflated, the inflation ratio, bytes of the
//! whole restore), each enforced while the bytes arrive or inflate, never after. A client
//! made by [`PlatformClient::blob_client`] also spends the run's network budget: each
//! download is bounded by `server.timeout_secs` and what is left of `server.deadline_secs`,
//! so a body that trickles is a timeout.

use std::collections::{BTreeMap, HashSet};
use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// What one restore may cost. Every limit trips while streaming, with an error naming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of one blob, as sent and once inflated.
    pub blob_bytes: usize,
    /// Bytes held by one restore at once: blobs being received plus files kept. Bounds the
    /// memory of a restore by a constant, whatever the number of files.
    pub restore_bytes: usize,
    /// Files listed in a manifest.
    pub files: usize,
    /// Bytes of one path in a manifest.
    pub path_bytes: usize,
    /// How many times its compressed size a blob may inflate to, past `ratio_floor` bytes
    /// (source text compresses 3 to 10 times; a gzip bomb 1000 times).
    pub ratio: usize,
    /// Inflated bytes below which the ratio is not checked (small files compress oddly).
    pub ratio_floor: usize,
}

/// The limits of every restore.
pub const LIMITS: Limits = Limits {
    blob_bytes: MAX_BLOB_BYTES,
    restore_bytes: 64 * 1024 * 1024,
    files: 10_000,
    path_bytes: 1024,
    ratio: 100,
    ratio_floor: 1024 * 1024,
};

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
        if items.len() > LIMITS.files {
            return Err(PlatformError::Protocol {
                url: self.shown_url(&path),
                reason: format!(
                    "the backup manifest lists {} files, over the limit of {} files per restore",
                    items.len(),
                    LIMITS.files
                ),
                excerpt: String::new(),
            });
        }
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
            if relative_path.len() > LIMITS.path_bytes {
                return Err(shape.error(
                    format!(
                        "{at}.relativePath is over the limit of {} bytes",
                        LIMITS.path_bytes
                    ),
                    item,
                ));
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
    /// The blob inflates more than [`Limits::ratio`] times its compressed size.
    #[error(
        "backup blob {hash} from {url} inflates to more than {ratio} times its compressed size ({compressed} bytes); refused as a decompression bomb"
    )]
    Ratio {
        hash: String,
        url: String,
        ratio: usize,
        compressed: usize,
    },
    /// The restore as a whole holds more than [`Limits::restore_bytes`].
    #[error(
        "the backup is over the limit of {limit} bytes per restore (reached at blob {hash} from {url})"
    )]
    RestoreTooLarge {
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
///
/// Clones share one restore's byte count ([`Limits::restore_bytes`]): make one client per
/// restore.
#[derive(Clone, Debug)]
pub struct BlobClient {
    transport: Transport,
    limits: Limits,
    timeout: Duration,
    /// The API client whose network budget downloads spend; `None`: only `timeout` bounds.
    budget: Option<PlatformClient>,
    /// Bytes this restore holds now (bodies being received, files kept).
    held: Arc<AtomicUsize>,
}

impl BlobClient {
    /// A client with a transport of its own (from the environment).
    pub fn new(timeout: Duration) -> Result<Self, BlobError> {
        Self::with_limits(timeout, LIMITS)
    }

    pub fn with_limit(timeout: Duration, max_bytes: usize) -> Result<Self, BlobError> {
        Self::with_limits(
            timeout,
            Limits {
                blob_bytes: max_bytes,
                ..LIMITS
            },
        )
    }

    pub fn with_limits(timeout: Duration, limits: Limits) -> Result<Self, BlobError> {
        let transport = Transport::from_env().map_err(|reason| BlobError::Client { reason })?;
        Ok(Self::on(transport, timeout, limits))
    }

    /// A client on `transport`: the same connections as the API client of the run.
    pub fn on(transport: Transport, timeout: Duration, limits: Limits) -> Self {
        Self {
            transport,
            limits,
            timeout,
            budget: None,
            held: Arc::default(),
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
        // The run's network budget: spent while this download is in flight, and no attempt
        // outlives what is left of it.
        let _in_flight = self.budget.as_ref().map(PlatformClient::enter_budget);
        let (timeout, why) = match self.budget.as_ref().and_then(PlatformClient::budget_left) {
            Some((left, limit)) if left < self.timeout => (
                left,
                format!(
                    "no complete answer within this run's network deadline of {}s (server.deadline_secs)",
                    limit.as_secs()
                ),
            ),
            _ => (
                self.timeout,
                format!(
                    "no complete answer within {}s (server.timeout_secs)",
                    self.timeout.as_secs()
                ),
            ),
        };
        if timeout.is_zero() {
            return Err(unreachable(why));
        }
        let reason = |e: &reqwest::Error| {
            if e.is_timeout() {
                why.clone()
            } else {
                reqwest_reason(e)
            }
        };
        let mut resp = self
            .transport
            .http()
            .get(url)
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| unreachable(reason(&e)))?;
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
        let mut held = Held {
            count: &self.held,
            bytes: 0,
        };
        let body = self
            .read_body(&mut resp, status, &h, &shown, &mut held, &why)
            .await?;
        if !(200..300).contains(&status) {
            return Err(BlobError::Status {
                hash: h,
                url: shown,
                status,
                message: excerpt(&String::from_utf8_lossy(&body)),
            });
        }
        let bytes = self.decoded(body, &h, &shown, &mut held)?;
        verify(&bytes, hash).map_err(|actual| BlobError::HashMismatch {
            hash: h,
            url: shown,
            actual,
        })?;
        // The file is kept by the caller until the restore ends: it stays counted.
        held.keep(bytes.len());
        Ok(bytes)
    }
}

/// The bytes one download holds in its restore's count; released when dropped, except what
/// [`Held::keep`] hands over to the caller.
struct Held<'a> {
    count: &'a AtomicUsize,
    bytes: usize,
}

impl Held<'_> {
    /// Counts `n` more bytes; `false` when the restore would hold more than `limit`.
    fn add(&mut self, n: usize, limit: usize) -> bool {
        self.bytes += n;
        let now = self.count.fetch_add(n, Ordering::SeqCst) + n;
        now <= limit
    }

    /// Releases `n` bytes (a body dropped once inflated).
    fn release(&mut self, n: usize) {
        let n = n.min(self.bytes);
        self.bytes -= n;
        self.count.fetch_sub(n, Ordering::SeqCst);
    }

    /// Keeps `n` bytes counted after this download (the file handed to the caller).
    fn keep(mut self, n: usize) {
        let keep = n.min(self.bytes);
        self.bytes -= keep;
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(self.bytes, Ordering::SeqCst);
    }
}

impl PlatformClient {
    /// A blob client for one restore that spends this client's network budget (each
    /// download bounded by the per-attempt timeout and what is left of the deadline).
    /// Its connections are the run's ([`PlatformClient::transport`]): a blob URL on the
    /// platform's host reuses its connection.
    pub fn blob_client(&self) -> BlobClient {
        let mut blobs = BlobClient::on(self.transport().clone(), self.attempt_limit(), LIMITS);
        blobs.budget = Some(self.clone());
        blobs
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
        held: &mut Held<'_>,
        timed_out: &str,
    ) -> Result<Vec<u8>, BlobError> {
        let mut body = Vec::new();
        let limit = if resp.status().is_success() {
            self.limits.blob_bytes
        } else {
            64 * 1024
        };
        // Refused as soon as a header promises too much: nothing of it is read.
        if status < 300 && resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(BlobError::TooLarge {
                hash: hash.to_string(),
                url: shown.to_string(),
                limit: self.limits.blob_bytes,
            });
        }
        while let Some(chunk) = resp.chunk().await.map_err(|e| BlobError::Unreachable {
            hash: hash.to_string(),
            url: shown.to_string(),
            reason: if e.is_timeout() {
                timed_out.to_owned()
            } else {
                reqwest_reason(&e)
            },
        })? {
            if body.len() + chunk.len() > limit {
                if status >= 300 {
                    break;
                }
                return Err(BlobError::TooLarge {
                    hash: hash.to_string(),
                    url: shown.to_string(),
                    limit: self.limits.blob_bytes,
                });
            }
            if !held.add(chunk.len(), self.limits.restore_bytes) {
                return Err(BlobError::RestoreTooLarge {
                    hash: hash.to_string(),
                    url: shown.to_string(),
                    limit: self.limits.restore_bytes,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The file's bytes: gunzipped (within the size, ratio and restore caps, checked as it
    /// inflates) when the body is gzip.
    fn decoded(
        &self,
        body: Vec<u8>,
        hash: &str,
        shown: &str,
        held: &mut Held<'_>,
    ) -> Result<Vec<u8>, BlobError> {
        if !body.starts_with(&[0x1f, 0x8b]) {
            return Ok(body);
        }
        let compressed = body.len();
        let out = gunzip(&body, &self.limits, held).map_err(|reason| {
            let (hash, url) = (hash.to_string(), shown.to_string());
            match reason {
                GunzipError::TooLarge => BlobError::TooLarge {
                    hash,
                    url,
                    limit: self.limits.blob_bytes,
                },
                GunzipError::Ratio => BlobError::Ratio {
                    hash,
                    url,
                    ratio: self.limits.ratio,
                    compressed,
                },
                GunzipError::Restore => BlobError::RestoreTooLarge {
                    hash,
                    url,
                    limit: self.limits.restore_bytes,
                },
                GunzipError::Invalid(reason) => BlobError::Gzip { hash, url, reason },
            }
        })?;
        drop(body);
        held.release(compressed);
        Ok(out)
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
    Ratio,
    Restore,
    Invalid(String),
}

/// Inflates `body` piece by piece, refusing as soon as the output passes a limit.
fn gunzip(body: &[u8], limits: &Limits, held: &mut Held<'_>) -> Result<Vec<u8>, GunzipError> {
    const PIECE: usize = 64 * 1024;
    let mut out = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(body);
    let mut piece = vec![0u8; PIECE];
    loop {
        let n = decoder
            .read(&mut piece)
            .map_err(|e| GunzipError::Invalid(e.to_string()))?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > limits.blob_bytes {
            return Err(GunzipError::TooLarge);
        }
        if out.len() + n > limits.ratio_floor
            && out.len() + n > limits.ratio.saturating_mul(body.len())
        {
            return Err(GunzipError::Ratio);
        }
        if !held.add(n, limits.restore_bytes) {
            return Err(GunzipError::Restore);
        }
        out.extend_from_slice(&piece[..n]);
    }
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

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn inflate(body: &[u8], limits: Limits, count: &AtomicUsize) -> Result<Vec<u8>, GunzipError> {
        let mut held = Held { count, bytes: 0 };
        gunzip(body, &limits, &mut held)
    }

    #[test]
    fn gunzip_caps_the_output() {
        let count = AtomicUsize::new(0);
        let gz = gz(&[b'a'; 10_000]);
        let with = |blob_bytes| Limits {
            blob_bytes,
            ..LIMITS
        };
        assert_eq!(
            inflate(&gz, with(10_000), &count).ok().map(|v| v.len()),
            Some(10_000)
        );
        // The output is refused past the limit; what it held is released.
        assert!(matches!(
            inflate(&gz, with(9_999), &count),
            Err(GunzipError::TooLarge)
        ));
        assert_eq!(count.load(Ordering::SeqCst), 0);
        assert!(matches!(
            inflate(&[0x1f, 0x8b, 0, 1], LIMITS, &count),
            Err(GunzipError::Invalid(_))
        ));
    }

    #[test]
    fn a_bomb_trips_the_ratio_while_inflating() {
        let count = AtomicUsize::new(0);
        // 16 MiB of zeros: about 16 KB of gzip.
        let bomb = gz(&vec![0u8; 16 * 1024 * 1024]);
        assert!(bomb.len() < 100_000, "{}", bomb.len());
        assert!(matches!(
            inflate(&bomb, LIMITS, &count),
            Err(GunzipError::Ratio)
        ));
        // Under the floor, a high ratio is fine (a small file of one repeated byte).
        assert!(inflate(&gz(&[0u8; 500_000]), LIMITS, &count).is_ok());
        // The restore's count trips across blobs.
        let small = Limits {
            restore_bytes: 15_000,
            ..LIMITS
        };
        let text = gz(&[b'x'; 10_000]);
        let mut first = Held {
            count: &count,
            bytes: 0,
        };
        let kept = gunzip(&text, &small, &mut first).ok().map(|v| v.len());
        first.keep(kept.unwrap_or(0));
        assert_eq!(kept, Some(10_000));
        assert!(matches!(
            inflate(&text, small, &count),
            Err(GunzipError::Restore)
        ));
    }

    #[test]
    fn queries_are_not_shown() {
        assert_eq!(without_query("http://h/b/x?sig=abc"), "http://h/b/x");
    }
}
