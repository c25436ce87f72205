//! The reference CLI (the npm package `lua-cli@3.37.0`, run with node) against a devserver:
//! found through `LUA_REFERENCE_CLI` (set by `.ci/run`), fenced so it can reach nothing but
//! that devserver, every request it makes recorded, every wait bounded.
//!
//! The fence is a node preload (`--import`) that wraps `net.Socket.prototype.connect` (every TCP
//! connection node opens, `fetch` and TLS included, goes through it) and refuses any destination
//! but the devserver's `127.0.0.1:PORT`, and wraps `fetch` to log each request's method, URL,
//! headers (the Authorization value redacted) and body, and each answer's status. The
//! reference's own code is not touched. Its other outbound traffic is switched off at the source
//! as well: telemetry by `LUA_TELEMETRY=false`, the npm version check by a fresh
//! `~/.lua-cli/version-check.json` in a temporary HOME, and every base URL it reads
//! (`LUA_API_URL`, `LUA_AUTH_URL`, `LUA_WEBHOOK_URL`) set to the devserver.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The version `.ci/run` installs and this harness was written against.
pub const VERSION: &str = "3.37.0";

/// Longest a reference run may take (it compiles the project with TypeScript first).
const RUN_LIMIT: Duration = Duration::from_secs(180);

const GUARD: &str = r#"
import net from "node:net";
import fs from "node:fs";
const log = process.env.LUA_REFERENCE_GUARD_LOG;
const allowed = process.env.LUA_REFERENCE_GUARD_ALLOW;
const write = (event) => fs.appendFileSync(log, JSON.stringify(event) + "\n");
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  let o = Array.isArray(args[0]) ? args[0][0] : args[0];
  let dest;
  if (typeof o === "object" && o !== null) {
    dest = o.path ? `unix:${o.path}` : `${o.host ?? "localhost"}:${o.port}`;
  } else {
    dest = `${typeof args[1] === "string" ? args[1] : "localhost"}:${o}`;
  }
  if (dest !== allowed) {
    write({ event: "refused", dest });
    process.nextTick(() => this.destroy(new Error(`reference guard: ${dest} refused`)));
    return this;
  }
  write({ event: "connect", dest });
  return connect.apply(this, args);
};
const realFetch = globalThis.fetch;
globalThis.fetch = async function (input, init = {}) {
  const url = typeof input === "string" ? input : (input.url ?? String(input));
  const headers = {};
  for (const [k, v] of Object.entries(init.headers ?? {})) {
    headers[k] = k.toLowerCase() === "authorization" ? String(v).replace(/ .*/, " <redacted>") : v;
  }
  const method = (init.method ?? "GET").toUpperCase();
  write({ event: "fetch", method, url, headers, body: typeof init.body === "string" ? init.body : null });
  const res = await realFetch(input, init);
  write({ event: "status", method, url, status: res.status });
  return res;
};
"#;

/// The installed reference CLI (`node_modules/.bin/lua`), or `None` after a loud skip message.
/// Under CI (`CI` or `LUA_REQUIRE_REFERENCE=1`, which `.ci/run` exports) a missing reference
/// fails the test instead.
#[allow(clippy::print_stderr)] // the skip must be visible in the test log
pub fn find() -> Option<PathBuf> {
    let required = std::env::var_os("CI").is_some()
        || std::env::var("LUA_REQUIRE_REFERENCE").is_ok_and(|v| v == "1");
    let found = std::env::var_os("LUA_REFERENCE_CLI")
        .map(PathBuf::from)
        .filter(|p| p.is_file());
    if found.is_none() {
        let why = "the reference CLI is not installed: set LUA_REFERENCE_CLI to \
                   node_modules/.bin/lua of `npm install lua-cli@3.37.0` (.ci/run does)";
        assert!(!required, "{why}");
        eprintln!("\n!!!!!!!! SKIPPED: {why} !!!!!!!!\n");
    }
    found
}

/// One logged event of the reference's traffic.
#[derive(Debug, Clone)]
pub struct Event(pub Value);

impl Event {
    pub fn kind(&self) -> &str {
        self.0["event"].as_str().unwrap_or("")
    }
}

/// What one reference run did.
pub struct RefRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub events: Vec<Event>,
}

