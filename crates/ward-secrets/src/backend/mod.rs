//! The [`SecretBackend`] trait, one module per backend, and [`SecretStore`], which
//! wraps a backend with the cross-process lock.
//!
//! Backends do no locking of their own: [`SecretStore`] takes the lock around
//! every write, and around the re-read + refresh + save of an OAuth entry,
//! so two processes never lose each other's changes and an expired token
//! is refreshed once however many commands ask for it at the same time.

pub mod file;
pub mod keyring;
pub mod vault;

use crate::entry::{Entry, EntryId, EntryMeta};
use crate::error::{Error, Result};
use crate::lock::{self, LockGuard};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// Which backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    Keyring,
    File,
    Vault,
}

impl BackendKind {
    pub const ALL: [BackendKind; 3] = [BackendKind::Keyring, BackendKind::File, BackendKind::Vault];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keyring => "keyring",
            Self::File => "file",
            Self::Vault => "vault",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        BackendKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("unknown backend `{s}`: use keyring, file or vault")))
    }
}

/// A place that keeps entries. Reads may run unlocked (writes replace data
/// atomically); writes are only called by [`SecretStore`] under its lock.
pub trait SecretBackend: fmt::Debug {
    fn kind(&self) -> BackendKind;
    /// Where the data is, for people: a path, a keyring service, a URL.
    fn location(&self) -> String;
    /// Metadata of every entry, without unlocking or reading any secret.
    fn list(&self) -> Result<Vec<EntryMeta>>;
    fn get(&self, id: &EntryId) -> Result<Option<Entry>>;
    /// Writes each entry, replacing one with the same id.
    fn put(&self, entries: Vec<Entry>) -> Result<()>;
    /// Deletes the entries; returns how many existed.
    fn delete(&self, ids: &[EntryId]) -> Result<usize>;
}

/// Refreshes an OAuth entry (see [`crate::oauth`]); a trait so tests and
/// other callers can supply their own.
pub trait Refresher {
    fn refresh(&self, entry: &Entry) -> Result<Entry>;
}

/// A backend behind the cross-process lock.
#[derive(Debug)]
pub struct SecretStore {
    backend: Box<dyn SecretBackend>,
    lock_path: PathBuf,
}

impl SecretStore {
    pub fn new(backend: Box<dyn SecretBackend>, lock_path: PathBuf) -> Self {
        Self { backend, lock_path }
    }

    pub fn kind(&self) -> BackendKind {
        self.backend.kind()
    }

    pub fn location(&self) -> String {
        self.backend.location()
    }

    pub fn lock(&self) -> Result<LockGuard> {
        lock::acquire(&self.lock_path)
    }

    pub fn list(&self) -> Result<Vec<EntryMeta>> {
        let mut entries = self.backend.list()?;
        entries.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(entries)
    }

    /// The id of `name`: in `namespace` if given, else in the one namespace
    /// that has it (an error when none or several do).
    pub fn resolve(&self, namespace: Option<&str>, name: &str) -> Result<EntryId> {
        if let Some(ns) = namespace {
            return EntryId::new(ns, name);
        }
        if let Some((ns, name)) = name.split_once('/') {
            return EntryId::new(ns, name);
        }
        let found: Vec<_> = self.list()?.into_iter().filter(|m| m.name == name).collect();
        match found.as_slice() {
            [] => Err(Error::NotFound(name.to_owned())),
            [one] => Ok(one.id()),
            many => Err(Error::Ambiguous {
                name: name.to_owned(),
                namespaces: many.iter().map(|m| m.namespace.as_str()).collect::<Vec<_>>().join(", "),
            }),
        }
    }

    /// The entry as stored, even when expired.
    pub fn get(&self, id: &EntryId) -> Result<Option<Entry>> {
        self.backend.get(id)
    }

    /// The entry, refreshed first if it is an OAuth entry that has expired.
    /// The refresh runs under the lock after re-reading the entry, so when
    /// several processes ask at once one refreshes and the others read its
    /// result.
    pub fn get_fresh(&self, id: &EntryId, refresher: &dyn Refresher) -> Result<Option<Entry>> {
        let Some(entry) = self.backend.get(id)? else { return Ok(None) };
        if !entry.meta.needs_refresh(Utc::now()) {
            return Ok(Some(entry));
        }
        let _guard = self.lock()?;
        let Some(entry) = self.backend.get(id)? else { return Ok(None) };
        if !entry.meta.needs_refresh(Utc::now()) {
            return Ok(Some(entry));
        }
        let refreshed = refresher.refresh(&entry)?;
        self.backend.put(vec![refreshed.clone()])?;
        Ok(Some(refreshed))
    }

    pub fn put(&self, entry: Entry) -> Result<()> {
        self.put_many(vec![entry])
    }

    /// Writes entries in one locked step; an existing entry keeps its
    /// `created_at`.
    pub fn put_many(&self, mut entries: Vec<Entry>) -> Result<()> {
        let _guard = self.lock()?;
        let existing = self.backend.list()?;
        for entry in &mut entries {
            if let Some(old) = existing.iter().find(|m| m.id() == entry.id()) {
                entry.meta.created_at = old.created_at;
            }
        }
        self.backend.put(entries)
    }

    /// Changes one entry under the lock: `change` sees the current entry
    /// (or none) and returns what to store (or none to leave it).
    pub fn update(
        &self,
        id: &EntryId,
        change: impl FnOnce(Option<Entry>) -> Result<Option<Entry>>,
    ) -> Result<Option<Entry>> {
        let _guard = self.lock()?;
        let current = self.backend.get(id)?;
        let next = change(current)?;
        if let Some(entry) = &next {
            self.backend.put(vec![entry.clone()])?;
        }
        Ok(next)
    }

    pub fn delete(&self, id: &EntryId) -> Result<bool> {
        let _guard = self.lock()?;
        Ok(self.backend.delete(std::slice::from_ref(id))? > 0)
    }

    /// Deletes every entry (of `namespace` if given); returns how many.
    pub fn clear(&self, namespace: Option<&str>) -> Result<usize> {
        self.clear_where(|m| namespace.is_none_or(|ns| m.namespace == ns))
    }

    /// Deletes, in one locked step, every entry whose metadata `doomed`
    /// picks; returns how many.
    pub fn clear_where(&self, doomed: impl Fn(&EntryMeta) -> bool) -> Result<usize> {
        let _guard = self.lock()?;
        let ids: Vec<_> = self.backend.list()?.into_iter().filter(|m| doomed(m)).map(|m| m.id()).collect();
        if ids.is_empty() {
            return Ok(0);
        }
        self.backend.delete(&ids)
    }
}
