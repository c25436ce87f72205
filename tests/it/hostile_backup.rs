//! A backup is untrusted input: against the devserver (seeded backups, faults) and a
//! trickling blob server, a restore is refused within bounds (gzip bombs, oversized
//! manifests) with peak memory measured in the `lua` child process, blob downloads end
//! within the run's network budget, and nothing is written when a limit trips.
//!
//! Each test prints what it measured (peak memory, time) for `--nocapture`.
#![allow(clippy::print_stderr)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{self, AGENT, KEY, Platform, Project};

const INDEX: &str = "import { LuaAgent } from \"lua-cli\";\n\nexport default new LuaAgent({\n  name: \"Bot\",\n  persona: \"Be brief.\",\n});\n";

/// `order-skill` at 1.0.1 on the server (1.0.0 in the project) with `files` as its backup.
fn platform(files: Value) -> Platform {
    let mut config = lua_devserver::Config::for_tests(KEY);
    config.seed = Some(
        serde_json::from_value(json!({ "agents": [{
            "id": AGENT,
            "name": "Bot",
            "personaVersions": [{"persona": "Be brief."}],
            "skills": [{"id": "skill_orders", "name": "order-skill", "versions": ["1.0.0", "1.0.1"]}],
            "backup": {"files": files},
        }]}))
        .expect("seed"),
    );
    Platform::with_config(config)
}

fn project() -> Project {
    let p = Project::with_files(&[("src/index.ts", INDEX)]);
    p.write(
        "lua.skill.yaml",
        &format!(
            "agent:\n  agentId: {AGENT}\nskills:\n  - name: order-skill\n    version: 1.0.0\n    skillId: skill_orders\n"
        ),
    );
    p
}

/// A finished `lua` run with the peak resident memory of its process.
struct Measured {
    code: i32,
    stdout: String,
    stderr: String,
    /// `VmHWM` of the child, in KiB, last read before it exited.
    peak_kib: u64,
    took: Duration,
}

impl Measured {
    /// Everything the user saw (the outcome summary is on stdout, errors on stderr).
    fn text(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `lua <args>` in `root` (the environment of [`Project::lua`]), polling the child's
/// `/proc/<pid>/status` for its high-water mark of resident memory until it exits.
fn lua_measured(root: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Measured {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lua"));
    cmd.args(args)
        .current_dir(root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root)
        .env("LUA_API_URL", url)
        .env("LUA_API_KEY", KEY)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("spawn lua");
    let status = format!("/proc/{}/status", child.id());
    let read_stream = |s: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut out = String::new();
            if let Some(mut s) = s {
                let _ = s.read_to_string(&mut out);
            }
            out
        })
    };
    let stdout = read_stream(child.stdout.take().map(|s| Box::new(s) as _));
    let stderr = read_stream(child.stderr.take().map(|s| Box::new(s) as _));
    let mut peak_kib = 0;
    let exit = loop {
        if let Ok(text) = std::fs::read_to_string(&status)
            && let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak_kib = peak_kib.max(kib);
        }
        if let Some(exit) = child.try_wait().expect("wait") {
            break exit;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Measured {
        code: exit.code().unwrap_or(-1),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        peak_kib,
        took: started.elapsed(),
    }
}

/// Memory of a restore that is refused early: the process's own size plus a few MiB.
const REFUSED_PEAK_KIB: u64 = 120 * 1024;

#[test]
fn gzip_bombs_are_refused_while_inflating_with_bounded_memory() {
    // 24 blobs of 4 MiB of zeros, about 4 KB of gzip each: 96 MiB if inflated.
    let zeros = "\0".repeat(4 * 1024 * 1024);
    let mut files: Vec<Value> = (0..24)
        .map(|i| json!({"relativePath": format!("src/bomb{i:02}.ts"), "content": format!("{i}{zeros}"), "gzip": true}))
        .collect();
    files.push(
        json!({"relativePath": "src/skills/order.ts", "content": "export const order = 1;\n"}),
    );
    let platform = platform(Value::Array(files));
    let project = project();
    let before = support::files_except_manifest(project.root());
    let run = lua_measured(project.root(), &platform.url(), &["sync", "--accept"], &[]);
    eprintln!(
        "gzip bombs: exit {}, peak RSS {} KiB, {:?}",
        run.code, run.peak_kib, run.took
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.text().contains("src/bomb")
            && run
                .text()
                .contains("inflates to more than 100 times its compressed size")
            && run.text().contains("nothing was written"),
        "{}",
        run.text()
    );
    assert!(
        run.peak_kib > 0 && run.peak_kib < REFUSED_PEAK_KIB,
        "peak {} KiB",
        run.peak_kib
    );
    let mut after = support::files_except_manifest(project.root());
    after.remove("lua.sync.json");
    assert_eq!(after, before, "nothing written");
}

#[test]
fn an_oversized_manifest_is_refused_naming_the_limit() {
    let platform = platform(json!([{"relativePath": "src/a.ts", "content": "a\n"}]));
    let files: Vec<Value> = (0..10_001)
        .map(|i| json!({"relativePath": format!("src/f{i}.ts"), "hash": format!("{i:016x}")}))
        .collect();
    let body = json!({"success": true, "data": {"files": files}}).to_string();
    platform.fault(json!({
        "pathPrefix": format!("/developer/agents/{AGENT}/backup/manifest"),
        "body": body,
    }));
    let project = project();
    let before = support::files_except_manifest(project.root());
    let run = lua_measured(project.root(), &platform.url(), &["sync", "--accept"], &[]);
    eprintln!(
        "oversized manifest: exit {}, peak RSS {} KiB",
        run.code, run.peak_kib
    );
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.text().contains(
            "the backup manifest lists 10001 files, over the limit of 10000 files per restore"
        ),
        "{}",
        run.text()
    );
    assert!(run.peak_kib < REFUSED_PEAK_KIB, "peak {} KiB", run.peak_kib);
    let mut after = support::files_except_manifest(project.root());
    after.remove("lua.sync.json");
    assert_eq!(after, before, "nothing written");
}

