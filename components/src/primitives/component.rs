//! One generic component for every kind of deployed primitive, instantiated per kind from
//! the table in [`super::kinds`] (or a row registered from outside). Items are keyed by name.
//!
//! - Local side: the kind's section of `lua.skill.yaml`, read from the run's snapshot
//!   (taken before anything rewrites it). Value: the recorded `version`.
//! - Server side: the kind's listing (cached per run and fetched concurrently with every
//!   other component's requests). Value: the active version.
//! - Compared by name: in sync, version mismatch, missing on server, missing locally. A
//!   server item whose active version is absent or empty is "not compared" (fail closed,
//!   never in sync). MCP servers have no version: only presence counts.
//! - Pull: MCP servers are added to the yaml; other kinds restore the agent's source
//!   backup ([`super::restore`], a [`PullStage::Restore`]: before any field edit) and then
//!   record the server's version in the yaml — only for an item whose source the backup
//!   holds (its name quoted in one of the backup's scripts, as lua-cli decides); one it
//!   does not hold is "not in the backup" and stays unresolved.
//! - Push: never; the hint names the reference CLI command that deploys the item.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use lua_compile::Unreadable;
use lua_core::{
    Local, LocalValue, Locals, OneSided, Place, Project, PullCtx, PullError, PullItem, PullStage,
    Pulled, Reason, Remote, Remotes, Server, Shape, Syncable, Version, async_trait,
};
use lua_platform::PlatformError;
use serde_json::Value;

use super::kind::Kind;
use super::restore::{self, ChangeKind, Plan};
use super::skill_yaml::{FILE_NAME, SkillYaml, YamlError};

/// Blobs downloaded at once.
const PARALLEL_DOWNLOADS: usize = 8;

/// One kind of primitive as a [`Syncable`].
pub struct Primitives {
    kind: &'static Kind,
}

/// What the kinds share in one run (a [`Server::shared`] slot): the backup is the agent's
/// whole source, downloaded once and restored once for every kind's items.
#[derive(Default)]
struct RunBackup {
    /// The backup as downloaded in this run (manifest files and verified blobs), so the
    /// preview and every item's pull download it once.
    backup: tokio::sync::Mutex<Option<Result<Backup, PullError>>>,
    /// The restore done by an earlier item of this run: later items only edit the yaml.
    restored: Mutex<Option<Vec<String>>>,
}

/// The [`Server::shared`] key of [`RunBackup`].
const RUN_BACKUP: &str = "primitives.backup";

#[derive(Clone)]
struct Backup {
    /// The manifest; its files without the backup's own `lua.skill.yaml`.
    manifest: lua_platform::BackupManifest,
    /// Shared, not copied, by every reader of the run's backup.
    blobs: Arc<BTreeMap<String, Vec<u8>>>,
}

impl Backup {
    /// Whether the backup holds the source of `name`: quoted (`'x'`, `"x"` or `` `x` ``) in
    /// one of its scripts, as lua-cli decides.
    fn covers(&self, name: &str) -> bool {
        let quoted = [
            format!("'{name}'"),
            format!("\"{name}\""),
            format!("`{name}`"),
        ];
        self.manifest
            .files
            .iter()
            .filter(|f| {
                [".ts", ".tsx", ".js", ".jsx"]
                    .iter()
                    .any(|ext| f.relative_path.ends_with(ext))
            })
            .filter_map(|f| self.blobs.get(&f.hash))
            .any(|bytes| {
                let text = String::from_utf8_lossy(bytes);
                quoted.iter().any(|q| text.contains(q.as_str()))
            })
    }

    /// "from 2026-12-01T10:00:00Z, 6 day(s) old", from the manifest's `createdAt`.
    fn age(&self) -> Option<String> {
        let text = self.manifest.created_at.as_deref()?;
        let created: jiff::Timestamp = text.parse().ok()?;
        let days = (jiff::Timestamp::now().as_second() - created.as_second()).max(0) / 86_400;
        Some(format!("from {text}, {days} day(s) old"))
    }
}

