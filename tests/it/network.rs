//! Where users are: HTTPS with a private CA (trusted through `SSL_CERT_FILE` or
//! `NODE_EXTRA_CA_CERTS`, or not at all), certificates that must be refused (expired, for
//! another name, a CA's own), an HTTP CONNECT proxy, a dead proxy, and how many connections
//! a run opens.

use lua_devserver::TlsConfig;
use serde_json::json;

use crate::support::proxy::ConnectProxy;
use crate::support::{self, AGENT, KEY, Platform, Project};

const INDEX: &str = "const agent = new LuaAgent({ name: \"Support Bot\" });\n";

struct Https {
    platform: Platform,
    /// Holds the CA file.
    _dir: tempfile::TempDir,
}

impl Https {
    fn start(configure: impl FnOnce(&mut TlsConfig)) -> Https {
        let dir = tempfile::tempdir().unwrap();
        let mut tls = TlsConfig::new(dir.path());
        configure(&mut tls);
        let mut config = lua_devserver::Config::for_tests(KEY);
        config.seed = Some(
            serde_json::from_value(json!({"agents": [{"id": AGENT, "name": "Support Bot"}]}))
                .unwrap(),
        );
        config.tls = Some(tls);
        Https {
            platform: Platform::with_config(config),
            _dir: dir,
        }
    }

    fn valid() -> Https {
        Self::start(|_| {})
    }

    fn ca(&self) -> String {
        self.platform
            .server
            .ca_path()
            .unwrap()
            .display()
            .to_string()
    }

    fn url(&self) -> String {
        self.platform.url()
    }
}

/// Runs `lua sync --check` and returns it with the connections the server accepted for it.
fn check(https: &Https, project: &Project, url: &str, env: &[(&str, &str)]) -> (support::Run, u64) {
    https.platform.reset_requests();
    let before = https.platform.connections();
    let run = project.lua_env(url, &["sync", "--check"], env);
    (run, https.platform.connections() - before)
}

#[test]
fn a_private_ca_is_trusted_through_ssl_cert_file_then_node_extra_ca_certs_on_one_connection() {
    let https = Https::valid();
    let project = Project::new(INDEX);
    for var in ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
        let (run, connections) = check(&https, &project, &https.url(), &[(var, &https.ca())]);
        assert_eq!(run.code(), 0, "{var}: {}", run.snapshot());
        assert!(
            run.stdout().contains("No drift detected"),
            "{}",
            run.snapshot()
        );
        assert!(!run.stderr().contains("error"), "{var}: {}", run.snapshot());
        // Every request of the run (agent, persona, six primitive kinds) on one HTTP/2
        // connection: one TCP and TLS handshake.
        assert_eq!(connections, 1, "{var}");
        assert!(https.platform.requests()["total"].as_u64().unwrap() >= 8);
    }
}

#[test]
fn an_untrusted_certificate_is_an_error_naming_host_reason_and_remedy_not_unreachable() {
    let https = Https::valid();
    let project = Project::new(INDEX);
    let (run, _) = check(&https, &project, &https.url(), &[]);
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    let stderr = run.stderr();
    assert!(!stderr.contains("unreachable"), "{stderr}");
    assert!(!stderr.contains("UnknownIssuer"), "no debug text: {stderr}");
    // Refused at the handshake: no request reached the server, none over plain HTTP.
    assert_eq!(https.platform.requests()["total"], 0);
    let _filters = project.snapshot_filters();
    insta::assert_snapshot!(run.snapshot());
}

