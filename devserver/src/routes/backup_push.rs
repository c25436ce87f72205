//! The backup push protocol of lua-cli 3.37's `lua push backup`, so the reference CLI can create
//! the backups `lua sync` pulls: `check-blobs` (which hashes the devserver lacks),
//! `blob-upload-urls` (signed PUT URLs, like presigned storage URLs), the `PUT` of each blob
//! (gzip-compressed, its hash verified) and `POST .../backup/manifest`, which replaces the backup
//! with the files it names and keeps the client's `projectHash`.
//!
//! Not in `API_CONTRACT.md` (sync only reads backups); shapes are what lua-cli 3.37 sends and
//! parses. Uploaded blobs wait in `staged_blobs` until a manifest names them.

use std::collections::HashMap;
use std::io::Read as _;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use super::backup::{Presigned, URL_LIFETIME_SECS, check_presigned, load, sign_op, storage_error};
use crate::http::error::{Answer, ApiError};
use crate::http::extract::{ApiPath, RawBody, parse_body};
use crate::spec::PreparedFile;
use crate::state::AppState;
use crate::store;

/// `POST .../backup/manifest`, `.../backup/check-blobs`, `.../backup/blob-upload-urls` (API
/// layers applied by the app, which merges them with `backup`'s reads of the same paths).
pub(crate) fn api_router() -> Router<AppState> {
    Router::new()
        .route(
            "/developer/agents/{agentId}/backup/manifest",
            post(save_manifest),
        )
        .route(
            "/developer/agents/{agentId}/backup/check-blobs",
            post(check_blobs),
        )
        .route(
            "/developer/agents/{agentId}/backup/blob-upload-urls",
            post(upload_urls),
        )
}

/// `PUT /_blobs/{agentId}/{hash}?expires=..&sig=..`: no Bearer auth (the signature is the auth).
pub(crate) fn blob_router() -> Router<AppState> {
    Router::new().route("/_blobs/{agentId}/{hash}", put(put_blob))
}

/// Most hashes one check-blobs or upload-URL request may name (lua-cli sends at most 500).
const MAX_HASHES: usize = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Hashes {
    hashes: Vec<String>,
    /// lua-cli may send base64 SHA-256 checksums of the bodies; the devserver verifies the hash
    /// of the uploaded content instead.
    #[serde(default)]
    #[allow(dead_code)]
    checksums: Option<Map<String, Value>>,
}

