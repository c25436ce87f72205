//! End-to-end: where the API key comes from (environment, the project's `.env`,
//! `~/.lua-cli/credentials` under a fake HOME), `lua auth`, and the flags lua-cli users
//! already type (`--pull`, `--ci`).

use crate::support;

use crate::support::{KEY, Platform, Project};

const PERSONA: &str = "You are a friendly support agent.\n\nAnswer briefly.";

fn project() -> Project {
    Project::new(&format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nconst agent = new LuaAgent({{\n  name: \"Support Bot\",\n  persona: `{PERSONA}`,\n}});\nexport default agent;\n"
    ))
}

/// The environment of a run with a fake HOME inside the project and no LUA_API_KEY.
fn no_env_key(project: &Project) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", project.path("home").display().to_string()),
        ("LUA_API_KEY", String::new()),
    ]
}

fn run(
    project: &Project,
    url: &str,
    args: &[&str],
    env: &[(&'static str, String)],
) -> support::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    project.lua_env(url, args, &env)
}

fn write_credentials(project: &Project, text: &str, mode: u32) {
    project.write("home/.lua-cli/credentials", text);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            project.path("home/.lua-cli/credentials"),
            std::fs::Permissions::from_mode(mode),
        )
        .unwrap();
    }
    #[cfg(not(unix))]
    let _ = mode;
}

#[test]
fn each_source_alone_authenticates_and_status_names_it() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);

    // 1. The environment (the support default).
    let p = project();
    let check = p.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    // 2. `.env` at the project root, in dotenv syntax (quotes, comments, export).
    let p = project();
    p.write(
        ".env",
        &format!("# secrets\nexport OTHER='x y'\nLUA_API_KEY=\"{KEY}\" # the key\n"),
    );
    let env = no_env_key(&p);
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    let status = run(&p, &platform.url(), &["auth", "status"], &env);
    assert_eq!(status.code(), 0);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!("status_dotenv", status.snapshot());

    // 3. ~/.lua-cli/credentials, whitespace trimmed.
    let p = project();
    write_credentials(&p, &format!("\n  {KEY}  \n"), 0o600);
    let env = no_env_key(&p);
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    assert!(check.stderr().is_empty(), "{}", check.stderr());
    let status = run(&p, &platform.url(), &["auth", "status"], &env);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!("status_file", status.snapshot());
    assert!(!status.stdout().contains(KEY) && !status.stdout().contains(&KEY[..6]));
}

#[test]
fn precedence_is_environment_then_dotenv_then_file() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let p = project();
    // Only the winning source holds the right key: a wrong key anywhere else would 401.
    write_credentials(&p, "wrong-file-key", 0o600);
    p.write(".env", "LUA_API_KEY=wrong-dotenv-key\n");
    let mut env = no_env_key(&p);
    env[1].1 = KEY.to_string();
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 0, "environment first: {}", check.snapshot());
    let status = run(&p, &platform.url(), &["auth", "status"], &env);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!("status_all_three", status.snapshot());

    p.write(".env", &format!("LUA_API_KEY={KEY}\n"));
    let env = no_env_key(&p);
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(
        check.code(),
        0,
        ".env before the file: {}",
        check.snapshot()
    );

    p.write(".env", "LUA_API_KEY=wrong-dotenv-key\n");
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(
        check.code(),
        9,
        "the .env key is used: {}",
        check.snapshot()
    );

    std::fs::remove_file(p.path(".env")).unwrap();
    write_credentials(&p, KEY, 0o600);
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 0, "then the file: {}", check.snapshot());
}

#[test]
fn no_key_anywhere_names_all_three_places() {
    let p = project();
    let env = no_env_key(&p);
    let check = run(&p, &support::dead_url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 9);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!("no_key_check", check.snapshot());
    let status = run(&p, &support::dead_url(), &["auth", "status"], &env);
    assert_eq!(status.code(), 9);
    insta::assert_snapshot!("no_key_status", status.snapshot());
}

#[test]
fn a_broken_dotenv_is_an_error_naming_file_and_line() {
    let p = project();
    p.write(".env", "A=1\nthis is not dotenv\nLUA_API_KEY=k\n");
    let env = no_env_key(&p);
    let check = run(&p, &support::dead_url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 2);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!(check.snapshot());
}

