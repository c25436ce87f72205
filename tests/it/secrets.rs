//! The API key is never printed, even when a server echoes it in a success answer: in the
//! agent's name, its model, a persona (raw, as a JSON `\u0074...` escape, percent-encoded),
//! in every output format and in the `-v` logs.

use serde_json::{Value, json};

use crate::support::{AGENT, KEY, Platform, Project};

/// The key as a reader could decode it: JSON `\u` escapes and percent-encoding, one
/// character each.
fn escaped_forms() -> Vec<String> {
    let unicode: String = KEY
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let percent: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    vec![
        KEY.to_owned(),
        unicode,
        percent,
        KEY.replacen('t', "\\u0074", 1),
        KEY.replace('-', "%2D"),
        KEY.replace('-', "%252D"),
        // Once more escaped: how a JSON document shows a string holding `\u0074...`.
        KEY.replacen('t', "\\\\u0074", 1),
    ]
}

/// A platform whose answers carry the key everywhere a value can.
fn echoing() -> Platform {
    let forms = escaped_forms();
    let persona = format!(
        "Key: {}\nEscaped: {}\nMixed: {}\nPercent: {} and {}\n",
        forms[0], forms[1], forms[3], forms[2], forms[4]
    );
    let mut config = lua_devserver::Config::for_tests(KEY);
    config.seed = Some(
        serde_json::from_value(json!({
            "agents": [{
                "id": AGENT,
                "name": KEY,
                "model": KEY,
                "personaVersions": [{"persona": persona}],
            }]
        }))
        .expect("seed"),
    );
    Platform::with_config(config)
}

fn project() -> Project {
    Project::new(
        "const agent = new LuaAgent({\n  name: \"Support Bot\",\n  model: \"gpt-4o\",\n  persona: `Be kind.`,\n});\n",
    )
}

/// Fails when any form of the key is in `text`.
fn assert_no_key(what: &str, text: &str) {
    for form in escaped_forms() {
        assert!(
            !text.contains(&form),
            "{what} shows the key as {form}:\n{text}"
        );
    }
    assert!(!text.contains("Sup3rS3cret"), "{what}:\n{text}");
}

#[test]
fn a_key_echoed_in_a_success_answer_is_never_printed() {
    let platform = echoing();
    let p = project();
    let url = platform.url();
    let runs = [
        ("human", p.lua(&url, &["sync", "--check"])),
        (
            "human, coloured",
            p.lua(&url, &["sync", "--check", "--color", "always"]),
        ),
        (
            "json",
            p.lua(&url, &["sync", "--check", "--format", "json"]),
        ),
        (
            "github",
            p.lua(&url, &["sync", "--check", "--format", "github"]),
        ),
        ("verbose", p.lua(&url, &["sync", "--check", "-vv"])),
        ("persona versions", p.lua(&url, &["persona", "versions"])),
        (
            "persona versions json",
            p.lua(&url, &["persona", "versions", "--format", "json"]),
        ),
        ("persona view", p.lua(&url, &["persona", "view", "latest"])),
    ];
    for (what, run) in &runs {
        assert_no_key(what, &run.stdout());
        assert_no_key(what, &run.stderr());
        // Where values are shown, they were, scrubbed: the test sees what it means to see.
        let shows_values = !matches!(*what, "github" | "persona versions");
        assert_eq!(
            run.stdout().contains("[REDACTED]"),
            shows_values,
            "{what}: {}",
            run.snapshot()
        );
    }
    // JSON stays JSON, each echoed string scrubbed.
    for (what, run) in &runs {
        if what.contains("json") {
            let doc: Value = serde_json::from_str(&run.stdout())
                .unwrap_or_else(|e| panic!("{what}: {e}\n{}", run.stdout()));
            assert!(doc.to_string().contains("[REDACTED]"), "{doc}");
        }
    }
    let json: Value = serde_json::from_str(&runs[2].1.stdout()).unwrap();
    let name = json["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "name")
        .unwrap();
    assert_eq!(runs[2].1.code(), 1, "{}", runs[2].1.snapshot());
    assert!(
        name["diff"]
            .as_str()
            .unwrap_or_default()
            .contains("[REDACTED]"),
        "{name}"
    );
}

#[test]
fn a_pull_prints_no_key() {
    let platform = echoing();
    let p = project();
    let run = p.lua(&platform.url(), &["sync", "--accept", "--format", "json"]);
    assert_no_key("accept", &run.stdout());
    assert_no_key("accept", &run.stderr());
}
