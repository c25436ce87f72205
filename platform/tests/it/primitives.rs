//! Primitive listings and the backup protocol against a real TCP server: shapes, the
//! active-version rule, MCP filtering, typed errors (never an empty list), blob downloads
//! without Authorization, gzip, hash checks, size cap.

use crate::common;

use std::io::Write as _;
use std::time::Duration;

use crate::common::{KEY, Reply, assert_no_key, client, client_with, serve};
use lua_contract::{
    JOB, POSTPROCESSOR, PREPROCESSOR, PRIMITIVE_KINDS, PrimitiveKind, SKILL, WEBHOOK,
};
use lua_platform::{BlobClient, BlobError, PlatformError};
use serde_json::json;
use sha2::{Digest, Sha256};

const AGENT: &str = "baseAgent_agent_123";

fn listing(kind: &str) -> serde_json::Value {
    json!({ kind: [
        {"id": "s1", "name": "order-skill", "activeVersionId": "v2",
         "versions": [{"id": "v1", "version": "1.0.0"}, {"versionId": "v2", "version": "1.0.1"}, {"id": "v3", "version": "1.1.0", "active": true}]},
        {"id": "s2", "name": "faq", "versions": [{"version": "2.0.0"}, {"version": "2.1.0"}]},
        {"id": "s3", "name": "empty", "versions": []}
    ]})
}

#[tokio::test]
async fn every_kind_lists_from_its_path_with_the_active_version() {
    let mock = serve(|req, _| {
        let kind = req.path.split('/').nth(2).unwrap_or_default().to_string();
        Reply::ok(listing(&kind))
    })
    .await;
    let c = client(&mock.base_url);
    for kind in PRIMITIVE_KINDS {
        let items = c.primitives(AGENT, kind, false).await.unwrap();
        let active: Vec<_> = items
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.active_version().map(|v| v.version.as_str()),
                )
            })
            .collect();
        assert_eq!(
            active,
            vec![
                ("order-skill", Some("1.0.1")),
                ("faq", Some("2.1.0")),
                ("empty", None)
            ],
            "{kind:?}"
        );
    }
    let paths: Vec<_> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(
        paths,
        [
            "/developer/skills/baseAgent_agent_123",
            "/developer/webhooks/baseAgent_agent_123",
            "/developer/jobs/baseAgent_agent_123",
            "/developer/preprocessors/baseAgent_agent_123",
            "/developer/postprocessors/baseAgent_agent_123",
        ]
    );
    assert!(
        mock.requests()
            .iter()
            .all(|r| r.header("authorization") == Some(&format!("Bearer {KEY}")))
    );
}

#[tokio::test]
async fn a_failed_listing_is_a_typed_error_never_an_empty_list() {
    let mock = serve(|req, _| match req.path.as_str() {
        p if p.starts_with("/developer/skills") => Reply::nest(500, "boom"),
        p if p.starts_with("/developer/webhooks") => Reply::nest(401, "bad key"),
        p if p.starts_with("/developer/jobs") => Reply::ok(json!({"skills": []})),
        p if p.starts_with("/developer/preprocessors") => Reply::ok(json!({"preprocessors": [{"id": "x", "name": 3}]})),
        _ => Reply::ok(json!({"postprocessors": [{"id": "x", "name": "n", "versions": [{"version": {"a": 1}}]}]})),
    })
    .await;
    let c = client_with(&mock.base_url, 0, Duration::from_secs(5));
    let err = |kind: &'static PrimitiveKind| {
        let c = c.clone();
        async move { c.primitives(AGENT, kind, false).await.unwrap_err() }
    };
    let e = err(&SKILL).await;
    assert!(
        matches!(e, PlatformError::Server { status: 500, .. }),
        "{e}"
    );
    let e = err(&WEBHOOK).await;
    assert!(
        matches!(e, PlatformError::Unauthorized { status: 401, .. }),
        "{e}"
    );
    assert_no_key(&e);
    let e = err(&JOB).await.to_string();
    assert!(e.contains("expected an object with a \"jobs\" list"), "{e}");
    let e = err(&PREPROCESSOR).await.to_string();
    assert!(e.contains("preprocessors[0].name is not a string"), "{e}");
    let e = err(&POSTPROCESSOR).await.to_string();
    assert!(
        e.contains("postprocessors[0].versions[0].version is not a string"),
        "{e}"
    );
    assert!(
        e.contains("/developer/postprocessors/baseAgent_agent_123"),
        "{e}"
    );
}

