//! Shared helpers for the devserver's integration tests: a server on 127.0.0.1:0 and a client.

use lua_devserver::{AgentSpec, Config, RunningServer};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use serde_json::Value;

pub const KEY: &str = "test-key-123";
pub const AGENT: &str = "baseAgent_agent_123";

/// A plain client: no redirects followed (the dashboard tests look at 303s), no cookies.
pub fn client() -> Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub struct TestServer {
    pub server: RunningServer,
    pub url: String,
    pub client: Client,
}

/// A server from `Config::for_tests(KEY)` with `AGENT` ("Support Bot") created.
pub async fn start() -> TestServer {
    let mut config = Config::for_tests(KEY);
    config.agents.push(AgentSpec {
        id: AGENT.to_owned(),
        name: Some("Support Bot".to_owned()),
    });
    start_with(config).await
}

pub async fn start_with(config: Config) -> TestServer {
    let server = lua_devserver::start(config).await.unwrap();
    let url = server.url();
    TestServer {
        server,
        url,
        client: client(),
    }
}

impl TestServer {
    pub fn get(&self, path: &str) -> RequestBuilder {
        self.client
            .get(format!("{}{path}", self.url))
            .bearer_auth(KEY)
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.url))
            .bearer_auth(KEY)
    }

    pub fn patch(&self, path: &str) -> RequestBuilder {
        self.client
            .patch(format!("{}{path}", self.url))
            .bearer_auth(KEY)
    }

    pub fn delete(&self, path: &str) -> RequestBuilder {
        self.client
            .delete(format!("{}{path}", self.url))
            .bearer_auth(KEY)
    }

    /// POSTs a persona version; returns the created version number.
    pub async fn push(&self, agent: &str, persona: Value) -> i64 {
        let (status, body) = json(
            self.post(&format!("/developer/agents/{agent}/persona/version"))
                .json(&serde_json::json!({ "persona": persona }))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["data"]["version"].as_i64().unwrap()
    }

    /// The `data.versions` array of the versions list, with an optional `?status=`.
    pub async fn versions(&self, agent: &str, status: Option<&str>) -> Vec<Value> {
        let query = status.map(|s| format!("?status={s}")).unwrap_or_default();
        let (code, body) = json(
            self.get(&format!(
                "/developer/agents/{agent}/persona/versions{query}"
            ))
            .send()
            .await
            .unwrap(),
        )
        .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        body["data"]["versions"].as_array().unwrap().clone()
    }
}

/// Status and parsed JSON body; panics (failing the test) if the body is not JSON.
pub async fn json(resp: Response) -> (StatusCode, Value) {
    let status = resp.status();
    let content_type = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = resp.text().await.unwrap();
    let value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("not JSON ({e}), status {status}: {text:?}"));
    assert!(
        content_type.starts_with("application/json"),
        "content-type {content_type:?} for {text}"
    );
    (status, value)
}

/// The version with the greatest createdDate: what `lua sync` compares against.
pub fn latest_by_created_date(versions: &[Value]) -> &Value {
    versions
        .iter()
        .max_by_key(|v| v["createdDate"].as_i64().unwrap())
        .unwrap()
}

/// Asserts a NestJS-style error body with this status and code.
pub fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["statusCode"], expected.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(
        body["error"],
        expected.canonical_reason().unwrap(),
        "{body}"
    );
}
