//! URL handling: the base URL's checks and its shown form (user-info removed), request
//! paths, agent-id path segments (percent-encoded with `percent-encoding`, so an id can
//! never change the path it is put into) and redirect targets.
//!
//! Pure functions; nothing here sends a request.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::error::{PlatformError, excerpt};

/// Everything but RFC 3986 unreserved characters (`A-Z a-z 0-9 - _ . ~`) is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Validates the (already trimmed) base URL and returns the form errors may show.
pub(crate) fn check_base_url(base: &str) -> Result<String, PlatformError> {
    let invalid = |why: String| PlatformError::InvalidConfig {
        reason: format!("base URL {base:?} {why} (check LUA_API_URL)"),
    };
    let mut url = reqwest::Url::parse(base)
        .map_err(|_| invalid("is not a URL like https://api.heylua.ai".to_owned()))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(invalid("must start with http:// or https://".to_owned()));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment".to_owned()));
    }
    if url.username().is_empty() && url.password().is_none() {
        return Ok(base.to_owned());
    }
    // Credentials in the URL must not reach error messages or logs.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Paths always start with exactly one `/`, whatever the caller passed.
pub(crate) fn normalise_path(path: &str) -> String {
    format!("/{}", path.trim_start_matches('/'))
}

/// Percent-encodes everything but RFC 3986 unreserved characters, so an id can never change
/// the path (`/`, `?`, `#`, `..`) it is put into.
pub(crate) fn encode_segment(segment: &str) -> String {
    let out = utf8_percent_encode(segment, SEGMENT).to_string();
    if out == "." || out == ".." {
        // Dot segments would be resolved away by the URL parser.
        return out.replace('.', "%2E");
    }
    out
}

/// The agent id as one URL path segment; an empty id is refused before any request.
pub(crate) fn agent_segment(agent_id: &str) -> Result<String, PlatformError> {
    if agent_id.trim().is_empty() {
        return Err(PlatformError::InvalidAgentId {
            agent_id: agent_id.to_owned(),
            reason: "it is empty".to_owned(),
        });
    }
    Ok(encode_segment(agent_id))
}

/// `baseAgent_agent_123` -> (`baseAgent`, `agent_123`): split at the first `_`.
pub(crate) fn split_agent_id(agent_id: &str) -> Result<(&str, &str), PlatformError> {
    let invalid = |reason: &str| PlatformError::InvalidAgentId {
        agent_id: agent_id.to_owned(),
        reason: format!("{reason}; expected <baseAgentId>_<rest>, e.g. baseAgent_agent_123"),
    };
    let Some((base, rest)) = agent_id.split_once('_') else {
        return Err(invalid("it has no '_'"));
    };
    if base.trim().is_empty() {
        return Err(invalid("nothing before the first '_'"));
    }
    if rest.trim().is_empty() {
        return Err(invalid("nothing after the first '_'"));
    }
    Ok((base, rest))
}

/// Where a redirect answer points, as errors show it: `Location` resolved against the
/// request URL (user-info removed), or a note when there is none. Server text, so it is
/// excerpted like any other.
pub(crate) fn redirect_target(request_url: &str, location: Option<&[u8]>) -> String {
    let Some(location) = location else {
        return "(no Location header)".to_owned();
    };
    let location = String::from_utf8_lossy(location);
    let resolved = reqwest::Url::parse(request_url)
        .and_then(|base| base.join(location.trim()))
        .map(|mut url| {
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.to_string()
        })
        .unwrap_or_else(|_| location.into_owned());
    excerpt(&resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_checks() {
        assert_eq!(
            check_base_url("http://127.0.0.1:8080").unwrap(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            check_base_url("https://user:pw@example.com/api").unwrap(),
            "https://example.com/api"
        );
        for bad in ["api.heylua.ai", "ftp://x", "http://h/?a=1", ""] {
            assert!(
                matches!(
                    check_base_url(bad),
                    Err(PlatformError::InvalidConfig { .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn paths_get_one_leading_slash() {
        assert_eq!(normalise_path("admin/x"), "/admin/x");
        assert_eq!(normalise_path("//admin/x"), "/admin/x");
        assert_eq!(
            normalise_path("/admin/x?status=draft"),
            "/admin/x?status=draft"
        );
    }

    #[test]
    fn split_agent_id_at_first_underscore() {
        assert_eq!(
            split_agent_id("baseAgent_agent_123").unwrap(),
            ("baseAgent", "agent_123")
        );
        for bad in ["noUnderscore", "_agent", "base_", ""] {
            let err = split_agent_id(bad).unwrap_err();
            assert!(
                matches!(&err, PlatformError::InvalidAgentId { agent_id, .. } if agent_id == bad),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(
            encode_segment("baseAgent_agent-1.x~"),
            "baseAgent_agent-1.x~"
        );
        assert_eq!(encode_segment("a/b?c#d e"), "a%2Fb%3Fc%23d%20e");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("."), "%2E");
        assert_eq!(encode_segment("é"), "%C3%A9");
        assert_eq!(encode_segment("%"), "%25");
        assert!(agent_segment("  ").is_err());
    }

    #[test]
    fn redirect_targets_are_absolute() {
        assert_eq!(
            redirect_target("http://h:1/a/b", Some(b"/c")),
            "http://h:1/c"
        );
        assert_eq!(
            redirect_target("http://h:1/a", Some(b"https://u:p@evil.example/x")),
            "https://evil.example/x"
        );
        assert_eq!(
            redirect_target("http://h:1/a", None),
            "(no Location header)"
        );
    }
}