/// A lua-cli file hash: 16 or 64 lowercase hex digits.
fn valid_hash(h: &str) -> bool {
    (h.len() == 16 || h.len() == 64)
        && h.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn parse_hashes(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let request = parse_body::<Hashes>(body)?;
    if request.hashes.len() > MAX_HASHES {
        return Err(ApiError::bad_request(format!(
            "`hashes` may list at most {MAX_HASHES}"
        )));
    }
    if let Some(bad) = request.hashes.iter().find(|h| !valid_hash(h)) {
        return Err(ApiError::bad_request(format!(
            "`hashes`: {bad:?} is not 16 or 64 lowercase hex digits"
        )));
    }
    Ok(request.hashes)
}

/// `POST .../backup/check-blobs` `{"hashes"}`: `{"missing", "existing", "results": {hash: bool}}`;
/// a hash exists when it was uploaded or is in the agent's backup.
async fn check_blobs(
    State(state): State<AppState>,
    ApiPath(agent): ApiPath<String>,
    RawBody(body): RawBody,
) -> Response {
    let hashes = match parse_hashes(&body) {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let a = agent.clone();
    let known = super::backup::with_agent(&state, &agent, move |conn| {
        hashes
            .into_iter()
            .map(|h| Ok((store::backup::find_blob(conn, &a, &h)?.is_some(), h)))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .await;
    match known {
        Ok(known) => {
            let (mut missing, mut existing, mut results) = (Vec::new(), Vec::new(), Map::new());
            for (found, hash) in known {
                results.insert(hash.clone(), json!(found));
                if found {
                    existing.push(hash)
                } else {
                    missing.push(hash)
                }
            }
            Answer::ok(
                StatusCode::OK,
                json!({"missing": missing, "existing": existing, "results": results}),
            )
            .into_response()
        }
        Err(e) => e.into_response(),
    }
}

/// `POST .../backup/blob-upload-urls` `{"hashes", "checksums"?}`: `{"urls": {hash: url}}`, each a
/// signed `PUT http://HOST/_blobs/{agentId}/{hash}?expires=..&sig=..&op=put` URL.
async fn upload_urls(
    State(state): State<AppState>,
    ApiPath(agent): ApiPath<String>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let hashes = match parse_hashes(&body) {
        Ok(h) => h,
        Err(e) => return e.into_response(),
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return ApiError::bad_request("`Host` header is required").into_response();
    };
    let host = host.to_owned();
    if let Err(e) = super::backup::with_agent(&state, &agent, |_| Ok(())).await {
        return e.into_response();
    }
    let expires = store::now_ms() / 1000 + URL_LIFETIME_SECS;
    let urls: Map<String, Value> = hashes
        .into_iter()
        .map(|h| {
            let sig = sign_op("PUT", &agent, &h, expires);
            let url =
                format!("http://{host}/_blobs/{agent}/{h}?expires={expires}&sig={sig}&op=put");
            (h, Value::String(url))
        })
        .collect();
    Answer::ok(StatusCode::OK, json!({ "urls": urls })).into_response()
}

/// The plaintext of an uploaded body: gunzipped when it starts with the gzip magic.
fn plaintext(body: &[u8]) -> Result<(bool, Vec<u8>), String> {
    if !body.starts_with(&[0x1f, 0x8b]) {
        return Ok((false, body.to_vec()));
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .map_err(|e| format!("the body starts like gzip but does not decompress: {e}"))?;
    Ok((true, out))
}

/// `PUT /_blobs/{agentId}/{hash}?expires&sig&op=put`: stores the body (as sent: gzip-compressed
/// bodies are served compressed) once its plaintext hashes to `hash`. Like a storage service it
/// refuses an Authorization header, a bad or expired signature, and a body that is not the blob.
async fn put_blob(
    State(state): State<AppState>,
    ApiPath((agent, hash)): ApiPath<(String, String)>,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    if let Some(refused) = check_presigned(&headers, &query, Presigned::Put, &agent, &hash) {
        return refused;
    }
    let (gzip, bytes) = match plaintext(&body) {
        Ok(p) => p,
        Err(e) => return storage_error(StatusCode::BAD_REQUEST, "BAD_DIGEST", &e),
    };
    if !hex::encode(Sha256::digest(&bytes)).starts_with(&hash) {
        return storage_error(
            StatusCode::BAD_REQUEST,
            "BAD_DIGEST",
            "The uploaded content does not hash to the blob's key",
        );
    }
    let (a, h) = (agent.clone(), hash.clone());
    let stored = state
        .db(move |conn| {
            if store::get_agent(conn, &a)?.is_none() {
                return Ok(false);
            }
            store::backup::stage_blob(conn, &a, &h, gzip, &body)?;
            Ok(true)
        })
        .await;
    match stored {
        Ok(true) => StatusCode::OK.into_response(),
        Ok(false) => ApiError::agent_not_found(&agent).into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

/// One file of a pushed manifest (the fields lua-cli 3.37 sends).
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)] // size and type are accepted, not stored
struct PushedFile {
    relative_path: String,
    hash: String,
    size: Option<u64>,
    r#type: Option<String>,
    #[serde(default)]
    external: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[allow(dead_code)] // only files and projectHash are stored
struct PushedManifest {
    project_hash: String,
    files: Vec<PushedFile>,
    version: Option<String>,
    org_id: Option<String>,
    created_by: Option<String>,
    triggered_by: Option<String>,
}

/// `POST .../backup/manifest`: replaces the agent's backup with the named files, each taken from
/// an uploaded blob or the current backup (400 naming the first hash it has neither of), and
/// keeps `projectHash`. 201 with the summary (`{"fileCount", "createdAt", "projectHash"}`).
async fn save_manifest(
    State(state): State<AppState>,
    ApiPath(agent): ApiPath<String>,
    RawBody(body): RawBody,
) -> Response {
    let pushed = match parse_body::<PushedManifest>(&body) {
        Ok(m) => m,
        Err(e) => return e.into_response(),
    };
    if let Some(bad) = pushed.files.iter().find(|f| !valid_hash(&f.hash)) {
        return ApiError::bad_request(format!(
            "files: {:?} has hash {:?}, not 16 or 64 lowercase hex digits",
            bad.relative_path, bad.hash
        ))
        .into_response();
    }
    let a = agent.clone();
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if store::get_agent(&tx, &a)?.is_none() {
                return Ok(Err(ApiError::agent_not_found(&a)));
            }
            let mut files = Vec::with_capacity(pushed.files.len());
            for f in &pushed.files {
                let Some((gzip, data)) = store::backup::find_blob(&tx, &a, &f.hash)? else {
                    return Ok(Err(ApiError::bad_request(format!(
                        "files: blob {} of {:?} was never uploaded",
                        f.hash, f.relative_path
                    ))));
                };
                files.push(PreparedFile {
                    relative_path: f.relative_path.clone(),
                    hash: f.hash.clone(),
                    external: f.external,
                    gzip,
                    data,
                });
            }
            let now = store::now_ms();
            store::backup::replace_with_hash(
                &tx,
                &a,
                &files,
                false,
                Some(&pushed.project_hash),
                now,
            )?;
            store::backup::clear_staged(&tx, &a)?;
            let loaded = load(&tx, &a)?;
            tx.commit()?;
            Ok(Ok(loaded))
        })
        .await;
    match result {
        Ok(Ok((summary, entries))) => Answer::ok(
            StatusCode::CREATED,
            super::backup::summary_json(summary.as_ref(), &entries),
        )
        .into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}
