//! The admin dashboard: server-rendered HTML forms, no JavaScript, one stylesheet.
//!
//! It is the "a colleague changed it on the platform" side of every sync scenario: edit the
//! name, save a persona draft, publish, roll back; edit governance and deployed primitives
//! (`deployed`). Handlers here; the HTML is in `views` and `deployed_views` (maud, escaped by
//! default); sessions, origin and CSRF checks in `guard`.

mod deployed;
mod deployed_views;
mod guard;
mod views;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Instant;

use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Extension, Form, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::Value;

use crate::http::error::ApiError;
use crate::sessions;
use crate::state::{AppState, lock};
use crate::store::{self, Status, VersionRefusal};
use crate::validate::{check_persona, validate_agent_id};
use guard::{LoggedIn, Visitor};
use views::error_answer as error_page;
use views::{Chrome, agent_href};

/// `createdBy` of versions created from the dashboard.
const CREATED_BY_DASHBOARD: &str = "dashboard";

/// The dashboard's routes, behind the [`guard::visitor`] layer; the static assets outside it.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/agents", post(create_agent))
        .route("/agents/{id}", get(agent_page))
        .route("/agents/{id}/name", post(set_name))
        .route("/agents/{id}/persona", post(save_persona))
        .route("/agents/{id}/versions/{n}/publish", post(publish_version))
        .route("/agents/{id}/versions/{n}/deploy", post(deploy_version))
        .merge(deployed::router())
        .route_layer(from_fn_with_state(state, guard::visitor))
        .route(views::CSS_PATH, get(stylesheet))
        .route(views::ICON_PATH, get(icon))
}

// ---------------------------------------------------------------------------------------------
// Handlers