#[cfg(unix)]
#[test]
fn a_credentials_file_others_can_read_is_used_with_a_warning() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let p = project();
    write_credentials(&p, KEY, 0o644);
    let env = no_env_key(&p);
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 0);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!(check.snapshot());
}

#[test]
fn configure_then_logout() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let p = project();
    let env = no_env_key(&p);
    let configure = run(
        &p,
        &platform.url(),
        &["auth", "configure", "--api-key", KEY],
        &env,
    );
    assert_eq!(configure.code(), 0, "{}", configure.snapshot());
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!("configure", configure.snapshot());
    assert!(!configure.stdout().contains(KEY) && !configure.stderr().contains(KEY));
    let file = p.path("home/.lua-cli/credentials");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), format!("{KEY}\n"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode =
            |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
    }
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 0, "{}", check.snapshot());

    let logout = run(&p, &platform.url(), &["auth", "logout"], &env);
    assert_eq!(logout.code(), 0);
    insta::assert_snapshot!("logout", logout.snapshot());
    assert!(!file.exists());
    let again = run(&p, &platform.url(), &["auth", "logout"], &env);
    assert_eq!(again.code(), 0);
    assert!(
        again.stdout().contains("nothing to remove"),
        "{}",
        again.stdout()
    );
    let check = run(&p, &platform.url(), &["sync", "--check"], &env);
    assert_eq!(check.code(), 9);
}

#[test]
fn configure_without_a_key_or_with_a_bad_one_writes_nothing() {
    let p = project();
    let env = no_env_key(&p);
    let none = run(&p, &support::dead_url(), &["auth", "configure"], &env);
    assert_eq!(none.code(), 2);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!("configure_no_key", none.snapshot());
    let spaced = run(
        &p,
        &support::dead_url(),
        &["auth", "configure", "--api-key", "a b"],
        &env,
    );
    assert_eq!(spaced.code(), 2);
    assert!(
        spaced.stderr().contains("whitespace"),
        "{}",
        spaced.stderr()
    );
    assert!(!p.path("home/.lua-cli").exists());
}

#[test]
fn pull_is_accept() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    platform.publish(serde_json::json!(
        "You are a friendly support agent.\n\nAnswer in one line."
    ));
    let p = project();
    let pull = p.lua(&platform.url(), &["sync", "--pull"]);
    assert_eq!(pull.code(), 0, "{}", pull.snapshot());
    assert!(p.read("src/index.ts").contains("Answer in one line."));
    let check = p.lua(&platform.url(), &["sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    // One behaviour: the same mode group, so it conflicts with --push like --accept does.
    let both = p.lua(&platform.url(), &["sync", "--pull", "--push"]);
    assert_eq!(both.code(), 2);
    let help = p.lua(&platform.url(), &["sync", "--help"]);
    assert!(
        help.stdout().contains("[alias: --pull]"),
        "{}",
        help.stdout()
    );
}

#[test]
fn ci_never_prompts_before_or_after_the_subcommand() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let p = project();
    for args in [&["--ci", "sync"][..], &["sync", "--ci"][..]] {
        let run = p.lua(&platform.url(), args);
        assert_eq!(run.code(), 2, "{}", run.snapshot());
        let _filters = p.snapshot_filters();
        insta::assert_snapshot!("ci_sync", run.snapshot());
    }
    // Non-interactive modes are unaffected.
    let check = p.lua(&platform.url(), &["--ci", "sync", "--check"]);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
}

#[test]
fn configure_reads_the_key_from_stdin() {
    use std::io::Write;
    let p = project();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_lua"))
        .args(["auth", "configure", "--api-key", "-"])
        .current_dir(p.root())
        .env_clear()
        .env("HOME", p.path("home"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{KEY}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains(KEY));
    assert_eq!(p.read("home/.lua-cli/credentials"), format!("{KEY}\n"));
}

#[test]
fn auth_help() {
    let p = project();
    let help = p.lua(&support::dead_url(), &["auth", "--help"]);
    assert_eq!(help.code(), 0);
    let _filters = p.snapshot_filters();
    insta::assert_snapshot!(help.snapshot());
}
