//! The CLI's own token, kept in the secret store: one `bearer` entry per
//! [`Slot`] — a config file, a profile in it, and a server — so logging in
//! to a second server, or storing a token under a second `--config` with the
//! same profile name, never replaces the first. The entry is
//! `ward-login/<profile>.<hash of the three>`; its metadata holds the exact
//! config path, profile and server (a token is never sent to another
//! server) and who it is. `ward login` and `ward auth set-token` write it;
//! `ward logout` removes it; `ward auth status` lists a profile's entries
//! from the metadata alone.
//!
//! Older versions kept one entry per profile, `ward-login/<profile>`: the
//! first command that looks for its server's token moves it into its slot.
//! Before that, sessions were in a plaintext `sessions.json` in the config
//! dir: the first command that looks for a session moves the one for its
//! server into the store, removes it from the file, and deletes the file
//! once it is empty.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use ward_secrets::{Entry, EntryId, EntryMeta, Kind, SecretStore, SecretString, SecretValue};
use zeroize::Zeroizing;

pub const NAMESPACE: &str = "ward-login";
const LEGACY_FILE: &str = "sessions.json";

/// One saved login. `Debug` never shows the token.
#[derive(Clone, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub token_id: String,
    pub user_id: String,
    pub username: String,
    pub expires_at: DateTime<Utc>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"***")
            .field("token_id", &self.token_id)
            .field("username", &self.username)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Where a stored token belongs: a config file (its absolute path), a
/// profile in it, and a server (without a trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub config: String,
    pub profile: String,
    pub server: String,
}

impl Slot {
    pub fn new(config_file: &Path, profile: &str, server: &str) -> Self {
        Self { config: absolute(config_file), profile: profile.to_owned(), server: key(server) }
    }

    pub fn entry_id(&self) -> anyhow::Result<EntryId> {
        Ok(EntryId::derived(NAMESPACE, &self.profile, &[&self.config, &self.profile, &self.server])?)
    }

    /// The one entry per profile that older versions kept.
    fn older_id(&self) -> anyhow::Result<EntryId> {
        Ok(EntryId::new(NAMESPACE, &self.profile)?)
    }

    /// Whether `meta` is an entry of this config file and profile (for any
    /// server), or the older entry of this profile.
    fn holds(&self, meta: &EntryMeta) -> bool {
        let field = |k: &str| meta.metadata.get(k).map(String::as_str);
        meta.namespace == NAMESPACE
            && match field("config") {
                Some(config) => config == self.config && field("profile") == Some(self.profile.as_str()),
                None => meta.name == self.profile,
            }
    }
}

/// `path` made absolute against the working directory, with `.` and `..`
/// resolved by name (symbolic links are not followed: the file may not
/// exist yet).
fn absolute(path: &Path) -> String {
    let joined = match std::env::current_dir() {
        Ok(cwd) if path.is_relative() => cwd.join(path),
        _ => path.to_owned(),
    };
    let mut clean = PathBuf::new();
    for part in joined.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean.display().to_string()
}

/// A stored token for a slot: the token and what is known about it.
#[derive(Debug)]
pub struct Stored {
    pub token: SecretString,
    pub meta: EntryMeta,
}

impl Stored {
    pub fn server(&self) -> Option<&str> {
        self.meta.metadata.get("server").map(String::as_str)
    }
}

/// The entry that keeps `token` for `slot`.
pub fn entry(
    slot: &Slot,
    token: SecretString,
    details: &[(&str, &str)],
    expires_at: Option<DateTime<Utc>>,
) -> anyhow::Result<Entry> {
    let id = slot.entry_id()?;
    let mut meta = EntryMeta::new(&id, Kind::Bearer, Utc::now());
    meta.provider = Some("ward".into());
    meta.expires_at = expires_at;
    for (k, v) in [("server", &slot.server), ("profile", &slot.profile), ("config", &slot.config)] {
        meta.metadata.insert(k.into(), v.clone());
    }
    for (k, v) in details {
        meta.metadata.insert((*k).to_owned(), (*v).to_owned());
    }
    Ok(Entry { meta, secret: SecretValue::new(token) })
}

/// Saves a `ward login` session in `slot`.
pub fn save(store: &SecretStore, slot: &Slot, session: Session) -> anyhow::Result<()> {
    let Session { token, token_id, user_id, username, expires_at } = session;
    let details = [
        ("token_id", token_id.as_str()),
        ("user_id", user_id.as_str()),
        ("username", username.as_str()),
        ("source", "login"),
    ];
    store.put(entry(slot, SecretString::from(token), &details, Some(expires_at))?)?;
    Ok(())
}

