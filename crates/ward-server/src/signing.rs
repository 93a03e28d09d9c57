//! Signing keys for agent tokens, and the master key that seals them.
//!
//! Private keys are stored sealed with XChaCha20-Poly1305 under a 32-byte
//! master key (`WARD_MASTER_KEY`, base64, or `master.key` in the data dir,
//! mode 0600). Every node of one deployment needs the same master key.
//! The [`KeyRing`] keeps keys in memory and re-reads the store when it meets
//! a `kid` it does not know, or when its copy is older than [`REFRESH`] on
//! the server's [`Clock`].

use crate::clock::Clock;
use crate::entropy::OsEntropy;
use crate::error::{ApiError, ApiResult};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use ed25519_dalek::{SigningKey, VerifyingKey};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;
use tokio::time::Instant;
use ward_core::Entropy;
use ward_core::audit::AuditEntry;
use ward_core::id::KeyId;
use ward_store::{AgentStore, KeyRecord};
use zeroize::Zeroizing;

/// How long a node trusts its copy of the key list.
pub const REFRESH: Duration = Duration::from_secs(5);

/// The key that seals signing keys at rest. `Debug` is redacted.
#[derive(Clone)]
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(***)")
    }
}

/// A master key that cannot be loaded; the message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum MasterKeyError {
    #[error("WARD_MASTER_KEY must be 32 bytes in base64 (e.g. `head -c32 /dev/urandom | base64`)")]
    BadEnv,
    #[error("cannot read or create the master key file {path}: {error}")]
    File { path: String, error: std::io::Error },
    #[error("the master key file {0} is damaged: it must hold 32 bytes in base64")]
    BadFile(String),
}

impl MasterKey {
    /// A fresh random key (tests, and a first start).
    pub fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsEntropy.fill(bytes.as_mut());
        Self(bytes)
    }

    fn from_base64(text: &str) -> Option<Self> {
        let bytes = Zeroizing::new(B64.decode(text.trim()).ok()?);
        let array: [u8; 32] = bytes.as_slice().try_into().ok()?;
        Some(Self(Zeroizing::new(array)))
    }

    /// `WARD_MASTER_KEY` if given, else the file (created, 0600, on first
    /// use): [`NodeMasterKey::find`] then [`NodeMasterKey::persist`].
    pub fn load(env: Option<&str>, file: &Path) -> Result<Self, MasterKeyError> {
        NodeMasterKey::find(env, file)?.persist()
    }

    /// A short public name for this key (HMAC-derived, reveals nothing of
    /// it), so operators can tell whether two nodes hold the same one.
    pub fn fingerprint(&self) -> String {
        self.derive("fingerprint")[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// A 32-byte key for one `purpose` (e.g. `"audit-chain"`), derived as
    /// HMAC-SHA-256(master, "ward/" + purpose): keys for different purposes
    /// are independent, and none reveals the master key.
    pub fn derive(&self, purpose: &str) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(ward_core::keyed::mac(self.0.as_ref(), &[b"ward/", purpose.as_bytes()]))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(self.0.as_ref().into())
    }

    /// nonce (24 bytes) || ciphertext.
    pub fn seal(&self, plaintext: &[u8]) -> ApiResult<Vec<u8>> {
        let mut nonce = [0u8; 24];
        OsEntropy.fill(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .map_err(|_| ApiError::Internal("sealing a signing key failed".into()))?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    pub fn open(&self, sealed: &[u8]) -> ApiResult<Zeroizing<Vec<u8>>> {
        if sealed.len() < 24 {
            return Err(ApiError::Internal("a sealed signing key is too short".into()));
        }
        let (nonce, body) = sealed.split_at(24);
        self.cipher().decrypt(XNonce::from_slice(nonce), body).map(Zeroizing::new).map_err(|_| {
            ApiError::Internal(
                "cannot unseal a signing key: this server's master key differs from the one that sealed it \
                 (set the same WARD_MASTER_KEY on every node)"
                    .into(),
            )
        })
    }
}

/// Where a node's master key comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// `WARD_MASTER_KEY`.
    Env,
    /// The master key file, which exists.
    File,
    /// Neither: a new key, written to the file only by
    /// [`NodeMasterKey::persist`], once the start's checks have passed.
    New,
}

/// A node's master key, where it came from, and the file it lives in (or
/// would).
#[derive(Debug, Clone)]
pub struct NodeMasterKey {
    pub key: MasterKey,
    pub source: KeySource,
    pub file: PathBuf,
}

impl NodeMasterKey {
    /// `WARD_MASTER_KEY` if given, else the file, else a new random key.
    /// Reads only: nothing is written.
    pub fn find(env: Option<&str>, file: &Path) -> Result<Self, MasterKeyError> {
        let found = |key, source| Self { key, source, file: file.to_owned() };
        if let Some(value) = env.filter(|v| !v.is_empty()) {
            return MasterKey::from_base64(value)
                .map(|k| found(k, KeySource::Env))
                .ok_or(MasterKeyError::BadEnv);
        }
        match read_key_file(file)? {
            Some(key) => Ok(found(key, KeySource::File)),
            None => Ok(found(MasterKey::random(), KeySource::New)),
        }
    }

    /// Writes a new key to its file (directory 0700, file 0600, whole or
    /// not at all) and returns the key to use: if another process on the
    /// same data dir wrote one first, that one.
    pub fn persist(self) -> Result<MasterKey, MasterKeyError> {
        if self.source != KeySource::New {
            return Ok(self.key);
        }
        let shown = self.file.display().to_string();
        let io = |error| MasterKeyError::File { path: shown.clone(), error };
        if let Some(dir) = self.file.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(io)?;
        }
        let mut suffix = [0u8; 8];
        OsEntropy.fill(&mut suffix);
        let temp = self.file.with_extension(format!("tmp-{}", u64::from_le_bytes(suffix)));
        let written = write_new(&temp, &self.key).and_then(|()| std::fs::hard_link(&temp, &self.file));
        let _ = std::fs::remove_file(&temp);
        match written {
            Ok(()) => Ok(self.key),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read_key_file(&self.file)?.ok_or_else(|| MasterKeyError::BadFile(shown.clone()))
            }
            Err(e) => Err(io(e)),
        }
    }
}

