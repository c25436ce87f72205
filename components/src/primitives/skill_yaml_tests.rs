//! Unit tests of the parent module (included with `#[cfg(test)] #[path]`).

use super::*;
use proptest::prelude::*;

const SKILLS: Section = Section {
    key: "skills",
    id_field: "skillId",
    versioned: true,
};
const JOBS: Section = Section {
    key: "jobs",
    id_field: "jobId",
    versioned: true,
};
const MCP: Section = Section {
    key: "mcpServers",
    id_field: "mcpServerId",
    versioned: false,
};

const TEMPLATE: &str = "# Lua project file
agent:
  agentId: baseAgent_agent_1   # the agent
  orgId: org_1

# deployed skills
skills:
  - name: order-skill   # orders
    version: 1.0.0      # bumped by deploy
    skillId: skill_1
  - name: \"faq\"
    version: '2.1.0'
    skillId: skill_2
jobs: []
mcpServers:
  # added in the dashboard
  - name: search
    mcpServerId: mcp_1
# trailing comment
";

fn parse(text: &str) -> SkillYaml {
    SkillYaml::parse(Path::new("lua.skill.yaml"), text).unwrap()
}

fn err(text: &str, section: &Section) -> String {
    match SkillYaml::parse(Path::new("lua.skill.yaml"), text) {
        Err(e) => e.to_string(),
        Ok(y) => y.entries(section).unwrap_err().to_string(),
    }
}

#[test]
fn reads_entries_with_lines() {
    let y = parse(TEMPLATE);
    let skills = y.entries(&SKILLS).unwrap();
    assert_eq!(
        skills,
        vec![
            Entry {
                name: "order-skill".into(),
                version: Some("1.0.0".into()),
                id: Some("skill_1".into()),
                line: 8
            },
            Entry {
                name: "faq".into(),
                version: Some("2.1.0".into()),
                id: Some("skill_2".into()),
                line: 11
            },
        ]
    );
    assert!(y.entries(&JOBS).unwrap().is_empty());
    let mcp = y.entries(&MCP).unwrap();
    assert_eq!(mcp[0].name, "search");
    assert_eq!(mcp[0].version, None);
    assert_eq!(mcp[0].line, 17);
    let webhooks = Section {
        key: "webhooks",
        id_field: "webhookId",
        versioned: true,
    };
    assert!(y.entries(&webhooks).unwrap().is_empty());
}

#[test]
fn numbers_keep_their_text_and_flow_entries_read() {
    let y = parse("skills:\n- {name: a, version: 1.0, skillId: s}\n- name: b\n  version: 2\n");
    let e = y.entries(&SKILLS).unwrap();
    assert_eq!(e[0].version.as_deref(), Some("1.0"));
    assert_eq!(e[1].version.as_deref(), Some("2"));
    assert_eq!(e[1].id, None);
    assert_eq!(e[1].line, 3);
}

#[test]
fn bad_input_names_file_line_and_field() {
    insta::assert_snapshot!(err("skills: [\n", &SKILLS), @"lua.skill.yaml:2:1: invalid YAML: while parsing a node, did not find expected node content");
    insta::assert_snapshot!(err("skills: true\n", &SKILLS), @"lua.skill.yaml:1: `skills` must be a list, found a boolean");
    insta::assert_snapshot!(err("skills:\n  - name: a\n    version: [1]\n", &SKILLS), @"lua.skill.yaml:3: `skills[0].version` must be a string, found a list");
    insta::assert_snapshot!(err("skills:\n  - version: 1\n", &SKILLS), @"lua.skill.yaml:2: `skills[0].name` must be a non-empty string, found nothing");
    insta::assert_snapshot!(err("skills:\n  - x\n", &SKILLS), @"lua.skill.yaml:2: `skills[0]` must be a mapping, found a string");
    insta::assert_snapshot!(err("skills:\n  - name: a\n  - name: a\n", &SKILLS), @"lua.skill.yaml:3: `skills` lists `a` twice (first at line 2)");
    insta::assert_snapshot!(err("- a\n", &SKILLS), @"lua.skill.yaml:1: `(top level)` must be a mapping, found a list");
    insta::assert_snapshot!(err("skills:\n  - name: a\n    skillId: {x: 1}\n", &SKILLS), @"lua.skill.yaml:3: `skills[0].skillId` must be a string, found a mapping");
    // A bad section fails only its own reader.
    let y = parse("skills: 3\njobs:\n  - name: j\n");
    assert!(y.entries(&SKILLS).is_err());
    assert_eq!(y.entries(&JOBS).unwrap().len(), 1);
}

