//! Startup data: opening the storage, applying `--seed` and `--agent`.

use rusqlite::{Connection, TransactionBehavior};

use crate::DevServerError;
use crate::config::{AgentSpec, Seed, Storage};
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
    }
    Ok(())
}

fn seed_status(s: Option<&str>) -> Result<Status, String> {
    match s {
        None => Ok(Status::Published),
        Some(s) => Status::parse(s)
            .ok_or_else(|| format!("`status` must be \"published\" or \"draft\", not {s:?}")),
    }
}

/// Opens the storage and applies the seed and agent specs in one transaction.
pub(crate) fn open_and_seed(
    storage: &Storage,
    seed: Option<&Seed>,
    agents: &[AgentSpec],
) -> Result<Connection, DevServerError> {
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
    apply(&mut conn, seed, agents).map_err(storage_err)?;
    Ok(conn)
}

fn apply(conn: &mut Connection, seed: Option<&Seed>, agents: &[AgentSpec]) -> rusqlite::Result<()> {
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
    }
    for spec in agents {
        store::insert_agent(&tx, &spec.id, spec.name.as_deref(), None)?;
    }
    tx.commit()
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
        let conn = open_and_seed(&Storage::Memory, Some(&s), &[]).unwrap();
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
        assert_eq!(b.name, None);
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
        drop(open_and_seed(&storage, Some(&s), &specs).unwrap());
        // Second start: the seed must not add versions again.
        let conn = open_and_seed(&storage, Some(&s), &specs).unwrap();
        let a = get_agent(&conn, "a_1").unwrap().unwrap();
        assert_eq!(a.name.as_deref(), Some("Seeded"));
        assert_eq!(list_versions(&conn, &a, None).unwrap().len(), 1);
        let c = get_agent(&conn, "c_1").unwrap().unwrap();
        assert_eq!(c.name.as_deref(), Some("New"));
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