impl Primitives {
    pub fn new(kind: &'static Kind) -> Self {
        Self { kind }
    }

    /// `lua.skill.yaml` as parsed from this project's snapshot: once per project for all
    /// six kinds, not once per kind.
    fn yaml(project: &Project) -> Arc<Result<SkillYaml, YamlError>> {
        project.derived(FILE_NAME, |project| {
            #[cfg(test)]
            tests::PARSES.with(|n| n.set(n.get() + 1));
            let path = Path::new(FILE_NAME);
            match project.read(FILE_NAME) {
                Ok(snapshot) => SkillYaml::from_bytes(path, snapshot.as_ref().map(|s| &*s.bytes)),
                Err(e) => Err(YamlError::Syntax {
                    path: path.to_path_buf(),
                    line: 1,
                    col: 1,
                    message: e.message,
                }),
            }
        })
    }

    fn unreadable(&self, e: &YamlError) -> Unreadable {
        let (line, col) = e.position();
        Unreadable {
            field: self.kind.section.key.to_string(),
            file: FILE_NAME.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(col).unwrap_or(u32::MAX),
            reason: e.detail(),
            frame: String::new(),
        }
    }

    /// The backup, downloaded once per run; `Unresolved(NoBackup)` when there is none.
    async fn backup(&self, server: &Server) -> Result<Backup, PullError> {
        let run = server.shared::<RunBackup>(RUN_BACKUP);
        let mut slot = run.backup.lock().await;
        if let Some(done) = slot.as_ref() {
            return done.clone();
        }
        let result = download_backup(server).await;
        *slot = Some(result.clone());
        result
    }

    async fn plan(&self, ctx: &PullCtx<'_>) -> Result<Plan, PullError> {
        let backup = self.backup(ctx.server).await?;
        restore::plan(ctx.root(), &backup.manifest.files, &backup.blobs)
            .map_err(|e| PullError::refused(Reason::WriteRefused, e.to_string()))
    }

    async fn pull_versioned(
        &self,
        ctx: &PullCtx<'_>,
        key: &str,
        remote: &Remote,
        present: bool,
    ) -> Result<Pulled, PullError> {
        // Coverage first: an item whose source the backup lacks is not pulled, and does not
        // restore anything on its own.
        let backup = self.backup(ctx.server).await?;
        if !backup.covers(key) {
            let age = backup
                .age()
                .map(|a| format!(" (the backup is {a})"))
                .unwrap_or_default();
            return Err(PullError::unresolved(
                Reason::NotInBackup,
                format!(
                    "deployed, but its source is NOT in the backup{age}, so it cannot be pulled and its version is not recorded: ask whoever deployed it to back up its source (`npx lua-cli push all --force`), or remove it from the server"
                ),
            ));
        }
        let run = ctx.server.shared::<RunBackup>(RUN_BACKUP);
        let already = run.restored.lock().map(|r| r.clone()).unwrap_or(None);
        // What the restore skipped (dot-folders, lua's own files...) is said with the item
        // that restored, each with the rule that skipped it.
        let mut notes = Vec::new();
        let mut files = match already {
            Some(_) => Vec::new(),
            None => {
                let plan = self.plan(ctx).await?;
                let written = restore::apply(&plan, &backup.manifest, ctx.force, ctx)
                    .map_err(|e| PullError::refused(Reason::WriteRefused, e.to_string()))?;
                if let Ok(mut r) = run.restored.lock() {
                    *r = Some(written.clone());
                }
                notes.extend(
                    plan.skipped
                        .iter()
                        .map(|s| format!("not restored from the backup: {} ({})", s.path, s.rule)),
                );
                written
            }
        };
        let version = match &remote.version {
            Some(Version::Text(v)) => v.clone(),
            Some(Version::Number(n)) => n.to_string(),
            None => {
                return Err(PullError::unresolved(
                    Reason::NothingOnServer,
                    format!(
                        "{} {key} has no active version on the server; nothing to record",
                        self.kind.id
                    ),
                ));
            }
        };
        let parsed = Self::yaml(ctx.project);
        let yaml = parsed.as_ref().as_ref().map_err(yaml_refused)?;
        let mut editor = yaml.edit();
        let section = &self.kind.section;
        if present {
            editor.set_version(section, key, &version)
        } else {
            editor.add_entry(
                section,
                key,
                Some(&version),
                remote.entity_id.as_deref().unwrap_or(""),
            )
        }
        .map_err(|e| yaml_refused(&e))?;
        write_yaml(ctx, &editor)?;
        files.push(FILE_NAME.to_string());
        Ok(Pulled { files, notes })
    }
}

