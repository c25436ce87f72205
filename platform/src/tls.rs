//! TLS: a rustls configuration whose certificate verifier loads the platform's trust
//! store on the first TLS handshake, not when the client is built, plus the CAs named by
//! `SSL_CERT_FILE`, `SSL_CERT_DIR` and `NODE_EXTRA_CA_CERTS` (how Node, and so lua-cli,
//! users trust a private CA); and the words for a certificate that fails verification.
//!
//! Why the platform verifier (`rustls-platform-verifier`: the system store on Linux,
//! the OS verifier on macOS and Windows) and not the bundled `webpki-roots`: corporate
//! proxies and self-hosted gateways use private CAs that only the system store knows.
//! Why lazily: loading and parsing the store (about 290 certificates on Debian) was most
//! of the process's own CPU in an in-sync `lua sync --check`, and an `http://` URL (the
//! devserver) never needs it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, OtherError, SignatureScheme};

/// Files and folders of extra CAs, as the environment names them (read on first use).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ExtraCas {
    /// (variable, file)
    files: Vec<(&'static str, PathBuf)>,
    /// (variable, folder)
    dirs: Vec<(&'static str, PathBuf)>,
}

impl ExtraCas {
    pub(crate) fn from_env() -> ExtraCas {
        let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        let mut extra = ExtraCas::default();
        for name in ["SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS"] {
            if let Some(file) = var(name) {
                extra.files.push((name, PathBuf::from(file)));
            }
        }
        if let Some(dirs) = var("SSL_CERT_DIR") {
            // OpenSSL's form: a list separated like PATH.
            for dir in std::env::split_paths(&dirs) {
                extra.dirs.push(("SSL_CERT_DIR", dir));
            }
        }
        extra
    }

    /// Every certificate the files and folders hold. A named file that cannot be read or
    /// holds no certificate is an error naming the variable (a CA the user asked for and
    /// did not get would fail later, less clearly); in a folder, files without certificates
    /// are skipped (OpenSSL's folders hold other files too).
    fn load(&self) -> Result<Vec<CertificateDer<'static>>, String> {
        let mut roots = Vec::new();
        for (var, file) in &self.files {
            let found = certificates(file).map_err(|e| {
                format!(
                    "{var}={} cannot be read as PEM certificates: {e}",
                    file.display()
                )
            })?;
            if found.is_empty() {
                return Err(format!(
                    "{var}={} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    file.display()
                ));
            }
            roots.extend(found);
        }
        for (var, dir) in &self.dirs {
            let entries = std::fs::read_dir(dir)
                .map_err(|e| format!("{var}={} cannot be listed: {e}", dir.display()))?;
            for entry in entries.flatten() {
                if entry.path().is_file() {
                    roots.extend(certificates(&entry.path()).unwrap_or_default());
                }
            }
        }
        Ok(roots)
    }
}

fn certificates(file: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    CertificateDer::pem_file_iter(file)
        .map_err(|e| e.to_string())?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

/// The trust store could not be built: the message, for [`TrustStoreError`] callers.
#[derive(Debug)]
pub(crate) struct TrustStoreError(pub String);

impl fmt::Display for TrustStoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TrustStoreError {}

/// The client's TLS configuration: cheap to build, trust store loaded on first use.
pub(crate) fn client_config(
    provider: Arc<CryptoProvider>,
    extra: ExtraCas,
) -> Result<rustls::ClientConfig, String> {
    let verifier = Arc::new(LazyVerifier {
        provider: Arc::clone(&provider),
        extra,
        inner: OnceLock::new(),
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS versions: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// Delegates to the platform verifier, built on the first certificate to verify.
/// Signature checks need no roots, so they never load the store.
struct LazyVerifier {
    provider: Arc<CryptoProvider>,
    extra: ExtraCas,
    inner: OnceLock<Result<rustls_platform_verifier::Verifier, rustls::Error>>,
}

impl fmt::Debug for LazyVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LazyVerifier")
            .field("loaded", &self.inner.get().is_some())
            .finish_non_exhaustive()
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verifier = self
            .inner
            .get_or_init(|| {
                let extra = self.extra.load().map_err(|reason| {
                    rustls::Error::Other(OtherError(Arc::new(TrustStoreError(reason))))
                })?;
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    extra,
                    Arc::clone(&self.provider),
                )
            })
            .as_ref()
            .map_err(Clone::clone)?;
        verifier.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// Why a TLS connection was refused, in words, and what to do about it.
pub(crate) struct Refusal {
    pub problem: String,
    pub remedy: String,
}

/// The rustls error behind a failed request, if TLS is what failed.
pub(crate) fn rustls_error<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // `io::Error::source` skips the error it wraps (often another io::Error around
        // rustls's): descend into the wrapped one instead.
        source = match err.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The trust store's own failure (an unreadable `NODE_EXTRA_CA_CERTS` file), if that is
/// what `error` is.
pub(crate) fn trust_store_failure(error: &rustls::Error) -> Option<String> {
    match error {
        rustls::Error::Other(OtherError(inner)) => {
            inner.downcast_ref::<TrustStoreError>().map(|e| e.0.clone())
        }
        _ => None,
    }
}

/// The words for a refused TLS connection to `host`.
pub(crate) fn refusal(error: &rustls::Error, host: &str, via_proxy: Option<&str>) -> Refusal {
    let add_ca = format!(
        "if {host} uses a private certificate authority, trust its CA certificate (PEM) with NODE_EXTRA_CA_CERTS=/path/to/ca.pem (or SSL_CERT_FILE / SSL_CERT_DIR)"
    );
    let add_ca = match via_proxy {
        Some(proxy) => {
            format!("{add_ca}; if {proxy} intercepts TLS, trust the proxy's CA the same way")
        }
        None => add_ca,
    };
    let (problem, remedy) = match error {
        rustls::Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => (
                "is issued by an unknown certificate authority (not in this machine's trust store)".to_owned(),
                add_ca,
            ),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => (
                "has expired".to_owned(),
                "the server's certificate must be renewed (or this machine's clock is wrong)".to_owned(),
            ),
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => (
                "is not valid yet".to_owned(),
                "check this machine's clock, or the server's certificate".to_owned(),
            ),
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => (
                format!("is not issued for the name {host} (wrong host name)"),
                "use the host name the certificate is issued for in LUA_API_URL or server.url".to_owned(),
            ),
            CertificateError::Revoked => (
                "has been revoked".to_owned(),
                "the server needs a new certificate".to_owned(),
            ),
            CertificateError::Other(OtherError(other))
                if format!("{other:?}").contains("CaUsedAsEndEntity") =>
            (
                "is a certificate authority's own certificate, not a server certificate (a CA used as the server's certificate)".to_owned(),
                "the server must present a certificate issued by that CA, not the CA itself".to_owned(),
            ),
            other => (
                format!("failed verification ({other:?})"),
                add_ca,
            ),
        },
        other => (
            format!("could not be checked: the TLS handshake failed ({other})"),
            "check that the URL is the platform's HTTPS address".to_owned(),
        ),
    };
    Refusal { problem, remedy }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn building_the_config_loads_no_store() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = LazyVerifier {
            provider: Arc::clone(&provider),
            extra: ExtraCas::default(),
            inner: OnceLock::new(),
        };
        assert!(!verifier.supported_verify_schemes().is_empty());
        assert!(verifier.inner.get().is_none());
        let config = client_config(provider, ExtraCas::default()).unwrap();
        assert_eq!(
            config.alpn_protocols,
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        );
    }
}
