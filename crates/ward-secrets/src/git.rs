//! git's credential-helper protocol (`git help credential`), answered from
//! the store: `credential.helper = "!ward git-credential"`.
//!
//! git writes `key=value` lines ending with a blank line; `get` answers
//! `username=` / `password=` lines, or nothing when ward has no usable
//! credential (git then asks elsewhere). Unknown operations are ignored, as
//! git asks of helpers.
//!
//! Credentials are `basic` entries of the `git` namespace, one per
//! protocol, host, path (git sends one with `credential.useHttpPath`) and
//! user name, so one host keeps several accounts and, with
//! `useHttpPath`, one credential per repository. The exact values live in
//! the metadata (`protocol`, `host`, `path`, the user name); the entry's
//! name only has to be unique ([`EntryId::derived`]). A lookup matches as
//! git's own `credential-store` does: the protocol and host must be the
//! ones asked for, and a path or user name git sent must be the stored
//! one. An entry without a protocol never answers. Of several matches the
//! most recently updated answers.
//!
//! A line break or NUL in any value would let it write protocol lines of
//! its own (`password=x\nusername=evil`): such values are refused when
//! stored ([`check_entry`] for `ward secret set`) and never emitted. An
//! expired entry is never handed out; an expired OAuth entry is refreshed
//! first.

use crate::backend::{Refresher, SecretStore};
use crate::entry::{Entry, EntryId, EntryMeta, Kind, SecretValue};
use crate::error::{Error, Result};
use crate::secret::SecretString;
use chrono::{DateTime, Utc};

pub const NAMESPACE: &str = "git";

/// The attributes git sent.
#[derive(Default)]
pub struct Request {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub path: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub password_expiry_utc: Option<i64>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("path", &self.path)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Refuses a value that holds CR, LF or NUL, naming only what it is.
pub fn check_value(what: &str, value: &str) -> Result<()> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(Error::Invalid(format!(
            "the {what} holds a line break or NUL, which git's credential protocol cannot carry; nothing was stored"
        )));
    }
    Ok(())
}

/// Checks an entry bound for the git namespace: its user name, secret and
/// metadata values.
pub fn check_entry(entry: &Entry) -> Result<()> {
    if let Some(username) = &entry.meta.username {
        check_value("user name", username)?;
    }
    check_value("secret value", entry.secret.value.expose())?;
    for (key, value) in &entry.meta.metadata {
        check_value(&format!("metadata value `{key}`"), value)?;
    }
    Ok(())
}