/// The key in `file`, `None` when there is no such file.
fn read_key_file(file: &Path) -> Result<Option<MasterKey>, MasterKeyError> {
    let shown = || file.display().to_string();
    match std::fs::read_to_string(file) {
        Ok(text) => MasterKey::from_base64(&text).map(Some).ok_or_else(|| MasterKeyError::BadFile(shown())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(MasterKeyError::File { path: shown(), error }),
    }
}

/// Creates `path` (0600) holding `key` in base64, synced.
fn write_new(path: &Path, key: &MasterKey) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path)?;
    let text = Zeroizing::new(B64.encode(key.0.as_ref()));
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    f.sync_all()
}

/// The ids of the active signing keys in `store` that `master` cannot
/// unseal (sealed under another master key). Retired keys sign nothing
/// and are not opened.
pub async fn unsealable(store: &dyn AgentStore, master: &MasterKey) -> ApiResult<Vec<String>> {
    Ok(store
        .list_keys()
        .await?
        .into_iter()
        .filter(|k| k.retired_at.is_none() && master.open(&k.private_sealed).is_err())
        .map(|k| k.kid)
        .collect())
}

/// A key as the ring holds it.
#[derive(Clone)]
pub struct LoadedKey {
    pub kid: String,
    pub public: VerifyingKey,
    signing: Option<SigningKey>,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for LoadedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedKey")
            .field("kid", &self.kid)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

struct Cache {
    keys: Vec<LoadedKey>,
    loaded: Option<Instant>,
}

/// The signing keys of the deployment.
pub struct KeyRing {
    store: Arc<dyn AgentStore>,
    master: MasterKey,
    cache: RwLock<Cache>,
    clock: Clock,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").finish_non_exhaustive()
    }
}

impl KeyRing {
    pub fn new(store: Arc<dyn AgentStore>, master: MasterKey, clock: Clock) -> Self {
        Self { store, master, cache: RwLock::new(Cache { keys: Vec::new(), loaded: None }), clock }
    }

