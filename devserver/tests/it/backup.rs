//! Backups end to end over real HTTP, as `lua sync`'s pull uses them: summary, manifest,
//! blob URLs, blob downloads without Authorization (hash verified, gzip handled), refused
//! signatures, the upload control route, the `--backup-from` flag of the real binary, and
//! lua-cli's own push protocol (check-blobs, signed PUT uploads, the manifest).

use crate::common;

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};

use crate::common::{AGENT, KEY, TestServer, assert_error, json, start, start_with};
use lua_devserver::{BackupSpec, BackupUpload, Config, Seed};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_lua-devserver");

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn gunzip_if_needed(body: &[u8]) -> Vec<u8> {
    if body.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        body.to_vec()
    }
}

async fn data(s: &TestServer, path: &str) -> Value {
    let (status, body) = json(s.get(path).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body["data"].clone()
}

fn path(rest: &str) -> String {
    format!("/developer/agents/{AGENT}/backup{rest}")
}

async fn blob_urls(s: &TestServer, hashes: &[&str]) -> serde_json::Map<String, Value> {
    let (status, body) = json(
        s.post(&path("/blob-urls"))
            .json(&json!({ "hashes": hashes }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["data"]["urls"].as_object().unwrap().clone()
}

const SKILL: &str = "import { LuaSkill } from \"lua-cli\";\nexport default new LuaSkill({ name: \"order-skill\" });\n";
const YAML: &str =
    "agent:\n  agentId: baseAgent_agent_123\nskills:\n  - name: order-skill\n    version: 1.0.1\n";

fn seeded_backup() -> Config {
    let seed: Seed = serde_json::from_value(json!({"agents": [{
        "id": AGENT,
        "skills": [{"name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
        "backup": {"files": [
            {"relativePath": "src/skills/order.ts", "content": SKILL, "gzip": true},
            {"relativePath": "lua.skill.yaml", "content": YAML},
            {"relativePath": "tool.bin", "content": "AAEC/w==", "encoding": "base64"},
            {"relativePath": "vendor/x.js", "content": "x", "external": true},
        ]},
    }]}))
    .unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    config
}

#[tokio::test]
async fn manifest_blob_urls_and_downloads_without_auth() {
    let s = start_with(seeded_backup()).await;
    let summary = data(&s, &path("")).await;
    assert_eq!(summary["fileCount"], 4, "{summary}");
    let created = summary["createdAt"].as_str().unwrap();
    assert!(
        created.len() >= 20 && created.ends_with('Z') && created.as_bytes()[10] == b'T',
        "{created}"
    );

    let manifest = data(&s, &path("/manifest")).await;
    assert_eq!(manifest["createdAt"], summary["createdAt"]);
    let files = manifest["files"].as_array().unwrap();
    let expected: [(&str, &[u8]); 4] = [
        ("src/skills/order.ts", SKILL.as_bytes()),
        ("lua.skill.yaml", YAML.as_bytes()),
        ("tool.bin", &[0, 1, 2, 255]),
        ("vendor/x.js", b"x"),
    ];
    assert_eq!(files.len(), 4);
    for (entry, (rel, content)) in files.iter().zip(expected) {
        assert_eq!(entry["relativePath"], rel, "{entry}");
        assert_eq!(entry["hash"], sha256_hex(content), "{entry}");
    }
    assert_eq!(files[3]["external"], true);
    assert!(files[0].get("external").is_none(), "{}", files[0]);
    // projectHash as lua-cli computes the one it pushes: SHA-256 of the hashes ordered by path,
    // joined with `|`; the same in the summary and the manifest.
    let mut by_path: Vec<(&str, &[u8])> = expected.to_vec();
    by_path.sort_by_key(|(rel, _)| *rel);
    let joined: Vec<String> = by_path.iter().map(|(_, c)| sha256_hex(c)).collect();
    let project_hash = sha256_hex(joined.join("|").as_bytes());
    assert_eq!(manifest["projectHash"], project_hash, "{manifest}");
    assert_eq!(summary["projectHash"], project_hash, "{summary}");

    let hashes: Vec<&str> = files.iter().map(|f| f["hash"].as_str().unwrap()).collect();
    let urls = blob_urls(&s, &hashes).await;
    assert_eq!(urls.len(), 4);
    // A plain client: no Authorization header, no cookies.
    let plain = common::client();
    for (hash, (rel, content)) in hashes.iter().zip(expected) {
        let url = urls[*hash].as_str().unwrap();
        assert!(url.starts_with(&format!("{}/_blobs/", s.url)), "{url}");
        let resp = plain.get(url).send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{rel}");
        let body = resp.bytes().await.unwrap();
        if rel == "src/skills/order.ts" {
            assert_eq!(&body[..2], &[0x1f, 0x8b], "stored gzip-compressed");
        } else {
            assert_eq!(&body[..], content, "{rel}");
        }
        let bytes = gunzip_if_needed(&body);
        assert_eq!(bytes, content, "{rel}");
        assert!(sha256_hex(&bytes).starts_with(hash), "{rel}");
    }
    // Blob downloads are counted under their own route.
    let counter = data(&s, "/_devserver/requests").await;
    assert_eq!(
        counter["byRoute"]["GET /_blobs/{agentId}/{hash}"], 4,
        "{counter}"
    );
}

#[tokio::test]
async fn forged_expired_or_authorized_blob_requests_are_refused() {
    let s = start_with(seeded_backup()).await;
    let manifest = data(&s, &path("/manifest")).await;
    let hash = manifest["files"][1]["hash"].as_str().unwrap().to_owned();
    let url = blob_urls(&s, &[&hash]).await[&hash]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = common::client();
    let refused = |resp: reqwest::Response| async move { json(resp).await };

    // A flipped signature digit.
    let (base, sig) = url.rsplit_once("sig=").unwrap();
    let flipped = if sig.starts_with('0') { "1" } else { "0" };
    let forged = format!("{base}sig={flipped}{}", &sig[1..]);
    let (status, body) = refused(plain.get(&forged).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "SIGNATURE_MISMATCH");
    // A later expiry with the old signature.
    let later = url.replace("expires=", "expires=9");
    let (status, body) = refused(plain.get(&later).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "SIGNATURE_MISMATCH");
    // Another blob under the same signature.
    let other = manifest["files"][0]["hash"].as_str().unwrap();
    let swapped = url.replace(&hash, other);
    let (status, body) = refused(plain.get(&swapped).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "SIGNATURE_MISMATCH");
    // No signature at all.
    let bare = url.split_once('?').unwrap().0;
    let (status, body) = refused(plain.get(bare).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "SIGNATURE_MISSING");
    // An Authorization header on a presigned URL (storage services refuse two auth mechanisms).
    let (status, body) = refused(plain.get(&url).bearer_auth(KEY).send().await.unwrap()).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    // The genuine URL still works.
    let resp = plain.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.text().await.unwrap(), YAML);
}

#[tokio::test]
async fn blob_urls_skip_unknown_hashes_and_accept_prefixes() {
    let s = start_with(seeded_backup()).await;
    let manifest = data(&s, &path("/manifest")).await;
    let full = manifest["files"][1]["hash"].as_str().unwrap();
    let prefix = &full[..16];
    let unknown = "0".repeat(64);
    let urls = blob_urls(&s, &[prefix, &unknown, "not-a-hash"]).await;
    assert_eq!(urls.keys().collect::<Vec<_>>(), [prefix]);
    let body = common::client()
        .get(urls[prefix].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, YAML);

    let (status, body) = json(
        s.post(&path("/blob-urls"))
            .json(&json!({"hash": [full]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(body["message"].as_str().unwrap().contains("hash"), "{body}");
}

#[tokio::test]
async fn no_backup_and_unknown_agents() {
    let s = start().await;
    assert_eq!(
        data(&s, &path("")).await,
        json!({"fileCount": 0, "createdAt": null})
    );
    assert_eq!(
        data(&s, &path("/manifest")).await,
        json!({"files": [], "createdAt": null})
    );
    assert!(blob_urls(&s, &[&"a".repeat(64)]).await.is_empty());
    for route in ["", "/manifest"] {
        let (status, body) = json(
            s.get(&format!(
                "/developer/agents/baseAgent_agent_404/backup{route}"
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "AGENT_NOT_FOUND");
    }
    // The backup API needs the key.
    let resp = common::client()
        .get(format!("{}{}", s.url, path("/manifest")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_upload_route_replaces_the_backup() {
    let s = start_with(seeded_backup()).await;
    let upload = format!("/_devserver/agents/{AGENT}/backup");
    let (status, body) = json(
        s.post(&upload)
            .json(&json!({"shortHashes": true, "files": [
                {"relativePath": "src/index.ts", "content": "export {}\n", "gzip": true},
                // A corrupt blob: the manifest claims another file's hash.
                {"relativePath": "src/bad.ts", "content": "tampered", "hash": sha256_hex(b"original")},
                {"relativePath": "../outside.ts", "content": "escape"},
            ]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["fileCount"], 3);
    let manifest = data(&s, &path("/manifest")).await;
    let files = manifest["files"].as_array().unwrap();
    let paths: Vec<&str> = files
        .iter()
        .map(|f| f["relativePath"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["src/index.ts", "src/bad.ts", "../outside.ts"]);
    assert_eq!(files[0]["hash"], sha256_hex(b"export {}\n")[..16]);
    assert_eq!(files[1]["hash"], sha256_hex(b"original")[..16]);

    let hash = files[1]["hash"].as_str().unwrap();
    let urls = blob_urls(&s, &[hash]).await;
    let served = common::client()
        .get(urls[hash].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&served[..], b"tampered");
    assert!(!sha256_hex(&served).starts_with(hash), "a corrupt blob");

    // Bad uploads name the field and change nothing.
    for (bad, needle) in [
        (
            json!({"files": [{"relativePath": "a", "content": "%", "encoding": "base64"}]}),
            "files[0].content",
        ),
        (json!({"files": [{"relativePath": "a"}]}), "content"),
        (
            json!({"files": [{"relativePath": "", "content": ""}]}),
            "files[0].relativePath",
        ),
    ] {
        let (status, body) = json(s.post(&upload).json(&bad).send().await.unwrap()).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
        assert!(body["message"].as_str().unwrap().contains(needle), "{body}");
    }
    assert_eq!(data(&s, &path("")).await["fileCount"], 3);
    let (status, body) = json(
        s.post("/_devserver/agents/baseAgent_agent_404/backup")
            .json(&json!({"files": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "AGENT_NOT_FOUND");
    let resp = common::client()
        .post(format!("{}{upload}", s.url))
        .json(&json!({"files": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn config_backups_upload_a_folder_at_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/skills")).unwrap();
    std::fs::write(dir.path().join("src/skills/order.ts"), SKILL).unwrap();
    std::fs::write(dir.path().join("lua.skill.yaml"), YAML).unwrap();
    let mut config = Config::for_tests(KEY);
    config.agents.push(lua_devserver::AgentSpec {
        id: AGENT.to_owned(),
        name: None,
    });
    config.backups.push(BackupUpload {
        agent_id: AGENT.to_owned(),
        backup: BackupSpec::from_dir(dir.path()).unwrap(),
    });
    let s = start_with(config).await;
    let manifest = data(&s, &path("/manifest")).await;
    assert_eq!(
        manifest["files"],
        json!([
            {"relativePath": "lua.skill.yaml", "hash": sha256_hex(YAML.as_bytes())},
            {"relativePath": "src/skills/order.ts", "hash": sha256_hex(SKILL.as_bytes())},
        ])
    );

    // A backup for an agent that does not exist stops the start with a message naming it.
    let mut config = Config::for_tests(KEY);
    config.backups.push(BackupUpload {
        agent_id: "baseAgent_agent_ghost".to_owned(),
        backup: BackupSpec::from_dir(dir.path()).unwrap(),
    });
    let err = lua_devserver::start(config).await.unwrap_err().to_string();
    assert!(
        err.contains("baseAgent_agent_ghost") && err.contains("no such agent"),
        "{err}"
    );
}

#[tokio::test]
async fn the_backup_from_flag_of_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".git")).unwrap();
    std::fs::write(dir.path().join(".git/HEAD"), "ref").unwrap();
    std::fs::write(dir.path().join("index.ts"), "export {}\n").unwrap();
    let mut child = Command::new(BIN)
        .args([
            "--memory",
            "--port",
            "0",
            "--api-key",
            KEY,
            "--agent",
            AGENT,
        ])
        .arg("--backup-from")
        .arg(dir.path())
        .args(["--backup-agent", AGENT])
        .env_remove("LUA_API_KEY")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim_end()
        .strip_prefix("lua-devserver listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let (status, body) = json(
        common::client()
            .get(format!("{url}{}", path("/manifest")))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["files"],
        json!([{"relativePath": "index.ts", "hash": sha256_hex(b"export {}\n")}])
    );

    // Without --backup-agent: a usage error (exit 2) naming the missing flag.
    let out = Command::new(BIN)
        .args(["--memory", "--api-key", KEY, "--backup-from"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--backup-agent"), "{stderr}");
    // A folder that does not exist: exit 2, naming it.
    let out = Command::new(BIN)
        .args([
            "--memory",
            "--api-key",
            KEY,
            "--agent",
            AGENT,
            "--backup-agent",
            AGENT,
        ])
        .args(["--backup-from", "/nonexistent/backup-dir"])
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/nonexistent/backup-dir"), "{stderr}");
}

#[tokio::test]
async fn a_fault_on_blob_downloads_serves_a_corrupt_body() {
    let s = start_with(seeded_backup()).await;
    let manifest = data(&s, &path("/manifest")).await;
    let hash = manifest["files"][1]["hash"].as_str().unwrap().to_owned();
    let url = blob_urls(&s, &[&hash]).await[&hash]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = json(
        s.post("/_devserver/faults")
            .json(&json!({"count": 1, "pathPrefix": "/_blobs/", "body": "garbage"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let plain = common::client();
    let corrupt = plain.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(&corrupt[..], b"garbage");
    assert!(!sha256_hex(&corrupt).starts_with(&hash));
    // The fault is used up: the next download is the file.
    let good = plain.get(&url).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(sha256_hex(&good), hash);
}

async fn post_data(s: &TestServer, rest: &str, body: Value) -> (StatusCode, Value) {
    json(s.post(&path(rest)).json(&body).send().await.unwrap()).await
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write as _;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// lua-cli 3.37's `lua push backup`: check-blobs, signed PUT upload URLs (gzip bodies, hashes
/// verified, storage-style refusals), then the manifest, which replaces the backup and keeps the
/// pushed projectHash; a manifest naming a blob never uploaded changes nothing.
#[tokio::test]
async fn the_push_protocol_of_lua_cli() {
    let s = start().await;
    let (a, b) = ("export const a = 1;\n", "export const b = 2;\n");
    let (ha, hb) = (
        sha256_hex(a.as_bytes())[..16].to_owned(),
        sha256_hex(b.as_bytes())[..16].to_owned(),
    );
    let (status, body) = post_data(&s, "/check-blobs", json!({"hashes": [ha, hb]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["missing"], json!([ha, hb]));
    assert_eq!(body["data"]["results"][&ha], false);

    let (status, body) = post_data(
        &s,
        "/blob-upload-urls",
        json!({"hashes": [ha, hb], "checksums": {}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (url_a, url_b) = (
        body["data"]["urls"][&ha].as_str().unwrap().to_owned(),
        body["data"]["urls"][&hb].as_str().unwrap().to_owned(),
    );
    assert!(url_a.starts_with(&format!("{}/_blobs/", s.url)), "{url_a}");
    let plain = common::client();
    let put = |url: &str, body: Vec<u8>| {
        plain
            .put(url)
            .header("content-type", "application/octet-stream")
            .body(body)
    };
    let (status, err) = json(put(&url_a, gzip(b.as_bytes())).send().await.unwrap()).await;
    assert_error(status, &err, StatusCode::BAD_REQUEST, "BAD_DIGEST");
    let (status, err) = json(
        put(&url_a, gzip(a.as_bytes()))
            .bearer_auth(KEY)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &err, StatusCode::BAD_REQUEST, "INVALID_ARGUMENT");
    let (status, err) = json(
        put(&url_a.replace("&op=put", ""), gzip(a.as_bytes()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "SIGNATURE_MISMATCH");
    let (status, err) = json(
        put(&url_a.replace(&ha, &hb), gzip(b.as_bytes()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(status, &err, StatusCode::FORBIDDEN, "SIGNATURE_MISMATCH");
    let resp = put(&url_a, gzip(a.as_bytes())).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    let (_, body) = post_data(&s, "/check-blobs", json!({"hashes": [ha, hb]})).await;
    assert_eq!(body["data"]["existing"], json!([ha]));
    assert_eq!(body["data"]["missing"], json!([hb]));

    let manifest = json!({
        "projectHash": "p".repeat(64),
        "files": [
            {"relativePath": "src/a.ts", "hash": ha, "size": 20, "type": "source"},
            {"relativePath": "src/b.ts", "hash": hb, "size": 20, "type": "source"},
        ],
        "version": "1.0.0", "orgId": "org_1", "createdBy": "cli",
    });
    let (status, err) = post_data(&s, "/manifest", manifest.clone()).await;
    assert_error(status, &err, StatusCode::BAD_REQUEST, "VALIDATION_ERROR");
    assert!(err["message"].as_str().unwrap().contains(&hb), "{err}");
    assert_eq!(data(&s, &path("")).await["fileCount"], 0, "nothing changed");

    let resp = put(&url_b, b.as_bytes().to_vec()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let (status, body) = post_data(&s, "/manifest", manifest).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["data"]["fileCount"], 2);
    assert_eq!(body["data"]["projectHash"], "p".repeat(64));
    let listed = data(&s, &path("/manifest")).await;
    assert_eq!(listed["projectHash"], "p".repeat(64));
    assert_eq!(
        listed["files"],
        json!([{"relativePath": "src/a.ts", "hash": ha}, {"relativePath": "src/b.ts", "hash": hb}])
    );
    let urls = blob_urls(&s, &[&ha, &hb]).await;
    let got_a = plain.get(urls[&ha].as_str().unwrap()).send().await.unwrap();
    let got_a = got_a.bytes().await.unwrap();
    assert_eq!(&got_a[..2], &[0x1f, 0x8b], "served as uploaded, compressed");
    assert_eq!(gunzip_if_needed(&got_a), a.as_bytes());
    let got_b = plain.get(urls[&hb].as_str().unwrap()).send().await.unwrap();
    assert_eq!(&got_b.bytes().await.unwrap()[..], b.as_bytes());
}
