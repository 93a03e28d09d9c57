//! TLS: the certificate chain and private key from PEM files, checked at
//! start (before anything is written) and reloaded on SIGHUP.
//!
//! Every new connection reads the current [`ServerConfig`] from a
//! [`TlsConfig`]; a reload swaps it, so open connections keep the session
//! they negotiated and new ones get the new certificate. A pair that does
//! not load on reload is logged and the old one kept.
//!
//! A key file that its group or other users can read is served all the
//! same, with a WARN naming the file, its mode and `chmod 600` (at start and
//! at each reload): refusing it would stop a server that an operator set up
//! on purpose with a key group (`ssl-cert`), while saying nothing would
//! leave a key readable by every account on the machine unnoticed.

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

/// `--tls-cert FILE --tls-key FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate/key pair cannot be used; names the file and the fix.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS {what} {path}: {source}")]
    Read { what: &'static str, path: String, source: std::io::Error },
    #[error("the TLS certificate file {path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)")]
    NoCertificate { path: String },
    #[error(
        "the TLS certificate file {path} is cut off or damaged ({reason}): is it still being written? Write the new file beside it and rename it into place"
    )]
    BadPem { path: String, reason: String },
    #[error("the TLS key file {path} holds no PEM private key: {reason}")]
    NoKey { path: String, reason: String },
    #[error("the TLS certificate {cert} and key {key} cannot be used together: {reason}")]
    Mismatch { cert: String, key: String, reason: String },
}

impl TlsFiles {
    /// Reads and checks the pair: certificates parse, the key parses, and
    /// the key belongs to the first certificate. Call at the very start of
    /// `ward server`, before anything is written.
    pub fn load(&self) -> Result<Arc<ServerConfig>, TlsError> {
        let certs = read_certs(&self.cert)?;
        let key = read_key(&self.key)?;
        let mismatch = |e: rustls::Error| TlsError::Mismatch {
            cert: self.cert.display().to_string(),
            key: self.key.display().to_string(),
            reason: e.to_string(),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(mismatch)?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(mismatch)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

impl TlsFiles {
    /// Logs [`key_mode_warning`] at WARN, if there is one.
    fn warn_if_key_readable(&self) {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&self.key).map(|m| m.permissions().mode());
        if let Some(warning) = mode.ok().and_then(|mode| key_mode_warning(&self.key, mode)) {
            tracing::warn!(tls.key = %self.key.display(), "{warning}");
        }
    }
}

/// What to tell the operator when the key file's `mode` lets its group or
/// other users read it (the file itself, after symlinks); `None` when only
/// its owner can.
pub fn key_mode_warning(path: &Path, mode: u32) -> Option<String> {
    let mode = mode & 0o7777;
    let readers = match (mode & 0o040 != 0, mode & 0o004 != 0) {
        (false, false) => return None,
        (true, false) => "its group",
        (false, true) => "every user of this machine",
        (true, true) => "its group and every user of this machine",
    };
    let path = path.display();
    Some(format!(
        "the TLS key file {path} can be read by {readers} (mode {mode:04o}): anyone who reads it can pose as this server; run `chmod 600 {path}` (the file owned by the user ward runs as)"
    ))
}

fn read(what: &'static str, path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { what, path: path.display().to_string(), source })
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read("certificate", path)?;
    let bad = |reason: String| TlsError::BadPem { path: path.display().to_string(), reason };
    // Every block must be whole: a chain cut off after the leaf would load
    // the leaf alone, and clients that need the intermediate would fail.
    let count = |marker: &[u8]| pem.windows(marker.len()).filter(|w| *w == marker).count();
    let (begins, ends) = (count(b"-----BEGIN "), count(b"-----END "));
    if begins != ends {
        return Err(bad(format!("{begins} BEGIN lines but {ends} END lines")));
    }
    let certs: Vec<_> =
        CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>().map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate { path: path.display().to_string() });
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = zeroize::Zeroizing::new(read("key", path)?);
    // The parser's message never quotes the key.
    PrivateKeyDer::from_pem_slice(&pem)
        .map_err(|e| TlsError::NoKey { path: path.display().to_string(), reason: e.to_string() })
}

/// The TLS settings new connections use; [`TlsConfig::reload`] swaps them.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    files: TlsFiles,
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl TlsConfig {
    /// A config from a pair already loaded by [`TlsFiles::load`]; warns
    /// if the key file is readable by others ([`key_mode_warning`]).
    pub fn new(files: TlsFiles, loaded: Arc<ServerConfig>) -> Self {
        files.warn_if_key_readable();
        Self { files, current: Arc::new(RwLock::new(loaded)) }
    }

    /// What the next connection negotiates with.
    pub fn current(&self) -> Arc<ServerConfig> {
        match self.current.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Reads the files again; on success new connections use them, on
    /// failure the old pair stays and the error is returned.
    pub fn reload(&self) -> Result<(), TlsError> {
        let loaded = self.files.load()?;
        self.files.warn_if_key_readable();
        match self.current.write() {
            Ok(mut c) => *c = loaded,
            Err(poisoned) => *poisoned.into_inner() = loaded,
        }
        Ok(())
    }

    /// Reloads on every SIGHUP until the returned task is aborted.
    pub fn reload_on_sighup(&self) -> std::io::Result<tokio::task::JoinHandle<()>> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hup = signal(SignalKind::hangup())?;
        let this = self.clone();
        Ok(tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match this.reload() {
                    Ok(()) => tracing::info!(
                        tls.cert = %this.files.cert.display(),
                        "reloaded the TLS certificate on SIGHUP; new connections use it"
                    ),
                    Err(e) => tracing::error!(error = %e, "SIGHUP: kept the old TLS certificate"),
                }
            }
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certs_in(pem: &str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("cert.pem");
        std::fs::write(&path, pem).expect("write");
        read_certs(&path)
    }

    #[test]
    fn a_chain_cut_off_in_its_second_block_is_refused_not_shortened() {
        // What a reload sees while the new chain is still being written.
        let cut = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nMIIB";
        let err = certs_in(cut).expect_err("refused");
        assert!(matches!(err, TlsError::BadPem { .. }), "{err}");
        assert!(err.to_string().contains("2 BEGIN lines but 1 END lines"), "{err}");
    }

    #[test]
    fn a_damaged_block_is_refused_not_skipped() {
        let damaged = "-----BEGIN CERTIFICATE-----\n%%% not base64 %%%\n-----END CERTIFICATE-----\n";
        assert!(matches!(certs_in(damaged), Err(TlsError::BadPem { .. })));
    }

    #[test]
    fn a_key_readable_by_group_or_others_is_named_with_its_mode_and_the_fix() {
        let key = Path::new("/etc/ward/server.key");
        assert_eq!(key_mode_warning(key, 0o100_600), None);
        assert_eq!(key_mode_warning(key, 0o400), None);
        let said = key_mode_warning(key, 0o100_644).unwrap_or_default();
        assert!(said.contains("/etc/ward/server.key") && said.contains("mode 0644"), "{said}");
        assert!(said.contains("every user") && said.contains("chmod 600 /etc/ward/server.key"), "{said}");
        let said = key_mode_warning(key, 0o640).unwrap_or_default();
        assert!(said.contains("its group") && said.contains("mode 0640"), "{said}");
    }

    #[test]
    fn a_file_without_a_certificate_says_so() {
        assert!(matches!(certs_in("hello\n"), Err(TlsError::NoCertificate { .. })));
    }
}
