//! The CLI's own login, kept in the secret store: one `bearer` entry per
//! profile, `ward-login/<profile>`, whose metadata says which server it
//! belongs to (a token is never sent to another server) and who it is.
//! `ward login` and `ward auth set-token` write it; `ward logout` removes it.
//!
//! Older versions kept sessions in a plaintext `sessions.json` in the
//! config dir. The first command that looks for a session moves the one for
//! its server into the store, removes it from the file, and deletes the
//! file once it is empty.

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use ward_secrets::{Entry, EntryId, EntryMeta, Kind, SecretString, SecretValue, Store};
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

/// A stored token for this profile: the token and what is known about it.
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

pub fn entry_id(profile: &str) -> anyhow::Result<EntryId> {
    Ok(EntryId::new(NAMESPACE, profile)?)
}

/// The entry that keeps `token` for `profile` on `server`.
pub fn entry(
    profile: &str,
    server: &str,
    token: SecretString,
    details: &[(&str, &str)],
    expires_at: Option<DateTime<Utc>>,
) -> anyhow::Result<Entry> {
    let id = entry_id(profile)?;
    let mut meta = EntryMeta::new(&id, Kind::Bearer, Utc::now());
    meta.provider = Some("ward".into());
    meta.expires_at = expires_at;
    meta.metadata.insert("server".into(), key(server));
    for (k, v) in details {
        meta.metadata.insert((*k).to_owned(), (*v).to_owned());
    }
    Ok(Entry { meta, secret: SecretValue::new(token) })
}

/// Saves a `ward login` session for `profile`.
pub fn save(store: &Store, profile: &str, server: &str, session: Session) -> anyhow::Result<()> {
    let Session { token, token_id, user_id, username, expires_at } = session;
    let details = [
        ("token_id", token_id.as_str()),
        ("user_id", user_id.as_str()),
        ("username", username.as_str()),
        ("source", "login"),
    ];
    store.put(entry(profile, server, SecretString::from(token), &details, Some(expires_at))?)?;
    Ok(())
}

/// The token stored for `profile`, whatever its server.
pub fn load(store: &Store, profile: &str) -> anyhow::Result<Option<Stored>> {
    Ok(store.get(&entry_id(profile)?)?.map(|e| Stored { token: e.secret.value, meta: e.meta }))
}

pub fn remove(store: &Store, profile: &str) -> anyhow::Result<bool> {
    Ok(store.delete(&entry_id(profile)?)?)
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

/// Moves the legacy session for `server` into the store (unless the
/// profile already has a token); returns a note for the user.
pub fn migrate_legacy(
    config_dir: &Path,
    store: &Store,
    profile: &str,
    server: &str,
) -> anyhow::Result<Option<String>> {
    let path = config_dir.join(LEGACY_FILE);
    let Some(mut file) = read_legacy(config_dir)? else { return Ok(None) };
    let Some(session) = file.sessions.remove(&key(server)) else { return Ok(None) };
    if load(store, profile)?.is_none() {
        save(store, profile, server, session)?;
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
    fn servers_match_without_a_trailing_slash() {
        assert_eq!(key(" http://h:1/ "), "http://h:1");
    }
}
