//! What users read when something around the run is off: no project here, a server that
//! cannot be reached (which URL, from where, and how to make CI fail on it).

use crate::support;

use crate::support::{AGENT, Project};

const INDEX: &str = "const agent = new LuaAgent({ name: \"Support Bot\" });\n";

/// A folder with code but neither lua.toml nor lua.skill.yaml.
fn no_project() -> Project {
    let project = Project::new(INDEX);
    std::fs::remove_file(project.path("lua.toml")).expect("remove lua.toml");
    project
}

#[test]
fn outside_a_project_every_mode_and_compile_say_so() {
    let project = no_project();
    let url = support::dead_url();
    let mut seen = Vec::new();
    for args in [
        &["sync", "--check"][..],
        &["sync"],
        &["sync", "--accept"],
        &["sync", "--push"],
        &["compile"],
    ] {
        let run = project.lua(&url, args);
        assert_eq!(run.code(), 2, "{args:?}: {}", run.snapshot());
        assert_eq!(
            run.stderr(),
            format!(
                "error: no lua.toml or lua.skill.yaml in {} or any parent folder; run from the project root, or pass -C DIR\n",
                project.root().display()
            ),
            "{args:?}"
        );
        assert_eq!(run.stdout(), "");
        seen.push(run.snapshot());
    }
    // -C names the folder it was given.
    let inner = project.path("src");
    let run = project.lua(&url, &["-C", inner.to_str().unwrap(), "sync", "--check"]);
    assert_eq!(run.code(), 2);
    assert!(
        run.stderr()
            .contains(&format!("{}/src or any parent", project.root().display())),
        "{}",
        run.snapshot()
    );
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(seen[0]);
    // Nothing was written: no manifest, no state.
    assert!(!project.path(".lua").exists());
}

fn with_toml(toml: &str) -> Project {
    Project::with_files(&[("src/index.ts", INDEX), ("lua.toml", toml)])
}

#[test]
fn unreachable_names_the_url_from_lua_api_url_and_the_policy() {
    let project = with_toml(&format!("[agent]\nid = \"{AGENT}\"\n"));
    let run = project.lua(&support::dead_url(), &["sync", "--check"]);
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn unreachable_names_the_lua_toml_line_and_github_makes_it_a_warning() {
    let url = support::dead_url();
    let project = with_toml(&format!(
        "[agent]\nid = \"{AGENT}\"\n\n[server]\nretries = 0\nurl = \"{url}\"\n"
    ));
    let env = [("LUA_API_URL", "")];
    let human = project.lua_env(&url, &["sync", "--check"], &env);
    assert_eq!(human.code(), 0, "{}", human.snapshot());
    let stderr = human.stderr();
    assert!(
        stderr.contains(&format!(
            "  server URL: {url} (from {}/lua.toml line 6)\n",
            project.root().display()
        )),
        "{stderr}"
    );
    let github = project.lua_env(&url, &["sync", "--check", "--format", "github"], &env);
    assert_eq!(github.code(), 0, "{}", github.snapshot());
    // The same text, as one workflow command (newlines escaped), and no false "in sync".
    let text = stderr.trim_end().strip_prefix("warning: ").unwrap();
    assert_eq!(
        github.stdout(),
        format!("::warning::{}\n", text.replace('\n', "%0A"))
    );
    assert!(!github.stdout().contains("No drift"));
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(format!("{}\n{}", human.snapshot(), github.snapshot()));
}

#[test]
fn unreachable_under_fail_is_an_error_naming_the_nested_env_url() {
    let url = support::dead_url();
    let project = with_toml(&format!("[agent]\nid = \"{AGENT}\"\n"));
    let env = [
        ("LUA_API_URL", ""),
        ("LUA_SERVER__URL", url.as_str()),
        ("LUA_SYNC__ON_UNREACHABLE", "fail"),
    ];
    let run = project.lua_env(&url, &["sync", "--check"], &env);
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!("  server URL: {url} (from LUA_SERVER__URL)")),
        "{stderr}"
    );
    let github = project.lua_env(&url, &["sync", "--check", "--format", "github"], &env);
    assert_eq!(github.code(), 11);
    assert!(
        github
            .stdout()
            .starts_with("::error::server unreachable (sync.on_unreachable = \"fail\")"),
        "{}",
        github.snapshot()
    );
}