#[test]
fn set_version_keeps_everything_else() {
    let y = parse(TEMPLATE);
    let mut ed = y.edit();
    ed.set_version(&SKILLS, "order-skill", "1.0.1").unwrap();
    ed.set_version(&SKILLS, "faq", "it's").unwrap();
    let want = TEMPLATE
        .replace(
            "version: 1.0.0      # bumped",
            "version: 1.0.1      # bumped",
        )
        .replace("version: '2.1.0'", "version: 'it''s'");
    assert_eq!(ed.text(), want);
    let e = parse(ed.text()).entries(&SKILLS).unwrap();
    assert_eq!(e[1].version.as_deref(), Some("it's"));
}

#[test]
fn set_version_quotes_what_would_not_read_back() {
    let y = parse("skills:\n  - name: a\n    version: 1.0.0 # c\n  - {name: b, version: \"1\"}\n");
    let mut ed = y.edit();
    ed.set_version(&SKILLS, "a", "2.0").unwrap();
    ed.set_version(&SKILLS, "b", "x\"y").unwrap();
    assert_eq!(
        ed.text(),
        "skills:\n  - name: a\n    version: \"2.0\" # c\n  - {name: b, version: \"x\\\"y\"}\n"
    );
}

#[test]
fn set_version_adds_a_missing_line() {
    let y = parse("skills:\n  - name: a # n\n    skillId: s\n");
    let mut ed = y.edit();
    ed.set_version(&SKILLS, "a", "1.2.3").unwrap();
    assert_eq!(
        ed.text(),
        "skills:\n  - name: a # n\n    version: 1.2.3\n    skillId: s\n"
    );
    let e = ed.set_version(&SKILLS, "zzz", "1").unwrap_err().to_string();
    assert!(e.contains("no such entry"), "{e}");
}

#[test]
fn add_entry_to_a_block_list_keeps_comments() {
    let y = parse(TEMPLATE);
    let mut ed = y.edit();
    ed.add_entry(&MCP, "docs", None, "mcp_2").unwrap();
    let want = TEMPLATE.replace(
        "    mcpServerId: mcp_1\n",
        "    mcpServerId: mcp_1\n  - name: docs\n    mcpServerId: mcp_2\n",
    );
    assert_eq!(ed.text(), want);
    let e = ed
        .add_entry(&MCP, "docs", None, "mcp_2")
        .unwrap_err()
        .to_string();
    assert!(e.contains("exists"), "{e}");
}

#[test]
fn add_entry_creates_or_fills_the_key() {
    let mut ed = parse("agent:\n  agentId: a # c").edit();
    ed.add_entry(&MCP, "docs", None, "mcp 2").unwrap();
    assert_eq!(
        ed.text(),
        "agent:\n  agentId: a # c\nmcpServers:\n  - name: docs\n    mcpServerId: \"mcp 2\"\n"
    );

    let mut ed = parse("skills:\n- name: s\nmcpServers: []   # none yet\n").edit();
    ed.add_entry(&MCP, "docs", None, "m").unwrap();
    assert_eq!(
        ed.text(),
        "skills:\n- name: s\nmcpServers: [{name: \"docs\", mcpServerId: \"m\"}]   # none yet\n"
    );

    let mut ed = parse("mcpServers: [{name: a}]\n").edit();
    ed.add_entry(&MCP, "b", None, "m").unwrap();
    assert_eq!(
        ed.text(),
        "mcpServers: [{name: a}, {name: \"b\", mcpServerId: \"m\"}]\n"
    );

    let mut ed = parse("mcpServers: # later\nskills: []\n").edit();
    ed.add_entry(&MCP, "b", None, "m").unwrap();
    assert_eq!(
        ed.text(),
        "mcpServers: # later\n  - name: b\n    mcpServerId: m\nskills: []\n"
    );

    let mut ed = parse("a: 1\r\nmcpServers:\r\n- name: x\r\n").edit();
    ed.add_entry(&MCP, "b", None, "m").unwrap();
    assert_eq!(
        ed.text(),
        "a: 1\r\nmcpServers:\r\n- name: x\r\n- name: b\r\n  mcpServerId: m\r\n"
    );

    let mut ed = parse("").edit();
    ed.add_entry(&MCP, "b", None, "m").unwrap();
    assert_eq!(ed.text(), "mcpServers:\n  - name: b\n    mcpServerId: m\n");
}

#[test]
fn add_entry_with_a_version_for_versioned_sections() {
    let mut ed = parse(TEMPLATE).edit();
    ed.add_entry(&SKILLS, "new-skill", Some("0.1.0"), "skill_9")
        .unwrap();
    assert!(ed.text().contains("    skillId: skill_2\n  - name: new-skill\n    version: 0.1.0\n    skillId: skill_9\njobs: []"), "{}", ed.text());
    let e = parse(ed.text()).entries(&SKILLS).unwrap();
    assert_eq!(e[2].version.as_deref(), Some("0.1.0"));
    assert_eq!(e[2].line, 14);
}

