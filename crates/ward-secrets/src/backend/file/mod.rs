//! The age-encrypted file backend: every entry in one file (see
//! [`format`]), encrypted to an X25519 identity kept as [`key`] says.
//!
//! Reads decrypt the whole file; writes decrypt, change and re-encrypt it,
//! then replace it atomically ([`crate::atomic`]). A wrong key or a damaged
//! file is an error before anything is written, so the file stays
//! byte-for-byte as it was.

pub mod format;
pub mod key;

use crate::atomic;
use crate::backend::{Backend, BackendKind};
use crate::entry::{Entry, EntryId, EntryMeta};
use crate::error::{Error, Result};
use age::x25519;
use format::{Header, Payload};
use key::KeySource;
use std::path::PathBuf;
use std::sync::OnceLock;

pub struct FileBackend {
    path: PathBuf,
    key: KeySource,
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
    pub fn new(path: PathBuf, key: KeySource) -> Self {
        Self { path, key, identity: OnceLock::new() }
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

    /// The decrypted entries; an empty payload when there is no file yet.
    fn payload(&self) -> Result<Payload> {
        let Some(bytes) = self.read()? else { return Ok(Payload::default()) };
        let (header, ciphertext) = format::split(&bytes).map_err(|d| self.damaged(d))?;
        let identity = self.identity(false)?;
        if identity.to_public().to_string() != header.recipient {
            return Err(Error::WrongKey {
                path: self.path.clone(),
                reason: format!(
                    "the key in {} is not the one this store was encrypted with",
                    self.key.location()
                ),
                fix: "point the config at the right key (`[profiles.NAME.file]` key / identity)".into(),
            });
        }
        let plain = age::decrypt(identity, ciphertext).map_err(|e| match e {
            age::DecryptError::NoMatchingKeys => Error::WrongKey {
                path: self.path.clone(),
                reason: "the key does not open it".into(),
                fix: "point the config at the right key".into(),
            },
            other => self.damaged(format!("decryption failed ({other})")),
        })?;
        let plain = zeroize::Zeroizing::new(plain);
        // serde's message could quote a secret: name the position only.
        serde_json::from_slice(&plain).map_err(|e| {
            self.damaged(format!(
                "the decrypted entries are unreadable (line {}, column {})",
                e.line(),
                e.column()
            ))
        })
    }

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
        let bytes = format::join(&header, &ciphertext).map_err(|e| Error::Encrypt(e.to_string()))?;
        atomic::write(&self.path, &bytes)
    }
}

impl Backend for FileBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::File
    }

    fn location(&self) -> String {
        format!("{} (key: {}, {})", self.path.display(), self.key.mode.as_str(), self.key.location())
    }

    fn list(&self) -> Result<Vec<EntryMeta>> {
        let Some(bytes) = self.read()? else { return Ok(Vec::new()) };
        let (header, _) = format::split(&bytes).map_err(|d| self.damaged(d))?;
        Ok(header.entries)
    }

    fn get(&self, id: &EntryId) -> Result<Option<Entry>> {
        // Unknown names are answered from the index, without unlocking.
        if !self.list()?.iter().any(|m| m.id() == *id) {
            return Ok(None);
        }
        Ok(self.payload()?.entries.into_iter().find(|e| e.id() == *id))
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