    async fn reload(&self) -> ApiResult<Vec<LoadedKey>> {
        let mut keys = Vec::new();
        for record in self.store.list_keys().await? {
            let public = VerifyingKey::from_bytes(&record.public_key)
                .map_err(|_| ApiError::Internal(format!("stored public key {} is invalid", record.kid)))?;
            let signing = match record.retired_at {
                Some(_) => None,
                None => {
                    let secret = self.master.open(&record.private_sealed)?;
                    let bytes: [u8; 32] = secret.as_slice().try_into().map_err(|_| {
                        ApiError::Internal(format!("stored signing key {} is damaged", record.kid))
                    })?;
                    Some(SigningKey::from_bytes(&bytes))
                }
            };
            keys.push(LoadedKey {
                kid: record.kid,
                public,
                signing,
                created_at: record.created_at,
                retired_at: record.retired_at,
            });
        }
        let mut cache = self.cache.write().await;
        cache.keys = keys.clone();
        cache.loaded = Some(self.clock.instant());
        Ok(keys)
    }

    /// Every key, oldest first, fresh enough.
    pub async fn keys(&self) -> ApiResult<Vec<LoadedKey>> {
        {
            let cache = self.cache.read().await;
            let now = self.clock.instant();
            if cache.loaded.is_some_and(|t| now.saturating_duration_since(t) < REFRESH) {
                return Ok(cache.keys.clone());
            }
        }
        self.reload().await
    }

    /// The key `kid`, re-reading the store once if it is not known.
    pub async fn find(&self, kid: &str) -> ApiResult<Option<LoadedKey>> {
        if let Some(k) = self.keys().await?.into_iter().find(|k| k.kid == kid) {
            return Ok(Some(k));
        }
        Ok(self.reload().await?.into_iter().find(|k| k.kid == kid))
    }

    /// The newest active key, made on first use.
    pub async fn current(&self, now: DateTime<Utc>) -> ApiResult<(String, SigningKey)> {
        let newest = self.keys().await?.into_iter().rev().find_map(|k| k.signing.map(|s| (k.kid, s)));
        match newest {
            Some(found) => Ok(found),
            None => {
                let record = self.rotate(now, |_| Vec::new()).await?;
                let key = self.find(&record.kid).await?.and_then(|k| k.signing);
                key.map(|s| (record.kid, s))
                    .ok_or_else(|| ApiError::Internal("a new signing key vanished".into()))
            }
        }
    }

    /// Adds a new signing key; older keys keep verifying. `events` (given
    /// the new key) are committed with it.
    pub async fn rotate(
        &self,
        now: DateTime<Utc>,
        events: impl FnOnce(&KeyRecord) -> Vec<AuditEntry> + Send,
    ) -> ApiResult<KeyRecord> {
        let mut seed = Zeroizing::new([0u8; 32]);
        OsEntropy.fill(seed.as_mut());
        let signing = SigningKey::from_bytes(&seed);
        let record = KeyRecord {
            kid: KeyId::generate(now, &mut OsEntropy).to_string(),
            public_key: signing.verifying_key().to_bytes(),
            private_sealed: self.master.seal(seed.as_ref())?,
            created_at: now,
            retired_at: None,
        };
        self.store.insert_key(&record, &events(&record)).await?;
        self.reload().await?;
        Ok(record)
    }

    /// Drops the in-memory copy so the next use re-reads the store (another
    /// node rotated or retired a key).
    pub async fn forget(&self) {
        self.cache.write().await.loaded = None;
    }

    /// Retires a key: everything it signed stops verifying. `events` are
    /// committed with the change, if it changes anything.
    pub async fn retire(&self, kid: &str, now: DateTime<Utc>, events: &[AuditEntry]) -> ApiResult<bool> {
        let changed = self.store.retire_key(kid, now, events).await?;
        self.reload().await?;
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_by_purpose_and_by_master_key() {
        let master = MasterKey::random();
        let audit = master.derive("audit-chain");
        assert_eq!(audit, master.derive("audit-chain"), "derivation is deterministic");
        assert_ne!(audit, master.derive("login-names"));
        assert_ne!(audit, MasterKey::random().derive("audit-chain"));
        assert_ne!(audit.as_ref(), master.0.as_ref(), "the master key itself is never handed out");
    }
}