impl Request {
    /// Reads `key=value` lines up to a blank line; unknown keys are skipped,
    /// empty values are absent.
    pub fn parse(input: &str) -> Self {
        let mut request = Self::default();
        for line in input.lines() {
            if line.is_empty() {
                break;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            let text = || Some(value.to_owned()).filter(|v| !v.is_empty());
            match key {
                "protocol" => request.protocol = text(),
                "host" => request.host = text(),
                "path" => request.path = text(),
                "username" => request.username = text(),
                "password" => request.password = Some(SecretString::new(value)),
                "password_expiry_utc" => request.password_expiry_utc = value.parse().ok(),
                _ => {}
            }
        }
        request
    }

    /// Whether `meta` is a git credential this request may be answered with.
    fn matches(&self, meta: &EntryMeta) -> bool {
        let (Some(protocol), Some(host)) = (&self.protocol, &self.host) else { return false };
        let stored = |key: &str| meta.metadata.get(key);
        meta.namespace == NAMESPACE
            && stored("protocol") == Some(protocol)
            && stored("host") == Some(host)
            && self.path.as_ref().is_none_or(|p| stored("path") == Some(p))
            && self.username.as_ref().is_none_or(|u| meta.username.as_ref() == Some(u))
    }

    /// Whether `meta` is stored under exactly this request's key.
    fn same_key(&self, meta: &EntryMeta) -> bool {
        let stored = |key: &str| meta.metadata.get(key);
        meta.namespace == NAMESPACE
            && stored("protocol") == self.protocol.as_ref()
            && stored("host") == self.host.as_ref()
            && stored("path") == self.path.as_ref()
            && meta.username == self.username
    }

    /// The entry this request's credential is stored as.
    pub fn entry_id(&self) -> Result<EntryId> {
        let host = self.host.as_deref().unwrap_or_default();
        let readable = match &self.username {
            Some(user) => format!("{user}@{host}"),
            None => host.to_owned(),
        };
        let part = |v: &Option<String>| v.clone().unwrap_or_default();
        let key = [part(&self.protocol), part(&self.host), part(&self.path), part(&self.username)];
        EntryId::derived(NAMESPACE, &readable, &key.each_ref().map(String::as_str))
    }

    /// Refuses a request whose values hold CR, LF or NUL.
    pub fn check(&self) -> Result<()> {
        let fields = [("protocol", &self.protocol), ("host", &self.host), ("path", &self.path)];
        for (what, value) in fields.into_iter().chain([("user name", &self.username)]) {
            check_value(what, value.as_deref().unwrap_or_default())?;
        }
        check_value("password", self.password.as_ref().map(SecretString::expose).unwrap_or_default())
    }
}

/// Runs one operation; returns what to print on stdout.
pub fn run(operation: &str, store: &SecretStore, refresher: &dyn Refresher, input: &str) -> Result<String> {
    let request = Request::parse(input);
    if request.protocol.is_none() || request.host.is_none() {
        return Ok(String::new());
    }
    match operation {
        "get" => get(store, refresher, &request),
        "store" => save(store, &request).map(|()| String::new()),
        "erase" => erase(store, &request).map(|()| String::new()),
        _ => Ok(String::new()),
    }
}

fn get(store: &SecretStore, refresher: &dyn Refresher, request: &Request) -> Result<String> {
    let now = Utc::now();
    let newest = store
        .list()?
        .into_iter()
        .filter(|m| request.matches(m) && (!m.is_expired(now) || m.needs_refresh(now)))
        .max_by_key(|m| m.updated_at);
    let Some(meta) = newest else { return Ok(String::new()) };
    let entry = match store.get_fresh(&meta.id(), refresher) {
        Ok(Some(entry)) => entry,
        // A refresh that fails leaves git to ask elsewhere; never a stale token.
        Ok(None) | Err(_) => return Ok(String::new()),
    };
    if entry.meta.is_expired(Utc::now()) || !request.matches(&entry.meta) {
        return Ok(String::new());
    }
    Ok(answer(&entry, request).unwrap_or_default())
}

/// The `get` answer, or `None` when a value would break the protocol.
fn answer(entry: &Entry, request: &Request) -> Option<String> {
    let mut out = String::new();
    if let Some(username) = entry.meta.username.as_ref().or(request.username.as_ref()) {
        check_value("user name", username).ok()?;
        out.push_str(&format!("username={username}\n"));
    }
    let password = entry.secret.value.expose();
    check_value("password", password).ok()?;
    out.push_str(&format!("password={password}\n"));
    if let Some(at) = entry.meta.expires_at {
        out.push_str(&format!("password_expiry_utc={}\n", at.timestamp()));
    }
    Some(out)
}

fn save(store: &SecretStore, request: &Request) -> Result<()> {
    let Some(password) = request.password.clone() else { return Ok(()) };
    request.check()?;
    let same: Vec<EntryMeta> = store.list()?.into_iter().filter(|m| request.same_key(m)).collect();
    for meta in &same {
        // git stores back what `get` gave it: leave that entry (and its
        // refresh token) as it is.
        if store.get(&meta.id())?.is_some_and(|e| e.secret.value == password) {
            return Ok(());
        }
    }
    let id = request.entry_id()?;
    store.update(&id, |current| {
        let now = Utc::now();
        let mut meta = EntryMeta::new(&id, Kind::Basic, now);
        if let Some(old) = &current {
            meta.created_at = old.meta.created_at;
        }
        meta.provider = Some("git".into());
        meta.username = request.username.clone();
        let fields = [("protocol", &request.protocol), ("host", &request.host), ("path", &request.path)];
        for (key, value) in fields {
            if let Some(value) = value {
                meta.metadata.insert(key.into(), value.clone());
            }
        }
        meta.expires_at = request.password_expiry_utc.and_then(|t| DateTime::from_timestamp(t, 0));
        Ok(Some(Entry { meta, secret: SecretValue::new(password) }))
    })?;
    // The same credential under another name (an older ward named entries
    // after the host alone) is replaced, not left to answer too.
    for meta in same.iter().filter(|m| m.id() != id) {
        store.delete(&meta.id())?;
    }
    Ok(())
}

fn erase(store: &SecretStore, request: &Request) -> Result<()> {
    for meta in store.list()?.into_iter().filter(|m| request.matches(m)) {
        let Some(entry) = store.get(&meta.id())? else { continue };
        if request.password.as_ref().is_none_or(|p| *p == entry.secret.value) {
            store.delete(&meta.id())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