#[async_trait]
impl Syncable for Primitives {
    fn id(&self) -> &'static str {
        self.kind.id
    }

    fn title(&self) -> &'static str {
        self.kind.title
    }

    fn shape(&self) -> Shape {
        Shape::Keyed
    }

    fn one_sided(&self) -> OneSided {
        OneSided::Drift
    }

    async fn fetch(&self, server: &Server) -> Result<Remotes, PlatformError> {
        let client = server.client();
        let fresh = server.is_fresh();
        let mut out = Remotes::new();
        let duplicate = |name: &str| PlatformError::Protocol {
            url: format!("{}{}", client.base_url(), self.kind.path_hint),
            reason: format!("two {} named {name:?}", self.kind.id),
            excerpt: String::new(),
        };
        match self.kind.platform {
            Some(kind) => {
                for p in client.primitives(server.agent_id(), kind, fresh).await? {
                    let (active, not_compared) = match p.compared_version() {
                        Ok(v) => (Some(v.to_owned()), None),
                        Err(why) => (None, Some(why)),
                    };
                    let remote = Remote {
                        value: active.clone().map_or(Value::Null, Value::String),
                        version: active.map(Version::Text),
                        entity_id: Some(p.id),
                        not_compared,
                    };
                    if out.insert(p.name.clone(), remote).is_some() {
                        return Err(duplicate(&p.name));
                    }
                }
            }
            None => {
                for m in client.mcp_servers(server.agent_id(), fresh).await? {
                    let remote = Remote {
                        value: Value::String(m.id.clone()),
                        version: None,
                        entity_id: Some(m.id),
                        not_compared: None,
                    };
                    if out.insert(m.name.clone(), remote).is_some() {
                        return Err(duplicate(&m.name));
                    }
                }
            }
        }
        Ok(out)
    }

    fn read_local(&self, project: &Project) -> Result<Locals, Unreadable> {
        let parsed = Self::yaml(project);
        let yaml = parsed.as_ref().as_ref().map_err(|e| self.unreadable(e))?;
        let entries = yaml
            .entries(&self.kind.section)
            .map_err(|e| self.unreadable(&e))?;
        Ok(entries
            .into_iter()
            .map(|e| {
                let value = if self.kind.section.versioned {
                    e.version.clone().map_or(Value::Null, Value::String)
                } else {
                    Value::String(e.id.clone().unwrap_or_default())
                };
                let local = LocalValue {
                    value,
                    node: None,
                    place: Some(Place {
                        file: FILE_NAME.to_string(),
                        line: u32::try_from(e.line).unwrap_or(u32::MAX),
                        column: 1,
                    }),
                    version: e.version.map(Version::Text),
                    entity_id: e.id,
                };
                (e.name, Local::Value(local))
            })
            .collect())
    }

    /// The line of the kind's section key (`skills:`), or line 1 when the file has no such
    /// section: where an item only on the server would be added.
    fn anchor(&self, project: &Project) -> Option<Place> {
        let parsed = Self::yaml(project);
        let yaml = parsed.as_ref().as_ref().ok().filter(|y| y.exists())?;
        let line = yaml.section_line(&self.kind.section).unwrap_or(1);
        Some(Place {
            file: FILE_NAME.to_string(),
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: 1,
        })
    }

    /// MCP servers (whose value is their id, for display) compare by presence only. A
    /// server item without a usable version never gets here (it is not compared).
    fn same(&self, server: &Value, local: &Value) -> bool {
        !self.kind.section.versioned || server == local
    }

    fn text(&self, value: &Value) -> String {
        match value {
            Value::String(s) => s.clone(),
            Value::Null if self.kind.section.versioned => "(no version)".into(),
            _ => String::new(),
        }
    }

    fn push_unsupported(&self, key: &str) -> Option<String> {
        Some(self.kind.push_hint(key))
    }

    /// Restores are whole files: composed before any field edit, which may land in them.
    fn pull_stage(&self) -> PullStage {
        if self.kind.section.versioned {
            PullStage::Restore
        } else {
            PullStage::Edit
        }
    }

    async fn pull_preview(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Option<String> {
        if !self.kind.section.versioned || item.remote.is_none() {
            return None;
        }
        let backup = match self.backup(ctx.server).await {
            Ok(b) => b,
            Err(PullError::Unresolved { message, .. } | PullError::Refused { message, .. }) => {
                return Some(message);
            }
        };
        Some(
            match restore::plan(ctx.root(), &backup.manifest.files, &backup.blobs) {
                Ok(plan) => preview(&plan, backup.manifest.created_at.as_deref()),
                Err(e) => e.to_string(),
            },
        )
    }

    async fn pull(&self, ctx: &PullCtx<'_>, item: &PullItem<'_>) -> Result<Pulled, PullError> {
        let present = matches!(item.local, Local::Value(_));
        let Some(remote) = item.remote else {
            return Err(PullError::unresolved(
                Reason::NothingOnServer,
                format!(
                    "{} {} is not on the server, so there is nothing to pull: {}, or remove it from {FILE_NAME}",
                    self.kind.id,
                    item.key,
                    self.kind.deploy_hint(item.key)
                ),
            ));
        };
        if self.kind.section.versioned {
            return self.pull_versioned(ctx, item.key, remote, present).await;
        }
        // MCP servers: add the server's entry to the yaml.
        let parsed = Self::yaml(ctx.project);
        let yaml = parsed.as_ref().as_ref().map_err(yaml_refused)?;
        let mut editor = yaml.edit();
        editor
            .add_entry(
                &self.kind.section,
                item.key,
                None,
                remote.entity_id.as_deref().unwrap_or(""),
            )
            .map_err(|e| yaml_refused(&e))?;
        write_yaml(ctx, &editor)?;
        Ok(Pulled {
            files: vec![FILE_NAME.to_string()],
            notes: Vec::new(),
        })
    }

    async fn push(
        &self,
        _server: &Server,
        key: &str,
        _local: Option<&Value>,
    ) -> Result<Option<Version>, PlatformError> {
        // The engine never calls this: `push_unsupported` is set for every drifted item.
        Err(PlatformError::InvalidConfig {
            reason: self.kind.push_hint(key),
        })
    }
}

