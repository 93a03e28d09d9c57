//! docker's credential-helper protocol (`docker-credential-ward`), as
//! docker-credential-helpers defines it:
//!
//! - `store`: stdin `{"ServerURL","Username","Secret"}`;
//! - `get`: stdin is the server URL, stdout `{"ServerURL","Username","Secret"}`;
//! - `erase`: stdin is the server URL;
//! - `list`: stdout `{"<server URL>": "<username>", …}`;
//! - a miss prints `credentials not found in native keychain` on stdout and
//!   exits 1, which is what docker and its libraries look for.
//!
//! Credentials are `basic` entries of the `docker` namespace; the name is
//! the server URL with every character outside `A-Za-z0-9.-` turned into
//! `_`, and the exact URL is kept in the `server_url` metadata.

use crate::backend::SecretStore;
use crate::entry::{Entry, EntryId, EntryMeta, Kind, SecretValue};
use crate::error::Result;
use crate::secret::SecretString;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const NAMESPACE: &str = "docker";
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// What a helper run prints on stdout, and whether it failed (exit 1).
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub stdout: String,
    pub failed: bool,
}

impl Answer {
    fn ok(stdout: String) -> Self {
        Self { stdout, failed: false }
    }
    fn fail(message: &str) -> Self {
        Self { stdout: format!("{message}\n"), failed: true }
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials {
    #[serde(rename = "ServerURL")]
    server_url: String,
    username: String,
    secret: SecretString,
}

pub fn run(operation: &str, store: &SecretStore, input: &str) -> Result<Answer> {
    match operation {
        "store" => save(store, input),
        "get" => get(store, input.trim()),
        "erase" => erase(store, input.trim()),
        "list" => list(store),
        "version" => Ok(Answer::ok(format!("docker-credential-ward (ward) {}\n", env!("CARGO_PKG_VERSION")))),
        other => Ok(Answer::fail(&format!("Unknown credential action `{other}`"))),
    }
}

fn entry_id(server_url: &str) -> Option<EntryId> {
    let name: String = server_url
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') { c } else { '_' })
        .collect();
    EntryId::new(NAMESPACE, name.trim_start_matches('.')).ok()
}

fn find(store: &SecretStore, server_url: &str) -> Result<Option<Entry>> {
    let Some(id) = entry_id(server_url) else { return Ok(None) };
    Ok(store.get(&id)?.filter(|e| e.meta.metadata.get("server_url").is_some_and(|u| u == server_url)))
}

fn save(store: &SecretStore, input: &str) -> Result<Answer> {
    let Ok(creds) = serde_json::from_str::<Credentials>(input) else {
        return Ok(Answer::fail(
            "error reading credentials: expected {\"ServerURL\",\"Username\",\"Secret\"}",
        ));
    };
    if creds.server_url.trim().is_empty() {
        return Ok(Answer::fail("no credentials server URL"));
    }
    if creds.username.is_empty() {
        return Ok(Answer::fail("no credentials username"));
    }
    let Some(id) = entry_id(&creds.server_url) else {
        return Ok(Answer::fail("the server URL is too long to store"));
    };
    let mut meta = EntryMeta::new(&id, Kind::Basic, Utc::now());
    meta.provider = Some("docker".into());
    meta.username = Some(creds.username);
    meta.metadata.insert("server_url".into(), creds.server_url);
    store.put(Entry { meta, secret: SecretValue::new(creds.secret) })?;
    Ok(Answer::ok(String::new()))
}

fn get(store: &SecretStore, server_url: &str) -> Result<Answer> {
    let entry = find(store, server_url)?.filter(|e| !e.meta.is_expired(Utc::now()));
    let Some(entry) = entry else { return Ok(Answer::fail(NOT_FOUND)) };
    let creds = Credentials {
        server_url: server_url.to_owned(),
        username: entry.meta.username.clone().unwrap_or_default(),
        secret: entry.secret.value,
    };
    let json = serde_json::to_string(&creds).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    Ok(Answer::ok(format!("{json}\n")))
}

fn erase(store: &SecretStore, server_url: &str) -> Result<Answer> {
    match find(store, server_url)? {
        Some(entry) => {
            store.delete(&entry.id())?;
            Ok(Answer::ok(String::new()))
        }
        None => Ok(Answer::fail(NOT_FOUND)),
    }
}

fn list(store: &SecretStore) -> Result<Answer> {
    let all: BTreeMap<String, String> = store
        .list()?
        .into_iter()
        .filter(|m| m.namespace == NAMESPACE)
        .filter_map(|m| Some((m.metadata.get("server_url")?.clone(), m.username.clone().unwrap_or_default())))
        .collect();
    let json = serde_json::to_string(&all).map_err(|e| crate::Error::Invalid(e.to_string()))?;
    Ok(Answer::ok(format!("{json}\n")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_become_valid_names() {
        let id = entry_id("https://index.docker.io/v1/").expect("valid");
        assert_eq!(id.name, "https___index.docker.io_v1_");
        assert!(entry_id(&"x".repeat(200)).is_none());
    }
}