/// The token stored in `slot`, moving the older per-profile entry into it
/// first when that one belongs to the slot's server.
pub fn load(store: &SecretStore, slot: &Slot) -> anyhow::Result<Option<Stored>> {
    let id = slot.entry_id()?;
    if let Some(e) = store.get(&id)? {
        return Ok(Some(Stored { token: e.secret.value, meta: e.meta }));
    }
    let older = slot.older_id()?;
    let Some(old) = store.get(&older)? else { return Ok(None) };
    if old.meta.metadata.get("server") != Some(&slot.server) {
        return Ok(None);
    }
    let details: Vec<(&str, &str)> =
        old.meta.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let moved = entry(slot, old.secret.value.clone(), &details, old.meta.expires_at)?;
    store.put(moved.clone())?;
    store.delete(&older)?;
    Ok(Some(Stored { token: moved.secret.value, meta: moved.meta }))
}

pub fn remove(store: &SecretStore, slot: &Slot) -> anyhow::Result<bool> {
    Ok(store.delete(&slot.entry_id()?)?)
}

/// What is stored for a profile, one server each, from metadata only.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub server: String,
    pub source: Option<String>,
    pub username: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The entry, `ward-login/…`.
    pub name: String,
}

/// The tokens stored for `slot`'s config file and profile, whatever their
/// server (nothing is unlocked).
pub fn listed(store: &SecretStore, slot: &Slot) -> anyhow::Result<Vec<Listed>> {
    Ok(store
        .list()?
        .into_iter()
        .filter(|m| slot.holds(m))
        .map(|m| Listed {
            server: m.metadata.get("server").cloned().unwrap_or_default(),
            source: m.metadata.get("source").cloned(),
            username: m.metadata.get("username").cloned(),
            expires_at: m.expires_at,
            name: m.id().to_string(),
        })
        .collect())
}

#[derive(Default, Deserialize, Serialize)]
struct LegacyFile {
    #[serde(default)]
    sessions: BTreeMap<String, Session>,
}

/// Whether a legacy `sessions.json` has a session for `server`.
pub fn legacy_has(config_dir: &Path, server: &str) -> bool {
    read_legacy(config_dir).is_ok_and(|f| f.is_some_and(|f| f.sessions.contains_key(&key(server))))
}

/// Moves the legacy session for the slot's server into the store (unless
/// the slot already has a token); returns a note for the user.
pub fn migrate_legacy(config_dir: &Path, store: &SecretStore, slot: &Slot) -> anyhow::Result<Option<String>> {
    let path = config_dir.join(LEGACY_FILE);
    let server = &slot.server;
    let Some(mut file) = read_legacy(config_dir)? else { return Ok(None) };
    let Some(session) = file.sessions.remove(server) else { return Ok(None) };
    if load(store, slot)?.is_none() {
        save(store, slot, session)?;
    }
    if file.sessions.is_empty() {
        std::fs::remove_file(&path).with_context(|| format!("cannot remove {}", path.display()))?;
    } else {
        let json = Zeroizing::new(serde_json::to_vec_pretty(&file)?);
        ward_secrets::atomic::write(&path, &json)?;
    }
    Ok(Some(format!(
        "note: moved the login session for {server} from {} into the secret store ({})",
        path.display(),
        store.kind()
    )))
}

fn read_legacy(config_dir: &Path) -> anyhow::Result<Option<LegacyFile>> {
    let path = config_dir.join(LEGACY_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => Zeroizing::new(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    // The error names the file and the position only: serde_json could
    // quote a token from it.
    serde_json::from_slice(&bytes).map(Some).map_err(|e| {
        anyhow::anyhow!(
            "{} is damaged (line {}, column {}): delete it and run `ward login` again",
            path.display(),
            e.line(),
            e.column()
        )
    })
}

/// Servers are compared without a trailing slash: `http://h:1/` is `http://h:1`.
pub fn key(server: &str) -> String {
    server.trim().trim_end_matches('/').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_token() {
        let session = Session {
            token: "ward_u_secret".into(),
            token_id: "tok_1".into(),
            user_id: "usr_1".into(),
            username: "admin".into(),
            expires_at: Utc::now(),
        };
        assert!(!format!("{session:?}").contains("secret"));
    }

    #[test]
    fn a_damaged_legacy_file_is_an_error_that_does_not_quote_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join(LEGACY_FILE), r#"{"sessions":{"http://a":{"token":"ward_u_secret""#)
            .expect("writes");
        let err = read_legacy(dir.path()).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("damaged") && !err.contains("ward_u_secret"), "{err}");
    }

    #[test]
    fn a_slot_names_its_config_file_by_absolute_path() {
        let slot = Slot::new(Path::new("/a/./b/../config.toml"), "default", "http://h:1/");
        assert_eq!(slot.config, "/a/config.toml");
        assert_eq!(slot.server, "http://h:1");
        let other = Slot::new(Path::new("/a/other.toml"), "default", "http://h:1");
        let (a, b) = (slot.entry_id().expect("id"), other.entry_id().expect("id"));
        assert_ne!(a, b);
        assert!(a.name.starts_with("default."), "{a}");
    }

    #[test]
    fn servers_match_without_a_trailing_slash() {
        assert_eq!(key(" http://h:1/ "), "http://h:1");
    }
}
