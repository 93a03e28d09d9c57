//! git's credential-helper protocol (`git help credential`), answered from
//! the store: `credential.helper = "!ward git-credential"`.
//!
//! git writes `key=value` lines ending with a blank line; `get` answers
//! `username=` / `password=` lines, or nothing when ward has no usable
//! credential (git then asks elsewhere). Credentials are the entries of the
//! `git` namespace named after the host (`host:port` as `host_port`). An
//! expired entry is never handed out; an expired OAuth entry is refreshed
//! first. Unknown operations are ignored, as git asks of helpers.

use crate::backend::{Refresher, Store};
use crate::entry::{Entry, EntryId, EntryMeta, Kind, SecretValue};
use crate::error::Result;
use crate::secret::SecretString;
use chrono::{DateTime, Utc};

pub const NAMESPACE: &str = "git";

/// The attributes git sent.
#[derive(Default)]
pub struct Request {
    pub protocol: Option<String>,
    pub host: Option<String>,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub password_expiry_utc: Option<i64>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("protocol", &self.protocol)
            .field("host", &self.host)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// Reads `key=value` lines up to a blank line; unknown keys are skipped.
    pub fn parse(input: &str) -> Self {
        let mut request = Self::default();
        for line in input.lines() {
            if line.is_empty() {
                break;
            }
            let Some((key, value)) = line.split_once('=') else { continue };
            match key {
                "protocol" => request.protocol = Some(value.to_owned()),
                "host" => request.host = Some(value.to_owned()),
                "username" => request.username = Some(value.to_owned()),
                "password" => request.password = Some(SecretString::new(value)),
                "password_expiry_utc" => request.password_expiry_utc = value.parse().ok(),
                _ => {}
            }
        }
        request
    }

    /// The entry for this host, if git named one.
    pub fn entry_id(&self) -> Option<EntryId> {
        let host = self.host.as_deref().filter(|h| !h.is_empty())?;
        let name: String = host
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') { c } else { '_' })
            .collect();
        EntryId::new(NAMESPACE, &name).ok()
    }

    fn matches(&self, meta: &EntryMeta) -> bool {
        let same = |asked: &Option<String>, stored: Option<&String>| match (asked, stored) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        };
        same(&self.username, meta.username.as_ref()) && same(&self.protocol, meta.metadata.get("protocol"))
    }
}

/// Runs one operation; returns what to print on stdout.
pub fn run(operation: &str, store: &Store, refresher: &dyn Refresher, input: &str) -> Result<String> {
    let request = Request::parse(input);
    let Some(id) = request.entry_id() else { return Ok(String::new()) };
    match operation {
        "get" => get(store, refresher, &request, &id),
        "store" => save(store, &request, &id).map(|()| String::new()),
        "erase" => erase(store, &request, &id).map(|()| String::new()),
        _ => Ok(String::new()),
    }
}

fn get(store: &Store, refresher: &dyn Refresher, request: &Request, id: &EntryId) -> Result<String> {
    let Some(entry) = store.get(id)? else { return Ok(String::new()) };
    if !request.matches(&entry.meta) {
        return Ok(String::new());
    }
    let entry = match store.get_fresh(id, refresher) {
        Ok(Some(entry)) => entry,
        // A refresh that fails leaves git to ask elsewhere; never a stale token.
        Ok(None) | Err(_) => return Ok(String::new()),
    };
    if entry.meta.is_expired(Utc::now()) {
        return Ok(String::new());
    }
    let mut out = String::new();
    if let Some(username) = entry.meta.username.as_ref().or(request.username.as_ref()) {
        out.push_str(&format!("username={username}\n"));
    }
    out.push_str(&format!("password={}\n", entry.secret.value.expose()));
    if let Some(at) = entry.meta.expires_at {
        out.push_str(&format!("password_expiry_utc={}\n", at.timestamp()));
    }
    Ok(out)
}

fn save(store: &Store, request: &Request, id: &EntryId) -> Result<()> {
    let Some(password) = request.password.clone() else { return Ok(()) };
    store.update(id, |current| {
        // git stores back what `get` gave it: leave that entry (and its
        // refresh token) as it is.
        if current.as_ref().is_some_and(|e| e.secret.value == password) {
            return Ok(None);
        }
        let now = Utc::now();
        let mut meta = EntryMeta::new(id, Kind::Basic, now);
        if let Some(old) = &current {
            meta.created_at = old.meta.created_at;
        }
        meta.provider = Some("git".into());
        meta.username = request.username.clone();
        if let Some(protocol) = &request.protocol {
            meta.metadata.insert("protocol".into(), protocol.clone());
        }
        if let Some(host) = &request.host {
            meta.metadata.insert("host".into(), host.clone());
        }
        meta.expires_at = request.password_expiry_utc.and_then(|t| DateTime::from_timestamp(t, 0));
        Ok(Some(Entry { meta, secret: SecretValue::new(password) }))
    })?;
    Ok(())
}

fn erase(store: &Store, request: &Request, id: &EntryId) -> Result<()> {
    let Some(entry) = store.get(id)? else { return Ok(()) };
    let same_password = request.password.as_ref().is_none_or(|p| *p == entry.secret.value);
    if request.matches(&entry.meta) && same_password {
        store.delete(id)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_up_to_the_blank_line() {
        let r = Request::parse(
            "protocol=https\nhost=git.example.com:8443\nusername=me\npassword=p=w\n\nhost=x\n",
        );
        assert_eq!(r.protocol.as_deref(), Some("https"));
        assert_eq!(r.host.as_deref(), Some("git.example.com:8443"));
        assert_eq!(r.password.as_ref().map(SecretString::expose), Some("p=w"));
        assert_eq!(r.entry_id().map(|id| id.to_string()).as_deref(), Some("git/git.example.com_8443"));
    }

    #[test]
    fn debug_hides_the_password() {
        assert!(!format!("{:?}", Request::parse("password=hunter2\n")).contains("hunter2"));
    }
}
