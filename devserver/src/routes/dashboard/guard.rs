//! Who is visiting the dashboard, and whether a form post may change anything.
//!
//! [`visitor`] runs in front of every dashboard route: it resolves the session cookie (a live,
//! stored session) and, for every state-changing request, refuses cross-origin posts
//! (`Sec-Fetch-Site`, `Origin`, `Referer`) and, except for `POST /login`, posts without the
//! form's CSRF token. Refusals are JSON (403); a post without a session is sent to sign in.

use axum::body::Body;
use axum::extract::{Form, FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::http::error::ApiError;
use crate::http::extract::BODY_LIMIT;
use crate::http::guard::request_host;
use crate::secret::same_token;
use crate::sessions;
use crate::state::AppState;
use crate::store::now_ms;

/// The visitor, as [`visitor`] resolved it (a request extension).
#[derive(Debug, Clone)]
pub(super) struct Visitor {
    /// May use the dashboard (a live session, or insecure mode).
    pub signed_in: bool,
    /// The session token (from the cookie) of a live session.
    pub token: Option<String>,
    /// The CSRF token its forms carry; `None` when not signed in.
    pub csrf: Option<String>,
}

/// Proof that the request may use the dashboard; otherwise it is sent to the sign-in page.
pub(super) struct LoggedIn(pub Visitor);

impl<S: Send + Sync> FromRequestParts<S> for LoggedIn {
    type Rejection = Redirect;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Redirect> {
        match parts.extensions.get::<Visitor>() {
            Some(v) if v.signed_in => Ok(LoggedIn(v.clone())),
            _ => Err(Redirect::to("/")),
        }
    }
}

async fn resolve(state: &AppState, headers: &HeaderMap) -> Result<Visitor, ApiError> {
    if state.auth.is_none() {
        return Ok(Visitor {
            signed_in: true,
            token: None,
            csrf: Some(sessions::csrf_token(&state.anonymous_secret)),
        });
    }
    let anonymous = Visitor {
        signed_in: false,
        token: None,
        csrf: None,
    };
    let Some(token) = sessions::token_from(headers).map(str::to_owned) else {
        return Ok(anonymous);
    };
    let policy = state.sessions;
    let checked = token.clone();
    let live = state
        .db(move |conn| sessions::validate(conn, &policy, &checked, now_ms()))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(if live {
        Visitor {
            signed_in: true,
            csrf: Some(sessions::csrf_token(&token)),
            token: Some(token),
        }
    } else {
        anonymous
    })
}

fn forbidden(code: &'static str, message: String) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, code, message).into_response()
}

/// The `scheme://authority` of a URL, if it has one.
fn origin_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..url.len() - rest.len() + end])
}

/// Refuses a request that a browser says came from another origin. An absent or `null`
/// `Origin` (sent when the referrer policy is `no-referrer`, as ours is) and an absent
/// `Referer` prove nothing either way: the CSRF token then decides.
fn same_origin(headers: &HeaderMap, host: &str) -> Result<(), String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("?");
        if !matches!(site, "same-origin" | "none") {
            return Err(format!(
                "Cross-site form post refused (Sec-Fetch-Site: {site})"
            ));
        }
    }
    let ours = |origin: &str| {
        [format!("http://{host}"), format!("https://{host}")]
            .iter()
            .any(|o| o.eq_ignore_ascii_case(origin))
    };
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        Some(Ok("null")) | None => {}
        Some(Ok(origin)) if ours(origin) => return Ok(()),
        Some(Ok(origin)) => {
            return Err(format!("Cross-origin form post refused (Origin {origin})"));
        }
        Some(Err(_)) => return Err("Cross-origin form post refused (unreadable Origin)".into()),
    }
    match headers.get(header::REFERER).map(|v| v.to_str()) {
        None => Ok(()),
        Some(Ok(referer)) if origin_of(referer).is_some_and(ours) => Ok(()),
        Some(_) => Err("Cross-origin form post refused (Referer from another origin)".into()),
    }
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// Reads the body (it is put back for the handler) and checks its `csrf` field.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PAYLOAD_TOO_LARGE",
            "Request body is larger than the 1 MiB limit",
        )
        .into_response()
    })?;
    let probe = Request::builder()
        .method(Method::POST)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(bytes.clone()))
        .map_err(|e| ApiError::bad_request(e.to_string()).into_response())?;
    let given = Form::<CsrfField>::from_request(probe, &())
        .await
        .map(|Form(f)| f.csrf)
        .unwrap_or_default();
    if given.is_empty() || !same_token(&given, expected) {
        return Err(forbidden(
            "CSRF_TOKEN_INVALID",
            "The form's CSRF token is missing or wrong: reload the page and try again".into(),
        ));
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The middleware in front of every dashboard route (see the module doc).
pub(super) async fn visitor(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let visitor = match resolve(&state, req.headers()).await {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let mut req = req;
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        let host = request_host(&req).unwrap_or("").to_owned();
        if let Err(message) = same_origin(req.headers(), &host) {
            return forbidden("CROSS_ORIGIN_REQUEST", message);
        }
        if req.uri().path() != "/login" {
            let Some(expected) = visitor.csrf.clone() else {
                return Redirect::to("/").into_response();
            };
            req = match check_csrf(req, &expected).await {
                Ok(req) => req,
                Err(refused) => return refused,
            };
        }
    }
    req.extensions_mut().insert(visitor);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn origin_rules() {
        let host = "127.0.0.1:8787";
        for ok in [
            headers(&[]),
            headers(&[("origin", "http://127.0.0.1:8787")]),
            headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]),
            headers(&[("referer", "http://127.0.0.1:8787/agents/x?y")]),
            headers(&[("sec-fetch-site", "none")]),
        ] {
            assert!(same_origin(&ok, host).is_ok(), "{ok:?}");
        }
        for refused in [
            headers(&[("origin", "http://evil.example")]),
            headers(&[("origin", "http://127.0.0.1:9999")]),
            headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]),
            headers(&[("sec-fetch-site", "same-site")]),
            headers(&[("referer", "http://evil.example/x")]),
            headers(&[("referer", "http://127.0.0.1:8787.evil.example/")]),
        ] {
            assert!(same_origin(&refused, host).is_err(), "{refused:?}");
        }
        assert_eq!(origin_of("http://a:1/b?c"), Some("http://a:1"));
        assert_eq!(origin_of("http://a:1"), Some("http://a:1"));
        assert_eq!(origin_of("nonsense"), None);
    }
}