/// A server whose every answer promises 64 bytes and sends one a second.
fn trickling_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut stream = reader.into_inner();
                let head = "HTTP/1.1 200 OK\r\ncontent-length: 64\r\ncontent-type: application/octet-stream\r\n\r\n";
                if stream.write_all(head.as_bytes()).is_err() {
                    return;
                }
                for _ in 0..64 {
                    if stream
                        .write_all(b"x")
                        .and_then(|()| stream.flush())
                        .is_err()
                    {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                }
            });
        }
    });
    url
}

#[test]
fn trickling_blobs_end_within_the_timeout_and_the_deadline() {
    let files: Vec<Value> = (0..24)
        .map(|i| json!({"relativePath": format!("src/f{i:02}.ts"), "content": format!("export const f{i} = {i};\n")}))
        .collect();
    let platform = platform(Value::Array(files));
    // The platform hands out blob URLs on the trickling server.
    let manifest = platform.data(
        reqwest::Method::GET,
        &format!("/developer/agents/{AGENT}/backup/manifest"),
        None,
    );
    let trickle = trickling_server();
    let urls: serde_json::Map<String, Value> = manifest["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| {
            let hash = f["hash"].as_str().expect("hash").to_owned();
            (hash.clone(), json!(format!("{trickle}/blob/{hash}")))
        })
        .collect();
    platform.fault(json!({
        "pathPrefix": format!("/developer/agents/{AGENT}/backup/blob-urls"),
        "body": json!({"success": true, "data": {"urls": urls}}).to_string(),
    }));
    let project = project();
    let before = support::files_except_manifest(project.root());
    for (env, limit, says) in [
        (
            [
                ("LUA_SERVER__TIMEOUT_SECS", "2"),
                ("LUA_SERVER__DEADLINE_SECS", "60"),
            ],
            2,
            "no complete answer within 2s (server.timeout_secs)",
        ),
        (
            [
                ("LUA_SERVER__TIMEOUT_SECS", "30"),
                ("LUA_SERVER__DEADLINE_SECS", "3"),
            ],
            3,
            "no complete answer within this run's network deadline of 3s (server.deadline_secs)",
        ),
    ] {
        let run = lua_measured(project.root(), &platform.url(), &["sync", "--accept"], &env);
        eprintln!(
            "trickling blobs, limit {limit}s: exit {}, took {:?}",
            run.code, run.took
        );
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(run.text().contains(says), "{}", run.text());
        assert!(run.text().contains("nothing was written"), "{}", run.text());
        // Ended by the limit (plus process start and the API requests), not by 24 slow
        // bodies of 64 s each.
        assert!(
            run.took < Duration::from_secs(limit + 8),
            "took {:?}",
            run.took
        );
        let mut after = support::files_except_manifest(project.root());
        after.remove("lua.sync.json");
        assert_eq!(after, before, "nothing written");
    }
}

#[test]
fn a_restore_writes_only_the_agents_source() {
    let hostile = [
        ".git/config",
        ".git/hooks/post-checkout",
        "SRC/../.GIT/info/x",
        "src\\..\\.git\\hooks\\pre-commit",
        ".vscode/tasks.json",
        ".github/workflows/ci.yml",
        ".env",
        ".npmrc",
        "lua.toml",
        "src/../lua.skill.yaml",
        ".//lua.skill.yaml",
        "lua.sync.json",
        "node_modules/x/index.js",
    ];
    let mut files: Vec<Value> = hostile
        .iter()
        .map(|p| json!({"relativePath": p, "content": "[core]\n\tfsmonitor = touch /tmp/pwned\n"}))
        .collect();
    files.push(
        json!({"relativePath": "src/skills/order.ts", "content": "export const order = 1;\n"}),
    );
    files.push(json!({"relativePath": "vendor/lib.js", "content": "lib\n", "external": true}));
    let platform = platform(Value::Array(files));
    let project = project();
    project.write(".git/config", "[core]\n\tbare = false\n");
    project.write("lua.toml", &format!("[agent]\nid = \"{AGENT}\"\n"));
    let before = support::files_except_manifest(project.root());
    let run = project.lua(&platform.url(), &["sync", "--accept", "--force"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let after = support::files_except_manifest(project.root());
    // The agent's source is restored; nothing else is created or changed.
    assert_eq!(
        project.read("src/skills/order.ts"),
        "export const order = 1;\n"
    );
    for (path, bytes) in &before {
        if path != "lua.skill.yaml" {
            assert_eq!(after.get(path), Some(bytes), "{path} changed");
        }
    }
    let created: Vec<_> = after
        .keys()
        .filter(|p| !before.contains_key(*p))
        .filter(|p| !p.starts_with(".lua/"))
        .collect();
    assert_eq!(
        created,
        ["lua.sync.json", "src/skills/order.ts"],
        "{}",
        run.snapshot()
    );
    assert_eq!(
        serde_json::from_slice::<Value>(&after["lua.sync.json"])
            .map(|v| v.is_object())
            .ok(),
        Some(true)
    );
    // The yaml is sync's own edit (the version recorded), never the backup's.
    assert!(project.read("lua.skill.yaml").contains("version: 1.0.1"));
    assert!(!project.read("lua.skill.yaml").contains("fsmonitor"));
}
