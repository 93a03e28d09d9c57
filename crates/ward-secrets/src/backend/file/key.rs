//! The file key: an age X25519 identity that decrypts the store file. It
//! lives in one of three places ([`KeyMode`]):
//!
//! - `identity`: a plain identity file, mode 0600 (refused when wider), in
//!   the format of `age-keygen`, so `age -d -i` can read it too;
//! - `passphrase`: the same identity, encrypted with a passphrase (age
//!   scrypt) in `identity.age`; the passphrase comes from `WARD_PASSPHRASE`
//!   or the caller's prompt. One scrypt unlock per command, however many
//!   entries it reads or writes;
//! - `keyring`: the identity as a keyring item.
//!
//! The key is created with the store and never overwritten.

use crate::atomic;
use crate::backend::keyring::KeyringClient;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use age::secrecy::ExposeSecret;
use age::x25519;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::str::FromStr;

/// Where the file key is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyMode {
    #[default]
    Identity,
    Passphrase,
    Keyring,
}

impl KeyMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Identity => "identity",
            Self::Passphrase => "passphrase",
            Self::Keyring => "keyring",
        }
    }
}

/// Why a passphrase is asked for: a new one is asked twice by prompts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Unlock,
    Create,
}

/// Supplies the passphrase: `WARD_PASSPHRASE`, or a prompt the CLI adds.
pub trait PassphraseSource: fmt::Debug {
    fn passphrase(&self, purpose: Purpose) -> Result<SecretString>;
}

/// `WARD_PASSPHRASE`, and nothing else.
#[derive(Debug, Default)]
pub struct EnvPassphrase;

impl PassphraseSource for EnvPassphrase {
    fn passphrase(&self, _: Purpose) -> Result<SecretString> {
        std::env::var("WARD_PASSPHRASE")
            .ok()
            .filter(|p| !p.is_empty())
            .map(SecretString::from)
            .ok_or_else(|| Error::NoPassphrase("WARD_PASSPHRASE is not set and there is no terminal".into()))
    }
}

/// The file key's location and how to unlock it.
#[derive(Debug)]
pub struct KeySource {
    pub mode: KeyMode,
    /// The identity file (`identity` mode) or the encrypted one (`passphrase`).
    pub path: PathBuf,
    pub passphrase: Box<dyn PassphraseSource>,
    pub keyring: KeyringClient,
}

const KEYRING_ACCOUNT: &str = "file-key";

impl KeySource {
    /// Where the key is, for people.
    pub fn location(&self) -> String {
        match self.mode {
            KeyMode::Keyring => format!("keyring item {}/{KEYRING_ACCOUNT}", self.keyring.service()),
            _ => self.path.display().to_string(),
        }
    }

    /// The existing key.
    pub fn load(&self) -> Result<x25519::Identity> {
        let text = match self.mode {
            KeyMode::Identity => {
                let text = read_key_file(&self.path)?;
                atomic::check_private(&self.path)?;
                text
            }
            KeyMode::Passphrase => self.unwrap_with_passphrase()?,
            KeyMode::Keyring => self.keyring.get(KEYRING_ACCOUNT)?.ok_or_else(|| Error::WrongKey {
                path: PathBuf::from(self.location()),
                reason: "the keyring has no ward file key".into(),
                fix: "restore the keyring, or set `key = \"identity\"` and the identity file in the config"
                    .into(),
            })?,
        };
        parse_identity(&text).ok_or_else(|| Error::Damaged {
            path: PathBuf::from(self.location()),
            detail: "it holds no age identity (AGE-SECRET-KEY-1…)".into(),
        })
    }

    /// The existing key, or a new one saved where this mode keeps it.
    pub fn load_or_create(&self) -> Result<x25519::Identity> {
        let exists = match self.mode {
            KeyMode::Keyring => self.keyring.get(KEYRING_ACCOUNT)?.is_some(),
            _ => self.path.exists(),
        };
        if exists {
            return self.load();
        }
        let identity = x25519::Identity::generate();
        let text = identity_file_text(&identity);
        match self.mode {
            KeyMode::Identity => create_file(&self.path, text.expose().as_bytes())?,
            KeyMode::Passphrase => {
                let passphrase = self.passphrase.passphrase(Purpose::Create)?;
                let recipient = age::scrypt::Recipient::new(passphrase.expose().to_owned().into());
                let sealed = age::encrypt(&recipient, text.expose().as_bytes())
                    .map_err(|e| Error::Encrypt(e.to_string()))?;
                create_file(&self.path, &sealed)?;
            }
            KeyMode::Keyring => self.keyring.set(KEYRING_ACCOUNT, &text)?,
        }
        Ok(identity)
    }