fn yaml_refused(e: &YamlError) -> PullError {
    PullError::refused(Reason::WriteRefused, e.to_string())
}

/// Put the edited `lua.skill.yaml` into the resolution's overlay, guarded by the file as
/// this run compared it.
fn write_yaml(ctx: &PullCtx<'_>, editor: &super::skill_yaml::Editor) -> Result<(), PullError> {
    let compared = ctx
        .project
        .read(FILE_NAME)
        .map_err(|e| PullError::refused(Reason::WriteRefused, e.to_string()))?
        .map(|s| s.sha256);
    ctx.write_file(FILE_NAME, editor.text().as_bytes().to_vec(), compared)
        .map_err(|e| match e {
            lua_compile::WriteError::Changed { .. } => {
                PullError::refused(Reason::ChangedSinceCompared, e.to_string())
            }
            other => PullError::refused(Reason::WriteRefused, other.to_string()),
        })
}

async fn download_backup(server: &Server) -> Result<Backup, PullError> {
    let client = server.client();
    let agent = server.agent_id();
    let platform = |e: PlatformError| PullError::refused(Reason::Platform, e.to_string());
    let info = client.backup_info(agent).await.map_err(platform)?;
    if !info.exists() {
        return Err(PullError::unresolved(
            Reason::NoBackup,
            format!(
                "the platform has no source backup for agent {agent}, so the deployed code cannot be pulled; deploy from the machine that has the source (lua-cli's `lua push`), then run lua sync again"
            ),
        ));
    }
    let manifest = client.backup_manifest(agent).await.map_err(platform)?;
    // What may be restored is decided once, after normalising each path
    // (`restore_paths`, in `restore::plan`): the backup's lua.skill.yaml is skipped there.
    let mut hashes: Vec<String> = manifest.files.iter().map(|f| f.hash.clone()).collect();
    hashes.sort();
    hashes.dedup();
    let urls = if hashes.is_empty() {
        BTreeMap::new()
    } else {
        client.blob_urls(agent, &hashes).await.map_err(platform)?
    };
    // The run's connections (a blob URL on the platform's host reuses its connection);
    // downloads spend the run's network budget and count against the restore's limits.
    let blobs_client = client.blob_client();
    let mut downloads = futures::stream::iter(urls.into_iter().map(|(hash, url)| {
        let blobs_client = blobs_client.clone();
        async move {
            let bytes = blobs_client.download(&url, &hash).await;
            (hash, bytes)
        }
    }))
    .buffer_unordered(PARALLEL_DOWNLOADS);
    let mut blobs = BTreeMap::new();
    // The first failure ends the restore: returning drops the downloads still running.
    while let Some((hash, bytes)) = downloads.next().await {
        let bytes = bytes.map_err(|e| {
            // The file the blob is for: what the user knows it by.
            let file = manifest
                .files
                .iter()
                .find(|f| f.hash == hash)
                .map_or(String::new(), |f| format!("{}: ", f.relative_path));
            PullError::refused(Reason::Platform, format!("{file}{e}; nothing was written"))
        })?;
        blobs.insert(hash, bytes);
    }
    Ok(Backup {
        manifest,
        blobs: Arc::new(blobs),
    })
}

