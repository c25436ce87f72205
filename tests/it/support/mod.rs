//! Test support for the end-to-end tests: a real `lua-devserver` on a loopback port,
//! a temporary project made from a fixture, the real `lua` binary, and snapshots of what
//! the user sees (exit code, stdout, stderr) with temp paths and ports filtered.

pub mod proxy;
pub mod pty;
pub mod reference;
pub mod scripted;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};

pub const KEY: &str = "test-key-Sup3rS3cret";
pub const AGENT: &str = "baseAgent_agent_test";

/// A devserver running in this test process (real HTTP over TCP).
pub struct Platform {
    pub server: lua_devserver::BlockingServer,
    runtime: tokio::runtime::Runtime,
    http: reqwest::Client,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

impl Platform {
    /// A devserver with one agent (`AGENT`) named `name`, no model, and the given
    /// published personas.
    pub fn start(name: Option<&str>, personas: &[&str]) -> Platform {
        Self::start_with_model(name, None, personas)
    }

    /// [`Platform::start`] with a model on the agent.
    pub fn start_with_model(
        name: Option<&str>,
        model: Option<&str>,
        personas: &[&str],
    ) -> Platform {
        let mut config = lua_devserver::Config::for_tests(KEY);
        config.seed = Some(
            serde_json::from_value(json!({
                "agents": [{
                    "id": AGENT,
                    "name": name,
                    "model": model,
                    "personaVersions": personas.iter().map(|p| json!({"persona": p})).collect::<Vec<_>>(),
                }]
            }))
            .expect("seed"),
        );
        Self::with_config(config)
    }

    pub fn with_config(config: lua_devserver::Config) -> Platform {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let server = lua_devserver::BlockingServer::start(config).expect("devserver starts");
        // Over --tls the test's own requests trust the devserver's CA, and only it.
        let http = match server.ca_path() {
            Some(ca) => {
                let pem = std::fs::read(ca).expect("CA file");
                reqwest::Client::builder()
                    .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("CA PEM")])
                    .build()
                    .expect("client")
            }
            None => reqwest::Client::new(),
        };
        Platform {
            server,
            runtime: runtime(),
            http,
        }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// TCP connections the devserver accepted since the counter was last reset.
    pub fn connections(&self) -> u64 {
        self.requests()["connections"]
            .as_u64()
            .expect("connections")
    }

    fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}{path}", self.url());
        self.runtime.block_on(async {
            let mut req = self.http.request(method, &url).bearer_auth(KEY);
            if let Some(body) = body {
                req = req.json(&body);
            }
            let resp = req.send().await.expect("request");
            let status = resp.status().as_u16();
            let text = resp.text().await.expect("body");
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        })
    }

    pub fn data(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let (status, body) = self.send(method, path, body);
        assert!((200..300).contains(&status), "{path}: {status} {body}");
        body.get("data").cloned().unwrap_or(body)
    }

    /// Publish a persona version as the API does (published + current); returns its number.
    pub fn publish(&self, persona: Value) -> u64 {
        let data = self.data(
            reqwest::Method::POST,
            &format!("/developer/agents/{AGENT}/persona/version"),
            Some(json!({ "persona": persona })),
        );
        data["version"].as_u64().expect("version")
    }

    /// Deploy (roll back to) a version.
    pub fn deploy(&self, version: u64) {
        self.data(
            reqwest::Method::POST,
            &format!("/developer/agents/{AGENT}/persona/version/{version}"),
            Some(json!({})),
        );
    }

    /// All persona versions (drafts too).
    pub fn versions(&self) -> Vec<Value> {
        let data = self.data(
            reqwest::Method::GET,
            &format!("/developer/agents/{AGENT}/persona/versions"),
            None,
        );
        data["versions"].as_array().cloned().unwrap_or_default()
    }

    /// Update the agent as the dashboard does (`PATCH /agents/{base}/sub-agent`).
    pub fn patch_agent(&self, mut fields: Value) -> Value {
        let (base, rest) = AGENT.split_once('_').expect("agent id has a base");
        fields["id"] = json!(rest);
        self.data(
            reqwest::Method::PATCH,
            &format!("/agents/{base}/sub-agent"),
            Some(fields),
        )
    }

    pub fn agent(&self) -> Value {
        self.data(
            reqwest::Method::GET,
            &format!("/admin/agents/{AGENT}"),
            None,
        )
    }

    pub fn set_name(&self, name: &str) {
        let (base, rest) = AGENT.split_once('_').expect("agent id");
        self.data(
            reqwest::Method::PATCH,
            &format!("/agents/{base}/sub-agent"),
            Some(json!({"id": rest, "name": name})),
        );
    }

    /// Requests the devserver counted, by route.
    pub fn requests(&self) -> Value {
        self.data(reqwest::Method::GET, "/_devserver/requests", None)
    }

    pub fn reset_requests(&self) {
        self.send(reqwest::Method::DELETE, "/_devserver/requests", None);
    }

    /// Queue a fault (see devserver/README.md).
    pub fn fault(&self, fault: Value) {
        self.data(reqwest::Method::POST, "/_devserver/faults", Some(fault));
    }

    pub fn clear_faults(&self) {
        self.send(reqwest::Method::DELETE, "/_devserver/faults", None);
    }
}

