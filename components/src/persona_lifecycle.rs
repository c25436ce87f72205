//! The persona's version lifecycle beyond sync (`lua persona`, `lua push persona`):
//! list every version (drafts too), pick one (`N`, `latest`, `current`), deploy one
//! (make it current: a rollback when older), and push the code's persona as a new
//! version with the same guard as sync's push.
//!
//! Persona-specific by nature, so it lives here and not in the engine; it returns typed
//! data and errors, and never prints or asks (the CLI's `persona` module does). The
//! texts it hands out are [`Syncable::text`] of the persona component, so they compare
//! and diff exactly as `lua sync` does.

use std::str::FromStr;

use lua_compile::Compiled;
use lua_core::{Local, Server, Syncable};
use lua_platform::{PersonaVersion, PlatformError};
use serde_json::Value;

use crate::persona::Persona;

/// Errors of the lifecycle commands; the CLI turns them into messages and exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("`{0}` is not a persona version: use a number (e.g. 3), `latest`, `current` or `code`")]
    BadSelector(String),
    #[error("`{0}` cannot be used here: give a version number or `latest`")]
    NotDeployable(String),
    #[error("persona version {0} does not exist (see `lua persona versions`)")]
    NoSuchVersion(u64),
    #[error("no persona version is published yet")]
    NothingPublished,
    #[error("no persona version is current on the server")]
    NoneCurrent,
    #[error("persona version {0} is a draft: publish it (in the dashboard) before deploying it")]
    Draft(u64),
    #[error(
        "the server accepted deploying v{wanted}, but {} is current now; check `lua persona versions`",
        label(*.current)
    )]
    NotConfirmed { wanted: u64, current: Option<u64> },
    #[error(
        "Persona changed on the server while you were deciding ({} -> {}); nothing pushed. Run `lua push persona` again to see the new diff.",
        label(*.shown),
        label(*.now)
    )]
    Moved {
        shown: Option<u64>,
        now: Option<u64>,
    },
    #[error("the persona is not set in {0}; add `persona` to the LuaAgent config")]
    NotInCode(String),
    #[error("the persona in the code cannot be read statically: {0}")]
    Unreadable(String),
}

fn label(version: Option<u64>) -> String {
    version.map_or_else(|| "nothing published".to_string(), |v| format!("v{v}"))
}

/// Which version a command means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Selector {
    /// That version number (`3` or `v3`).
    Version(u64),
    /// The latest *published* version (greatest `createdDate`), never a draft.
    Latest,
    /// The version production serves now.
    Current,
    /// The persona in the code (for diffs).
    Code,
}

impl FromStr for Selector {
    type Err = LifecycleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        match t.as_str() {
            "latest" => Ok(Selector::Latest),
            "current" => Ok(Selector::Current),
            "code" | "local" => Ok(Selector::Code),
            _ => t
                .strip_prefix('v')
                .unwrap_or(&t)
                .parse()
                .map(Selector::Version)
                .map_err(|_| LifecycleError::BadSelector(s.to_string())),
        }
    }
}

/// One version, as the lifecycle commands show it.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub version: u64,
    pub draft: bool,
    /// Production serves this version now.
    pub current: bool,
    /// The latest published version (what `lua sync` compares with).
    pub latest_published: bool,
    /// Epoch milliseconds.
    pub created_ms: i64,
    pub created_by: Option<String>,
    /// The persona as the server holds it (string or object).
    pub persona: Value,
    /// Its text, as sync compares and diffs it.
    pub text: String,
}

/// Every version, newest first (by `createdDate`, then version number).
#[derive(Clone, Debug, PartialEq)]
pub struct Versions {
    pub versions: Vec<Version>,
}

impl Versions {
    fn from_platform(list: Vec<PersonaVersion>) -> Versions {
        let mut list = list;
        list.sort_by(|a, b| {
            b.created_date
                .cmp(&a.created_date)
                .then(b.version.cmp(&a.version))
        });
        // Newest first, so the first published one is the latest published.
        let latest = list.iter().find(|v| v.is_published()).map(|v| v.version);
        let versions = list
            .into_iter()
            .map(|v| Version {
                draft: !v.is_published(),
                current: v.is_current,
                latest_published: Some(v.version) == latest,
                text: Persona.text(&v.persona),
                version: v.version,
                created_ms: v.created_date,
                created_by: v.created_by,
                persona: v.persona,
            })
            .collect();
        Versions { versions }
    }

