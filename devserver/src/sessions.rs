//! Dashboard sessions: what a session token is, how it is stored (only its SHA-256, in the
//! database through `store`, so sessions survive a restart when the database is a file), when
//! it expires (idle and absolute limits, checked on the server), and the CSRF token derived
//! from it. No HTTP here beyond the cookie's text.

use std::time::Duration;

use axum::http::{HeaderMap, header};
use rusqlite::Connection;

use crate::secret::{digest_hex, random_token};
use crate::store::{self, SessionRow};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "lua_dev_session";

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionPolicy {
    /// A session unused this long is over.
    pub idle: Duration,
    /// A session this old is over, however busy (also the cookie's Max-Age).
    pub lifetime: Duration,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl SessionPolicy {
    fn is_live(&self, row: SessionRow, now: i64) -> bool {
        now.saturating_sub(row.last_seen) < ms(self.idle)
            && now.saturating_sub(row.created) < ms(self.lifetime)
    }

    /// The `Set-Cookie` value for a new session.
    pub(crate) fn cookie(&self, token: &str) -> String {
        // Rounded up: a sub-second lifetime must not become `Max-Age=0` (delete now).
        let secs = self.lifetime.as_secs() + u64::from(self.lifetime.subsec_nanos() > 0);
        format!("{COOKIE}={token}; Max-Age={secs}; Path=/; HttpOnly; SameSite=Strict")
    }
}

/// The `Set-Cookie` value that removes the cookie.
pub(crate) fn clear_cookie() -> String {
    format!("{COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict")
}

/// How a token is stored: its SHA-256 (a stolen database file yields no usable session).
pub(crate) fn token_digest(token: &str) -> String {
    digest_hex(&[b"lua-devserver session", token.as_bytes()])
}

/// The CSRF token of forms: derived from a secret the attacker cannot read (the session token,
/// or in `--insecure-no-auth` mode a random per-process secret), so it needs no storage.
pub(crate) fn csrf_token(secret: &str) -> String {
    digest_hex(&[b"lua-devserver csrf", secret.as_bytes()])
}

/// The session cookie's value, if the request has one.
pub(crate) fn token_from(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value)
}

/// Starts a session: stores its digest (and drops expired ones); returns the token.
pub(crate) fn create(
    conn: &Connection,
    policy: &SessionPolicy,
    now: i64,
) -> rusqlite::Result<String> {
    store::session_prune(
        conn,
        now.saturating_sub(ms(policy.idle)),
        now.saturating_sub(ms(policy.lifetime)),
    )?;
    let token = random_token();
    store::session_insert(conn, &token_digest(&token), now)?;
    Ok(token)
}

/// Whether `token` is a live session; if so its idle clock restarts. An expired one is deleted.
pub(crate) fn validate(
    conn: &Connection,
    policy: &SessionPolicy,
    token: &str,
    now: i64,
) -> rusqlite::Result<bool> {
    let digest = token_digest(token);
    match store::session_get(conn, &digest)? {
        Some(row) if policy.is_live(row, now) => {
            store::session_touch(conn, &digest, now)?;
            Ok(true)
        }
        Some(_) => {
            store::session_delete(conn, &digest)?;
            Ok(false)
        }
        None => Ok(false),
    }
}

/// Ends a session on the server (logout).
pub(crate) fn end(conn: &Connection, token: &str) -> rusqlite::Result<bool> {
    store::session_delete(conn, &token_digest(token))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    const POLICY: SessionPolicy = SessionPolicy {
        idle: Duration::from_secs(60),
        lifetime: Duration::from_secs(600),
    };

    #[test]
    fn sessions_expire_when_idle_or_old_and_end_on_logout() {
        let conn = store::open(None).unwrap();
        let t0 = 1_000_000;
        let token = create(&conn, &POLICY, t0).unwrap();
        // Only the digest is stored.
        let stored: String = conn
            .query_row("SELECT token_digest FROM sessions", [], |r| r.get(0))
            .unwrap();
        assert_ne!(stored, token);
        assert!(validate(&conn, &POLICY, &token, t0 + 59_000).unwrap());
        // Used at +59 s: idle counts from there.
        assert!(validate(&conn, &POLICY, &token, t0 + 118_000).unwrap());
        assert!(!validate(&conn, &POLICY, &token, t0 + 178_001).unwrap());
        assert!(
            !validate(&conn, &POLICY, &token, t0 + 178_002).unwrap(),
            "deleted"
        );

        // Busy but old: over at the lifetime.
        let busy = create(&conn, &POLICY, t0).unwrap();
        for minute in 1..10 {
            assert!(validate(&conn, &POLICY, &busy, t0 + minute * 59_000).unwrap());
        }
        assert!(!validate(&conn, &POLICY, &busy, t0 + 600_000).unwrap());

        let other = create(&conn, &POLICY, t0).unwrap();
        assert!(end(&conn, &other).unwrap());
        assert!(!validate(&conn, &POLICY, &other, t0).unwrap());
        assert!(!validate(&conn, &POLICY, "forged", t0).unwrap());
    }

    #[test]
    fn cookie_and_csrf() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; lua_dev_session=tok; b=2"),
        );
        assert_eq!(token_from(&h), Some("tok"));
        assert_eq!(token_from(&HeaderMap::new()), None);
        let c = POLICY.cookie("tok");
        assert_eq!(
            c,
            "lua_dev_session=tok; Max-Age=600; Path=/; HttpOnly; SameSite=Strict"
        );
        assert!(clear_cookie().contains("Max-Age=0"));
        assert_ne!(csrf_token("a"), csrf_token("b"));
        assert_ne!(csrf_token("a"), token_digest("a"));
    }
}
