//! End-to-end: lua-cli's e-mail sign-in sessions (`~/.lua-cli/sessions/`) against the
//! devserver's emulated token endpoint (`LUA_FIREBASE_TOKEN_URL`): the bearer is a fresh ID
//! token, the rotated refresh token is written back under lua-cli's lock (two processes at
//! once lose no rotation; a stale lock is taken over), a refused refresh or a revoked
//! session signs out, a failing token endpoint keeps the session, and a session of another
//! environment is not used.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::support::{self, Platform, Project};

const PERSONA: &str = "You are a friendly support agent.";
const USER: &str = "firebase-uid-42";
const WEB_KEY: &str = "AIzaSyAGI0AxOz6UmtJgwFIA_UNTuYUEgQRRGhw";

fn project() -> Project {
    Project::new(&format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nexport const agent = new LuaAgent({{\n  name: \"Support Bot\",\n  persona: `{PERSONA}`,\n}});\n"
    ))
}

/// lua-cli's file for an environment: sha256(apiUrl \n authUrl \n webApiKey)[..16].
fn session_path(home: &Path, api_url: &str) -> PathBuf {
    let k = hex::encode(Sha256::digest(format!(
        "{api_url}\nhttps://auth.heylua.ai\n{WEB_KEY}"
    )));
    home.join(".lua-cli/sessions")
        .join(format!("{}.json", &k[..16]))
}

/// A session as lua-cli writes it (folder 0700, file 0600, one line).
fn write_session(path: &Path, api_url: &str, refresh_token: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::set_permissions(
        path.parent().unwrap(),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    let stored = json!({
        "version": 1, "kind": "firebase-session", "generation": "3b0f7c9e-1111-4222-8333-444455556666",
        "refreshToken": refresh_token, "firebaseUid": USER, "apiUrl": api_url,
        "authUrl": "https://auth.heylua.ai", "firebaseWebApiKey": WEB_KEY,
    });
    std::fs::write(path, format!("{stored}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn stored(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sign_in(platform: &Platform) -> String {
    platform.data(
        reqwest::Method::POST,
        "/_devserver/signins",
        Some(json!({"uid": USER})),
    )["refreshToken"]
        .as_str()
        .unwrap()
        .to_string()
}

fn set_user(platform: &Platform, state: &str) {
    platform.data(
        reqwest::Method::POST,
        &format!("/_devserver/signins/{USER}"),
        Some(json!({"state": state})),
    );
}

fn refreshes(platform: &Platform) -> u64 {
    platform.data(reqwest::Method::GET, "/_devserver/signins", None)["refreshes"]
        .as_u64()
        .unwrap()
}

/// No key anywhere but the session; HOME in the project; the devserver's token endpoint.
fn env(project: &Project, platform: &Platform) -> Vec<(&'static str, String)> {
    vec![
        ("HOME", project.path("home").display().to_string()),
        ("LUA_API_KEY", String::new()),
        (
            "LUA_FIREBASE_TOKEN_URL",
            format!("{}/_devserver/token", platform.url()),
        ),
    ]
}

fn run(
    project: &Project,
    platform: &Platform,
    args: &[&str],
    env: &[(&'static str, String)],
) -> support::Run {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    project.lua_env(&platform.url(), args, &env)
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_session_signs_in_rotates_its_token_and_status_names_it() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = project();
    let path = session_path(&project.path("home"), &platform.url());
    let first = sign_in(&platform);
    write_session(&path, &platform.url(), &first);
    // A credentials file with a wrong key: lua-cli tries the session first.
    project.write("home/.lua-cli/credentials", "wrong-key\n");
    let env = env(&project, &platform);

    let check = run(&project, &platform, &["sync", "--check", "-v"], &env);
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    assert!(
        check.stderr().contains(&format!("(user {USER})")),
        "{}",
        check.snapshot()
    );
    let after = stored(&path);
    let rotated = after["refreshToken"].as_str().unwrap().to_string();
    assert_ne!(rotated, first, "the rotated refresh token is written back");
    assert_eq!(
        after["generation"],
        json!("3b0f7c9e-1111-4222-8333-444455556666")
    );
    assert_eq!(after["firebaseUid"], json!(USER));
    assert_eq!(mode(&path), 0o600);
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    for text in [check.stdout(), check.stderr()] {
        assert!(
            !text.contains(&first) && !text.contains(&rotated),
            "a token was printed"
        );
    }
    // The rotated token works (the used one would be refused by the endpoint).
    let again = run(&project, &platform, &["persona", "versions"], &env);
    assert_eq!(again.code(), 0, "{}", again.snapshot());
    assert_eq!(refreshes(&platform), 2);

    let status = run(&project, &platform, &["auth", "status"], &env);
    assert_eq!(status.code(), 0, "{}", status.snapshot());
    {
        let _filters = project.snapshot_filters();
        insta::assert_snapshot!("status_session", status.snapshot());
    }

    // LUA_API_KEY comes before the session: a wrong one is used (and rejected), the
    // session is not touched.
    let mut with_key = env.clone();
    with_key.retain(|(k, _)| *k != "LUA_API_KEY");
    with_key.push(("LUA_API_KEY", "wrong-env-key".into()));
    let check = run(&project, &platform, &["sync", "--check"], &with_key);
    assert_eq!(check.code(), 9, "{}", check.snapshot());
    assert_eq!(refreshes(&platform), 2);
}

#[test]
fn two_processes_refreshing_one_session_at_once_lose_no_rotation() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = project();
    let path = session_path(&project.path("home"), &platform.url());
    write_session(&path, &platform.url(), &sign_in(&platform));
    let env = env(&project, &platform);
    let spawn = || {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lua"));
        cmd.args(["sync", "--check"])
            .current_dir(project.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("LUA_API_URL", platform.url())
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &env {
            if !v.is_empty() {
                cmd.env(k, v);
            }
        }
        cmd.spawn().unwrap()
    };
    for round in 0..3 {
        let children: Vec<_> = (0..4).map(|_| spawn()).collect();
        for child in children {
            let out = child.wait_with_output().unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "round {round}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // Each run refreshed once, each with the token the one before it wrote.
    assert_eq!(refreshes(&platform), 12);
    assert!(!Path::new(&format!("{}.lock", path.display())).exists());

    // A lock held by another process (lua-cli, say) is waited for.
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    std::fs::create_dir(&lock).unwrap();
    std::fs::write(lock.join("owner"), "lua-cli-owner").unwrap();
    let mut child = spawn();
    std::thread::sleep(std::time::Duration::from_millis(600));
    assert!(
        child.try_wait().unwrap().is_none(),
        "lua did not wait for the lock"
    );
    assert_eq!(refreshes(&platform), 12);
    std::fs::remove_dir_all(&lock).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(refreshes(&platform), 13);
}

#[test]
fn a_stale_lock_left_by_a_killed_process_is_taken_over() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = project();
    let path = session_path(&project.path("home"), &platform.url());
    write_session(&path, &platform.url(), &sign_in(&platform));
    let lock = PathBuf::from(format!("{}.lock", path.display()));
    // A process takes the lock the way lua-cli does and is killed while holding it.
    let mut holder = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "mkdir '{0}' && echo killed-owner > '{0}/owner' && exec sleep 600",
            lock.display()
        ))
        .spawn()
        .unwrap();
    while !lock.join("owner").exists() {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    holder.kill().unwrap();
    holder.wait().unwrap();
    // Its lock is older than lua-cli's 30 s limit.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(31);
    std::fs::File::open(&lock)
        .unwrap()
        .set_modified(old)
        .unwrap();

    let check = run(
        &project,
        &platform,
        &["sync", "--check"],
        &env(&project, &platform),
    );
    assert_eq!(check.code(), 0, "{}", check.snapshot());
    assert!(!lock.exists(), "the stale lock is gone");
    assert_eq!(refreshes(&platform), 1);
}

#[test]
fn a_session_for_another_environment_is_not_used() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = project();
    let token = sign_in(&platform);
    // Signed in against production: its file has another name, so nothing is found here.
    let production = session_path(&project.path("home"), "https://api.heylua.ai");
    write_session(&production, "https://api.heylua.ai", &token);
    let env = env(&project, &platform);
    let check = run(&project, &platform, &["sync", "--check"], &env);
    assert_eq!(check.code(), 9, "{}", check.snapshot());
    assert!(
        check.stderr().contains("no API key or sign-in session"),
        "{}",
        check.snapshot()
    );

    // A file at this environment's name whose fields name another environment: not used.
    let here = session_path(&project.path("home"), &platform.url());
    write_session(&here, "https://api.heylua.ai", &token);
    let check = run(&project, &platform, &["sync", "--check"], &env);
    assert_eq!(check.code(), 9, "{}", check.snapshot());
    let status = run(&project, &platform, &["auth", "status"], &env);
    assert!(
        status
            .stdout()
            .contains("a session for a different environment (not used)"),
        "{}",
        status.snapshot()
    );
    assert_eq!(refreshes(&platform), 0);
    assert!(here.exists() && production.exists(), "nothing deleted");
}

#[test]
fn a_refused_refresh_or_a_revoked_session_signs_out_and_an_outage_keeps_it() {
    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = project();
    let path = session_path(&project.path("home"), &platform.url());
    let env = env(&project, &platform);

    // The token endpoint fails (503): exit 11, the session kept as it was.
    let token = sign_in(&platform);
    write_session(&path, &platform.url(), &token);
    platform.fault(json!({"pathPrefix": "/_devserver/token", "status": 503}));
    let check = run(&project, &platform, &["sync", "--check"], &env);
    platform.clear_faults();
    assert_eq!(check.code(), 11, "{}", check.snapshot());
    assert_eq!(stored(&path)["refreshToken"], json!(token));

    // The user is disabled: the refresh is refused, the session deleted, exit 9.
    set_user(&platform, "disabled");
    let check = run(&project, &platform, &["sync", "--check"], &env);
    assert_eq!(check.code(), 9, "{}", check.snapshot());
    assert!(!path.exists(), "the dead session is deleted");
    {
        let _filters = project.snapshot_filters();
        insta::assert_snapshot!("signed_out_refused", check.snapshot());
    }

    // Signed in again, then revoked on the platform: the API says SESSION_REVOKED.
    write_session(&path, &platform.url(), &sign_in(&platform));
    set_user(&platform, "revoked");
    for args in [&["sync", "--check"][..], &["persona", "versions"]] {
        write_session(&path, &platform.url(), &sign_in(&platform));
        set_user(&platform, "revoked");
        let run = run(&project, &platform, args, &env);
        assert_eq!(run.code(), 9, "{args:?}: {}", run.snapshot());
        assert!(
            run.stderr().contains("Your Lua CLI session was signed out"),
            "{}",
            run.snapshot()
        );
        assert!(
            run.stderr().contains("lua auth configure"),
            "{}",
            run.snapshot()
        );
        assert!(!path.exists(), "{args:?}: the revoked session is deleted");
    }
}
