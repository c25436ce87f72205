//! The project's `.env`, loaded the way lua-cli loads it at start (`dotenv/config`): every
//! `LUA_*` variable it sets counts as part of the environment, and the process environment
//! wins. Nothing is written into the process environment: [`ProjectEnv`] is an overlay the
//! configuration and the credentials read through, and it remembers which variables the
//! file supplied so messages can say where a value came from.
//!
//! Only `LUA_*` names are taken from the file: `HOME` and the rest stay the process's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::Environment;
use crate::credentials::{self, CredentialsError};

/// The process environment with the project's `.env` under it.
pub struct ProjectEnv<'a> {
    process: &'a dyn Environment,
    file: PathBuf,
    vars: HashMap<String, String>,
}

/// Where a variable's value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VarOrigin {
    Process,
    DotEnv(PathBuf),
}

impl<'a> ProjectEnv<'a> {
    /// `<root>/.env` under `process`. No file is an empty overlay; a line that cannot be
    /// parsed is an error naming the file and line (a value after it could be missed).
    pub fn load(process: &'a dyn Environment, root: &Path) -> Result<Self, CredentialsError> {
        let file = root.join(credentials::DOTENV_FILE);
        let vars = credentials::dotenv_vars(&file)?
            .into_iter()
            .filter(|(name, _)| name.starts_with("LUA_"))
            .collect();
        Ok(ProjectEnv {
            process,
            file,
            vars,
        })
    }

    /// The `.env` file this overlay read (it may not exist).
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where `key` is set, if anywhere (empty values count as not set).
    pub fn origin(&self, key: &str) -> Option<VarOrigin> {
        if self.process.var(key).is_some() {
            Some(VarOrigin::Process)
        } else if self.in_file(key).is_some() {
            Some(VarOrigin::DotEnv(self.file.clone()))
        } else {
            None
        }
    }

    fn in_file(&self, key: &str) -> Option<String> {
        self.vars.get(key).filter(|v| !v.trim().is_empty()).cloned()
    }
}

impl Environment for ProjectEnv<'_> {
    fn var(&self, key: &str) -> Option<String> {
        self.process.var(key).or_else(|| self.in_file(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Env(Vec<(&'static str, &'static str)>);
    impl Environment for Env {
        fn var(&self, key: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_process_wins_and_only_lua_names_come_from_the_file() {
        let root = tempfile::tempdir().unwrap();
        // writer-ok: test fixture: the .env the test reads
        std::fs::write(
            root.path().join(".env"),
            "LUA_API_URL=http://from-file\nLUA_AUTH_URL='http://auth'\nHOME=/nope\nLUA_EMPTY=\n",
        )
        .unwrap();
        let process = Env(vec![("HOME", "/home/me"), ("LUA_AUTH_URL", "http://proc")]);
        let env = ProjectEnv::load(&process, root.path()).unwrap();
        assert_eq!(env.var("LUA_API_URL").as_deref(), Some("http://from-file"));
        assert_eq!(
            env.origin("LUA_API_URL"),
            Some(VarOrigin::DotEnv(root.path().join(".env")))
        );
        assert_eq!(env.var("LUA_AUTH_URL").as_deref(), Some("http://proc"));
        assert_eq!(env.origin("LUA_AUTH_URL"), Some(VarOrigin::Process));
        assert_eq!(env.var("HOME").as_deref(), Some("/home/me"));
        assert_eq!(env.var("LUA_EMPTY"), None);
        assert_eq!(env.origin("LUA_EMPTY"), None);
    }

    #[test]
    fn no_file_is_an_empty_overlay_and_a_bad_line_is_named() {
        let root = tempfile::tempdir().unwrap();
        let process = Env(vec![]);
        assert_eq!(
            ProjectEnv::load(&process, root.path())
                .unwrap()
                .var("LUA_X"),
            None
        );
        std::fs::write(root.path().join(".env"), "A=1\nB C\n").unwrap();
        let err = ProjectEnv::load(&process, root.path())
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains(".env: cannot parse line 2"), "{err}");
    }
}
