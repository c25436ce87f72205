//! The message for a platform that cannot be reached at all: which URL, where that URL
//! came from, and (when the run goes on) how to make it an error instead.

use lua_core::config::{OnUnreachable, UrlSource};

/// The text of the warning (`continue`) or error (`fail`), several lines, no label.
pub fn message(error: &str, url: &str, source: &UrlSource, policy: OnUnreachable) -> String {
    let from = match source {
        UrlSource::Default => "the default; set LUA_API_URL or [server] url to change it".into(),
        other => format!("from {other}"),
    };
    match policy {
        OnUnreachable::Continue => format!(
            "server unreachable, drift not checked: {error}\n  \
             server URL: {url} ({from})\n  \
             to fail instead (in CI, say): set [sync] on_unreachable = \"fail\" in lua.toml, \
             or LUA_SYNC__ON_UNREACHABLE=fail"
        ),
        OnUnreachable::Fail => format!(
            "server unreachable (sync.on_unreachable = \"fail\"): {error}\n  \
             server URL: {url} ({from})"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_url_its_source_and_the_policy() {
        let source = UrlSource::File {
            path: "/p/lua.toml".into(),
            line: 5,
        };
        let text = message("refused", "http://h:1", &source, OnUnreachable::Continue);
        assert!(
            text.contains("server URL: http://h:1 (from /p/lua.toml line 5)"),
            "{text}"
        );
        assert!(text.contains("[sync] on_unreachable = \"fail\""), "{text}");
        assert!(text.contains("LUA_SYNC__ON_UNREACHABLE=fail"), "{text}");
        let text = message(
            "refused",
            "http://h:1",
            &UrlSource::Default,
            OnUnreachable::Fail,
        );
        assert!(text.contains("(the default; set LUA_API_URL"), "{text}");
        assert!(!text.contains("to fail instead"), "{text}");
    }
}