#[test]
fn add_entry_goes_after_a_nested_last_item() {
    let text = "mcpServers:\n  - name: a\n    config:\n      url: x\n\n      # inner\n      more: y\n\n# about skills\nskills: []\n";
    let mut ed = parse(text).edit();
    ed.add_entry(&MCP, "b", None, "m").unwrap();
    assert_eq!(
        ed.text(),
        "mcpServers:\n  - name: a\n    config:\n      url: x\n\n      # inner\n      more: y\n  - name: b\n    mcpServerId: m\n\n# about skills\nskills: []\n"
    );
}

#[test]
fn a_missing_file_reads_as_empty_and_an_edit_creates_it() {
    let empty = tempfile::tempdir().unwrap();
    let y = SkillYaml::read(empty.path()).unwrap();
    assert!(!y.exists());
    assert!(y.entries(&SKILLS).unwrap().is_empty());
    let mut ed = y.edit();
    ed.add_entry(&MCP, "a", None, "m").unwrap();
    assert!(ed.text().contains("name: a"));
}

#[test]
fn read_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(FILE_NAME), b"skills: \xff\n").unwrap();
    let e = SkillYaml::read(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("lua.skill.yaml:1:1: invalid YAML: not UTF-8"),
        "{e}"
    );
}

fn value_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}",
        "[a-zA-Z0-9 ._'\"#:\\\\é-]{1,12}",
        Just("1.0".to_string()),
        Just("true".to_string()),
        Just("- x".to_string()),
    ]
}

fn layout_strategy() -> impl Strategy<Value = (String, usize)> {
    (0usize..3, 0usize..3, any::<bool>(), any::<bool>()).prop_map(|(style, indent, comment, flow)| {
        let ind = " ".repeat(indent);
        let ver = match style {
            0 => "1.0.0".to_string(),
            1 => "'1.0.0'".to_string(),
            _ => "\"1.0.0\"".to_string(),
        };
        let c = if comment { "   # keep me" } else { "" };
        let text = if flow {
            format!("# head\nskills:\n{ind}- {{name: a, version: {ver}, skillId: s1}}{c}\n{ind}- name: b\n{ind}  version: {ver}{c}\nmcpServers: []\n")
        } else {
            format!("# head\nskills:\n{ind}- name: a{c}\n{ind}  version: {ver}{c}\n\n{ind}  skillId: s1\n{ind}- name: b\n{ind}  version: {ver}\nmcpServers:\n{ind}- name: m\n{ind}  mcpServerId: x{c}\n# tail\n")
        };
        (text, usize::from(flow))
    })
}

proptest! {
    #[test]
    fn set_version_round_trips_and_changes_one_scalar((text, _) in layout_strategy(), v in value_strategy(), which in 0usize..2) {
        let name = ["a", "b"][which];
        let y = parse(&text);
        let mut ed = y.edit();
        ed.set_version(&SKILLS, name, &v).unwrap();
        let after = parse(ed.text());
        let entries = after.entries(&SKILLS).unwrap();
        let before = y.entries(&SKILLS).unwrap();
        for (b, a) in before.iter().zip(&entries) {
            if b.name == name {
                prop_assert_eq!(a.version.as_deref(), Some(v.as_str()));
            } else {
                prop_assert_eq!(a, b);
            }
        }
        // Only one line changed.
        let old: Vec<&str> = text.lines().collect();
        let new: Vec<&str> = ed.text().lines().collect();
        prop_assert_eq!(old.len(), new.len());
        prop_assert_eq!(old.iter().zip(&new).filter(|(a, b)| a != b).count() <= 1, true);
    }

    #[test]
    fn add_entry_only_inserts((text, _) in layout_strategy(), n in "[a-z][a-z0-9 _'\"-]{0,10}", id in value_strategy()) {
        prop_assume!(n != "m");
        let y = parse(&text);
        let mut ed = y.edit();
        ed.add_entry(&MCP, &n, None, &id).unwrap();
        let after = parse(ed.text());
        let added = after.entries(&MCP).unwrap();
        prop_assert!(added.iter().any(|e| e.name == n && e.id.as_deref() == Some(id.as_str())));
        prop_assert_eq!(after.entries(&SKILLS).unwrap(), y.entries(&SKILLS).unwrap());
        if !text.contains("[]") {
            // Block style: every old line is still there, in order.
            let mut new = ed.text().lines();
            for line in text.lines() {
                prop_assert!(new.any(|l| l == line), "lost line {:?}", line);
            }
        }
    }
}
