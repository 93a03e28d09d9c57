//! The age-encrypted file backend: every entry in one file (see
//! [`format`](mod@format)), encrypted to an X25519 identity kept as [`key`] says and
//! authenticated with a tag keyed from that identity ([`seal`]).
//!
//! Reads check the tag, then decrypt the whole file; writes decrypt, change
//! and re-encrypt it, then replace it atomically ([`crate::atomic`]). A
//! wrong key, a damaged file or a file that fails its tag is an error
//! before anything is decrypted or written, so the file stays
//! byte-for-byte as it was.
//!
//! A version 1 (untagged) file is migrated the first time it is unlocked:
//! by the write that unlocked it, or, for a read, by a rewrite under the
//! store lock when no other command holds it. Once a store has been
//! written tagged ([`upgraded`]), an untagged file in its place is refused.

pub mod format;
pub mod key;
pub mod seal;
pub mod upgraded;

use crate::atomic;
use crate::backend::{BackendKind, SecretBackend};
use crate::entry::{Entry, EntryId, EntryMeta};
use crate::error::{Error, Result};
use crate::lock;
use age::x25519;
use format::{Header, Payload};
use key::KeySource;
use std::path::PathBuf;
use std::sync::OnceLock;
use upgraded::Upgraded;

pub struct FileBackend {
    path: PathBuf,
    key: KeySource,
    upgraded: Upgraded,
    /// The unlocked key, so one command unlocks (and prompts) once.
    identity: OnceLock<x25519::Identity>,
}

