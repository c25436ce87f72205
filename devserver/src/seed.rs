//! Startup data: opening the storage, applying `--seed`, `--agent` and `--backup-from`.

use rusqlite::{Connection, TransactionBehavior};

use crate::DevServerError;
use crate::config::{AgentSpec, BackupUpload, Seed, SeedAgent, Storage};
use crate::spec::{self, PreparedFile};
use crate::store::{self, Status};
use crate::validate::{check_persona, validate_agent_id};

/// Rejects a seed the platform could not have produced, before anything is written.
pub(crate) fn validate(seed: &Seed) -> Result<(), DevServerError> {
    let mut seen = std::collections::HashSet::new();
    for agent in &seed.agents {
        validate_agent_id(&agent.id).map_err(|reason| DevServerError::InvalidAgentId {
            id: agent.id.clone(),
            reason,
        })?;
        if !seen.insert(agent.id.as_str()) {
            return Err(DevServerError::InvalidSeed(format!(
                "agent {:?} appears twice",
                agent.id
            )));
        }
        for (i, v) in agent.persona_versions.iter().enumerate() {
            let at = format!("agent {:?}, personaVersions[{i}]", agent.id);
            check_persona(&v.persona)
                .map_err(|e| DevServerError::InvalidSeed(format!("{at}: {e}")))?;
            let status = seed_status(v.status.as_deref())
                .map_err(|e| DevServerError::InvalidSeed(format!("{at}: {e}")))?;
            if status == Status::Draft && v.current == Some(true) {
                return Err(DevServerError::InvalidSeed(format!(
                    "{at}: a draft cannot be current"
                )));
            }
        }
        validate_extras(agent)?;
    }
    Ok(())
}

/// Governance, primitives, MCP servers and backup of one seeded agent.
fn validate_extras(agent: &SeedAgent) -> Result<(), DevServerError> {
    let invalid = |e: String| DevServerError::InvalidSeed(format!("agent {:?}, {e}", agent.id));
    if let Some(governance) = &agent.governance {
        spec::check_governance(governance).map_err(invalid)?;
    }
    for (kind, items) in agent.primitives() {
        spec::check_items(kind.key(), items).map_err(invalid)?;
    }
    spec::check_mcp_servers(&agent.mcp_servers).map_err(invalid)?;
    if let Some(backup) = &agent.backup {
        backup
            .prepare()
            .map_err(|e| invalid(format!("backup.{e}")))?;
    }
    Ok(())
}

/// A backup decoded, hashed and compressed, ready to store.
struct PreparedBackup {
    agent_id: String,
    files: Vec<PreparedFile>,
    short_hashes: bool,
}

fn prepare_uploads(uploads: &[BackupUpload]) -> Result<Vec<PreparedBackup>, DevServerError> {
    uploads
        .iter()
        .map(|u| {
            Ok(PreparedBackup {
                agent_id: u.agent_id.clone(),
                files: u
                    .backup
                    .prepare()
                    .map_err(|reason| DevServerError::InvalidBackup {
                        agent: u.agent_id.clone(),
                        reason,
                    })?,
                short_hashes: u.backup.short_hashes,
            })
        })
        .collect()
}

fn seed_status(s: Option<&str>) -> Result<Status, String> {
    match s {
        None => Ok(Status::Published),
        Some(s) => Status::parse(s)
            .ok_or_else(|| format!("`status` must be \"published\" or \"draft\", not {s:?}")),
    }
}

/// Opens the storage and applies the seed, agent specs and backup uploads in one transaction.
pub(crate) fn open_and_seed(
    storage: &Storage,
    seed: Option<&Seed>,
    agents: &[AgentSpec],
    uploads: &[BackupUpload],
) -> Result<Connection, DevServerError> {
    let uploads = prepare_uploads(uploads)?;
    let (path, location) = match storage {
        Storage::Memory => (None, "memory".to_owned()),
        Storage::File(p) => {
            if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|source| DevServerError::CreateDir {
                    path: dir.to_owned(),
                    source,
                })?;
            }
            (Some(p.as_path()), p.display().to_string())
        }
    };
    let storage_err = |source| DevServerError::Storage {
        location: location.clone(),
        source,
    };
    let mut conn = store::open(path).map_err(storage_err)?;
    match apply(&mut conn, seed, agents, &uploads).map_err(storage_err)? {
        Ok(()) => Ok(conn),
        Err(agent) => Err(DevServerError::InvalidBackup {
            agent,
            reason: "no such agent (create it with --agent or the seed)".to_owned(),
        }),
    }
}