/// The prompt's preview: which files a pull would write, with a diff for each changed one.
fn preview(plan: &Plan, created_at: Option<&str>) -> String {
    let when = created_at.map(|c| format!(" of {c}")).unwrap_or_default();
    let writes: Vec<_> = plan.writes().collect();
    if writes.is_empty() {
        return format!(
            "Pulling restores the agent's source backup{when}: every file already matches it."
        );
    }
    let mut out = format!(
        "Pulling restores the agent's source backup{when}: {} file(s) would be written.\n",
        writes.len()
    );
    for f in &writes {
        let tag = match f.kind {
            ChangeKind::New => "new",
            ChangeKind::Changed if f.local_edits => "changed (local edits: needs --force)",
            _ => "changed",
        };
        out.push_str(&format!("  {tag}: {}\n", f.path));
    }
    for f in writes.iter().filter(|f| f.kind == ChangeKind::Changed) {
        let local = f
            .local
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        let backup = String::from_utf8_lossy(&f.content);
        let diff = lua_diff::unified(
            &local,
            &backup,
            &format!("{} (local)", f.path),
            &format!("{} (backup)", f.path),
        );
        if diff.is_empty() {
            continue;
        }
        out.push('\n');
        out.push_str(&diff);
        if !diff.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
#[path = "component_tests.rs"]
mod tests;
