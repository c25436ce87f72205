//! End-to-end: the npm packages. `scripts/npm-pack.sh` packs the binary these tests were
//! built with (not a second, slow release build) for the host platform; npm installs
//! the main and the platform tarball offline into a temporary prefix; the `lua` it puts
//! on the PATH (the JS launcher) runs the binary with its arguments and exit code.
//! Skipped with a message only where npm is missing, and never under CI (`.ci/run`
//! installs node and npm).

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

use crate::support::{KEY, Platform, Project};

const PERSONA: &str = "You are a friendly support agent.\n\nAnswer briefly.";

#[allow(clippy::print_stderr)] // the skip must be visible in the test log
fn have_npm() -> bool {
    let found = Command::new("npm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "npm is missing under CI: .ci/run must install nodejs and npm"
        );
        eprintln!("SKIPPED: npm is not installed, so the npm packages cannot be tested here");
    }
    found
}

fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn npm_install_offline_then_lua_runs_from_the_prefix() {
    if !have_npm() {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("npm");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let packed = run(Command::new("bash")
        .arg(root.join("scripts/npm-pack.sh"))
        .env("LUA_NPM_BINARY", env!("CARGO_BIN_EXE_lua"))
        .env("LUA_NPM_OUT", &out));
    let tarballs: Vec<String> = String::from_utf8_lossy(&packed.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(tarballs.len(), 2, "{tarballs:?}");
    for t in &tarballs {
        assert!(Path::new(t).is_file(), "{t}");
    }
    let name = |p: &str| {
        Path::new(p)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(name(&tarballs[0]), format!("lua-sync-cli-{version}.tgz"));

    // Offline, with an empty cache: nothing may come from a registry.
    let prefix = work.path().join("prefix");
    run(Command::new("npm")
        .args([
            "install",
            "-g",
            "--offline",
            "--no-audit",
            "--no-fund",
            "--prefix",
        ])
        .arg(&prefix)
        .arg(format!("./{}", name(&tarballs[0])))
        .arg(format!("./{}", name(&tarballs[1])))
        .current_dir(&out)
        .env("npm_config_cache", work.path().join("cache"))
        .env("npm_config_update_notifier", "false"));
    let lua = prefix.join("bin/lua");
    assert!(
        lua.exists(),
        "npm put no `lua` in {}",
        prefix.join("bin").display()
    );

    let version_out = run(Command::new(&lua).arg("--version"));
    assert_eq!(
        String::from_utf8_lossy(&version_out.stdout),
        format!("lua {version}\n")
    );

    let platform = Platform::start(Some("Support Bot"), &[PERSONA]);
    let project = Project::new(&format!(
        "import {{ LuaAgent }} from \"lua-cli\";\nconst agent = new LuaAgent({{\n  name: \"Support Bot\",\n  persona: `{PERSONA}`,\n}});\nexport default agent;\n"
    ));
    let check = |name: &str| {
        Command::new(&lua)
            .args(["sync", "--check"])
            .current_dir(project.root())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", project.root())
            .env("LUA_API_URL", platform.url())
            .env("LUA_API_KEY", KEY)
            .env("NO_COLOR", "1")
            .output()
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    let in_sync = check("in sync");
    assert_eq!(
        in_sync.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&in_sync.stderr)
    );
    assert!(String::from_utf8_lossy(&in_sync.stdout).contains("No drift detected"));

    // The launcher forwards the binary's exit code: drift under --check is 1.
    platform.set_name("Renamed in the dashboard");
    let drift = check("drift");
    assert_eq!(drift.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&drift.stdout).contains("Renamed in the dashboard"));
}
