//! From a profile to a [`SecretStore`]: which backend, where its data is, and
//! pinning the choice on first use.
//!
//! The backend is, in order: the one asked for (`--backend` /
//! `WARD_BACKEND`), the one pinned in the profile, or, on first use, the
//! encrypted file when `WARD_PASSPHRASE` is set, else the keyring if one
//! answers, else the encrypted file. The first write
//! pins the choice (and the file backend's key mode) in `config.toml`, so
//! a keyring that stops answering later is an error, never a silent move
//! to the file (or the other way round).

use crate::backend::file::FileBackend;
use crate::backend::file::key::{KeyMode, KeySource, PassphraseSource};
use crate::backend::file::upgraded::Upgraded;
use crate::backend::keyring::{KeyringBackend, KeyringClient};
use crate::backend::vault::{VaultBackend, VaultSettings};
use crate::backend::{BackendKind, SecretStore};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::secret::SecretString;
use std::path::PathBuf;

/// How the backend was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// `--backend` or `WARD_BACKEND`.
    Requested,
    /// `backend = …` in the profile.
    Pinned,
    /// Nothing said: probed now (and pinned by the first write).
    Automatic,
}

impl Choice {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Requested => "asked for with --backend / WARD_BACKEND",
            Self::Pinned => "pinned in the config",
            Self::Automatic => "chosen automatically, not pinned yet",
        }
    }
}

/// An open store and how its backend was chosen.
#[derive(Debug)]
pub struct Opened {
    pub store: SecretStore,
    pub choice: Choice,
}

/// Picks the backend (without opening it).
pub fn choose(config: &Config, requested: Option<BackendKind>) -> (BackendKind, Choice) {
    if let Some(kind) = requested {
        return (kind, Choice::Requested);
    }
    if let Some(kind) = config.profile.backend {
        return (kind, Choice::Pinned);
    }
    // WARD_PASSPHRASE says "an encrypted file unlocked by this" (headless
    // machines, CI); otherwise a keyring that answers is preferred.
    let passphrase = std::env::var_os("WARD_PASSPHRASE").is_some_and(|p| !p.is_empty());
    let kind = if !passphrase && keyring_client(config).probe().is_ok() {
        BackendKind::Keyring
    } else {
        BackendKind::File
    };
    (kind, Choice::Automatic)
}

/// Opens the store of the profile.
pub fn open(
    config: &Config,
    requested: Option<BackendKind>,
    passphrase: Box<dyn PassphraseSource>,
) -> Result<Opened> {
    let (kind, choice) = choose(config, requested);
    Ok(Opened { store: open_kind(config, kind, passphrase)?, choice })
}

/// Records the backend in the profile unless one is pinned; returns
/// whether the config changed. Call before the first write.
pub fn pin(config: &Config, store: &SecretStore) -> Result<bool> {
    if config.profile.backend.is_some() {
        return Ok(false);
    }
    let mut settings = vec![("", "backend", store.kind().as_str())];
    let mode = key_mode(config);
    if store.kind() == BackendKind::File {
        settings.push(("file", "key", mode.as_str()));
    }
    config.pin(&settings)
}

pub fn open_kind(
    config: &Config,
    kind: BackendKind,
    passphrase: Box<dyn PassphraseSource>,
) -> Result<SecretStore> {
    let data = &config.paths.data_dir;
    Ok(match kind {
        BackendKind::File => {
            let path = file_path(config);
            let mode = key_mode(config);
            let key_path = config.profile.file.identity.clone().unwrap_or_else(|| {
                config.paths.config_dir.join(match mode {
                    KeyMode::Passphrase => "identity.age",
                    _ => "identity.txt",
                })
            });
            let key = KeySource { mode, path: key_path, passphrase, keyring: keyring_client(config) };
            let upgraded = Upgraded::new(config.paths.config_dir.join("authenticated-stores"));
            let lock = FileBackend::lock_path(&path);
            SecretStore::new(Box::new(FileBackend::new(path, key, upgraded)), lock)
        }
        BackendKind::Keyring => {
            let client = keyring_client(config);
            let service = client.service().to_owned();
            let index = data.join(format!("keyring-{service}.index.json"));
            SecretStore::new(
                Box::new(KeyringBackend::new(client, index)),
                data.join(format!("keyring-{service}.lock")),
            )
        }
        BackendKind::Vault => {
            let settings = vault_settings(config)?;
            SecretStore::new(Box::new(VaultBackend::new(settings)), data.join("vault.lock"))
        }
    })
}

fn file_path(config: &Config) -> PathBuf {
    config.profile.file.path.clone().unwrap_or_else(|| config.paths.data_dir.join("secrets.age"))
}

/// The pinned key mode; else, for a new store, a passphrase when
/// `WARD_PASSPHRASE` is set and an identity file otherwise.
fn key_mode(config: &Config) -> KeyMode {
    if let Some(mode) = config.profile.file.key {
        return mode;
    }
    if config.paths.config_dir.join("identity.age").exists() {
        return KeyMode::Passphrase;
    }
    if config.paths.config_dir.join("identity.txt").exists() {
        return KeyMode::Identity;
    }
    match std::env::var_os("WARD_PASSPHRASE") {
        Some(p) if !p.is_empty() => KeyMode::Passphrase,
        _ => KeyMode::Identity,
    }
}

pub fn keyring_client(config: &Config) -> KeyringClient {
    let k = &config.profile.keyring;
    KeyringClient::new(k.service.clone().unwrap_or_else(|| "ward".into()), k.timeout_secs.unwrap_or(5))
}

fn env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| std::env::var(n).ok().filter(|v| !v.trim().is_empty()))
}

pub fn vault_settings(config: &Config) -> Result<VaultSettings> {
    let v = &config.profile.vault;
    let unavailable = |reason: &str, fix: &str| Error::Unavailable {
        backend: "vault",
        reason: reason.to_owned(),
        fix: fix.to_owned(),
    };
    let address = v.address.clone().or_else(|| env(&["VAULT_ADDR", "BAO_ADDR"])).ok_or_else(|| {
        unavailable(
            "no address",
            "set VAULT_ADDR (or BAO_ADDR), or `address` under [profiles.NAME.vault] in the config",
        )
    })?;
    let token = env(&["VAULT_TOKEN", "BAO_TOKEN"])
        .or_else(|| {
            let file = dirs::home_dir()?.join(".vault-token");
            std::fs::read_to_string(file).ok().map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
        })
        .ok_or_else(|| {
            unavailable("no token", "set VAULT_TOKEN (or BAO_TOKEN), or log in with `vault login`")
        })?;
    Ok(VaultSettings {
        address: address.trim_end_matches('/').to_owned(),
        token: SecretString::from(token),
        mount: v.mount.clone().unwrap_or_else(|| "secret".into()),
        prefix: v.prefix.clone().unwrap_or_else(|| "ward".into()),
    })
}