/// Applies everything in one transaction; `Ok(Err(id))` (nothing applied) when a backup upload
/// names an agent that does not exist.
fn apply(
    conn: &mut Connection,
    seed: Option<&Seed>,
    agents: &[AgentSpec],
    uploads: &[PreparedBackup],
) -> rusqlite::Result<Result<(), String>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Seed first, so `--agent X` does not make a seeded X look "already present".
    for agent in seed.map(|s| s.agents.as_slice()).unwrap_or_default() {
        if !store::insert_agent(
            &tx,
            &agent.id,
            agent.name.as_deref(),
            agent.model.as_deref(),
        )? {
            tracing::info!("seed: agent {} already exists, left unchanged", agent.id);
            continue;
        }
        let mut forced_current = None;
        for v in &agent.persona_versions {
            // Validated by `validate` before the storage was opened.
            let status = seed_status(v.status.as_deref()).unwrap_or(Status::Published);
            let created =
                store::create_version(&tx, &agent.id, &v.persona, status, "seed", store::now_ms())?;
            if v.current == Some(true) {
                forced_current = created.map(|c| c.version);
            }
        }
        if let Some(n) = forced_current {
            // Cannot be refused: the version exists and is published.
            let _ = store::deploy(&tx, &agent.id, n)?;
        }
        apply_extras(&tx, agent)?;
    }
    for spec in agents {
        store::insert_agent(&tx, &spec.id, spec.name.as_deref(), None)?;
    }
    for upload in uploads {
        if !store::backup::replace(
            &tx,
            &upload.agent_id,
            &upload.files,
            upload.short_hashes,
            store::now_ms(),
        )? {
            return Ok(Err(upload.agent_id.clone()));
        }
    }
    tx.commit()?;
    Ok(Ok(()))
}