    pub fn get(&self, version: u64) -> Option<&Version> {
        self.versions.iter().find(|v| v.version == version)
    }

    pub fn current(&self) -> Option<&Version> {
        self.versions.iter().find(|v| v.current)
    }

    pub fn latest_published(&self) -> Option<&Version> {
        self.versions.iter().find(|v| v.latest_published)
    }

    /// The version a selector names (`Code` names none: an error here).
    pub fn select(&self, selector: Selector) -> Result<&Version, LifecycleError> {
        match selector {
            Selector::Version(n) => self.get(n).ok_or(LifecycleError::NoSuchVersion(n)),
            Selector::Latest => self
                .latest_published()
                .ok_or(LifecycleError::NothingPublished),
            Selector::Current => self.current().ok_or(LifecycleError::NoneCurrent),
            Selector::Code => Err(LifecycleError::BadSelector("code".into())),
        }
    }
}

/// Every version of the agent's persona, drafts too. Reads fresh when `server` is a
/// fresh view.
pub async fn versions(server: &Server) -> Result<Versions, LifecycleError> {
    let client = server.client();
    let list = if server.is_fresh() {
        client.persona_versions_fresh(server.agent_id()).await?
    } else {
        client.persona_versions(server.agent_id(), None).await?
    };
    Ok(Versions::from_platform(list))
}

/// The persona in the compiled code, and its text.
pub fn local(compiled: &Compiled) -> Result<(Value, String), LifecycleError> {
    // The persona is read from the compiled entry alone: no other project file.
    let project = lua_core::Project::new(std::path::PathBuf::new(), compiled.clone());
    let local = match Persona.read_local(&project) {
        Ok(mut items) => items.remove(lua_core::SINGLE).unwrap_or(Local::Missing),
        Err(u) => Local::Unreadable(u),
    };
    match local {
        Local::Value(v) => {
            let text = Persona.text(&Persona.canonical(&v.value));
            Ok((v.value, text))
        }
        Local::Missing => Err(LifecycleError::NotInCode(compiled.entry.clone())),
        Local::Unreadable(u) => Err(LifecycleError::Unreadable(u.to_string())),
    }
}

/// The hash the sync state records for a persona value (the same as a sync push).
pub fn base_hash(value: &Value) -> String {
    lua_core::value::hash_value(&Persona.canonical(value))
}

/// The component id the sync state records the persona under.
pub fn component_id() -> &'static str {
    Persona.id()
}

/// The persona component's title, for diff headings.
pub fn title() -> &'static str {
    Persona.title()
}

/// What was current before a deploy, and after it (read back from the server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployed {
    pub before: Option<u64>,
    pub after: u64,
}

/// The version a deploy means: a number, or the latest published one; never a draft.
pub fn deploy_target(versions: &Versions, selector: Selector) -> Result<&Version, LifecycleError> {
    let target = match selector {
        Selector::Version(_) | Selector::Latest => versions.select(selector)?,
        Selector::Current => return Err(LifecycleError::NotDeployable("current".into())),
        Selector::Code => return Err(LifecycleError::NotDeployable("code".into())),
    };
    if target.draft {
        return Err(LifecycleError::Draft(target.version));
    }
    Ok(target)
}

/// Make `version` current, and confirm it from a fresh read: success is only what the
/// server shows afterwards.
pub async fn deploy(server: &Server, version: u64) -> Result<Deployed, LifecycleError> {
    let fresh = server.fresh();
    let before = versions(&fresh).await?;
    let target = deploy_target(&before, Selector::Version(version))?;
    let before_current = before.current().map(|v| v.version);
    server
        .client()
        .deploy_persona_version(server.agent_id(), target.version)
        .await?;
    confirm_current(&fresh, version)
        .await
        .map(|after| Deployed {
            before: before_current,
            after,
        })
}

async fn confirm_current(fresh: &Server, wanted: u64) -> Result<u64, LifecycleError> {
    let after = versions(fresh).await?;
    match after.current().map(|v| v.version) {
        Some(now) if now == wanted => Ok(now),
        current => Err(LifecycleError::NotConfirmed { wanted, current }),
    }
}

/// What `lua push persona` would do, for the user to confirm.
#[derive(Clone, Debug, PartialEq)]
pub struct PushPlan {
    pub local: Value,
    pub local_text: String,
    /// The latest published version the diff is against (`None`: nothing published).
    pub latest: Option<Version>,
    /// The version current now.
    pub current: Option<u64>,
}

