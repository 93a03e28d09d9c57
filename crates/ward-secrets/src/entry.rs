//! What the store keeps: an [`Entry`] is non-secret metadata ([`EntryMeta`],
//! which `list` shows without unlocking anything) plus a [`SecretValue`].
//!
//! Entries are addressed by [`EntryId`] `namespace/name`. Both parts are
//! 1-128 characters of `A-Z a-z 0-9 . _ - @`, not starting with a dot, so
//! they fit a keyring account, a Vault path and a `${TOKEN:ns:name}`
//! reference unchanged.

use crate::error::Error;
use crate::secret::SecretString;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// How long before its expiry an OAuth access token is refreshed.
pub const REFRESH_MARGIN_SECS: i64 = 30;

/// `namespace/name`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryId {
    pub namespace: String,
    pub name: String,
}

impl EntryId {
    /// Checks both parts; the error says which one is wrong and why.
    pub fn new(namespace: &str, name: &str) -> Result<Self, Error> {
        check_part("namespace", namespace)?;
        check_part("name", name)?;
        Ok(Self { namespace: namespace.to_owned(), name: name.to_owned() })
    }
}

impl EntryId {
    /// A name made from `key`, a list of exact values (a host and a user
    /// name, a config file and a server …) that may hold any characters:
    /// `readable` with every other character made `_` (cut to 80
    /// characters), a dot, and 16 hex digits of SHA-256 over the key. The
    /// hash keeps two keys that read alike apart; the exact values belong
    /// in the metadata.
    pub fn derived(namespace: &str, readable: &str, key: &[&str]) -> Result<Self, Error> {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        for part in key {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let hex: String = hash.finalize().iter().take(8).map(|b| format!("{b:02x}")).collect();
        let readable: String = readable
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@') { c } else { '_' })
            .take(80)
            .collect();
        let readable = readable.trim_start_matches('.');
        let name = if readable.is_empty() { hex } else { format!("{readable}.{hex}") };
        Self::new(namespace, &name)
    }
}

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

fn check_part(what: &'static str, value: &str) -> Result<(), Error> {
    let valid_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
    let reason = if value.is_empty() {
        Some("it is empty")
    } else if value.len() > 128 {
        Some("it is longer than 128 characters")
    } else if value.starts_with('.') {
        Some("it starts with a dot")
    } else if !value.chars().all(valid_char) {
        Some("only letters, digits and . _ - @ are allowed")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName { what, value: value.to_owned(), reason }),
        None => Ok(()),
    }
}

/// The type of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Bearer,
    ApiKey,
    #[serde(rename = "oauth")]
    OAuth,
    Basic,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Bearer, Kind::ApiKey, Kind::OAuth, Kind::Basic];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::ApiKey => "api-key",
            Self::OAuth => "oauth",
            Self::Basic => "basic",
        }
    }

    /// The namespace an entry of this type lands in when none is given.
    pub fn default_namespace(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::ApiKey => "api-key",
            Self::OAuth => "oauth",
            Self::Basic => "generic",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| Error::Invalid(format!("unknown type `{s}`: use bearer, api-key, oauth or basic")))
    }
}

/// Everything about an entry except its secret. Safe to list, print and
/// keep in plaintext indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryMeta {
    pub namespace: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// The user name of a `basic` entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// OAuth: where a refresh token is exchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// OAuth: whether a refresh token is stored (the token itself is secret).
    #[serde(default)]
    pub refreshable: bool,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl EntryMeta {
    /// A fresh entry's metadata, created and updated `now`.
    pub fn new(id: &EntryId, kind: Kind, now: DateTime<Utc>) -> Self {
        Self {
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            kind,
            provider: None,
            created_at: now,
            updated_at: now,
            expires_at: None,
            username: None,
            token_url: None,
            client_id: None,
            refreshable: false,
            metadata: BTreeMap::new(),
        }
    }

    pub fn id(&self) -> EntryId {
        EntryId { namespace: self.namespace.clone(), name: self.name.clone() }
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    /// An OAuth entry that has (nearly) expired and can be refreshed.
    pub fn needs_refresh(&self, now: DateTime<Utc>) -> bool {
        self.kind == Kind::OAuth
            && self.refreshable
            && self.token_url.is_some()
            && self.expires_at.is_some_and(|at| at <= now + Duration::seconds(REFRESH_MARGIN_SECS))
    }
}

/// The secret part: the token, key, password or access token in `value`;
/// OAuth entries may add a refresh token and a client secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretValue {
    pub value: SecretString,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<SecretString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<SecretString>,
}

impl SecretValue {
    pub fn new(value: SecretString) -> Self {
        Self { value, refresh_token: None, client_secret: None }
    }
}

/// One stored credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub meta: EntryMeta,
    pub secret: SecretValue,
}

impl Entry {
    pub fn id(&self) -> EntryId {
        self.meta.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_with_separators_or_blanks_are_refused() {
        for bad in ["", "a/b", "a:b", "a b", ".hidden", &"x".repeat(129)] {
            assert!(EntryId::new("ns", bad).is_err(), "{bad:?}");
        }
        assert!(EntryId::new("api-key", "openai.prod@me_1").is_ok());
    }

    #[test]
    fn derived_names_are_valid_and_keep_alike_keys_apart() {
        let a = EntryId::derived("git", "alice@h:1/x y", &["https", "h:1", "x y"]).expect("valid");
        let b = EntryId::derived("git", "alice@h:1/x y", &["https", "h:1x", " y"]).expect("valid");
        assert!(a.name.starts_with("alice@h_1_x_y."), "{a}");
        assert_ne!(a, b);
        assert_eq!(a, EntryId::derived("git", "alice@h:1/x y", &["https", "h:1", "x y"]).expect("valid"));
        assert!(EntryId::derived("git", &".".repeat(300), &[]).is_ok());
    }

    #[test]
    fn types_parse_from_their_cli_names() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>().expect("parses"), kind);
        }
        assert!("token".parse::<Kind>().is_err());
    }

    #[test]
    fn an_oauth_entry_needs_refresh_shortly_before_it_expires() {
        let now = Utc::now();
        let id = EntryId::new("oauth", "gh").expect("valid");
        let mut meta = EntryMeta::new(&id, Kind::OAuth, now);
        meta.refreshable = true;
        meta.token_url = Some("http://127.0.0.1/token".into());
        meta.expires_at = Some(now + Duration::seconds(10));
        assert!(meta.needs_refresh(now));
        meta.expires_at = Some(now + Duration::hours(1));
        assert!(!meta.needs_refresh(now));
    }

    #[test]
    fn debug_of_an_entry_hides_the_secret() {
        let id = EntryId::new("bearer", "x").expect("valid");
        let entry = Entry {
            meta: EntryMeta::new(&id, Kind::Bearer, Utc::now()),
            secret: SecretValue::new(SecretString::new("tok-123")),
        };
        assert!(!format!("{entry:?}").contains("tok-123"));
    }
}
