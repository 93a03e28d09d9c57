//! Certificates for the TLS tests, made with `openssl` (which the tests
//! need; a missing one fails them): a private CA, and server certificates
//! it signs for 127.0.0.1 and localhost. Used by `transport.rs` (ward's
//! own HTTPS) and `pg_tls.rs` (a PostgreSQL server with `ssl = on`).

use crate::harness::text;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CA whose `ca.pem` and `ca.key` are in its directory.
pub struct Ca {
    dir: PathBuf,
}

impl Ca {
    /// Makes a CA (P-256, valid two days) in `dir`.
    pub fn new(dir: &Path) -> Self {
        new_key(
            dir,
            "ca.key",
            &[
                "-x509",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=ward test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Self { dir: dir.to_path_buf() }
    }

    /// The CA certificate, for clients to trust.
    pub fn pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// `NAME.pem` and `NAME.key` (mode 0600) in the CA's directory: a
    /// server certificate for 127.0.0.1 and localhost with subject
    /// CN=NAME, signed by this CA. Issuing a name again replaces its files.
    pub fn issue(&self, name: &str) -> (PathBuf, PathBuf) {
        let ext = format!("{name}.ext");
        std::fs::write(
            self.dir.join(&ext),
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
        )
        .expect("write the extensions");
        let (key, csr, pem) = (format!("{name}.key"), format!("{name}.csr"), format!("{name}.pem"));
        let subject = format!("/CN={name}");
        new_key(&self.dir, &key, &["-out", &csr, "-subj", &subject]);
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
        let key = self.dir.join(key);
        set_mode(&key, 0o600);
        (self.dir.join(pem), key)
    }
}

/// Sets a file's permission bits.
pub fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `openssl req` making a new P-256 key into `key` (in `dir`), with `args`
/// saying what to make of it (a self-signed certificate, a request).
fn new_key(dir: &Path, key: &str, args: &[&str]) {
    let mut all =
        vec!["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key];
    all.extend_from_slice(args);
    openssl(dir, &all);
}

/// Runs `openssl ARGS` in `dir` and insists on success.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("openssl is needed for this test and could not run: {e}"));
    assert!(out.status.success(), "openssl {args:?} failed: {}", text(&out.stderr));
}
