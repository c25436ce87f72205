//! Unit tests of the parent module (included with `#[cfg(test)] #[path]`).

use std::cell::Cell;

use super::*;
use crate::primitives::kinds::{
    JOBS, MCP_SERVERS, POSTPROCESSORS, PREPROCESSORS, SKILLS, WEBHOOKS,
};

thread_local! {
    /// Parses of `lua.skill.yaml` on this thread (read_local runs on the caller's thread).
    pub(super) static PARSES: Cell<usize> = const { Cell::new(0) };
}

fn project(yaml: &str) -> (tempfile::TempDir, Project) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/index.ts"),
        "import { LuaAgent } from \"lua-cli\";\nexport default new LuaAgent({ name: \"a\" });\n",
    )
    .unwrap();
    std::fs::write(dir.path().join(FILE_NAME), yaml).unwrap();
    let (compiled, _) = lua_compile::compile(dir.path(), "src/index.ts").unwrap();
    let project = Project::new(dir.path(), compiled);
    (dir, project)
}

#[test]
fn the_yaml_is_parsed_once_per_project_for_all_six_kinds() {
    let (_dir, project) = project(
        "skills:\n  - name: s\n    version: 1.0.0\njobs:\n  - name: j\n    version: 2.0.0\nmcpServers:\n  - name: m\n    mcpServerId: mcp_m\n",
    );
    let kinds = [
        &SKILLS,
        &WEBHOOKS,
        &JOBS,
        &PREPROCESSORS,
        &POSTPROCESSORS,
        &MCP_SERVERS,
    ];
    PARSES.with(|n| n.set(0));
    let read: Vec<Vec<String>> = kinds
        .iter()
        .map(|kind| {
            Primitives::new(kind)
                .read_local(&project)
                .unwrap()
                .into_keys()
                .collect()
        })
        .collect();
    assert_eq!(
        read,
        [vec!["s"], vec![], vec!["j"], vec![], vec![], vec!["m"]]
    );
    assert_eq!(PARSES.with(Cell::get), 1);
    // A clone (the report's copy) shares it; a new project (after a pull) parses again.
    Primitives::new(&SKILLS)
        .read_local(&project.clone())
        .unwrap();
    assert_eq!(PARSES.with(Cell::get), 1);
    let fresh = Project::new(project.root(), project.compiled().clone());
    Primitives::new(&SKILLS).read_local(&fresh).unwrap();
    assert_eq!(PARSES.with(Cell::get), 2);
}

#[test]
fn a_broken_yaml_is_one_parse_and_the_same_error_for_every_kind() {
    let (_dir, project) = project("skills: [\n");
    PARSES.with(|n| n.set(0));
    let skills = Primitives::new(&SKILLS).read_local(&project).unwrap_err();
    let jobs = Primitives::new(&JOBS).read_local(&project).unwrap_err();
    assert_eq!(PARSES.with(Cell::get), 1);
    assert_eq!(skills.reason, jobs.reason);
    assert_eq!(
        (skills.field.as_str(), jobs.field.as_str()),
        ("skills", "jobs")
    );
}
