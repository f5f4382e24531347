//! TLS to the database, with rustls (ring) through tokio-postgres-rustls, as
//! `[store] sslmode` says (libpq's meanings):
//!
//! - `disable`: never; `prefer`: when the server offers it; `require`: always. These
//!   three encrypt but check no certificate (as libpq without a root certificate).
//! - `verify-ca`: the server's certificate chain must lead to a trusted CA;
//!   `verify-full`: also name the host the URL connects to (DNS name or IP address).
//!
//! Trusted CAs: the PEM file `ssl_root_cert`, or, unset, Mozilla's roots built into
//! authd (webpki-roots) — a private CA needs the file. A connection that fails its
//! checks is an unreachable database for the daemon (not ready, retried; see
//! `server::waiting`), with the reason `explain` gives.

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::config::SslMode;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The CA certificates in the PEM file `path`, or why they cannot be used.
pub fn read_roots(path: &Path) -> Result<RootCertStore, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot be read: {e}"))?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("is not a valid PEM file: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("holds a certificate that cannot be used as a CA: {e}"))?;
    }
    if roots.is_empty() {
        return Err("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into());
    }
    Ok(roots)
}

/// What `authd --check-config` finds wrong with `[store]`'s TLS: a CA file that
/// verify-ca or verify-full cannot use.
pub fn problems(store: &crate::config::StoreConfig) -> Vec<String> {
    let (Some(path), true) = (&store.ssl_root_cert, store.effective_sslmode().verifies()) else {
        return Vec::new();
    };
    match read_roots(path) {
        Ok(_) => Vec::new(),
        Err(reason) => vec![format!(
            "store.ssl_root_cert {} {reason}: sslmode = \"{}\" cannot verify the server",
            path.display(),
            store.effective_sslmode().as_str()
        )],
    }
}

/// The trusted CAs: `path`'s, or Mozilla's.
fn roots(path: Option<&Path>) -> Result<RootCertStore, String> {
    match path {
        Some(path) => read_roots(path),
        None => Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        }),
    }
}

/// The connector for `mode`, trusting `root_cert`'s CAs (verify-ca, verify-full).
/// How the store's connections make TLS (`sslmode`).
pub(super) type Connector = MakeRustlsConnect;

pub(super) fn connector(
    mode: SslMode,
    root_cert: Option<&Path>,
) -> Result<MakeRustlsConnect, String> {
    let provider = provider();
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let config = match mode {
        SslMode::Disable | SslMode::Prefer | SslMode::Require => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Relaxed {
                chain: None,
                provider,
            }))
            .with_no_client_auth(),
        SslMode::VerifyCa | SslMode::VerifyFull => {
            let roots = Arc::new(roots(root_cert)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|e| e.to_string())?;
            if mode == SslMode::VerifyFull {
                builder.with_webpki_verifier(webpki).with_no_client_auth()
            } else {
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(Relaxed {
                        chain: Some(webpki),
                        provider,
                    }))
                    .with_no_client_auth()
            }
        }
    };
    Ok(MakeRustlsConnect::new(config))
}

/// The driver's `sslmode` for ours: it knows disable, prefer and require, and leaves
/// the checks to the connector.
pub(super) fn driver_mode(mode: SslMode) -> tokio_postgres::config::SslMode {
    use tokio_postgres::config::SslMode as Driver;
    match mode {
        SslMode::Disable => Driver::Disable,
        SslMode::Prefer => Driver::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Driver::Require,
    }
}

/// The TLS settings a store connects with, for its messages.
#[derive(Debug, Clone)]
pub(super) struct Used {
    pub mode: SslMode,
    pub root_cert: Option<std::path::PathBuf>,
}

impl Used {
    /// Whom verify-ca and verify-full trust, as a message says it.
    fn trusted(&self) -> String {
        match &self.root_cert {
            Some(path) => format!("the CAs in {} (store.ssl_root_cert)", path.display()),
            None => "the public CAs built into authd (Mozilla's roots; set \
                     store.ssl_root_cert for a private CA)"
                .to_string(),
        }
    }
}

/// Why a TLS connection failed, in the admin's terms, when `e` is a TLS failure.
pub(super) fn explain(e: &tokio_postgres::Error, used: &Used) -> Option<String> {
    let mode = used.mode;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        // tokio-rustls wraps rustls's error in an io::Error, whose source() skips it.
        let inner = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|e| e.downcast_ref::<rustls::Error>());
        if let Some(tls) = err.downcast_ref::<rustls::Error>().or(inner) {
            return Some(explain_rustls(tls, used));
        }
        if err.to_string().contains("server does not support TLS") {
            return Some(format!(
                "TLS: the server does not accept TLS connections (its ssl setting is off, \
                 or this is a local socket), and store.sslmode = \"{}\" requires TLS",
                mode.as_str()
            ));
        }
        source = err.source();
    }
    None
}

fn explain_rustls(e: &rustls::Error, used: &Used) -> String {
    let mode = used.mode;
    let why = match e {
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
            "the server's certificate is not signed by a trusted CA (trusted: {})",
            used.trusted()
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => format!(
            "the server's certificate does not name the host in store.url ({e}); \
             sslmode = \"verify-full\" requires it"
        ),
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => format!("the server's certificate has expired ({e})"),
        other => other.to_string(),
    };
    format!("TLS (sslmode = \"{}\") failed: {why}", mode.as_str())
}

/// Checks less than verify-full: the chain as verify-full checks it but not the host name
/// (`chain`: verify-ca), or no certificate at all (`None`: prefer and require). The
/// handshake's own signatures are checked either way.
#[derive(Debug)]
struct Relaxed {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algs)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = &self.provider.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algs)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
