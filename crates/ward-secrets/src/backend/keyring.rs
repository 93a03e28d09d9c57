//! The OS keyring backend: Secret Service on Linux, Keychain on macOS,
//! Credential Manager on Windows (the `keyring` crate).
//!
//! Each entry's secret is one keyring item (service = the configured
//! service, default `ward`; account = `namespace/name`). Keyrings cannot
//! list their items without unlocking, so the metadata lives in an index
//! file beside the other ward data (no secret in it), written atomically
//! under the store lock. Every keyring call runs on its own thread and
//! gives up after a timeout: a keyring that does not answer (locked, no
//! D-Bus session, a prompt nobody sees) is an error that names the fix,
//! never a hang and never a switch to another backend.

use crate::atomic;
use crate::backend::{BackendKind, SecretBackend};
use crate::entry::{Entry, EntryId, EntryMeta, SecretValue};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// Talks to the OS keyring, one service name, with a timeout per call.
#[derive(Debug, Clone)]
pub struct KeyringClient {
    service: String,
    timeout: Duration,
}

impl KeyringClient {
    pub fn new(service: impl Into<String>, timeout_secs: u64) -> Self {
        Self { service: service.into(), timeout: Duration::from_secs(timeout_secs.max(1)) }
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    /// Whether the keyring answers at all (a lookup of an item that does
    /// not exist).
    pub fn probe(&self) -> Result<()> {
        self.get("ward-probe").map(|_| ())
    }

    pub fn get(&self, account: &str) -> Result<Option<String>> {
        self.call(account, |entry| match entry.get_password() {
            Ok(value) => Ok(Some(value)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(e),
        })
    }

    pub fn set(&self, account: &str, value: &SecretString) -> Result<()> {
        let value = value.clone();
        self.call(account, move |entry| entry.set_password(value.expose()))
    }

    pub fn delete(&self, account: &str) -> Result<bool> {
        self.call(account, |entry| match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring::Error::NoEntry) => Ok(false),
            Err(e) => Err(e),
        })
    }

    fn call<T: Send + 'static>(
        &self,
        account: &str,
        op: impl FnOnce(&keyring::Entry) -> keyring::Result<T> + Send + 'static,
    ) -> Result<T> {
        let (service, account) = (self.service.clone(), account.to_owned());
        let (tx, rx) = mpsc::channel();
        // The thread is left behind on a timeout; the process ends soon after.
        std::thread::spawn(move || {
            let _ = tx.send(keyring::Entry::new(&service, &account).and_then(|entry| op(&entry)));
        });
        match rx.recv_timeout(self.timeout) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(unavailable(describe(&e))),
            Err(_) => Err(unavailable(format!("it did not answer within {} s", self.timeout.as_secs()))),
        }
    }
}

/// The keyring's own words, without anything it might echo back.
fn describe(e: &keyring::Error) -> String {
    match e {
        keyring::Error::BadEncoding(_) => "an item is not valid UTF-8".into(),
        keyring::Error::Ambiguous(_) => "several items match one entry".into(),
        other => other.to_string(),
    }
}

fn unavailable(reason: String) -> Error {
    Error::Unavailable {
        backend: "keyring",
        reason,
        fix: "start and unlock a Secret Service (e.g. `gnome-keyring-daemon --unlock` in a D-Bus session), \
              or use another backend: --backend file, or `backend = \"file\"` in the profile"
            .into(),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Index {
    entries: Vec<EntryMeta>,
}

/// Entries as keyring items plus a metadata index file.
#[derive(Debug)]
pub struct KeyringBackend {
    client: KeyringClient,
    index: PathBuf,
}

impl KeyringBackend {
    pub fn new(client: KeyringClient, index: PathBuf) -> Self {
        Self { client, index }
    }

    fn account(id: &EntryId) -> String {
        id.to_string()
    }

    fn read_index(&self) -> Result<Index> {
        match std::fs::read(&self.index) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| Error::Damaged {
                path: self.index.clone(),
                detail: format!("unreadable index ({e})"),
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Index::default()),
            Err(source) => Err(Error::Io { what: "cannot read", path: self.index.clone(), source }),
        }
    }

    fn write_index(&self, index: &mut Index) -> Result<()> {
        index.entries.sort_by_key(EntryMeta::id);
        let bytes = serde_json::to_vec_pretty(index).map_err(|e| Error::Encrypt(e.to_string()))?;
        atomic::write(&self.index, &bytes)
    }
}

impl SecretBackend for KeyringBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Keyring
    }

    fn location(&self) -> String {
        format!("OS keyring, service `{}` (index: {})", self.client.service, self.index.display())
    }

    fn list(&self) -> Result<Vec<EntryMeta>> {
        Ok(self.read_index()?.entries)
    }

    fn get(&self, id: &EntryId) -> Result<Option<Entry>> {
        let Some(meta) = self.read_index()?.entries.into_iter().find(|m| m.id() == *id) else {
            return Ok(None);
        };
        let Some(text) = self.client.get(&Self::account(id))? else { return Ok(None) };
        let text = SecretString::from(text);
        let secret: SecretValue = serde_json::from_str(text.expose()).map_err(|_| Error::Damaged {
            path: PathBuf::from(format!("keyring item {}/{id}", self.client.service)),
            detail: "it is not a ward entry".into(),
        })?;
        Ok(Some(Entry { meta, secret }))
    }

    fn put(&self, entries: Vec<Entry>) -> Result<()> {
        let mut index = self.read_index()?;
        for entry in entries {
            let id = entry.id();
            let json = serde_json::to_string(&entry.secret).map_err(|e| Error::Encrypt(e.to_string()))?;
            self.client.set(&Self::account(&id), &SecretString::from(json))?;
            index.entries.retain(|m| m.id() != id);
            index.entries.push(entry.meta);
        }
        self.write_index(&mut index)
    }

    fn delete(&self, ids: &[EntryId]) -> Result<usize> {
        let mut index = self.read_index()?;
        let mut removed = 0;
        for id in ids {
            let listed = index.entries.iter().any(|m| m.id() == *id);
            if self.client.delete(&Self::account(id))? || listed {
                removed += 1;
            }
        }
        index.entries.retain(|m| !ids.contains(&m.id()));
        self.write_index(&mut index)?;
        Ok(removed)
    }
}