#[tokio::test]
async fn mcp_servers_are_a_bare_list_filtered_to_manual_and_active() {
    let mock = serve(|_, _| {
        Reply::ok(json!([
            {"id": "m1", "name": "search"},
            {"id": "m2", "name": "manual-on", "source": "manual", "active": true},
            {"id": "m3", "name": "from-integration", "source": "zapier"},
            {"id": "m4", "name": "off", "active": false},
        ]))
    })
    .await;
    let c = client(&mock.base_url);
    let names: Vec<_> = c
        .mcp_servers(AGENT, false)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.name)
        .collect();
    assert_eq!(names, ["search", "manual-on"]);
    assert_eq!(
        mock.requests()[0].path,
        "/developer/agents/baseAgent_agent_123/mcp-servers"
    );
    // Cached per run: a second read asks nothing; fresh asks again.
    c.mcp_servers(AGENT, false).await.unwrap();
    assert_eq!(mock.count(), 1);
    c.mcp_servers(AGENT, true).await.unwrap();
    assert_eq!(mock.count(), 2);

    let bad = serve(|_, _| Reply::ok(json!({"servers": []}))).await;
    let e = client(&bad.base_url)
        .mcp_servers(AGENT, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected a list of MCP servers"), "{e}");
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn backup_info_manifest_and_blob_urls() {
    let h1 = sha(b"one");
    let h2 = sha(b"two")[..16].to_string();
    let (a, b) = (h1.clone(), h2.clone());
    let mock = serve(move |req, _| match req.path.as_str() {
        "/developer/agents/baseAgent_agent_123/backup" => {
            Reply::ok(json!({"fileCount": 2, "createdAt": "2026-11-30T10:00:00Z"}))
        }
        "/developer/agents/baseAgent_agent_123/backup/manifest" => {
            Reply::ok(json!({"createdAt": "x", "files": [
                {"relativePath": "src/index.ts", "hash": a.to_uppercase()},
                {"relativePath": "vendor/x.js", "hash": b, "external": true},
            ]}))
        }
        "/developer/agents/baseAgent_agent_123/backup/blob-urls" => {
            let hashes = req.json()["hashes"].clone();
            let urls: serde_json::Map<_, _> = hashes
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    (
                        h.as_str().unwrap().to_string(),
                        json!(format!(
                            "http://blobs.example/{}?sig=s3cr3t",
                            h.as_str().unwrap()
                        )),
                    )
                })
                .collect();
            Reply::ok(json!({"urls": urls}))
        }
        _ => Reply::nest(404, "no"),
    })
    .await;
    let c = client(&mock.base_url);
    let info = c.backup_info(AGENT).await.unwrap();
    assert!(info.exists());
    assert_eq!(info.file_count, 2);
    let manifest = c.backup_manifest(AGENT).await.unwrap();
    assert_eq!(manifest.files[0].hash, h1, "hashes are lower-cased");
    assert!(manifest.files[1].external);
    let hashes: Vec<String> = manifest.files.iter().map(|f| f.hash.clone()).collect();
    let urls = c.blob_urls(AGENT, &hashes).await.unwrap();
    assert_eq!(urls[&h2], format!("http://blobs.example/{h2}?sig=s3cr3t"));
    let post = mock
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(post.json(), json!({"hashes": [h1, h2]}));
}

#[tokio::test]
async fn malformed_backup_answers_are_protocol_errors() {
    let mock = serve(|req, _| match req.path.as_str() {
        p if p.ends_with("/backup") => Reply::ok(json!({"fileCount": "2"})),
        p if p.ends_with("/manifest") => {
            Reply::ok(json!({"files": [{"relativePath": "a", "hash": "xyz"}]}))
        }
        _ => Reply::ok(json!({"urls": {"0123456789abcdef": "file:///etc/passwd"}})),
    })
    .await;
    let c = client(&mock.base_url);
    let e = c.backup_info(AGENT).await.unwrap_err().to_string();
    assert!(e.contains("fileCount is not a non-negative integer"), "{e}");
    let e = c.backup_manifest(AGENT).await.unwrap_err().to_string();
    assert!(
        e.contains("files[0].hash is not 16 or 64 hex characters"),
        "{e}"
    );
    let e = c
        .blob_urls(AGENT, &["0123456789abcdef".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("is not http(s)"), "{e}");
    let e = c
        .blob_urls(AGENT, &["fedcba9876543210".into()])
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no URL for hash fedcba9876543210"), "{e}");
}

#[tokio::test]
async fn blobs_download_without_authorization_gunzipped_and_verified() {
    let plain = b"export const x = 1;\n".to_vec();
    let zipped = gzip(&plain);
    let (p, z) = (plain.clone(), zipped.clone());
    let mock = serve(move |req, _| match req.path.split('?').next().unwrap() {
        "/plain" => Reply::raw(200, p.clone()),
        "/gz" => Reply::raw(200, z.clone()),
        "/corrupt" => Reply::raw(200, b"export const x = 2;\n".to_vec()),
        "/badgz" => Reply::raw(200, vec![0x1f, 0x8b, 8, 0, 0, 0]),
        "/big" => Reply::raw(200, vec![b'a'; 2048]),
        _ => Reply::raw(403, "<Error>Request has expired</Error>"),
    })
    .await;
    let blobs = BlobClient::with_limit(Duration::from_secs(5), 1024).unwrap();
    let hash = sha(&plain);
    let url = |p: &str| format!("{}{p}?X-Sig=s3cr3t", mock.base_url);
    assert_eq!(blobs.download(&url("/plain"), &hash).await.unwrap(), plain);
    assert_eq!(
        blobs.download(&url("/gz"), &hash[..16]).await.unwrap(),
        plain
    );
    for r in mock.requests() {
        assert_eq!(r.header("authorization"), None, "{}", r.path);
        assert_eq!(r.header("x-lua-client"), None);
    }
    let e = blobs.download(&url("/corrupt"), &hash).await.unwrap_err();
    assert!(matches!(e, BlobError::HashMismatch { .. }), "{e}");
    assert!(!e.to_string().contains("s3cr3t"), "{e}");
    let e = blobs.download(&url("/badgz"), &hash).await.unwrap_err();
    assert!(matches!(e, BlobError::Gzip { .. }), "{e}");
    let e = blobs.download(&url("/big"), &hash).await.unwrap_err();
    assert!(matches!(e, BlobError::TooLarge { limit: 1024, .. }), "{e}");
    let e = blobs.download(&url("/expired"), &hash).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "backup blob {hash} from {}/expired: HTTP 403: <Error>Request has expired</Error>",
            mock.base_url
        )
    );
    let e = blobs
        .download(&format!("{}/x", common::dead_base_url()), &hash)
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::Unreachable { .. }), "{e}");
}

