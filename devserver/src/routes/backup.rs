//! Source backups over HTTP: the backup summary, manifest and blob-URL routes of `API_CONTRACT.md`,
//! the blob downloads those URLs point at, and the control route that uploads a backup (lua-cli's
//! own upload protocol is in `backup_push`).
//!
//! Blob URLs work like the platform's presigned storage URLs: absolute, fetched with a plain GET
//! and no Authorization header (one that carries one is refused, as storage services do), valid
//! for [`URL_LIFETIME_SECS`], signed with HMAC-SHA256 under a random per-process secret so a
//! forged or altered URL is refused. The blob body is the file's bytes, gzip-compressed for files
//! stored with `gzip`, never wrapped in the API envelope.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::Sha256;

use crate::http::error::{Answer, ApiError};
use crate::http::extract::{ApiPath, RawBody, parse_body};
use crate::spec::BackupSpec;
use crate::state::AppState;
use crate::store;

/// How long a blob URL stays valid.
pub(crate) const URL_LIFETIME_SECS: i64 = 15 * 60;
/// Most hashes one blob-urls request may ask for.
const MAX_HASHES: usize = 10_000;

/// `GET .../backup`, `GET .../backup/manifest`, `POST .../backup/blob-urls` (API layers applied by
/// the app; the push protocol's routes are `backup_push`'s).
pub(crate) fn api_router() -> Router<AppState> {
    Router::new()
        .route("/developer/agents/{agentId}/backup", get(summary))
        .route("/developer/agents/{agentId}/backup/manifest", get(manifest))
        .route(
            "/developer/agents/{agentId}/backup/blob-urls",
            post(blob_urls),
        )
}

/// `GET /_blobs/{agentId}/{hash}?expires=..&sig=..`: no Bearer auth (the signature is the auth).
pub(crate) fn blob_router() -> Router<AppState> {
    Router::new().route("/_blobs/{agentId}/{hash}", get(blob))
}

/// `POST /_devserver/agents/{agentId}/backup` (Bearer auth applied by the app).
pub(crate) fn control_router() -> Router<AppState> {
    Router::new().route("/_devserver/agents/{agentId}/backup", post(upload))
}

/// RFC 3339 UTC, e.g. `2026-12-01T08:44:04.123Z`.
pub(crate) fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// `{"fileCount", "createdAt", "projectHash"?}`. No backup: fileCount 0 (the contract's "a backup
/// exists when fileCount > 0") and no `projectHash`. With one, `projectHash` as the platform
/// serves it: lua-cli keeps it as its pull guard's baseline and ignores a cache without it.
pub(super) fn summary_json(
    summary: Option<&store::backup::Summary>,
    entries: &[store::backup::Entry],
) -> Value {
    let mut body = json!({
        "fileCount": summary.map_or(0, |s| s.file_count),
        "createdAt": summary.map(|s| rfc3339(s.created_date)),
    });
    if let Some(s) = summary {
        body["projectHash"] = json!(project_hash(s, entries));
    }
    body
}

/// The hash the client pushed with the manifest, else the one computed from the files.
fn project_hash(summary: &store::backup::Summary, entries: &[store::backup::Entry]) -> String {
    summary
        .pushed_hash
        .clone()
        .unwrap_or_else(|| store::backup::project_hash(entries))
}

/// The agent's backup summary and manifest entries, read together.
pub(super) fn load(
    conn: &rusqlite::Connection,
    agent: &str,
) -> rusqlite::Result<(Option<store::backup::Summary>, Vec<store::backup::Entry>)> {
    Ok((
        store::backup::summary(conn, agent)?,
        store::backup::manifest(conn, agent)?,
    ))
}

/// Looks the agent up and runs `f` on its backup, answering 404 for an unknown agent.
pub(super) async fn with_agent<T, F>(state: &AppState, agent: &str, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let lookup = agent.to_owned();
    let result = state
        .db(move |conn| match store::get_agent(conn, &lookup)? {
            Some(_) => f(conn).map(Some),
            None => Ok(None),
        })
        .await;
    match result {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(ApiError::agent_not_found(agent)),
        Err(e) => Err(ApiError::internal(&e)),
    }
}

