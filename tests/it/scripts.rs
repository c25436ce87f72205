//! `scripts/demo.sh` as a user runs it: it finds the binaries in cargo's target
//! directory (here `CARGO_TARGET_DIR`, as a user with a shared target dir has it), runs
//! the drift check against a real devserver, and says what is missing when a binary is.
//! It reuses the binaries this test run built (`LUA_DEMO_NO_BUILD=1`): cargo cannot
//! build inside `cargo test`, which holds the target directory's lock.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory this test binary was built into (`<target>/debug/lua`).
fn target_dir() -> PathBuf {
    let lua = Path::new(env!("CARGO_BIN_EXE_lua"));
    lua.parent()
        .and_then(Path::parent)
        .expect("<target>/debug/lua")
        .to_path_buf()
}

fn demo(env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts/demo.sh"))
        // Started elsewhere: the script must not depend on the caller's folder.
        .current_dir(std::env::temp_dir())
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("LUA_BIN")
        .env_remove("LUA_DEVSERVER_BIN")
        .env_remove("LUA_API_URL")
        .env_remove("LUA_API_KEY")
        .env("NO_COLOR", "1")
        .env("LUA_DEMO_NO_BUILD", "1");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run bash scripts/demo.sh")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn the_demo_finds_the_binaries_in_cargo_target_dir_and_shows_drift() {
    let target = target_dir();
    let devserver = target.join("debug/lua-devserver");
    assert!(
        devserver.is_file(),
        "{} is not built: run `cargo build -p lua-devserver` (cargo test --workspace builds it)",
        devserver.display()
    );
    let out = demo(&[("CARGO_TARGET_DIR", target.to_str().unwrap())]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("# devserver at http://127.0.0.1:"),
        "{stdout}"
    );
    assert!(stdout.contains("PERSONA DIFF"), "{stdout}");
    assert!(stdout.contains("1 component drifted:"), "{stdout}");
    assert!(
        stdout.contains("# lua sync --check exited with 1 (0 = in sync, 1 = drift, 2 = error)"),
        "{stdout}"
    );
}

#[test]
fn a_missing_binary_is_named_with_where_it_was_looked_for_and_how_to_build_it() {
    let empty = tempfile::tempdir().expect("tempdir");
    let out = demo(&[("CARGO_TARGET_DIR", empty.path().to_str().unwrap())]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(text(&out.stdout), "");

    let out = demo(&[
        ("LUA_BIN", env!("CARGO_BIN_EXE_lua")),
        ("LUA_DEVSERVER_BIN", "/nonexistent/lua-devserver"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let given = text(&out.stderr);

    // A devserver that exits at once is said to have exited, with its stderr.
    let out = demo(&[
        ("LUA_BIN", env!("CARGO_BIN_EXE_lua")),
        ("LUA_DEVSERVER_BIN", env!("CARGO_BIN_EXE_lua")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let exited = text(&out.stderr);
    assert!(exited.contains(") exited before listening:\n"), "{exited}");
    let target = regex::escape(&empty.path().display().to_string());
    insta::with_settings!({ filters => vec![(target.as_str(), "[TARGET]")] }, {
        insta::assert_snapshot!(format!("{stderr}---\n{given}"));
    });
}
