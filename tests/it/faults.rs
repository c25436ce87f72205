//! End-to-end: what `lua` does when the platform fails. The whole matrix of fault kinds
//! (through the devserver's `/_devserver/faults`, a wrong key, an unknown agent, a dead
//! port) x modes (`sync --check`, `--accept`, `--push`, `compile --sync`) x
//! `sync.on_unreachable` (`continue`, `fail`). Only "unreachable" faults (no answer at
//! all) follow `on_unreachable`; every other fault is exit 2. Whatever happens, nothing
//! is written: not the project's files, not the server.

use crate::support;

use crate::support::{AGENT, Platform, Project};
use serde_json::{Value, json};

const SERVER: &str = "You are a friendly support agent.\n\nAnswer in detail.";
const LOCAL: &str = "You are a friendly support agent.\n\nAnswer briefly.";

/// Both the name and the persona differ, so `--accept` would write the file and `--push`
/// the server, if the fault let them.
fn index() -> String {
    format!("const agent = new LuaAgent({{\n  name: \"Local Bot\",\n  persona: `{LOCAL}`,\n}});\n")
}

fn platform() -> Platform {
    Platform::start(Some("Server Bot"), &[SERVER])
}

fn project(on_unreachable: &str) -> Project {
    Project::with_files(&[
        ("src/index.ts", &index()),
        (
            "lua.toml",
            &format!(
                "[agent]\nid = \"{AGENT}\"\n\n[sync]\non_unreachable = \"{on_unreachable}\"\n"
            ),
        ),
    ])
}

/// How one fault is produced.
enum Cause {
    /// A rule queued on the devserver (persistent until cleared after the run).
    Rule(Value),
    /// Environment for `lua` (wrong key, unknown agent id).
    Env(&'static str, &'static str),
    /// Nothing listens on the URL.
    DeadPort,
}

struct Fault {
    /// Snapshot name.
    name: &'static str,
    cause: Cause,
    /// Whether it is "unreachable" (no answer at all), the one kind `on_unreachable` governs.
    unreachable: bool,
    /// What stderr must say.
    needle: &'static str,
    /// Extra environment: retries and timeout.
    env: &'static [(&'static str, &'static str)],
    /// The exit code when the fault is an error (lua-cli's class of it).
    exit: i32,
}

/// Retries stay on (one retry, with a persistent fault) so the matrix also proves that
/// retrying does not change the outcome; the timeout case turns them off to stay fast.
const ONE_RETRY: &[(&str, &str)] = &[("LUA_SERVER__RETRIES", "1")];

const MODES: &[&[&str]] = &[
    &["sync", "--check"],
    &["sync", "--accept"],
    &["sync", "--push"],
    &["compile", "--sync"],
];

fn run_matrix(fault: &Fault) {
    let platform = platform();
    let versions = platform.versions().len();
    let name = platform.agent()["name"].clone();
    for policy in ["continue", "fail"] {
        for mode in MODES {
            let project = project(policy);
            let before = support::files_except_manifest(project.root());
            let mut env: Vec<(&str, &str)> = fault.env.to_vec();
            let mut url = platform.url();
            match &fault.cause {
                Cause::Rule(rule) => platform.fault(rule.clone()),
                Cause::Env(key, value) => env.push((key, value)),
                Cause::DeadPort => url = support::dead_url(),
            }
            let run = project.lua_env(&url, mode, &env);
            platform.clear_faults();

            let what = format!(
                "{} / on_unreachable = {policy} / lua {}",
                fault.name,
                mode.join(" ")
            );
            let stderr = run.stderr();
            let warnings = stderr.lines().filter(|l| l.starts_with("warning:")).count();
            let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
            if fault.unreachable && policy == "continue" {
                assert_eq!(run.code(), 0, "{what}: {}", run.snapshot());
                assert_eq!((warnings, errors), (1, 0), "{what}: {}", run.snapshot());
                assert!(stderr.contains("unreachable"), "{what}: {}", run.snapshot());
            } else {
                assert_eq!(run.code(), fault.exit, "{what}: {}", run.snapshot());
                assert_eq!((warnings, errors), (0, 1), "{what}: {}", run.snapshot());
            }
            assert!(stderr.contains(fault.needle), "{what}: {}", run.snapshot());
            // A failed fetch is never "no drift", and no drift is shown either.
            assert!(
                !run.stdout().contains("No drift"),
                "{what}: {}",
                run.snapshot()
            );
            assert!(!run.stdout().contains("DIFF"), "{what}: {}", run.snapshot());

            // Nothing written: the project byte-identical, no sync state, the server as it was.
            assert_eq!(
                support::files_except_manifest(project.root()),
                before,
                "{what}: the project changed"
            );
            assert!(!project.path("lua.sync.json").exists(), "{what}");
            assert_eq!(
                platform.versions().len(),
                versions,
                "{what}: a version was pushed"
            );
            assert_eq!(
                platform.agent()["name"],
                name,
                "{what}: the name was pushed"
            );

            if mode[1] == "--check" {
                if policy == "continue" {
                    let _filters = project.snapshot_filters();
                    insta::assert_snapshot!(format!("check_{}", fault.name), run.snapshot());
                } else if fault.unreachable {
                    let _filters = project.snapshot_filters();
                    insta::assert_snapshot!(format!("check_{}_fail", fault.name), run.snapshot());
                }
            }
        }
    }
}

