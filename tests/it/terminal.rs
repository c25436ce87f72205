//! End-to-end: no terminal escape from any input reaches the terminal (issue 14 item 6).
//! A hostile URL in `LUA_API_URL`, a hostile entry path in `lua.toml`, a hostile import
//! specifier, a hostile server error message; in the human, JSON and GitHub formats, and
//! in the request logs of `-vv`. Asserted on the bytes of stdout and stderr.

use crate::support;

use crate::support::scripted::{self, Answer, Scripted};
use crate::support::{AGENT, Project, Run};
use serde_json::json;

/// Sets the window title, rings the bell, clears the screen.
const HOSTILE: &str = "\u{1b}]0;PWNED\u{7}\u{1b}[2J";
/// Right-to-left override: reorders what follows on the line.
const RLO: &str = "\u{202E}";

const FORMATS: &[&str] = &["human", "json", "github"];

/// Fails when any escape, bell, C1 control or bidi override is in either stream.
fn assert_clean(run: &Run, what: &str) {
    for (stream, bytes) in [
        ("stdout", &run.output.stdout),
        ("stderr", &run.output.stderr),
    ] {
        let text = String::from_utf8_lossy(bytes);
        let bad = text
            .chars()
            .find(|c| (c.is_control() && *c != '\n') || *c == '\u{202E}');
        assert!(
            bad.is_none(),
            "{what}: {bad:?} reached {stream}:\n{}",
            run.snapshot()
        );
    }
}

fn run_formats(
    project: &Project,
    url: &str,
    args: &[&str],
    env: &[(&str, &str)],
    what: &str,
) -> Vec<Run> {
    FORMATS
        .iter()
        .map(|format| {
            let run = project.lua_env(url, &[args, &["--format", format, "-vv"]].concat(), env);
            assert_clean(&run, &format!("{what} / --format {format}"));
            run
        })
        .collect()
}

fn index(name: &str) -> String {
    format!("const agent = new LuaAgent({{\n  name: \"{name}\",\n  persona: `Be kind.`,\n}});\n")
}

/// A server with the agent named `name` and one published persona.
fn server(name: &'static str) -> Scripted {
    Scripted::start(move |_, path| {
        Some(if path.starts_with("/admin/agents/") {
            scripted::agent(AGENT, name)
        } else {
            scripted::versions("Be kind.")
        })
    })
}

#[test]
fn a_hostile_url_from_the_environment_is_shown_cleaned() {
    let project = Project::new(&index("Bot"));
    let url = format!("{}/{HOSTILE}{RLO}", support::dead_url());
    let runs = run_formats(&project, &url, &["sync", "--check"], &[], "LUA_API_URL");
    for run in &runs {
        assert_eq!(run.code(), 0, "{}", run.snapshot());
        let out = format!("{}{}", run.stdout(), run.stderr());
        assert!(out.contains("unreachable"), "{}", run.snapshot());
        assert!(out.contains("␛]0;PWNED␇␛[2J<U+202E>"), "{}", run.snapshot());
    }
    assert!(
        runs[0].stderr().contains("server URL: http://127.0.0.1:"),
        "shown as glyphs: {}",
        runs[0].snapshot()
    );
}

#[test]
fn a_hostile_entry_path_is_shown_cleaned() {
    let entry = format!("src/{HOSTILE}.ts");
    let project = Project::with_files(&[
        (&entry, &index("Local Bot")),
        (
            "lua.toml",
            &format!(
                "[agent]\nid = \"{AGENT}\"\nentry = \"src/\\u001b]0;PWNED\\u0007\\u001b[2J.ts\"\n"
            ),
        ),
    ]);
    let server = server("Server Bot");
    let runs = run_formats(
        &project,
        &server.url,
        &["sync", "--check"],
        &[],
        "entry path",
    );
    for run in &runs {
        assert_eq!(run.code(), 1, "drift: {}", run.snapshot());
    }
    assert!(
        runs[0].stdout().contains("src/␛]0;PWNED␇␛[2J.ts:2:9"),
        "{}",
        runs[0].snapshot()
    );
    // A missing hostile entry: the error names it, cleaned.
    project.write(
        "lua.toml",
        &format!("[agent]\nid = \"{AGENT}\"\nentry = \"\\u001b[2Jnope.ts\"\n"),
    );
    let run = project.lua(&server.url, &["sync", "--check"]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert_clean(&run, "missing entry");
    assert!(run.stderr().contains("␛[2Jnope.ts"), "{}", run.snapshot());
}

#[test]
fn a_hostile_import_specifier_is_shown_cleaned() {
    let project = Project::new(&format!(
        "import {{ P }} from \"./{HOSTILE}{RLO}\";\n\nconst agent = new LuaAgent({{\n  name: \"Bot\",\n  persona: P,\n}});\n"
    ));
    let server = server("Bot");
    let runs = run_formats(
        &project,
        &server.url,
        &["sync", "--check"],
        &[],
        "import specifier",
    );
    assert!(
        runs[0].stderr().contains("␛]0;PWNED␇␛[2J<U+202E>")
            || runs[0].stdout().contains("␛]0;PWNED␇␛[2J<U+202E>"),
        "the specifier is named, cleaned: {}",
        runs[0].snapshot()
    );
}

#[test]
fn a_hostile_server_message_is_shown_cleaned() {
    let message = format!("bad {HOSTILE} request {RLO}txet");
    let project = Project::new(&index("Bot"));
    let server = Scripted::start(move |_, _| {
        Some(Answer::json(
            422,
            json!({"statusCode": 422, "message": message, "error": format!("{HOSTILE}")}),
        ))
    });
    let runs = run_formats(
        &project,
        &server.url,
        &["sync", "--check"],
        &[],
        "server message",
    );
    for run in &runs {
        assert_eq!(run.code(), 10, "{}", run.snapshot());
    }
    assert!(
        runs[0].stderr().contains("HTTP 422"),
        "{}",
        runs[0].snapshot()
    );
    assert!(
        runs[0].stderr().contains("<U+202E>txet"),
        "{}",
        runs[0].snapshot()
    );
}
