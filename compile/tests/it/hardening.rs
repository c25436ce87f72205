//! Hostile input: special files as sources, huge files, long `+` chains and reference chains.
//! Each test fails (or hangs, bounded here by a timeout) on the code before the fix.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use lua_compile::{CompileError, Compiled, compile, evaluate, evaluate_files};

/// Run `f` on its own thread and fail the test if it does not finish in time (a read of a
/// FIFO used to block forever).
fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("did not finish: a read blocked")
}

fn project(list: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, content) in list {
        let path = dir.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    dir
}

fn compile_err(root: &Path) -> String {
    let root = root.to_path_buf();
    bounded(move || match compile(&root, "src/index.ts") {
        Ok(_) => "compiled".to_owned(),
        Err(e) => e.to_string(),
    })
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn a_fifo_entry_is_refused_naming_it_without_blocking() {
    let dir = project(&[]);
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    mkfifo(&dir.path().join("src/index.ts"));
    assert_eq!(
        compile_err(dir.path()),
        "cannot read src/index.ts: not a regular file (a named pipe)"
    );
}

#[cfg(unix)]
#[test]
fn an_import_linked_to_dev_zero_is_refused_naming_it() {
    let dir = project(&[(
        "src/index.ts",
        "import { LuaAgent } from 'lua-cli';\nimport { P } from './persona';\nnew LuaAgent({ persona: P });\n",
    )]);
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("src/persona.ts")).unwrap();
    assert_eq!(
        compile_err(dir.path()),
        "cannot read src/persona.ts: not a regular file (a device)"
    );
}

#[cfg(unix)]
#[test]
fn a_cached_input_that_became_a_fifo_does_not_block_the_cache_check() {
    let dir = project(&[
        (
            "src/index.ts",
            "import { LuaAgent } from 'lua-cli';\nimport { P } from './persona';\nnew LuaAgent({ persona: P });\n",
        ),
        ("src/persona.ts", "export const P = 'p';\n"),
    ]);
    compile(dir.path(), "src/index.ts").unwrap();
    std::fs::remove_file(dir.path().join("src/persona.ts")).unwrap();
    mkfifo(&dir.path().join("src/persona.ts"));
    assert_eq!(
        compile_err(dir.path()),
        "cannot read src/persona.ts: not a regular file (a named pipe)"
    );
}

#[test]
fn a_source_over_16_mib_is_refused() {
    let big = format!(
        "import {{ LuaAgent }} from 'lua-cli';\nnew LuaAgent({{ persona: 'p' }});\n//{}\n",
        "x".repeat(16 << 20)
    );
    let dir = project(&[("src/index.ts", &big)]);
    let err = evaluate(dir.path(), "src/index.ts").unwrap_err();
    assert!(matches!(err, CompileError::Io { .. }));
    assert_eq!(
        err.to_string(),
        "cannot read src/index.ts: larger than the 16 MiB limit"
    );
}

fn eval_one(src: &str) -> Compiled {
    let mut files = BTreeMap::new();
    files.insert("src/index.ts".to_owned(), src.to_owned());
    evaluate_files(&files, "src/index.ts").unwrap()
}

#[test]
fn a_doubling_chain_says_it_repeats_values_not_that_it_nests() {
    let mut consts = String::from("const A0 = 'ab';\n");
    for i in 1..=28 {
        consts.push_str(&format!("const A{i} = A{p} + A{p};\n", p = i - 1));
    }
    let c = eval_one(&format!(
        "import {{ LuaAgent }} from 'lua-cli';\n{consts}new LuaAgent({{ persona: A28, name: 'n' }});\n"
    ));
    let u = c.fields["persona"].to_json().unwrap_err();
    assert_eq!(
        u.reason,
        "the config repeats the same values too many times to expand them"
    );
    assert_eq!(c.fields["name"].to_json().unwrap(), "n");
}

#[test]
fn a_chain_of_a_hundred_consts_is_read() {
    let mut consts = String::from("const C0 = 'x';\n");
    for i in 1..=100 {
        consts.push_str(&format!("const C{i} = C{p} + '-{i}';\n", p = i - 1));
    }
    let c = eval_one(&format!(
        "import {{ LuaAgent }} from 'lua-cli';\n{consts}new LuaAgent({{ persona: C100 }});\n"
    ));
    let text = c.fields["persona"].to_json().unwrap();
    assert!(text.as_str().unwrap().ends_with("-99-100"), "{text}");
}

#[test]
fn objects_nested_too_deep_say_so() {
    let deep = format!("{}'x'{}", "{ a: ".repeat(60), " }".repeat(60));
    let c = eval_one(&format!(
        "import {{ LuaAgent }} from 'lua-cli';\nnew LuaAgent({{ persona: {deep} }});\n"
    ));
    let reasons: Vec<String> = c.fields["persona"]
        .unreadables()
        .iter()
        .map(|u| u.reason.clone())
        .collect();
    assert_eq!(
        reasons,
        ["objects and arrays nest more than 48 levels deep"]
    );
}

#[test]
fn a_long_plus_chain_is_read_whole() {
    let n = 100_000;
    let chain: String = (0..n).map(|i| format!(" + '{}'", i % 10)).collect();
    let c = eval_one(&format!(
        "import {{ LuaAgent }} from 'lua-cli';\nnew LuaAgent({{ persona: 'start'{chain} }});\n"
    ));
    let text = c.fields["persona"].to_json().unwrap();
    assert_eq!(text.as_str().unwrap().len(), "start".len() + n);
}
