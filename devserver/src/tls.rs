//! `--tls`: a certificate authority and a server certificate made at start, the CA written
//! to a file clients can trust, and the rustls acceptor that serves them (ALPN `h2`, then
//! `http/1.1`). Knows nothing of routes or connections beyond the handshake.
//!
//! The test-only variants (an expired certificate, a certificate for other names, the CA
//! itself served as the server's certificate) exist so clients can be tested against each
//! way a certificate fails verification.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::TlsAcceptor;

use crate::DevServerError;

/// How the devserver serves HTTPS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The folder where the CA certificate is written as `ca.pem` (created if missing).
    pub dir: PathBuf,
    /// Names the server certificate is valid for. Empty: `localhost`, `127.0.0.1`, `::1`
    /// and the listening address.
    pub names: Vec<String>,
    /// For tests: a server certificate that expired in 2021.
    pub expired: bool,
    /// For tests: serve the CA's own certificate as the server's (clients must refuse a CA
    /// certificate as an end entity).
    pub ca_as_server: bool,
}

impl TlsConfig {
    /// A valid certificate for the default names, the CA written under `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> TlsConfig {
        TlsConfig {
            dir: dir.into(),
            names: Vec::new(),
            expired: false,
            ca_as_server: false,
        }
    }
}

/// What a TLS server needs once it listens.
pub(crate) struct Served {
    pub acceptor: TlsAcceptor,
    pub ca_path: PathBuf,
}

/// Makes the CA and the server certificate, writes `ca.pem` and builds the acceptor.
pub(crate) fn prepare(config: &TlsConfig, host: IpAddr) -> Result<Served, DevServerError> {
    let err = |what: &str, e: &dyn std::fmt::Display| DevServerError::Tls {
        reason: format!("{what}: {e}"),
    };
    let ca_key = KeyPair::generate().map_err(|e| err("generating the CA key", &e))?;
    let mut ca_params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| err("the CA's parameters", &e))?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "lua-devserver local CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca_params
        .self_signed(&ca_key)
        .map_err(|e| err("signing the CA certificate", &e))?;
    let ca_path = write_ca(&config.dir, &ca_cert.pem())?;

    let (chain, key) = if config.ca_as_server {
        (vec![ca_cert.der().clone()], ca_key.serialize_der())
    } else {
        let names = if config.names.is_empty() {
            let mut names = vec![
                "localhost".to_owned(),
                "127.0.0.1".to_owned(),
                "::1".to_owned(),
            ];
            let own = host.to_string();
            if !names.contains(&own) && !host.is_unspecified() {
                names.push(own);
            }
            names
        } else {
            config.names.clone()
        };
        let key = KeyPair::generate().map_err(|e| err("generating the server key", &e))?;
        let mut params =
            CertificateParams::new(names).map_err(|e| err("the server certificate's names", &e))?;
        params
            .distinguished_name
            .push(DnType::CommonName, "lua-devserver");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        if config.expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let issuer = Issuer::new(ca_params, ca_key);
        let cert = params
            .signed_by(&key, &issuer)
            .map_err(|e| err("signing the server certificate", &e))?;
        (vec![cert.der().clone()], key.serialize_der())
    };
    let acceptor = acceptor(chain, key).map_err(|e| err("the TLS configuration", &e))?;
    Ok(Served { acceptor, ca_path })
}

fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
) -> Result<TlsAcceptor, rustls::Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key)))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn write_ca(dir: &Path, pem: &str) -> Result<PathBuf, DevServerError> {
    let io = |e: std::io::Error| DevServerError::Tls {
        reason: format!(
            "cannot write the CA certificate under {}: {e}",
            dir.display()
        ),
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let path = dir.join("ca.pem");
    std::fs::write(&path, pem).map_err(io)?;
    Ok(path)
}
