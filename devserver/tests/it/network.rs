//! `--tls` and `--latency`: the binary's start lines, HTTPS with the CA it wrote (HTTP/2
//! through ALPN), a connection counter, and the modelled round trips.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lua_devserver::{Config, TlsConfig};
use reqwest::{Client, StatusCode};

use crate::common::{KEY, json, start_with};

const BIN: &str = env!("CARGO_BIN_EXE_lua-devserver");

fn trusting(ca: &std::path::Path) -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let pem = std::fs::read(ca).unwrap();
    Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap()
}

#[tokio::test]
async fn binary_with_tls_prints_the_ca_then_an_https_url_and_serves_http2() {
    let dir = tempfile::tempdir().unwrap();
    let tls_dir = dir.path().join("tls");
    let mut child = Command::new(BIN)
        .args([
            "--memory",
            "--port",
            "0",
            "--api-key",
            "k",
            "--tls",
            "--tls-dir",
        ])
        .arg(&tls_dir)
        .env_remove("LUA_API_KEY")
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    let ca = tls_dir.join("ca.pem");
    assert_eq!(
        first,
        format!("lua-devserver CA certificate: {}\n", ca.display())
    );
    let port = second
        .trim_end()
        .strip_prefix("lua-devserver listening on https://127.0.0.1:")
        .unwrap_or_else(|| panic!("unexpected second line {second:?}"));

    let client = trusting(&ca);
    // localhost is one of the certificate's names, as is 127.0.0.1.
    for host in ["127.0.0.1", "localhost"] {
        let resp = client
            .get(format!("https://{host}:{port}/_devserver/requests"))
            .bearer_auth("k")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.version(), reqwest::Version::HTTP_2, "ALPN offers h2");
        let (status, body) = json(resp).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // Without the CA the certificate is not trusted.
    let plain = crate::common::client();
    let err = plain
        .get(format!("https://127.0.0.1:{port}/_devserver/requests"))
        .send()
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test]
async fn connections_are_counted_and_reset_with_the_requests() {
    let server = start_with(Config::for_tests(KEY)).await;
    let get = |client: &Client| {
        client
            .get(format!("{}/_devserver/requests", server.url))
            .bearer_auth(KEY)
            .send()
    };
    let (_, body) = json(get(&server.client).await.unwrap()).await;
    assert_eq!(body["data"]["connections"], 1);
    // The same client reuses its connection; a new client opens one more.
    let (_, body) = json(get(&server.client).await.unwrap()).await;
    assert_eq!(body["data"]["connections"], 1);
    let other = crate::common::client();
    let (_, body) = json(get(&other).await.unwrap()).await;
    assert_eq!(body["data"]["connections"], 2);
}

#[tokio::test]
async fn latency_adds_a_round_trip_per_connection_and_one_per_request() {
    let rtt = Duration::from_millis(150);
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(KEY);
    config.latency = rtt;
    config.tls = Some(TlsConfig::new(dir.path()));
    let server = lua_devserver::start(config).await.unwrap();
    let client = trusting(server.ca_path().unwrap());
    let url = format!("{}/_devserver/requests", server.url());

    // New connection: the TCP handshake, the TLS handshake, then the request.
    let started = Instant::now();
    let resp = client.get(&url).bearer_auth(KEY).send().await.unwrap();
    let _ = resp.bytes().await.unwrap();
    let first = started.elapsed();
    assert!(first >= rtt * 3, "first request took {first:?}");

    // On the open connection a request costs one round trip (at least).
    let started = Instant::now();
    let resp = client.get(&url).bearer_auth(KEY).send().await.unwrap();
    let _ = resp.bytes().await.unwrap();
    let again = started.elapsed();
    assert!(again >= rtt, "{again:?}");
    server.shutdown().await;
}