impl std::fmt::Debug for FileBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBackend")
            .field("path", &self.path)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl FileBackend {
    /// The store at `path`; `upgraded` records which stores are tagged.
    pub fn new(path: PathBuf, key: KeySource, upgraded: Upgraded) -> Self {
        Self { path, key, upgraded, identity: OnceLock::new() }
    }

    /// The lock file that [`crate::SecretStore`] takes around this store's writes.
    pub fn lock_path(path: &std::path::Path) -> PathBuf {
        let mut lock = path.as_os_str().to_owned();
        lock.push(".lock");
        PathBuf::from(lock)
    }

    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    pub fn key(&self) -> &KeySource {
        &self.key
    }

    fn read(&self) -> Result<Option<Vec<u8>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Io { what: "cannot read", path: self.path.clone(), source }),
        }
    }

    fn identity(&self, create: bool) -> Result<&x25519::Identity> {
        if let Some(identity) = self.identity.get() {
            return Ok(identity);
        }
        let identity = if create { self.key.load_or_create()? } else { self.key.load()? };
        Ok(self.identity.get_or_init(|| identity))
    }

    fn damaged(&self, detail: impl Into<String>) -> Error {
        Error::Damaged { path: self.path.clone(), detail: detail.into() }
    }

    fn forged(&self, reason: &'static str) -> Error {
        Error::Forged { path: self.path.clone(), reason }
    }

    /// The decrypted entries; an empty payload when there is no file yet.
    fn payload(&self) -> Result<Payload> {
        let Some(bytes) = self.read()? else { return Ok(Payload::default()) };
        Ok(self.unlock(&bytes)?.0)
    }

    /// Checks and decrypts a store file; also says whether it is an
    /// untagged version 1 file (accepted only for a store never saved
    /// tagged).
    fn unlock(&self, bytes: &[u8]) -> Result<(Payload, bool)> {
        let parts = format::split(bytes).map_err(|d| self.damaged(d))?;
        let identity = self.identity(false)?;
        if identity.to_public().to_string() != parts.header.recipient {
            return Err(Error::WrongKey {
                path: self.path.clone(),
                reason: format!(
                    "the key in {} is not the one this store was encrypted with",
                    self.key.location()
                ),
                fix: "point the config at the right key (`[profiles.NAME.file]` key / identity)".into(),
            });
        }
        match &parts.tag {
            Some(tag) if !seal::verify(identity, parts.signed, parts.ciphertext, tag) => {
                return Err(
                    self.forged("it was not written with your key, or it was changed or damaged since")
                );
            }
            None if self.upgraded.contains(&self.path)? => {
                return Err(self.forged(
                    "it is in the old untagged format, but this store was already saved in the authenticated one",
                ));
            }
            _ => {}
        }
        let plain = age::decrypt(identity, parts.ciphertext).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => Error::WrongKey {
                path: self.path.clone(),
                reason: "the key does not open it".into(),
                fix: "point the config at the right key".into(),
            },
            other => self.damaged(format!("decryption failed ({other})")),
        })?;
        let plain = zeroize::Zeroizing::new(plain);
        // serde's message could quote a secret: name the position only.
        let payload = serde_json::from_slice(&plain).map_err(|e| {
            self.damaged(format!(
                "the decrypted entries are unreadable (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Ok((payload, parts.tag.is_none()))
    }

    /// Rewrites a version 1 file read as `read` in the tagged format, under
    /// the store lock, unless another command holds the lock (it is writing,
    /// and its write migrates) or the file changed since. A failed rewrite
    /// leaves the old file and is tried again at the next unlock.
    fn migrate(&self, read: &[u8], payload: &Payload) {
        let Ok(Some(_guard)) = lock::try_acquire(&Self::lock_path(&self.path)) else { return };
        if matches!(self.read(), Ok(Some(now)) if now == read) {
            let _ = self.save(payload);
        }
    }

    /// Writes the tagged file, then records the store as upgraded. Called
    /// under the store lock.
    fn save(&self, payload: &Payload) -> Result<()> {
        let identity = self.identity(true)?;
        let recipient = identity.to_public();
        let plain =
            zeroize::Zeroizing::new(serde_json::to_vec(payload).map_err(|e| Error::Encrypt(e.to_string()))?);
        let ciphertext = age::encrypt(&recipient, &plain).map_err(|e| Error::Encrypt(e.to_string()))?;
        let header = Header {
            recipient: recipient.to_string(),
            entries: payload.entries.iter().map(|e| e.meta.clone()).collect(),
        };
        let signed = format::signed_lines(&header).map_err(|e| Error::Encrypt(e.to_string()))?;
        let tag = seal::tag(identity, &signed, &ciphertext);
        atomic::write(&self.path, &format::join(&signed, &tag, &ciphertext))?;
        self.upgraded.record(&self.path)
    }
}

impl SecretBackend for FileBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::File
    }

    fn location(&self) -> String {
        format!("{} (key: {}, {})", self.path.display(), self.key.mode.as_str(), self.key.location())
    }

    fn list(&self) -> Result<Vec<EntryMeta>> {
        let Some(bytes) = self.read()? else { return Ok(Vec::new()) };
        let parts = format::split(&bytes).map_err(|d| self.damaged(d))?;
        Ok(parts.header.entries)
    }

    fn get(&self, id: &EntryId) -> Result<Option<Entry>> {
        // Unknown names are answered from the index, without unlocking.
        if !self.list()?.iter().any(|m| m.id() == *id) {
            return Ok(None);
        }
        let Some(bytes) = self.read()? else { return Ok(None) };
        let (payload, untagged) = self.unlock(&bytes)?;
        if untagged {
            self.migrate(&bytes, &payload);
        }
        Ok(payload.entries.into_iter().find(|e| e.id() == *id))
    }

    fn put(&self, entries: Vec<Entry>) -> Result<()> {
        let mut payload = self.payload()?;
        for entry in entries {
            match payload.entries.iter_mut().find(|e| e.id() == entry.id()) {
                Some(slot) => *slot = entry,
                None => payload.entries.push(entry),
            }
        }
        payload.entries.sort_by_key(Entry::id);
        self.save(&payload)
    }

    fn delete(&self, ids: &[EntryId]) -> Result<usize> {
        if !self.list()?.iter().any(|m| ids.contains(&m.id())) {
            return Ok(0);
        }
        let mut payload = self.payload()?;
        let before = payload.entries.len();
        payload.entries.retain(|e| !ids.contains(&e.id()));
        let removed = before - payload.entries.len();
        self.save(&payload)?;
        Ok(removed)
    }
}
