//! Native TLS for the listeners (docs/design.md §12): rustls with the ring provider, TLS 1.2 and
//! 1.3, a certificate chain and private key from PEM files, swapped on SIGHUP.
//!
//! The handshake asks a [`Certificates`] resolver for the current certificate, so a reload
//! only changes what *new* handshakes present: connections already open keep theirs and are
//! never dropped. A file that does not load on reload keeps the old certificate (and logs
//! an error naming the key), so a half-copied renewal cannot take the listener down.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::signal::unix::{SignalKind, signal};

use crate::config::{ConfigError, Settings, TlsFiles};

/// A listener's current certificate, as TLS handshakes see it.
#[derive(Debug)]
pub struct Certificates {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Reads `files`; a missing file, bad PEM or a key that does not match the certificate
    /// is an error naming the configuration key.
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, ConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let current = read(&files, &provider)?;
        Ok(Arc::new(Self {
            files,
            provider,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// Reads the files again and, if they load, presents the new certificate to every new
    /// handshake; on error the old certificate stays.
    pub fn reload(&self) -> Result<(), ConfigError> {
        let fresh = Arc::new(read(&self.files, &self.provider)?);
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = fresh;
        Ok(())
    }

    /// The certificate chain presented now (leaf first).
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.current().cert.clone()
    }

    fn current(&self) -> Arc<CertifiedKey> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// A rustls server configuration (TLS 1.3 and 1.2, no client certificates) that asks
    /// `self` for the certificate of each handshake.
    pub fn server_config(self: &Arc<Self>) -> Result<ServerConfig, rustls::Error> {
        let resolver: Arc<dyn ResolvesServerCert> = Arc::clone(self) as _;
        Ok(ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .with_no_client_auth()
            .with_cert_resolver(resolver))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

fn read(files: &TlsFiles, provider: &CryptoProvider) -> Result<CertifiedKey, ConfigError> {
    let invalid = |key: &'static str, path: &PathBuf, why: String| ConfigError::Invalid {
        key,
        message: format!("{}: {why}", path.display()),
    };
    let chain = CertificateDer::pem_file_iter(&files.cert)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .map_err(|e| invalid(files.cert_setting, &files.cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(invalid(
            files.cert_setting,
            &files.cert,
            "no PEM CERTIFICATE in the file".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| {
        let why = match e {
            pem::Error::NoItemsFound => "no PEM private key in the file".to_owned(),
            other => other.to_string(),
        };
        invalid(files.key_setting, &files.key, why)
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| {
        invalid(
            files.key_setting,
            &files.key,
            format!("not usable with {}: {e}", files.cert_setting),
        )
    })
}

/// The certificates of the public and the admin listener, for those that serve TLS.
pub struct ListenerTls {
    /// The public listener's (`server.tls_*`).
    pub public: Option<Arc<Certificates>>,
    /// The separate admin listener's (`server.admin_tls_*`).
    pub admin: Option<Arc<Certificates>>,
}

impl ListenerTls {
    /// Reads the configured files; an error names the key.
    pub fn load(settings: &Settings) -> Result<Self, ConfigError> {
        Ok(Self {
            public: settings.public_tls().map(Certificates::load).transpose()?,
            admin: settings.admin_tls().map(Certificates::load).transpose()?,
        })
    }

    /// `https` or `http`.
    pub fn public_scheme(&self) -> &'static str {
        if self.public.is_some() { "https" } else { "http" }
    }

    /// `https` or `http`.
    pub fn admin_scheme(&self) -> &'static str {
        if self.admin.is_some() { "https" } else { "http" }
    }

    /// See [`reload_on_sighup`].
    pub fn reload_on_sighup(&self) -> std::io::Result<()> {
        reload_on_sighup(self.public.iter().chain(&self.admin).cloned().collect())
    }
}

/// On every SIGHUP, reloads each listener's certificate (off the executor: file reads).
/// Only registered when a listener serves TLS, so SIGHUP keeps its default meaning otherwise.
pub fn reload_on_sighup(all: Vec<Arc<Certificates>>) -> std::io::Result<()> {
    if all.is_empty() {
        return Ok(());
    }
    let mut hangup = signal(SignalKind::hangup())?;
    actix_web::rt::spawn(async move {
        while hangup.recv().await.is_some() {
            for certificates in &all {
                let certificates = Arc::clone(certificates);
                let file = certificates.files.cert.display().to_string();
                match tokio::task::spawn_blocking(move || certificates.reload()).await {
                    Ok(Ok(())) => log::info!("SIGHUP: TLS certificate reloaded cert_file={file}"),
                    Ok(Err(error)) => log::error!("SIGHUP: TLS certificate kept, the new one does not load: {error}"),
                    Err(error) => log::error!("SIGHUP: TLS certificate reload failed: {error}"),
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &std::path::Path) -> TlsFiles {
        TlsFiles {
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            cert_setting: "server.tls_cert_file",
            key_setting: "server.tls_key_file",
        }
    }

    fn write_pair(dir: &std::path::Path) -> Vec<u8> {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
        cert.der().to_vec()
    }

    #[test]
    fn bad_files_name_their_key_and_a_failed_reload_keeps_the_old_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let missing = Certificates::load(files(dir.path())).unwrap_err().to_string();
        assert!(missing.contains("server.tls_cert_file"), "{missing}");

        let first = write_pair(dir.path());
        let certificates = Certificates::load(files(dir.path())).unwrap();
        assert_eq!(certificates.chain()[0].as_ref(), first.as_slice());

        std::fs::write(dir.path().join("key.pem"), "-----BEGIN PRIVATE KEY-----\nnope\n").unwrap();
        let bad_key = certificates.reload().unwrap_err().to_string();
        assert!(bad_key.contains("server.tls_key_file"), "{bad_key}");
        std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
        let bad_cert = certificates.reload().unwrap_err().to_string();
        assert!(bad_cert.contains("server.tls_cert_file"), "{bad_cert}");
        assert_eq!(certificates.chain()[0].as_ref(), first.as_slice(), "old one kept");

        // A key of another certificate is refused too.
        let second = write_pair(dir.path());
        let other = rcgen::KeyPair::generate().unwrap();
        std::fs::write(dir.path().join("key.pem"), other.serialize_pem()).unwrap();
        let mismatch = certificates.reload().unwrap_err().to_string();
        assert!(mismatch.contains("server.tls_key_file"), "{mismatch}");

        write_pair(dir.path());
        certificates.reload().unwrap();
        assert_ne!(certificates.chain()[0].as_ref(), first.as_slice());
        assert_ne!(certificates.chain()[0].as_ref(), second.as_slice());
        assert!(certificates.server_config().is_ok());
    }
}
