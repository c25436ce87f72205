//! Starting and stopping: the real binary, refusing without a key, `--db` persistence across
//! restarts, `--seed` loading and the blocking wrapper.

use crate::common;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Command, Stdio};

use crate::common::{AGENT, KEY, json, latest_by_created_date, start_with};
use lua_devserver::{BlockingServer, Config, Seed, Storage};
use reqwest::StatusCode;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_lua-devserver");

fn example_seed_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/seed.json")
}

#[tokio::test]
async fn binary_prints_one_line_and_serves() {
    let mut child = Command::new(BIN)
        .args(["--memory", "--port", "0", "--api-key", "k"])
        .env_remove("LUA_API_KEY")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let url = line
        .strip_suffix('\n')
        .and_then(|l| l.strip_prefix("lua-devserver listening on http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    let port: u16 = url
        .parse()
        .unwrap_or_else(|_| panic!("no port in {line:?}"));
    assert_ne!(port, 0);

    let client = common::client();
    let (status, body) = json(
        client
            .get(format!("http://127.0.0.1:{port}/admin/agents/{AGENT}"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["code"], "AGENT_NOT_FOUND");

    child.kill().unwrap();
    child.wait().unwrap();
    // Exactly one line: nothing else was printed to stdout.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "");
}

#[cfg(unix)]
#[tokio::test]
async fn binary_defaults_to_a_db_file_and_reads_the_key_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--agent", "baseAgent_agent_123=Env Bot"])
        .current_dir(dir.path())
        .env("LUA_API_KEY", "env-key")
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
        .unwrap()
        .to_owned();
    let client = common::client();
    let (status, body) = json(
        client
            .get(format!("{url}/admin/agents/{AGENT}"))
            .bearer_auth("env-key")
            .send()
            .await
            .unwrap(),
    )
    .await;
    // SIGTERM is a graceful stop: exit code 0.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["name"], "Env Bot");
    assert!(dir.path().join(".lua-devserver/platform.db").is_file());
}

#[test]
fn binary_refuses_to_start_without_a_key() {
    let out = Command::new(BIN)
        .args(["--memory", "--port", "0"])
        .env_remove("LUA_API_KEY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("LUA_API_KEY"), "{stderr}");
    assert!(stderr.contains("--api-key"), "{stderr}");
}

#[test]
fn help_never_shows_the_key_from_the_environment() {
    let out = Command::new(BIN)
        .arg("--help")
        .env("LUA_API_KEY", "very-secret-value")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("--api-key"), "{help}");
    assert!(help.contains("LUA_API_KEY"), "{help}");
    assert!(!help.contains("very-secret-value"), "{help}");
}

#[test]
fn binary_reports_a_bad_seed_file_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("seed.json");
    std::fs::write(
        &seed,
        r#"{"agents": [{"id": "a_1", "personaVersions": [{"persona": 3}]}]}"#,
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["--memory", "--port", "0", "--seed"])
        .arg(&seed)
        .env("LUA_API_KEY", "distinctive-secret-xyz")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("personaVersions[0]"), "{stderr}");
    let everything = format!("{stderr}{}", String::from_utf8_lossy(&out.stdout));
    assert!(
        !everything.contains("distinctive-secret-xyz"),
        "{everything}"
    );
}

#[tokio::test]
async fn db_file_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = || {
        let mut c = Config::for_tests(KEY);
        c.storage = Storage::File(dir.path().join("state/platform.db"));
        c.agents.push(AGENT.parse().unwrap());
        c
    };
    let s = start_with(config()).await;
    s.push(AGENT, json!("first")).await;
    s.push(AGENT, json!("second")).await;
    s.post(&format!("/developer/agents/{AGENT}/persona/version/1"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    s.patch("/agents/baseAgent/sub-agent")
        .json(&json!({"id": "agent_123", "name": "Persisted"}))
        .send()
        .await
        .unwrap();
    s.server.shutdown().await;

    let s = start_with(config()).await;
    let versions = s.versions(AGENT, None).await;
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[0]["isCurrent"], true, "the rollback survived");
    assert_eq!(latest_by_created_date(&versions)["persona"], "second");
    let (_, agent) = json(
        s.get(&format!("/admin/agents/{AGENT}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        agent["data"]["name"], "Persisted",
        "--agent does not overwrite an existing agent"
    );
    // Numbering continues after a restart.
    assert_eq!(s.push(AGENT, json!("third")).await, 3);
    s.server.shutdown().await;
}

#[tokio::test]
async fn example_seed_file_loads() {
    let seed = Seed::from_file(&example_seed_path()).unwrap();
    let mut config = Config::for_tests(KEY);
    config.seed = Some(seed);
    let s = start_with(config).await;
    let demo = "baseAgent_agent_demo";
    let (_, agent) = json(
        s.get(&format!("/admin/agents/{demo}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(agent["data"]["name"], "Support Bot");
    assert_eq!(agent["data"]["model"], "gpt-4o");
    let published = s.versions(demo, Some("published")).await;
    assert_eq!(published.len(), 2);
    let latest = latest_by_created_date(&published);
    assert_eq!(latest["version"], 2);
    assert_eq!(latest["isCurrent"], true);
    assert_eq!(
        latest["persona"],
        "You are a friendly support agent for Acme.\n\nAnswer briefly.\nAlways greet the customer by name."
    );
    assert_ne!(published[0]["persona"], latest["persona"]);
    let all = s.versions(demo, None).await;
    assert_eq!(all.len(), 3);
    assert_eq!(all[2]["status"], "draft");
}

#[test]
fn blocking_server_serves_and_stops_on_drop() {
    let mut config = Config::for_tests(KEY);
    config.agents.push(AGENT.parse().unwrap());
    let server = BlockingServer::start(config).unwrap();
    let addr = server.addr();
    assert_eq!(server.url(), format!("http://{addr}"));

    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /admin/agents/{AGENT} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {KEY}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
    assert!(
        response.contains(&format!("\"id\":\"{AGENT}\"")),
        "{response}"
    );

    drop(server);
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "the port is closed after drop"
    );
}

#[test]
fn blocking_server_reports_start_errors() {
    let mut config = Config::for_tests(KEY);
    config.api_key = None;
    let err = BlockingServer::start(config).unwrap_err();
    assert!(err.to_string().contains("LUA_API_KEY"), "{err}");
}