#[test]
fn status_500() {
    run_matrix(&Fault {
        name: "status_500",
        cause: Cause::Rule(json!({"status": 500})),
        unreachable: false,
        needle: "HTTP 500",
        env: ONE_RETRY,
        exit: 11,
    });
}

#[test]
fn status_503() {
    run_matrix(&Fault {
        name: "status_503",
        cause: Cause::Rule(json!({"status": 503})),
        unreachable: false,
        needle: "HTTP 503",
        env: ONE_RETRY,
        exit: 11,
    });
}

#[test]
fn unauthorized_401() {
    run_matrix(&Fault {
        name: "unauthorized_401",
        cause: Cause::Env("LUA_API_KEY", "not-the-key"),
        unreachable: false,
        needle: "LUA_API_KEY",
        env: ONE_RETRY,
        exit: 9,
    });
}

#[test]
fn unknown_agent_404() {
    run_matrix(&Fault {
        name: "unknown_agent_404",
        cause: Cause::Env("LUA_AGENT_ID", "baseAgent_agent_nobody"),
        unreachable: false,
        needle: "baseAgent_agent_nobody",
        env: ONE_RETRY,
        exit: 3,
    });
}

#[test]
fn forbidden_403() {
    run_matrix(&Fault {
        name: "forbidden_403",
        cause: Cause::Rule(
            json!({"status": 403, "body": r#"{"message":"no access to this agent","statusCode":403}"#}),
        ),
        unreachable: false,
        needle: "HTTP 403",
        env: ONE_RETRY,
        exit: 10,
    });
}

#[test]
fn other_refusal_409() {
    run_matrix(&Fault {
        name: "other_refusal_409",
        cause: Cause::Rule(json!({"status": 409})),
        unreachable: false,
        needle: "HTTP 409",
        env: ONE_RETRY,
        exit: 10,
    });
}

#[test]
fn provider_rejected_424() {
    run_matrix(&Fault {
        name: "provider_rejected_424",
        cause: Cause::Rule(
            json!({"status": 424, "body": r#"{"message":"Your model provider rejected the request (401 invalid_api_key)","statusCode":424,"code":"PROVIDER_REJECTED"}"#}),
        ),
        unreachable: false,
        needle: "model provider",
        env: ONE_RETRY,
        exit: 12,
    });
}

#[test]
fn malformed_body() {
    run_matrix(&Fault {
        name: "malformed_body",
        cause: Cause::Rule(json!({"body": "malformed"})),
        unreachable: false,
        needle: "unexpected answer",
        env: ONE_RETRY,
        exit: 2,
    });
}

#[test]
fn truncated_body() {
    run_matrix(&Fault {
        name: "truncated_body",
        cause: Cause::Rule(json!({"body": "truncated"})),
        unreachable: false,
        needle: "cut off",
        env: ONE_RETRY,
        exit: 2,
    });
}

#[test]
fn dropped_connection() {
    run_matrix(&Fault {
        name: "dropped_connection",
        cause: Cause::Rule(json!({"drop": true})),
        unreachable: true,
        needle: "cannot reach",
        env: ONE_RETRY,
        exit: 11,
    });
}

#[test]
fn timeout() {
    run_matrix(&Fault {
        name: "timeout",
        cause: Cause::Rule(json!({"latencyMs": 1500})),
        unreachable: true,
        needle: "no response within 1s",
        env: &[
            ("LUA_SERVER__TIMEOUT_SECS", "1"),
            ("LUA_SERVER__RETRIES", "0"),
        ],
        exit: 11,
    });
}

#[test]
fn dead_port() {
    run_matrix(&Fault {
        name: "dead_port",
        cause: Cause::DeadPort,
        unreachable: true,
        needle: "cannot reach",
        env: ONE_RETRY,
        exit: 11,
    });
}

#[test]
fn a_500_on_the_first_request_only_is_retried_and_the_run_succeeds() {
    let platform = Platform::start(Some("Local Bot"), &[LOCAL]);
    let project = project("fail");
    let env = [("LUA_SERVER__RETRIES", "2")];
    // How many requests a clean run makes.
    platform.reset_requests();
    let clean = project.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(clean.code(), 0, "{}", clean.snapshot());
    let requests = platform.requests()["total"].as_u64().unwrap();

    platform.reset_requests();
    platform.fault(json!({"count": 1, "status": 500}));
    let run = project.lua_env(&platform.url(), &["sync", "--check"], &env);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(run.stdout().contains("No drift"), "{}", run.snapshot());
    assert!(!run.stderr().contains("error"), "{}", run.snapshot());
    assert_eq!(
        platform.requests()["total"].as_u64().unwrap(),
        requests + 1,
        "exactly one retry"
    );
    assert!(platform.requests()["total"].as_u64().unwrap() > 1);
}

// ---------------------------------------------------------------------------------------
// The API key never appears in any output or file, even with request logs on (-vv).

const SECRET: &str = "sk-VERY-SECRET-123";

fn assert_secret_absent(project: &Project, run: &support::Run, what: &str) {
    for (stream, text) in [("stdout", run.stdout()), ("stderr", run.stderr())] {
        assert!(
            !text.contains(SECRET) && !text.contains("VERY-SECRET"),
            "{what}: the key is in {stream}:\n{text}"
        );
    }
    for (file, bytes) in support::files_except_manifest(project.root()) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("VERY-SECRET"),
            "{what}: the key is in {file}"
        );
    }
    if let Ok(manifest) = std::fs::read_to_string(project.path(".lua/manifest.json")) {
        assert!(
            !manifest.contains("VERY-SECRET"),
            "{what}: the key is in the manifest"
        );
    }
}

#[test]
fn the_api_key_is_never_printed_logged_or_written() {
    let platform = platform();
    let echo = format!("Bearer {SECRET}");
    // (what, fault rule, expected exit, whether the server's text echoing the key is shown)
    let cases: Vec<(&str, Option<Value>, i32, bool)> = vec![
        ("rejected key", None, 9, false),
        (
            "500 echoing the key",
            Some(
                json!({"status": 500, "body": json!({"message": format!("bad header {echo}"), "statusCode": 500}).to_string()}),
            ),
            11,
            true,
        ),
        (
            "401 echoing the key",
            Some(
                json!({"status": 401, "body": json!({"message": format!("invalid token {SECRET}"), "statusCode": 401}).to_string()}),
            ),
            9,
            true,
        ),
        (
            "non-JSON body echoing the key",
            Some(json!({"body": format!("<html>Authorization: {echo}</html>")})),
            2,
            true,
        ),
        ("dropped connection", Some(json!({"drop": true})), 0, false),
    ];
    for (what, rule, code, echoed) in cases {
        for mode in [
            &["sync", "--check"][..],
            &["sync", "--push"],
            &["sync", "--accept"],
        ] {
            let project = project("continue");
            if let Some(rule) = &rule {
                platform.fault(rule.clone());
            }
            let run = project.lua_env(
                &platform.url(),
                &[mode, &["-vv"]].concat(),
                &[("LUA_API_KEY", SECRET), ("LUA_SERVER__RETRIES", "1")],
            );
            platform.clear_faults();
            let what = format!("{what} / lua {}", mode.join(" "));
            assert_eq!(run.code(), code, "{what}: {}", run.snapshot());
            // Request logs were on, so the test looked where a key would leak.
            assert!(
                run.stderr().contains("platform request"),
                "{what}: no request log: {}",
                run.snapshot()
            );
            if echoed {
                assert!(
                    run.stderr().contains("[REDACTED]"),
                    "{what}: {}",
                    run.snapshot()
                );
            }
            assert_secret_absent(&project, &run, &what);
        }
    }
}

#[test]
fn the_api_key_is_not_logged_on_successful_requests_either() {
    // A server that accepts any key, so pushes and pulls go through with the secret one.
    let mut config = lua_devserver::Config::for_tests(support::KEY);
    config.insecure_no_auth = true;
    config.seed = Some(
        serde_json::from_value(json!({"agents": [{
            "id": AGENT, "name": "Server Bot", "personaVersions": [{"persona": SERVER}],
        }]}))
        .unwrap(),
    );
    let platform = Platform::with_config(config);
    for mode in ["--push", "--accept"] {
        let project = project("fail");
        let run = project.lua_env(
            &platform.url(),
            &["sync", mode, "--force", "-vv"],
            &[("LUA_API_KEY", SECRET)],
        );
        assert_eq!(run.code(), 0, "{mode}: {}", run.snapshot());
        assert!(
            run.stderr().contains("platform request"),
            "{}",
            run.snapshot()
        );
        assert!(project.path("lua.sync.json").is_file());
        assert_secret_absent(&project, &run, mode);
    }
}

// ---------------------------------------------------------------------------------------
// Redirects are never followed (issue 14): not for a push, not for a read.

use crate::support::scripted::{self, Answer, Scripted};

/// A server that "confirms" anything: where a followed redirect would land.
fn elsewhere() -> Scripted {
    Scripted::start(|method, _| {
        Some(if method == "GET" {
            scripted::agent(AGENT, "Elsewhere Bot")
        } else {
            Answer::json(
                201,
                json!({"success": true, "data": {"version": 8, "name": "Local Bot", "model": "gpt-4o"}}),
            )
        })
    })
}

#[test]
fn a_redirected_push_is_an_error_and_nothing_is_recorded() {
    let other = elsewhere();
    let target = format!("{}/stolen", other.url);
    let location = target.clone();
    let server = Scripted::start(move |method, path| {
        Some(match method {
            "GET" if path.starts_with("/admin/agents/") => scripted::agent(AGENT, "Server Bot"),
            "GET" => scripted::versions(SERVER),
            _ => Answer::redirect(307, &location),
        })
    });
    let project = project("continue");
    let before = support::files_except_manifest(project.root());
    let run = project.lua(&server.url, &["sync", "--push", "--force"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let out = format!("{}{}", run.stdout(), run.stderr());
    assert!(
        out.contains("HTTP 307, a redirect to"),
        "{}",
        run.snapshot()
    );
    assert!(out.contains(&target), "{}", run.snapshot());
    assert!(
        out.contains(&format!(
            "{}/developer/agents/{AGENT}/persona/version",
            server.url
        )),
        "{}",
        run.snapshot()
    );
    assert!(!out.contains("pushed"), "{}", run.snapshot());
    assert!(other.requests().is_empty(), "the redirect was followed");
    assert!(!project.path("lua.sync.json").exists(), "recorded");
    assert_eq!(support::files_except_manifest(project.root()), before);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn a_redirected_read_is_an_error_and_nothing_is_compared() {
    let other = elsewhere();
    let location = format!("{}/admin/agents/{AGENT}", other.url);
    let server = Scripted::start(move |_, _| Some(Answer::redirect(302, &location)));
    for mode in [&["sync", "--check"][..], &["sync", "--accept"]] {
        let project = project("continue");
        let before = support::files_except_manifest(project.root());
        let run = project.lua(&server.url, mode);
        assert_eq!(run.code(), 2, "{mode:?}: {}", run.snapshot());
        assert!(
            run.stderr().contains("HTTP 302, a redirect to"),
            "{}",
            run.snapshot()
        );
        assert!(!run.stdout().contains("DIFF"), "{}", run.snapshot());
        assert!(!run.stdout().contains("No drift"), "{}", run.snapshot());
        assert_eq!(support::files_except_manifest(project.root()), before);
    }
    assert!(other.requests().is_empty(), "the redirect was followed");
}

// ---------------------------------------------------------------------------------------
// No retry count makes a run hang: the network deadline ends it.

#[test]
fn a_black_holing_server_ends_at_the_network_deadline() {
    let server = Scripted::start(|_, _| None);
    let project = project("fail");
    let started = std::time::Instant::now();
    let run = project.lua_env(
        &server.url,
        &["sync", "--check"],
        &[
            ("LUA_SERVER__RETRIES", "10"),
            ("LUA_SERVER__TIMEOUT_SECS", "300"),
            ("LUA_SERVER__DEADLINE_SECS", "1"),
        ],
    );
    // Bounded by the deadline, not by 11 attempts of 300 s.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    // No answer at all: lua-cli's "platform unavailable".
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    assert!(
        run.stderr().contains("network deadline of 1s")
            && run.stderr().contains("server.deadline_secs"),
        "{}",
        run.snapshot()
    );
    assert!(!project.path("lua.sync.json").exists());
}

// ---------------------------------------------------------------------------------------
// The fault matrix for the machine formats, devserver-independent: a scripted server
// produces each fault, and the JSON report and GitHub annotations are snapshotted.

/// (snapshot name, how the server answers every request: `None` never answers, the exit
/// code: the fault's class)
fn machine_faults() -> Vec<(&'static str, Option<Answer>, i32)> {
    vec![
        ("status_500", Some(Answer::nest(500, "boom")), 11),
        (
            "unauthorized_401",
            Some(Answer::nest(401, "Invalid or expired API key")),
            9,
        ),
        (
            "not_found_404",
            Some(Answer::nest(404, "Agent not found")),
            3,
        ),
        ("malformed_body", Some(Answer::raw(200, "{not json")), 2),
        (
            "redirect_302",
            Some(Answer::redirect(302, "https://elsewhere.example/x")),
            2,
        ),
        ("black_hole", None, 11),
    ]
}

#[test]
fn json_and_github_formats_under_every_fault() {
    for (name, answer, code) in machine_faults() {
        let server = Scripted::start(move |_, _| answer.clone());
        for format in ["json", "github"] {
            let project = project("fail");
            let before = support::files_except_manifest(project.root());
            let run = project.lua_env(
                &server.url,
                &["sync", "--check", "--format", format],
                &[
                    ("LUA_SERVER__RETRIES", "1"),
                    ("LUA_SERVER__DEADLINE_SECS", "1"),
                ],
            );
            let what = format!("{name} / --format {format}");
            assert_eq!(run.code(), code, "{what}: {}", run.snapshot());
            assert!(
                !run.stdout().contains("No drift"),
                "{what}: {}",
                run.snapshot()
            );
            if format == "json" {
                let report: Value = serde_json::from_str(&run.stdout()).unwrap_or_else(|e| {
                    panic!("{what}: stdout is not JSON ({e}): {}", run.snapshot())
                });
                assert_eq!(report["exitCode"], code, "{what}: {report}");
            } else {
                assert!(
                    run.stdout().contains("::error"),
                    "{what}: {}",
                    run.snapshot()
                );
            }
            assert_eq!(
                support::files_except_manifest(project.root()),
                before,
                "{what}"
            );
            assert!(!project.path(".lua/sync-state.json").exists(), "{what}");
            let _filters = project.snapshot_filters();
            insta::assert_snapshot!(format!("machine_{name}_{format}"), run.snapshot());
        }
    }
}