/// Governance, primitives, MCP servers and backup of a newly created seeded agent (validated by
/// `validate`, so refusals cannot happen and are ignored).
fn apply_extras(conn: &Connection, agent: &SeedAgent) -> rusqlite::Result<()> {
    if agent.governance.is_some() {
        let governance = agent.governance.clone().unwrap_or_default();
        let patch = store::AgentPatch::from([("governance", governance)]);
        store::patch_agent(conn, &agent.id, &patch)?;
    }
    let now = store::now_ms();
    for (kind, items) in agent.primitives() {
        for item in items {
            let _ = store::primitives::add_item(conn, &agent.id, kind, item, now)?;
        }
    }
    for server in &agent.mcp_servers {
        let _ = store::primitives::add_mcp_server(conn, &agent.id, server)?;
    }
    if let Some(backup) = &agent.backup
        && let Ok(files) = backup.prepare()
    {
        store::backup::replace(conn, &agent.id, &files, backup.short_hashes, now)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{get_agent, list_versions};

    fn seed(json: &str) -> Seed {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn last_published_is_current_unless_forced() {
        let s = seed(
            r#"{"agents":[
              {"id":"a_1","name":"A","personaVersions":[{"persona":"one"},{"persona":"two"},{"persona":"d","status":"draft"}]},
              {"id":"b_1","personaVersions":[{"persona":"one","current":true},{"persona":{"base":"two"}}]}
            ]}"#,
        );
        validate(&s).unwrap();
        let conn = open_and_seed(&Storage::Memory, Some(&s), &[], &[]).unwrap();
        let a = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(a.current_version, Some(2));
        let versions = list_versions(&conn, &a, None).unwrap();
        let statuses: Vec<_> = versions.iter().map(|v| v.status).collect();
        assert_eq!(
            statuses,
            [Status::Published, Status::Published, Status::Draft]
        );
        let b = get_agent(&conn, "b_1").unwrap().unwrap();
        assert_eq!(b.current_version, Some(1));
        assert_eq!(b.string("name"), None);
    }

    #[test]
    fn seed_does_not_touch_existing_agents_and_agents_fill_in() {
        let s = seed(
            r#"{"agents":[{"id":"a_1","name":"Seeded","personaVersions":[{"persona":"p"}]}]}"#,
        );
        let specs = [
            "a_1=FromFlag".parse::<AgentSpec>().unwrap(),
            "c_1=New".parse().unwrap(),
        ];
        let dir = tempfile::tempdir().unwrap();
        let storage = Storage::File(dir.path().join("nested/dir/p.db"));
        drop(open_and_seed(&storage, Some(&s), &specs, &[]).unwrap());
        // Second start: the seed must not add versions again.
        let conn = open_and_seed(&storage, Some(&s), &specs, &[]).unwrap();
        let a = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(a.string("name"), Some("Seeded"));
        assert_eq!(list_versions(&conn, &a, None).unwrap().len(), 1);
        let c = get_agent(&conn, "c_1").unwrap().unwrap();
        assert_eq!(c.string("name"), Some("New"));
    }

    #[test]
    fn a_seed_with_everything() {
        let s = seed(
            r#"{"agents":[{"id":"a_1","name":"A","model":"m",
              "personaVersions":[{"persona":"p"}],
              "governance":{"mode":"sdk","rules":{"tokenBudget":5}},
              "skills":[{"name":"s","versions":["1","2"],"active":"1"}],
              "webhooks":[{"name":"w","versions":["1"]}],
              "jobs":[{"name":"j"}],
              "preprocessors":[{"name":"pre","versions":["0.1"]}],
              "postprocessors":[{"name":"post","versions":["0.1"],"activeBy":"last"}],
              "mcpServers":[{"name":"docs","source":"manual","active":true}],
              "backup":{"files":[{"relativePath":"a.ts","content":"a","gzip":true}]}}]}"#,
        );
        validate(&s).unwrap();
        let conn = open_and_seed(&Storage::Memory, Some(&s), &[], &[]).unwrap();
        let a = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(
            a.field("governance"),
            Some(&serde_json::json!({"mode": "sdk", "rules": {"tokenBudget": 5}}))
        );
        let counts: Vec<usize> = crate::spec::Kind::all()
            .map(|k| {
                store::primitives::list_items(&conn, "a_1", k)
                    .unwrap()
                    .unwrap()
                    .len()
            })
            .collect();
        assert_eq!(counts, [1, 1, 1, 1, 1]);
        let skills = store::primitives::list_items(&conn, "a_1", crate::spec::Kind::SKILLS)
            .unwrap()
            .unwrap();
        assert_eq!(skills[0].active_version(), Some("1"));
        let mcp = store::primitives::list_mcp_servers(&conn, "a_1")
            .unwrap()
            .unwrap();
        assert_eq!(mcp[0].source.as_deref(), Some("manual"));
        let backup = store::backup::summary(&conn, "a_1").unwrap().unwrap();
        assert_eq!(backup.file_count, 1);
    }

    #[test]
    fn invalid_seed_extras_name_the_agent_and_field() {
        let cases = [
            (
                r#"{"agents":[{"id":"a","governance":[1]}]}"#,
                "`governance`",
            ),
            (
                r#"{"agents":[{"id":"a","jobs":[{"name":"x","versions":["1"],"active":"2"}]}]}"#,
                "jobs[0].active",
            ),
            (
                r#"{"agents":[{"id":"a","mcpServers":[{"name":"m"},{"name":"m"}]}]}"#,
                "mcpServers[1].name",
            ),
            (
                r#"{"agents":[{"id":"a","backup":{"files":[{"relativePath":"x","content":"!","encoding":"base64"}]}}]}"#,
                "backup.files[0].content",
            ),
        ];
        for (json, needle) in cases {
            let err = validate(&seed(json)).unwrap_err().to_string();
            assert!(
                err.contains(needle) && err.contains("agent \"a\""),
                "{json}: {err}"
            );
        }
    }

    #[test]
    fn invalid_seeds_are_refused_with_the_place() {
        let cases = [
            (
                r#"{"agents":[{"id":"a","personaVersions":[{"persona":5}]}]}"#,
                "personaVersions[0]",
            ),
            (
                r#"{"agents":[{"id":"a","personaVersions":[{"persona":{"base":1}}]}]}"#,
                "persona.base",
            ),
            (
                r#"{"agents":[{"id":"a","personaVersions":[{"persona":"x","status":"live"}]}]}"#,
                "\"live\"",
            ),
            (
                r#"{"agents":[{"id":"a","personaVersions":[{"persona":"x","status":"draft","current":true}]}]}"#,
                "draft cannot be current",
            ),
            (r#"{"agents":[{"id":"a"},{"id":"a"}]}"#, "twice"),
            (r#"{"agents":[{"id":"a b"}]}"#, "invalid agent id"),
        ];
        for (json, needle) in cases {
            let err = validate(&seed(json)).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
        // Typos in field names are caught by serde, not silently ignored.
        let typo = serde_json::from_str::<Seed>(r#"{"agents":[{"id":"a","persona_versions":[]}]}"#);
        assert!(typo.unwrap_err().to_string().contains("persona_versions"));
    }
}