/// A temporary agent project.
pub struct Project {
    pub dir: tempfile::TempDir,
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

impl Project {
    /// A project with `src/index.ts` = `index` and a lua.toml for `AGENT`.
    pub fn new(index: &str) -> Project {
        Self::with_files(&[("src/index.ts", index)])
    }

    pub fn with_files(files: &[(&str, &str)]) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(path, text).expect("write");
        }
        let project = Project { dir };
        if !project.path("lua.toml").exists() && !project.path("lua.skill.yaml").exists() {
            project.write("lua.toml", &format!("[agent]\nid = \"{AGENT}\"\n"));
        }
        project
    }

    /// A copy of `tests/fixtures/<name>` (plus a lua.toml for `AGENT` if it has none).
    pub fn fixture(name: &str) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(&fixtures().join(name), dir.path());
        let project = Project { dir };
        if !project.path("lua.toml").exists() && !project.path("lua.skill.yaml").exists() {
            project.write("lua.toml", &format!("[agent]\nid = \"{AGENT}\"\n"));
        }
        project
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).expect("read")
    }

    pub fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// `lua <args>` in this project against `url`, colour off, no terminal.
    pub fn lua(&self, url: &str, args: &[&str]) -> Run {
        self.lua_env(url, args, &[])
    }

    pub fn lua_env(&self, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.lua_in(self.root(), url, args, env)
    }
}

/// The outcome of one `lua` run.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    /// Exit code, stdout and stderr: what a snapshot of this run holds (the temp dir and
    /// ports are filtered by insta, see [`Project::snapshot_filters`]).
    pub fn snapshot(&self) -> String {
        format!(
            "exit code: {}\n----- stdout -----\n{}----- stderr -----\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        )
    }
}

/// The one normalisation of snapshots, as insta filters on the current settings: the
/// project's temp dir (as given and canonical) becomes `[PROJECT]`, loopback ports `PORT`,
/// a session file's hash `[K]`.
pub fn snapshot_settings(root: &Path) -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(&regex::escape(&root.display().to_string()), "[PROJECT]");
    if let Ok(canon) = root.canonicalize() {
        settings.add_filter(&regex::escape(&canon.display().to_string()), "[PROJECT]");
    }
    settings.add_filter(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:PORT");
    // A lua-cli session file is named by a hash of the server URL, so of the port.
    settings.add_filter(r"sessions/[0-9a-f]{16}\.json", "sessions/[K].json");
    settings
}

impl Project {
    /// Applies [`snapshot_settings`] for this project to every snapshot taken while the
    /// guard lives (on this thread, i.e. in this test).
    #[must_use = "the filters apply while the guard lives"]
    pub fn snapshot_filters(&self) -> insta::internals::SettingsBindDropGuard {
        snapshot_settings(self.root()).bind_to_scope()
    }
}

/// The address of a port nothing listens on.
pub fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Every file under `root` (relative path -> bytes), except `.lua/manifest.json`, the
/// compile cache every run may (re)write. Compare two of these to prove a run wrote nothing.
pub fn files_except_manifest(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            if entry.file_type().expect("type").is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .expect("under root")
                    .to_string_lossy()
                    .replace('\\', "/");
                if rel != ".lua/manifest.json" {
                    out.insert(rel, std::fs::read(&path).expect("read file"));
                }
            }
        }
    }
    let mut out = std::collections::BTreeMap::new();
    walk(root, root, &mut out);
    out
}

impl Project {
    /// `lua <args>` started in `cwd` (anywhere, not necessarily inside the project), with
    /// the same environment as [`Project::lua_env`]; paths under the project are filtered
    /// in snapshots.
    pub fn lua_in(&self, cwd: &Path, url: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lua"));
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.root())
            .env("LUA_API_URL", url)
            .env("LUA_API_KEY", KEY)
            .env("NO_COLOR", "1");
        for (k, v) in env {
            if v.is_empty() {
                cmd.env_remove(k);
            } else {
                cmd.env(k, v);
            }
        }
        let output = cmd
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run lua");
        Run { output }
    }
}

impl Platform {
    /// API requests counted by the devserver for one route template, e.g.
    /// `GET /developer/agents/{agentId}/persona/versions` (0 when never requested).
    pub fn requests_to(&self, route: &str) -> u64 {
        self.requests()["byRoute"][route].as_u64().unwrap_or(0)
    }
}

/// The devserver's route template of the persona versions list.
pub const PERSONA_VERSIONS_ROUTE: &str = "GET /developer/agents/{agentId}/persona/versions";
/// The devserver's route template of the agent.
pub const AGENT_ROUTE: &str = "GET /admin/agents/{agentId}";
