//! A scripted HTTP server on 127.0.0.1 (plain std threads and TCP, no framework): each
//! request is answered by a script from its method and path, or held open and never
//! answered (a black hole). For what the devserver cannot be made to say: redirects,
//! hostile text, a server that never answers. Records every request.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
}

/// What the server answers.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, value: Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string(),
        }
    }

    /// 200 with the envelope `{"success": true, "data": data}`.
    pub fn ok(data: Value) -> Answer {
        Self::json(200, json!({ "success": true, "data": data }))
    }

    /// A NestJS error body.
    pub fn nest(status: u16, message: &str) -> Answer {
        Self::json(
            status,
            json!({ "statusCode": status, "message": message, "error": "Error" }),
        )
    }

    pub fn redirect(status: u16, location: &str) -> Answer {
        Answer {
            status,
            headers: vec![("location".into(), location.into())],
            body: String::new(),
        }
    }

    pub fn raw(status: u16, body: &str) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }
}

/// Empty listings for the six kinds of deployed primitives.
fn nothing_deployed(method: &str, path: &str) -> Option<Answer> {
    if method != "GET" {
        return None;
    }
    let path = path.split('?').next().unwrap_or(path);
    if path.starts_with("/developer/agents/") && path.ends_with("/mcp-servers") {
        return Some(Answer::ok(json!([])));
    }
    [
        "skills",
        "webhooks",
        "jobs",
        "preprocessors",
        "postprocessors",
    ]
    .into_iter()
    .find(|kind| path.starts_with(&format!("/developer/{kind}/")))
    .map(|kind| Answer::ok(json!({ kind: [] })))
}

/// The agent `id` as `GET /admin/agents/{id}` answers it.
pub fn agent(id: &str, name: &str) -> Answer {
    Answer::ok(json!({ "id": id, "name": name, "model": null }))
}

/// One published persona version, as the versions list answers it.
pub fn versions(persona: &str) -> Answer {
    Answer::ok(json!({ "versions": [{
        "version": 1, "persona": persona, "createdDate": 1_700_000_000_000u64,
        "isCurrent": true, "status": "published",
    }]}))
}

type Script = dyn Fn(&str, &str) -> Option<Answer> + Send + Sync;

/// A running scripted server (runs until the test process ends).
pub struct Scripted {
    pub url: String,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    /// Answers each request with `script(method, path)`; `None` holds the connection open
    /// without ever answering.
    /// A server answering by `script`, except the deployed-primitives listings, which
    /// answer "nothing deployed": these scripts are about the agent and persona requests
    /// (listing faults are tested against the devserver in `tests/it/primitives.rs`).
    pub fn start(script: impl Fn(&str, &str) -> Option<Answer> + Send + Sync + 'static) -> Self {
        let script = move |method: &str, path: &str| {
            nothing_deployed(method, path).or_else(|| script(method, path))
        };
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let script: Arc<Script> = Arc::new(script);
        let shared = Arc::clone(&log);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (script, log) = (Arc::clone(&script), Arc::clone(&shared));
                std::thread::spawn(move || serve(stream, &*script, &log));
            }
        });
        Scripted { url, log }
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.log.lock().expect("log").clone()
    }
}

fn serve(stream: TcpStream, script: &Script, log: &Mutex<Vec<Seen>>) {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(seen) = read_request(&mut reader) else {
            return;
        };
        log.lock().expect("log").push(seen.clone());
        let Some(answer) = script(&seen.method, &seen.path) else {
            // A black hole: keep the connection, never answer, until the client hangs up.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
            return;
        };
        let mut out = format!(
            "HTTP/1.1 {} Scripted\r\ncontent-length: {}\r\n",
            answer.status,
            answer.body.len()
        );
        for (name, value) in &answer.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&answer.body);
        if reader.get_mut().write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Seen { method, path })
}