async fn home(State(state): State<AppState>, Extension(visitor): Extension<Visitor>) -> Response {
    if !visitor.signed_in {
        return login_page(StatusCode::OK, None);
    }
    match state.db(|conn| store::list_agents(conn)).await {
        Ok(agents) => agents_page(&state, &visitor, &agents),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    key: String,
}

/// The client address for the sign-in rate limit (in-process routers have none: one bucket).
fn client_ip(connect: Option<&ConnectInfo<SocketAddr>>) -> IpAddr {
    connect.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

async fn login(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let Some(expected) = state.auth.clone() else {
        return Redirect::to("/").into_response();
    };
    let ip = client_ip(connect.as_ref().map(|Extension(c)| c));
    if let Err(wait) = lock(&state.login_limiter).try_take(ip, Instant::now()) {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let mut refused = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TOO_MANY_LOGIN_ATTEMPTS",
            format!("Too many sign-in attempts from {ip}: try again in {secs} s"),
        )
        .into_response();
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return refused;
    }
    let Ok(Form(form)) = form else {
        return login_page(StatusCode::BAD_REQUEST, Some("Enter the API key."));
    };
    if !expected.matches(form.key.trim()) {
        return login_page(StatusCode::UNAUTHORIZED, Some("Wrong API key."));
    }
    let policy = state.sessions;
    match state
        .db(move |conn| sessions::create(conn, &policy, store::now_ms()))
        .await
    {
        Ok(token) => with_cookie(Redirect::to("/").into_response(), &policy.cookie(&token)),
        Err(e) => ApiError::internal(&e).into_response(),
    }
}

async fn logout(State(state): State<AppState>, LoggedIn(visitor): LoggedIn) -> Response {
    if let Some(token) = visitor.token
        && let Err(e) = state.db(move |conn| sessions::end(conn, &token)).await
    {
        return ApiError::internal(&e).into_response();
    }
    with_cookie(Redirect::to("/").into_response(), &sessions::clear_cookie())
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct NewAgentForm {
    id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    model: String,
}

async fn create_agent(
    _: LoggedIn,
    State(state): State<AppState>,
    form: Result<Form<NewAgentForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let id = form.id.trim().to_owned();
    if let Err(reason) = validate_agent_id(&id) {
        return error_page(
            StatusCode::BAD_REQUEST,
            &format!("Invalid agent id {id:?}: {reason}."),
        );
    }
    let name = Some(form.name).filter(|n| !n.is_empty());
    let model = Some(form.model.trim().to_owned()).filter(|m| !m.is_empty());
    let agent_id = id.clone();
    let created = state
        .db(move |conn| store::insert_agent(conn, &agent_id, name.as_deref(), model.as_deref()))
        .await;
    match created {
        Ok(true) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(false) => error_page(
            StatusCode::CONFLICT,
            &format!("An agent with id {id:?} already exists."),
        ),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

async fn agent_page(
    LoggedIn(visitor): LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Response {
    let lookup = id.clone();
    let loaded = state
        .db(move |conn| {
            let Some(agent) = store::get_agent(conn, &lookup)? else {
                return Ok(None);
            };
            let versions = store::list_versions(conn, &agent, None)?;
            let extra = deployed::load(conn, &agent.id)?;
            Ok(Some((agent, versions, extra)))
        })
        .await;
    match loaded {
        Ok(Some((agent, versions, extra))) => {
            let chrome = chrome(&state, &visitor);
            let extra =
                deployed_views::sections(&views::agent_href(&agent.id), &chrome.csrf, &extra);
            Html(views::agent_page(&chrome, &agent, &versions, extra).into_string()).into_response()
        }
        Ok(None) => error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}.")),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn set_name(
    _: LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<NameForm>, FormRejection>,
) -> Response {
    let name = match form {
        Ok(Form(f)) => f.name,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let agent_id = id.clone();
    match state
        .db(move |conn| store::update_agent(conn, &agent_id, Some(&name), None))
        .await
    {
        Ok(Some(_)) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(None) => error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}.")),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

#[derive(Deserialize)]
struct PersonaForm {
    persona: String,
    action: String,
    /// `text` (default): the persona is the text. `json`: the text is a JSON object of strings.
    #[serde(default)]
    format: Option<String>,
}

async fn save_persona(
    _: LoggedIn,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<Form<PersonaForm>, FormRejection>,
) -> Response {
    let form = match form {
        Ok(Form(f)) => f,
        Err(e) => return error_page(e.status(), &e.body_text()),
    };
    let status = match form.action.as_str() {
        "draft" => Status::Draft,
        "publish" => Status::Published,
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown action {other:?}: expected \"draft\" or \"publish\"."),
            );
        }
    };
    // Browsers send textarea line breaks as CRLF: that is transport, not content.
    let text = form.persona.replace("\r\n", "\n");
    let persona = match form.format.as_deref().unwrap_or("text") {
        "text" => Value::String(text),
        "json" => match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => match check_persona(&v) {
                Ok(()) => v,
                Err(e) => return error_page(StatusCode::BAD_REQUEST, &e),
            },
            _ => {
                return error_page(
                    StatusCode::BAD_REQUEST,
                    "With format \"json\" the persona must be a JSON object of strings, such as {\"base\": \"...\"}.",
                );
            }
        },
        other => {
            return error_page(
                StatusCode::BAD_REQUEST,
                &format!("Unknown format {other:?}: expected \"text\" or \"json\"."),
            );
        }
    };
    let agent_id = id.clone();
    let created = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let v = store::create_version(
                &tx,
                &agent_id,
                &persona,
                status,
                CREATED_BY_DASHBOARD,
                store::now_ms(),
            )?;
            tx.commit()?;
            Ok(v)
        })
        .await;
    match created {
        Ok(Some(_)) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(None) => error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}.")),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

async fn publish_version(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    version_action(state, id, n, true).await
}

async fn deploy_version(
    _: LoggedIn,
    State(state): State<AppState>,
    Path((id, n)): Path<(String, String)>,
) -> Response {
    version_action(state, id, n, false).await
}

/// Publish a draft (`publish`) or deploy a published version (`!publish`).
async fn version_action(state: AppState, id: String, n: String, publish: bool) -> Response {
    let Some(n) = n.parse::<i64>().ok().filter(|n| *n > 0) else {
        return error_page(StatusCode::NOT_FOUND, &format!("No version {n:?}."));
    };
    let agent_id = id.clone();
    let result = state
        .db(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let r = if publish {
                store::publish_draft(&tx, &agent_id, n, store::now_ms())?
            } else {
                store::deploy(&tx, &agent_id, n)?
            };
            tx.commit()?;
            Ok(r)
        })
        .await;
    match result {
        Ok(Ok(_)) => Redirect::to(&agent_href(&id)).into_response(),
        Ok(Err(VersionRefusal::NoSuchAgent)) => {
            error_page(StatusCode::NOT_FOUND, &format!("No agent {id:?}."))
        }
        Ok(Err(VersionRefusal::NoSuchVersion)) => error_page(
            StatusCode::NOT_FOUND,
            &format!("Agent {id:?} has no version {n}."),
        ),
        Ok(Err(VersionRefusal::IsDraft)) => error_page(
            StatusCode::BAD_REQUEST,
            &format!("Version {n} is a draft: publish it first."),
        ),
        Ok(Err(VersionRefusal::AlreadyPublished)) => error_page(
            StatusCode::BAD_REQUEST,
            &format!("Version {n} is already published."),
        ),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.0),
    }
}

// ---------------------------------------------------------------------------------------------
// Pages

fn chrome(state: &AppState, visitor: &Visitor) -> Chrome {
    Chrome {
        logout: state.auth.is_some(),
        csrf: visitor.csrf.clone().unwrap_or_default(),
    }
}

fn login_page(status: StatusCode, error: Option<&str>) -> Response {
    (status, Html(views::login_page(error).into_string())).into_response()
}

fn agents_page(state: &AppState, visitor: &Visitor, agents: &[store::AgentSummary]) -> Response {
    Html(views::agents_page(&chrome(state, visitor), agents).into_string()).into_response()
}

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        views::CSS,
    )
        .into_response()
}

async fn icon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "max-age=86400"),
        ],
        views::ICON,
    )
        .into_response()
}