#[test]
fn a_certificate_for_another_name_is_refused() {
    let https = Https::start(|tls| tls.names = vec!["platform.example".to_owned()]);
    let project = Project::new(INDEX);
    // The server cannot be asked for its counters either: only the run is looked at.
    let run = project.lua_env(
        &https.url(),
        &["sync", "--check"],
        &[("NODE_EXTRA_CA_CERTS", &https.ca())],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.stderr()
            .contains("the certificate of 127.0.0.1 is not issued for the name 127.0.0.1 (wrong host name); use the host name the certificate is issued for in LUA_API_URL or server.url"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn an_expired_certificate_is_refused() {
    let https = Https::start(|tls| tls.expired = true);
    let project = Project::new(INDEX);
    // The server cannot be asked for its counters either: only the run is looked at.
    let run = project.lua_env(
        &https.url(),
        &["sync", "--check"],
        &[("NODE_EXTRA_CA_CERTS", &https.ca())],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.stderr().contains(
            "the certificate of 127.0.0.1 has expired; the server's certificate must be renewed"
        ),
        "{}",
        run.snapshot()
    );
}

#[test]
fn a_ca_certificate_served_as_the_servers_own_is_refused() {
    let https = Https::start(|tls| tls.ca_as_server = true);
    let project = Project::new(INDEX);
    // The server cannot be asked for its counters either: only the run is looked at.
    let run = project.lua_env(
        &https.url(),
        &["sync", "--check"],
        &[("NODE_EXTRA_CA_CERTS", &https.ca())],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.stderr()
            .contains("is a certificate authority's own certificate, not a server certificate"),
        "{}",
        run.snapshot()
    );
}

#[test]
fn a_ca_file_that_cannot_be_read_names_the_variable() {
    let https = Https::valid();
    let project = Project::new(INDEX);
    let missing = project.path("no-such-ca.pem");
    let (run, _) = check(
        &https,
        &project,
        &https.url(),
        &[("NODE_EXTRA_CA_CERTS", missing.to_str().unwrap())],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.stderr().contains(&format!(
            "NODE_EXTRA_CA_CERTS={} cannot be read as PEM certificates",
            missing.display()
        )),
        "{}",
        run.snapshot()
    );
}

#[test]
fn https_through_a_connect_proxy_uses_one_tunnel_and_no_proxy_goes_direct() {
    let https = Https::valid();
    let proxy = ConnectProxy::start();
    let project = Project::new(INDEX);
    let ca = https.ca();
    let (run, connections) = check(
        &https,
        &project,
        &https.url(),
        &[("NODE_EXTRA_CA_CERTS", &ca), ("HTTPS_PROXY", &proxy.url())],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert!(
        run.stdout().contains("No drift detected"),
        "{}",
        run.snapshot()
    );
    let target = https.platform.server.addr().to_string();
    assert_eq!(proxy.tunnels(), vec![target.clone()]);
    assert_eq!(connections, 1);

    // Lower case works too, and NO_PROXY sends the run around the proxy.
    let (run, _) = check(
        &https,
        &project,
        &https.url(),
        &[
            ("NODE_EXTRA_CA_CERTS", &ca),
            ("https_proxy", &proxy.url()),
            ("NO_PROXY", "example.com,127.0.0.1"),
        ],
    );
    assert_eq!(run.code(), 0, "{}", run.snapshot());
    assert_eq!(proxy.tunnels(), vec![target], "NO_PROXY bypassed the proxy");
}

#[test]
fn a_dead_proxy_is_named_in_the_error() {
    let https = Https::valid();
    let project = Project::new(INDEX);
    let dead = support::dead_url();
    let (run, connections) = check(
        &https,
        &project,
        &https.url(),
        &[
            ("NODE_EXTRA_CA_CERTS", &https.ca()),
            ("HTTPS_PROXY", &dead),
            ("LUA_SYNC__ON_UNREACHABLE", "fail"),
            ("LUA_SERVER__RETRIES", "0"),
        ],
    );
    // Unavailable (11) under on_unreachable = "fail": the platform could not be asked.
    assert_eq!(run.code(), 11, "{}", run.snapshot());
    assert_eq!(connections, 0);
    assert!(
        run.stderr().contains(&format!(
            "through the proxy {dead} (HTTPS_PROXY): connection refused"
        )),
        "{}",
        run.snapshot()
    );
}

#[test]
fn a_proxy_variable_that_is_not_a_url_is_refused_naming_it() {
    let https = Https::valid();
    let project = Project::new(INDEX);
    let (run, _) = check(
        &https,
        &project,
        &https.url(),
        &[("HTTPS_PROXY", "ftp://proxy")],
    );
    assert_eq!(run.code(), 2, "{}", run.snapshot());
    assert!(
        run.stderr()
            .contains("HTTPS_PROXY=\"ftp://proxy\" is not a proxy URL"),
        "{}",
        run.snapshot()
    );
}