impl PushPlan {
    /// Whether the code differs from the latest published version.
    pub fn changed(&self) -> bool {
        self.latest
            .as_ref()
            .is_none_or(|latest| latest.text != self.local_text)
    }
}

/// Compile-side and server-side facts for a push.
pub async fn plan_push(server: &Server, compiled: &Compiled) -> Result<PushPlan, LifecycleError> {
    let (local, local_text) = local(compiled)?;
    let all = versions(server).await?;
    Ok(PushPlan {
        local,
        local_text,
        latest: all.latest_published().cloned(),
        current: all.current().map(|v| v.version),
    })
}

/// The result of a push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pushed {
    /// The version created.
    pub version: u64,
    /// What is current afterwards, read back from the server.
    pub current: Option<u64>,
}

/// Create a version from the plan's persona. Guarded like sync's push: the latest
/// published version is re-read fresh right before posting, and nothing is posted when
/// it moved since the plan (the diff the user saw). `deploy` also makes the new version
/// current and confirms it.
pub async fn push(
    server: &Server,
    plan: &PushPlan,
    deploy: bool,
) -> Result<Pushed, LifecycleError> {
    let fresh = server.fresh();
    let now = versions(&fresh).await?;
    let shown = plan.latest.as_ref().map(|v| v.version);
    let latest_now = now.latest_published();
    if latest_now.map(|v| v.version) != shown
        || latest_now.map(|v| &v.text) != plan.latest.as_ref().map(|v| &v.text)
    {
        return Err(LifecycleError::Moved {
            shown,
            now: latest_now.map(|v| v.version),
        });
    }
    let version = server
        .client()
        .create_persona_version(server.agent_id(), &plan.local)
        .await?;
    if deploy {
        server
            .client()
            .deploy_persona_version(server.agent_id(), version)
            .await?;
        let current = confirm_current(&fresh, version).await?;
        return Ok(Pushed {
            version,
            current: Some(current),
        });
    }
    let after = versions(&fresh).await?;
    Ok(Pushed {
        version,
        current: after.current().map(|v| v.version),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(version: u64, created: i64, status: &str, current: bool) -> PersonaVersion {
        serde_json::from_value(json!({
            "version": version, "persona": format!("p{version}\r\n"), "createdDate": created,
            "status": status, "isCurrent": current, "createdBy": "me"
        }))
        .unwrap()
    }

    #[test]
    fn newest_first_and_latest_published_skips_drafts() {
        let all = Versions::from_platform(vec![
            v(1, 10, "published", false),
            v(4, 40, "draft", false),
            v(2, 20, "published", true),
            v(3, 30, "published", false),
        ]);
        let order: Vec<u64> = all.versions.iter().map(|v| v.version).collect();
        assert_eq!(order, [4, 3, 2, 1]);
        assert_eq!(all.latest_published().unwrap().version, 3);
        assert_eq!(all.current().unwrap().version, 2);
        assert_eq!(all.get(1).unwrap().text, "p1");
        assert_eq!(all.select(Selector::Latest).unwrap().version, 3);
        assert!(matches!(
            all.select(Selector::Version(9)),
            Err(LifecycleError::NoSuchVersion(9))
        ));
        assert!(matches!(
            deploy_target(&all, Selector::Version(4)),
            Err(LifecycleError::Draft(4))
        ));
        assert_eq!(deploy_target(&all, Selector::Latest).unwrap().version, 3);
        assert!(deploy_target(&all, Selector::Current).is_err());
    }

    #[test]
    fn selectors_parse() {
        assert_eq!("3".parse::<Selector>().unwrap(), Selector::Version(3));
        assert_eq!("v12".parse::<Selector>().unwrap(), Selector::Version(12));
        assert_eq!("Latest".parse::<Selector>().unwrap(), Selector::Latest);
        assert_eq!("current".parse::<Selector>().unwrap(), Selector::Current);
        assert_eq!("code".parse::<Selector>().unwrap(), Selector::Code);
        assert!("newest".parse::<Selector>().is_err());
        assert!("-1".parse::<Selector>().is_err());
    }

    #[test]
    fn nothing_published_means_every_push_is_a_change() {
        let plan = PushPlan {
            local: json!("x"),
            local_text: "x".into(),
            latest: None,
            current: None,
        };
        assert!(plan.changed());
        assert!(Versions::from_platform(vec![]).latest_published().is_none());
    }
}