    fn unwrap_with_passphrase(&self) -> Result<String> {
        let sealed = std::fs::read(&self.path).map_err(|source| missing_key(&self.path, source))?;
        let passphrase = self.passphrase.passphrase(Purpose::Unlock)?;
        let identity = age::scrypt::Identity::new(passphrase.expose().to_owned().into());
        let plain = age::decrypt(&identity, &sealed).map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => Error::WrongKey {
                path: self.path.clone(),
                reason: "wrong passphrase".into(),
                fix: "try again with the right passphrase (WARD_PASSPHRASE or the prompt)".into(),
            },
            other => Error::Damaged { path: self.path.clone(), detail: other.to_string() },
        })?;
        String::from_utf8(plain)
            .map_err(|_| Error::Damaged { path: self.path.clone(), detail: "not text".into() })
    }
}

fn read_key_file(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| missing_key(path, source))
}

fn missing_key(path: &std::path::Path, source: std::io::Error) -> Error {
    if source.kind() == std::io::ErrorKind::NotFound {
        Error::WrongKey {
            path: path.to_owned(),
            reason: "the key file is missing, so the store cannot be decrypted".into(),
            fix: format!(
                "restore {} from your backup (ward never recreates a key for an existing store)",
                path.display()
            ),
        }
    } else {
        Error::Io { what: "cannot read", path: path.to_owned(), source }
    }
}

fn create_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent() {
        atomic::create_private_dir(dir)?;
    }
    let mut file = atomic::private_options().open(path).map_err(Error::io("cannot create", path))?;
    file.write_all(bytes).and_then(|()| file.sync_all()).map_err(Error::io("cannot write", path))
}

/// The identity in `age-keygen`'s file format.
fn identity_file_text(identity: &x25519::Identity) -> SecretString {
    SecretString::new(format!(
        "# created: {}\n# public key: {}\n{}\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        identity.to_public(),
        identity.to_string().expose_secret()
    ))
}

fn parse_identity(text: &str) -> Option<x25519::Identity> {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with("AGE-SECRET-KEY-1"))
        .and_then(|l| x25519::Identity::from_str(l).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Fixed(&'static str);
    impl PassphraseSource for Fixed {
        fn passphrase(&self, _: Purpose) -> Result<SecretString> {
            Ok(SecretString::new(self.0))
        }
    }

    fn source(mode: KeyMode, path: PathBuf, pass: &'static str) -> KeySource {
        KeySource {
            mode,
            path,
            passphrase: Box::new(Fixed(pass)),
            keyring: KeyringClient::new("ward-test", 1),
        }
    }

    #[test]
    fn an_identity_file_is_created_once_and_loads_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = source(KeyMode::Identity, dir.path().join("identity.txt"), "");
        let first = key.load_or_create().expect("creates");
        let again = key.load_or_create().expect("loads");
        assert_eq!(first.to_public().to_string(), again.to_public().to_string());
    }

    #[test]
    fn a_passphrase_key_refuses_the_wrong_passphrase() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("identity.age");
        source(KeyMode::Passphrase, path.clone(), "right").load_or_create().expect("creates");
        let err = source(KeyMode::Passphrase, path.clone(), "wrong").load().err().expect("refused");
        assert!(err.to_string().contains("wrong passphrase"), "{err}");
        assert!(source(KeyMode::Passphrase, path, "right").load().is_ok());
    }

    #[test]
    fn a_missing_key_file_is_not_silently_recreated_by_load() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = source(KeyMode::Identity, dir.path().join("nope"), "").load().err().expect("missing");
        assert!(err.hint().is_some_and(|h| h.contains("backup")), "{err}");
    }
}