impl RefRun {
    /// `METHOD URL` of every request, in the order they were sent.
    pub fn requests(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.kind() == "fetch")
            .map(|e| {
                format!(
                    "{} {}",
                    e.0["method"].as_str().unwrap_or(""),
                    e.0["url"].as_str().unwrap_or("")
                )
            })
            .collect()
    }

    /// Stdout without ANSI colour sequences (the reference colours some lines even off a tty).
    pub fn plain_stdout(&self) -> String {
        strip_ansi(&self.stdout)
    }

    pub fn dump(&self) -> String {
        format!(
            "exit {}\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- traffic ---\n{}",
            self.code,
            self.plain_stdout(),
            strip_ansi(&self.stderr),
            self.events
                .iter()
                .map(|e| e.0.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    }
}

pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            // Parameters and intermediates, then one final byte in @..~.
            for c in chars.by_ref() {
                if ('@'..='~').contains(&c) {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Runs `cli args` in `project` against the devserver at `url` (`http://127.0.0.1:PORT`) with
/// `key`, fenced and logged, killed after [`RUN_LIMIT`].
pub fn run(cli: &Path, project: &Path, url: &str, key: &str, args: &[&str]) -> RefRun {
    let scratch = tempfile::tempdir().expect("tempdir");
    let home = scratch.path().join("home");
    let state = home.join(".lua-cli");
    std::fs::create_dir_all(&state).expect("mkdir");
    // A fresh cached answer of the version check, so it does not ask registry.npmjs.org.
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_millis();
    std::fs::write(
        state.join("version-check.json"),
        format!("{{\"latestVersion\":\"{VERSION}\",\"checkedAt\":{now_ms}}}"),
    )
    .expect("write version cache");
    let guard = scratch.path().join("guard.mjs");
    std::fs::write(&guard, GUARD).expect("write guard");
    let log = scratch.path().join("traffic.jsonl");
    std::fs::write(&log, "").expect("create log");
    let allowed = url
        .strip_prefix("http://")
        .expect("an http://127.0.0.1:PORT url");

    let mut child = Command::new(cli)
        .args(args)
        .current_dir(project)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("NODE_OPTIONS", format!("--import {}", guard.display()))
        .env("LUA_REFERENCE_GUARD_LOG", &log)
        .env("LUA_REFERENCE_GUARD_ALLOW", allowed)
        .env("LUA_API_URL", url)
        .env("LUA_AUTH_URL", url)
        .env("LUA_WEBHOOK_URL", url)
        .env("LUA_API_KEY", key)
        .env("LUA_TELEMETRY", "false")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e} (is node on the PATH?)", cli.display()));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the reference CLI did not finish within {RUN_LIMIT:?}; traffic so far:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        // The poll interval of a bounded wait on the process's exit (std has no timed wait).
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out_reader.join().expect("stdout reader");
    let stderr = err_reader.join().expect("stderr reader");
    let events = std::fs::read_to_string(&log)
        .expect("read traffic log")
        .lines()
        .map(|l| Event(serde_json::from_str(l).expect("traffic log line")))
        .collect();
    RefRun {
        code: status.code().unwrap_or(-1),
        stdout,
        stderr,
        events,
    }
}

/// One primitive the reference reports as drifted: `(kind, name, status, local, server)` with
/// our names (`skills`..`mcp_servers`; `local_only`, `server_only`, `both`).
pub type Drift = (String, String, String, Option<String>, Option<String>);

/// The "Primitive drift detected:" block of `lua sync --check`, e.g.
/// `  SKILLS           b (local v1.0.0, server v1.0.1)`, `  MCP SERVERS      m3 (server only)`.
pub fn primitive_drift(stdout: &str) -> Vec<Drift> {
    let labels = [
        ("MCP SERVERS", "mcp_servers"),
        ("PREPROCESSORS", "preprocessors"),
        ("POSTPROCESSORS", "postprocessors"),
        ("WEBHOOKS", "webhooks"),
        ("SKILLS", "skills"),
        ("JOBS", "jobs"),
    ];
    let v = |s: &str| s.strip_prefix('v').map(str::to_owned);
    stdout
        .lines()
        .skip_while(|l| l.trim() != "Primitive drift detected:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|line| {
            let line = line.trim();
            let (label, kind) = labels
                .iter()
                .find(|(label, _)| line.starts_with(label))
                .unwrap_or_else(|| panic!("unknown kind in {line:?}"));
            let rest = line[label.len()..].trim();
            let (name, info) = rest
                .rsplit_once(" (")
                .and_then(|(n, i)| Some((n, i.strip_suffix(')')?)))
                .unwrap_or_else(|| panic!("no `name (status)` in {line:?}"));
            let parts: Vec<&str> = info.split(", ").collect();
            let (status, local, server) = match parts.as_slice() {
                ["local only"] => ("local_only", None, None),
                ["local only", l] => ("local_only", v(l), None),
                ["server only"] => ("server_only", None, None),
                ["server only", s] => ("server_only", None, v(s)),
                [l, s] if l.starts_with("local ") && s.starts_with("server ") => {
                    ("both", v(&l["local ".len()..]), v(&s["server ".len()..]))
                }
                _ => panic!("unknown status in {line:?}"),
            };
            (
                kind.to_string(),
                name.to_string(),
                status.to_string(),
                local,
                server,
            )
        })
        .collect()
}
