//! TLS for `spin:postgres` connections, with Spin's semantics.
//!
//! `sslmode=disable` connects in plain text. Every other mode tokio-postgres
//! knows (`prefer`, its default, and `require`) offers TLS and verifies the
//! server's certificate chain and host name (libpq's `verify-full`) against
//! the system's roots, which `SSL_CERT_FILE` and `SSL_CERT_DIR` replace,
//! plus the root certificate the guest gave with `set-ca-root`. `prefer`
//! goes on in plain text only when the server refuses TLS; a certificate
//! that does not verify fails the connection in every mode.

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use sha2::{Digest, Sha256};
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A root certificate from the guest, with the digest of its text that keys
/// its connection pools (a pool is never shared across trust settings).
#[derive(Clone)]
pub struct RootCa {
    certificate: CertificateDer<'static>,
    hash: String,
}

impl RootCa {
    /// The first certificate of a PEM text (as Spin reads it), if there is
    /// one and it can anchor a chain.
    pub fn from_pem(text: &str) -> Option<RootCa> {
        let certificate = CertificateDer::pem_slice_iter(text.as_bytes()).next()?.ok()?;
        rustls::RootCertStore::empty().add(certificate.clone()).ok()?;
        let hash = Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        Some(RootCa { certificate, hash })
    }

    pub fn hash(&self) -> &str {
        &self.hash
    }
}

/// The pool manager for `config`: plain for `sslmode=disable`, verified TLS
/// otherwise. Reads the system's root store, so it may block for a moment.
pub fn manager(config: tokio_postgres::Config, root_ca: Option<&RootCa>) -> Result<deadpool_postgres::Manager, String> {
    let recycling = deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast };
    if config.get_ssl_mode() == SslMode::Disable {
        return Ok(deadpool_postgres::Manager::from_config(config, tokio_postgres::NoTls, recycling));
    }
    let tls = MakeRustlsConnect::new(client_config(root_ca)?);
    Ok(deadpool_postgres::Manager::from_config(config, tls, recycling))
}

fn client_config(root_ca: Option<&RootCa>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let system = rustls_native_certs::load_native_certs();
    for error in &system.errors {
        tracing::warn!("reading the system's root certificates for PostgreSQL: {error}");
    }
    let (_, unusable) = roots.add_parsable_certificates(system.certs);
    if unusable > 0 {
        tracing::debug!("{unusable} of the system's root certificates cannot anchor a chain and were left out");
    }
    if let Some(root_ca) = root_ca {
        roots.add(root_ca.certificate.clone()).map_err(|e| format!("invalid root certificate: {e}"))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A self-signed certificate (`openssl req -x509 -newkey ec
    /// -pkeyopt ec_paramgen_curve:P-256 -subj /CN=test-ca`).
    const CA: &str = "-----BEGIN CERTIFICATE-----
MIIBeDCCAR+gAwIBAgIUUPiXOffvw3j8V++kuOZopRsmt5UwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHdGVzdC1jYTAeFw0yNjEyMDMwNjU4MjNaFw0zNjExMzAwNjU4
MjNaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AATOd9btNU0zroY5mWZwbEQ7dSuGMmX3Q3Rhai6JxaxVQb1f4nehZjYxbFQhaRxY
YBLftfsJ6u8wTA/1pTsOc3DOo1MwUTAdBgNVHQ4EFgQUB2fSQnL/wBZv8QFkDeOK
yIYBJUwwHwYDVR0jBBgwFoAUB2fSQnL/wBZv8QFkDeOKyIYBJUwwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiANHTB0frzJih8Sa3o3CIuTWeKawuZD
Nq5QrmG/yZyXywIgEcyDWVoClibHlbGTJ9rcIO8m6gIcyCFamV+3r5cy5A0=
-----END CERTIFICATE-----
";

    #[test]
    fn a_root_certificate_is_read_from_pem_and_keyed_by_its_text() {
        let ca = RootCa::from_pem(CA).expect("a certificate");
        assert_eq!(ca.hash().len(), 64);
        let again = RootCa::from_pem(&format!("{CA}\n")).expect("a certificate");
        assert_ne!(ca.hash(), again.hash());
    }

    #[test]
    fn text_without_a_usable_certificate_is_refused() {
        assert!(RootCa::from_pem("").is_none());
        assert!(RootCa::from_pem("not a certificate").is_none());
        // A whole line (48 bytes) missing: valid base64, broken DER.
        let damaged = CA.replace("MjNaMBIxEDAOBgNVBAMMB3Rlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\n", "");
        assert!(RootCa::from_pem(&damaged).is_none());
    }

    #[test]
    fn disable_is_plain_and_other_modes_build_a_verifying_connector() {
        let ca = RootCa::from_pem(CA).expect("a certificate");
        for address in ["host=127.0.0.1 sslmode=disable", "host=127.0.0.1", "host=127.0.0.1 sslmode=require"] {
            let config: tokio_postgres::Config = address.parse().expect("an address");
            assert!(manager(config, Some(&ca)).is_ok(), "{address}");
        }
        assert!(client_config(Some(&ca)).is_ok());
    }
}
