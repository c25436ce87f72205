//! Test support: a scripted HTTP server on 127.0.0.1 that records every request, and a raw
//! TCP server for answers no well-behaved framework would send.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use lua_platform::{ClientConfig, PlatformClient, PlatformError};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The key every test client uses; it must never show up in an error.
pub const KEY: &str = "sk-test-SECRET-0123456789";

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path and query, exactly as received.
    pub path: String,
    /// Lower-case header names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    /// `status` with a raw body.
    pub fn raw(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    /// `status` with a JSON body, as is (a bare payload or an error body).
    pub fn json(status: u16, value: Value) -> Self {
        Self::raw(status, value.to_string())
    }

    /// 200 with the envelope `{"success": true, "data": value}`.
    pub fn ok(data: Value) -> Self {
        Self::json(200, json!({ "success": true, "data": data }))
    }

    /// A NestJS error body.
    pub fn nest(status: u16, message: &str) -> Self {
        Self::json(
            status,
            json!({ "statusCode": status, "message": message, "error": "Error" }),
        )
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

type Script = dyn Fn(&Recorded, usize) -> Reply + Send + Sync;

struct MockState {
    log: Mutex<Vec<Recorded>>,
    script: Box<Script>,
}

/// A running scripted server.
#[derive(Clone)]
pub struct Mock {
    pub base_url: String,
    state: Arc<MockState>,
}

impl Mock {
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.log.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.state.log.lock().unwrap().len()
    }
}

/// Starts a server whose answer to each request is `script(request, n)`, where `n` counts the
/// earlier requests with the same method and path (0 for the first).
pub async fn serve(script: impl Fn(&Recorded, usize) -> Reply + Send + Sync + 'static) -> Mock {
    let state = Arc::new(MockState {
        log: Mutex::new(Vec::new()),
        script: Box::new(script),
    });
    let app = Router::new()
        .fallback(handle)
        .with_state(Arc::clone(&state));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Mock {
        base_url: format!("http://{addr}"),
        state,
    }
}

async fn handle(State(state): State<Arc<MockState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map(ToString::to_string)
            .unwrap_or_default(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect(),
        body,
    };
    let reply = {
        let mut log = state.log.lock().unwrap();
        let n = log
            .iter()
            .filter(|r| r.method == recorded.method && r.path == recorded.path)
            .count();
        log.push(recorded.clone());
        (state.script)(&recorded, n)
    };
    if !reply.delay.is_zero() {
        // A slow server is the thing tested (timeouts, deadlines): the delay is the answer.
        tokio::time::sleep(reply.delay).await;
    }
    let mut builder = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    for (name, value) in &reply.headers {
        builder = builder.header(name, value);
    }
    builder.body(Body::from(reply.body)).unwrap()
}

/// A raw TCP server: reads each request's head, writes `response` (if any) and closes the
/// connection. Returns the base URL and a counter of accepted connections.
pub async fn serve_raw(response: Option<Vec<u8>>) -> (String, Arc<Mutex<usize>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(Mutex::new(0usize));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            *counter.lock().unwrap() += 1;
            let response = response.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                if let Some(response) = response {
                    let _ = socket.write_all(&response).await;
                }
                let _ = socket.shutdown().await;
            });
        }
    });
    (format!("http://{addr}"), accepted)
}

/// A black hole: accepts connections and reads, but never answers nor closes.
pub async fn serve_blackhole() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    format!("http://{addr}")
}

/// A port nothing listens on: bind, note the port, close.
pub fn dead_base_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// The test configuration: the test key, 5 s timeout, 2 retries, version 1.2.3, 60 s
/// network deadline.
pub fn config(base_url: &str) -> ClientConfig {
    ClientConfig {
        base_url: base_url.to_owned(),
        api_key: Some(SecretString::from(KEY.to_owned())),
        timeout: Duration::from_secs(5),
        retries: 2,
        client_version: "1.2.3".to_owned(),
        deadline: Some(Duration::from_secs(60)),
        transport: None,
    }
}

pub fn client(base_url: &str) -> PlatformClient {
    PlatformClient::new(config(base_url)).unwrap()
}

pub fn client_with(base_url: &str, retries: u32, timeout: Duration) -> PlatformClient {
    PlatformClient::new(ClientConfig {
        retries,
        timeout,
        ..config(base_url)
    })
    .unwrap()
}

/// Fails the test if the key appears in the error's Display or Debug.
pub fn assert_no_key(err: &PlatformError) {
    let shown = format!("{err} / {err:?}");
    assert!(!shown.contains(KEY), "API key leaked: {shown}");
    assert!(
        !shown.contains("SECRET"),
        "part of the API key leaked: {shown}"
    );
}