async fn summary(State(state): State<AppState>, ApiPath(agent): ApiPath<String>) -> Response {
    let a = agent.clone();
    match with_agent(&state, &agent, move |conn| load(conn, &a)).await {
        Ok((summary, entries)) => {
            Answer::ok(StatusCode::OK, summary_json(summary.as_ref(), &entries)).into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `{"files", "createdAt", "projectHash"?}` (`projectHash` as in [`summary_json`]).
async fn manifest(State(state): State<AppState>, ApiPath(agent): ApiPath<String>) -> Response {
    let a = agent.clone();
    match with_agent(&state, &agent, move |conn| load(conn, &a)).await {
        Ok((summary, entries)) => {
            let files: Vec<Value> = entries.iter().map(store::backup::Entry::to_json).collect();
            let mut body = json!({
                "files": files,
                "createdAt": summary.as_ref().map(|s| rfc3339(s.created_date)),
            });
            if let Some(s) = &summary {
                body["projectHash"] = json!(project_hash(s, &entries));
            }
            Answer::ok(StatusCode::OK, body).into_response()
        }
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BlobUrlsRequest {
    hashes: Vec<String>,
}

/// `{"urls": {hash: url}}`, keyed by the hashes as the client sent them. A hash that names no
/// file of the agent's backup is left out.
async fn blob_urls(
    State(state): State<AppState>,
    ApiPath(agent): ApiPath<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let request = match parse_body::<BlobUrlsRequest>(&body) {
        Ok(r) if r.hashes.len() <= MAX_HASHES => r,
        Ok(_) => {
            return ApiError::bad_request(format!("`hashes` may list at most {MAX_HASHES}"))
                .into_response();
        }
        Err(e) => return e.into_response(),
    };
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
    else {
        return ApiError::bad_request("`Host` header is required").into_response();
    };
    let a = agent.clone();
    let resolved = with_agent(&state, &agent, move |conn| {
        request
            .hashes
            .into_iter()
            .map(|given| Ok((store::backup::resolve_hash(conn, &a, &given)?, given)))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .await;
    let resolved = match resolved {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let expires = store::now_ms() / 1000 + URL_LIFETIME_SECS;
    let mut urls = Map::new();
    for (full, given) in resolved {
        if let Some(full) = full {
            let sig = sign(&agent, &full, expires);
            let url = format!("http://{host}/_blobs/{agent}/{full}?expires={expires}&sig={sig}");
            urls.insert(given, Value::String(url));
        }
    }
    Answer::ok(StatusCode::OK, json!({ "urls": urls })).into_response()
}

/// The per-process signing key, one SHA-256 block long (from the OS random generator, via uuid
/// v4). Per process rather than per server: URLs are short-lived, and a restart voids them.
fn secret() -> &'static [u8; 64] {
    static SECRET: OnceLock<[u8; 64]> = OnceLock::new();
    SECRET.get_or_init(|| {
        let mut key = [0u8; 64];
        for chunk in key.chunks_mut(16) {
            chunk.copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        }
        key
    })
}

/// The MAC of a download URL (`op` ""), or of an upload URL (`op` "PUT"): a download URL's
/// signature does not authorise an upload.
fn mac(op: &str, agent: &str, hash: &str, expires: i64) -> Hmac<Sha256> {
    let mut mac = <Hmac<Sha256> as hmac::digest::KeyInit>::new(&(*secret()).into());
    let prefix = if op.is_empty() {
        String::new()
    } else {
        format!("{op}\n")
    };
    mac.update(format!("{prefix}{agent}\n{hash}\n{expires}").as_bytes());
    mac
}

fn sign(agent: &str, hash: &str, expires: i64) -> String {
    sign_op("", agent, hash, expires)
}

pub(super) fn sign_op(op: &str, agent: &str, hash: &str, expires: i64) -> String {
    hex::encode(mac(op, agent, hash, expires).finalize().into_bytes())
}

/// Constant-time check of a URL's signature.
#[cfg(test)]
fn signature_ok(agent: &str, hash: &str, expires: i64, sig: &str) -> bool {
    signature_ok_op("", agent, hash, expires, sig)
}

pub(super) fn signature_ok_op(op: &str, agent: &str, hash: &str, expires: i64, sig: &str) -> bool {
    hex::decode(sig).is_ok_and(|bytes| mac(op, agent, hash, expires).verify_slice(&bytes).is_ok())
}

pub(super) fn storage_error(status: StatusCode, code: &'static str, message: &str) -> Response {
    ApiError::new(status, code, message).into_response()
}

/// Which presigned URL a request uses: a blob download, or an upload (`op=put`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Presigned {
    Get,
    Put,
}

/// The checks every presigned URL gets, in order: no Authorization header (one auth
/// mechanism), a valid signature for this operation, not expired. `Some` is the refusal to answer.
pub(super) fn check_presigned(
    headers: &HeaderMap,
    query: &HashMap<String, String>,
    kind: Presigned,
    agent: &str,
    hash: &str,
) -> Option<Response> {
    let (op, use_verb, refresh) = match kind {
        Presigned::Get => ("", "fetched", "blob-urls"),
        Presigned::Put => ("PUT", "used", "blob-upload-urls"),
    };
    if headers.contains_key(header::AUTHORIZATION) {
        return Some(storage_error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            &format!(
                "Only one auth mechanism allowed: a presigned URL is {use_verb} without an Authorization header"
            ),
        ));
    }
    let expires = query.get("expires").and_then(|e| e.parse::<i64>().ok());
    let sig = query.get("sig");
    let op_ok = kind == Presigned::Get || query.get("op").map(String::as_str) == Some("put");
    let mismatch = || {
        storage_error(
            StatusCode::FORBIDDEN,
            "SIGNATURE_MISMATCH",
            &format!("The request signature does not match: ask for a fresh URL with {refresh}"),
        )
    };
    let (Some(expires), Some(sig)) = (expires, sig) else {
        // Uploads have always answered a missing signature as a mismatch.
        return Some(match kind {
            Presigned::Get => storage_error(
                StatusCode::FORBIDDEN,
                "SIGNATURE_MISSING",
                "This URL needs the `expires` and `sig` query parameters of a presigned URL",
            ),
            Presigned::Put => mismatch(),
        });
    };
    if !op_ok || !signature_ok_op(op, agent, hash, expires, sig) {
        return Some(mismatch());
    }
    if expires < store::now_ms() / 1000 {
        return Some(storage_error(
            StatusCode::FORBIDDEN,
            "URL_EXPIRED",
            &format!("This presigned URL has expired: ask for a fresh one with {refresh}"),
        ));
    }
    None
}

async fn blob(
    State(state): State<AppState>,
    ApiPath((agent, hash)): ApiPath<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    if let Some(refused) = check_presigned(&headers, &query, Presigned::Get, &agent, &hash) {
        return refused;
    }
    let (a, h) = (agent.clone(), hash.clone());
    match state
        .db(move |conn| store::backup::blob(conn, &a, &h))
        .await
    {
        Ok(Some(data)) => {
            let mut r = Response::new(Body::from(data));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            r
        }
        Ok(None) => storage_error(
            StatusCode::NOT_FOUND,
            "BLOB_NOT_FOUND",
            "The specified blob does not exist (the backup was replaced?)",
        ),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// Body: a backup (`{"files": [{"relativePath", "content", "encoding"?, "external"?, "gzip"?,
/// "hash"?}], "shortHashes"?}`); replaces the agent's backup. 201 with the summary.
async fn upload(
    State(state): State<AppState>,
    ApiPath(agent): ApiPath<String>,
    RawBody(body): RawBody,
) -> Response {
    let spec = match parse_body::<BackupSpec>(&body) {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let files = match spec.prepare() {
        Ok(f) => f,
        Err(e) => return ApiError::bad_request(e).into_response(),
    };
    let a = agent.clone();
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if !store::backup::replace(&tx, &a, &files, spec.short_hashes, store::now_ms())? {
                return Ok(None);
            }
            let loaded = load(&tx, &a)?;
            tx.commit()?;
            Ok(Some(loaded))
        })
        .await;
    match result {
        Ok(Some((summary, entries))) => Answer::ok(
            StatusCode::CREATED,
            summary_json(summary.as_ref(), &entries),
        )
        .into_response(),
        Ok(None) => ApiError::agent_not_found(&agent).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_bind_agent_hash_and_expiry() {
        let sig = sign("a_1", "abc", 100);
        assert!(signature_ok("a_1", "abc", 100, &sig));
        assert!(!signature_ok("a_2", "abc", 100, &sig));
        assert!(!signature_ok("a_1", "abd", 100, &sig));
        assert!(!signature_ok("a_1", "abc", 101, &sig));
        assert!(!signature_ok("a_1", "abc", 100, "zz"));
        assert!(!signature_ok("a_1", "abc", 100, &sig[..10]));
    }

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_100_000), "2023-11-14T22:15:00Z");
        assert_eq!(rfc3339(1_700_000_100_123), "2023-11-14T22:15:00.123Z");
    }
}
