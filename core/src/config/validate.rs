//! Reading `lua.toml` for messages: strict validation with file:line:column and the key,
//! the positions later messages refer to, figment's errors in words, and the bounds of
//! `server.*`. Knows the file's text and the settings types, nothing of the environment.

use std::collections::BTreeMap;
use std::path::Path;

use figment::Figment;
use serde::Deserialize;

use super::settings::{
    DEADLINE_SECS_RANGE, RETRIES_RANGE, ServerSettings, Settings, TIMEOUT_SECS_RANGE,
};
use crate::error::CoreError;

/// Positions in `lua.toml` that messages after loading refer to.
#[derive(Clone, Debug, Default)]
pub(super) struct Positions {
    /// 1-based line of `[server] url`.
    pub(super) url_line: Option<usize>,
    /// 1-based line and column of each `[components.<id>]` table.
    pub(super) components: BTreeMap<String, (usize, usize)>,
}

/// The parts of `lua.toml` whose positions are kept; everything else is ignored here
/// (it was validated strictly before).
#[derive(Deserialize)]
struct PositionProbe {
    server: Option<ServerProbe>,
    components: Option<BTreeMap<String, toml::Spanned<toml::Value>>>,
}

#[derive(Deserialize)]
struct ServerProbe {
    url: Option<toml::Spanned<toml::Value>>,
}

/// Where `[server] url` and each `[components.<id>]` table are in `text`.
pub(super) fn positions(text: &str) -> Positions {
    let Ok(probe) = toml::from_str::<PositionProbe>(text) else {
        return Positions::default();
    };
    Positions {
        url_line: probe
            .server
            .and_then(|s| s.url)
            .map(|url| line_col(text, url.span().start).0),
        components: probe
            .components
            .unwrap_or_default()
            .into_iter()
            .map(|(id, table)| (id, line_col(text, table.span().start)))
            .collect(),
    }
}

/// Parse `lua.toml` strictly, reporting file:line:col of the first problem.
pub(super) fn validate_toml(path: &Path, text: &str) -> Result<(), CoreError> {
    match toml::from_str::<Settings>(text) {
        Ok(_) => Ok(()),
        Err(e) => {
            let start = e.span().map(|span| span.start);
            let (line, column) = start.map_or((1, 1), |offset| line_col(text, offset));
            // toml names an unknown key but not the key of a bad value: add it.
            let key = start
                .and_then(|offset| key_at(text, offset))
                .map(|key| format!(" (key `{key}`)"))
                .unwrap_or_default();
            Err(CoreError::ConfigInvalid(format!(
                "{}:{line}:{column}: {}{key}",
                path.display(),
                e.message().trim_end()
            )))
        }
    }
}

/// The dotted key set on the line holding `offset` (`[components.persona]` then
/// `check = ...` is `components.persona.check`), or `None` off a `key = value` line.
fn key_at(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..)?.lines().next()?.trim();
    if line.starts_with('[') {
        return None;
    }
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    if key.is_empty() {
        return None;
    }
    let section = before[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .map(|l| {
            // `[components.persona]  # comment` -> `components.persona`
            l.split('#')
                .next()
                .unwrap_or(l)
                .trim()
                .trim_matches(|c| c == '[' || c == ']')
                .trim()
        });
    Some(match section {
        Some(section) if !section.is_empty() => format!("{section}.{key}"),
        _ => key.to_string(),
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A figment error in words: where the value came from (file or environment) and its key.
pub(super) fn config_error_message(e: &figment::Error, toml: Option<&Path>) -> String {
    let from_env = e
        .metadata
        .as_ref()
        .is_some_and(|m| m.name.to_lowercase().contains("env"));
    let place = if from_env {
        "environment".to_string()
    } else {
        toml.map_or_else(|| "configuration".to_string(), |p| p.display().to_string())
    };
    let key = if e.path.is_empty() {
        String::new()
    } else {
        format!(" (key `{}`)", e.path.join("."))
    };
    format!("{place}: {}{key}", e.kind)
}

/// Refuses `server.*` values outside their bounds, naming the key and where the value came
/// from (the file, or the environment variable).
pub(super) fn check_bounds(
    server: &ServerSettings,
    figment: &Figment,
    toml: Option<&Path>,
) -> Result<(), CoreError> {
    let checks = [
        ("retries", u64::from(server.retries), RETRIES_RANGE),
        ("timeout_secs", server.timeout_secs, TIMEOUT_SECS_RANGE),
        ("deadline_secs", server.deadline_secs, DEADLINE_SECS_RANGE),
    ];
    for (key, value, range) in checks {
        if range.contains(&value) {
            continue;
        }
        let path = format!("server.{key}");
        let from_env = figment
            .find_metadata(&path)
            .is_some_and(|m| m.name.to_lowercase().contains("env"));
        let place = if from_env {
            format!(
                "environment variable LUA_SERVER__{}",
                key.to_ascii_uppercase()
            )
        } else {
            toml.map_or_else(|| "configuration".to_string(), |p| p.display().to_string())
        };
        return Err(CoreError::ConfigInvalid(format!(
            "{place}: `{path}` = {value} is out of range: it must be {} to {}",
            range.start(),
            range.end()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_at_names_the_dotted_key_of_a_line() {
        let text =
            "# c\n[agent]\nid = \"x\"\n\n[components.persona] # p\n  check = \"sometimes\"\n";
        let at = |needle: &str| key_at(text, text.find(needle).unwrap());
        assert_eq!(
            at("\"sometimes\"").as_deref(),
            Some("components.persona.check")
        );
        assert_eq!(at("id =").as_deref(), Some("agent.id"));
        assert_eq!(at("[components"), None);
        assert_eq!(key_at("x = 1", 4).as_deref(), Some("x"));
        assert_eq!(key_at("x = 1", 99), None);
    }

    #[test]
    fn positions_of_the_url_and_of_component_tables() {
        let text = "[agent]\nid = \"x\"\n\n[server]\nurl = \"http://h\"\n\n[components.tone]\ncheck = \"warn\"\n\n[components]\nnmae = { check = \"off\" }\n";
        let p = positions(text);
        assert_eq!(p.url_line, Some(5));
        assert_eq!(p.components.get("tone"), Some(&(7, 1)));
        assert_eq!(p.components.get("nmae"), Some(&(11, 8)));
        let p = positions("components.greeting.check = \"off\"\n");
        assert_eq!(p.components.get("greeting").map(|p| p.0), Some(1));
    }

    #[test]
    fn a_bad_value_names_file_line_and_key() {
        let text = "[components.persona]\ncheck = \"sometimes\"\n";
        let err = validate_toml(Path::new("lua.toml"), text)
            .unwrap_err()
            .to_string();
        assert!(err.contains("lua.toml:2:9"), "{err}");
        assert!(err.contains("`components.persona.check`"), "{err}");
    }
}