#[tokio::test]
async fn a_redirected_blob_url_is_an_error_naming_both_urls_and_is_not_followed() {
    let plain = b"export const x = 1;\n".to_vec();
    let p = plain.clone();
    let mock = serve(move |req, _| match req.path.split('?').next().unwrap() {
        "/moved" => Reply::raw(302, "").header("location", "/elsewhere?X-Sig=t0ken"),
        "/elsewhere" => Reply::raw(200, p.clone()),
        _ => Reply::raw(404, ""),
    })
    .await;
    let blobs = BlobClient::new(Duration::from_secs(5)).unwrap();
    let e = blobs
        .download(
            &format!("{}/moved?X-Sig=s3cr3t", mock.base_url),
            &sha(&plain),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(e, BlobError::Redirected { status: 302, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "backup blob {} from {base}/moved answered HTTP 302, a redirect to {base}/elsewhere; lua does not follow redirects of blob URLs (the platform's blob URLs answer the file itself)",
            sha(&plain),
            base = mock.base_url
        )
    );
    // Never followed: the target was not asked.
    let paths: Vec<_> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths, ["/moved?X-Sig=s3cr3t"]);
}

#[tokio::test]
async fn a_restore_is_bounded_while_streaming() {
    let text = vec![b'x'; 3000];
    let zeros = vec![0u8; 2 * 1024 * 1024];
    let (t, bomb) = (text.clone(), gzip(&zeros));
    assert!(bomb.len() * 100 < zeros.len(), "{}", bomb.len());
    let mock = serve(move |req, _| match req.path.as_str() {
        "/text" => Reply::raw(200, t.clone()),
        "/bomb" => Reply::raw(200, bomb.clone()),
        _ => Reply::raw(404, ""),
    })
    .await;
    let url = |p: &str| format!("{}{p}", mock.base_url);
    // A bomb: refused at the ratio, naming it.
    let blobs = BlobClient::new(Duration::from_secs(5)).unwrap();
    let e = blobs
        .download(&url("/bomb"), &sha(&zeros))
        .await
        .unwrap_err();
    assert!(matches!(e, BlobError::Ratio { ratio: 100, .. }), "{e}");
    assert!(e.to_string().contains("decompression bomb"), "{e}");
    // One restore's bytes: two files fit, the third trips the limit (shared by clones).
    let limits = lua_platform::Limits {
        restore_bytes: 8000,
        ..lua_platform::LIMITS
    };
    let blobs = BlobClient::with_limits(Duration::from_secs(5), limits).unwrap();
    let clone = blobs.clone();
    blobs.download(&url("/text"), &sha(&text)).await.unwrap();
    clone.download(&url("/text"), &sha(&text)).await.unwrap();
    let e = blobs
        .download(&url("/text"), &sha(&text))
        .await
        .unwrap_err();
    assert!(
        matches!(e, BlobError::RestoreTooLarge { limit: 8000, .. }),
        "{e}"
    );
    assert!(
        e.to_string().contains("limit of 8000 bytes per restore"),
        "{e}"
    );
}
