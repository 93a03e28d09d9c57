//! The cached JWKS: ward's public signing keys by `kid`, fetched from
//! `/.well-known/jwks.json`, and the issuer signed tokens must name.
//!
//! An unknown `kid` refetches the set, at most once per `min_refresh`
//! (concurrent askers wait for the one fetch in flight); past that limit
//! the caller asks ward instead of refusing, so a key rotation never fails
//! a request. A `key` event forgets its key at once and a `reset` forgets
//! them all (keys may have been retired while the stream was away).
//!
//! The issuer is the configured one, else the RFC 8414 metadata's
//! (`/.well-known/oauth-authorization-server`), else — when the server has
//! no `[server] issuer` and answers 404 there — `ward`, what such a server
//! writes in `iss`.

use crate::{Client, Error};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::VerifyingKey;
use std::collections::HashMap;
use std::sync::RwLock;

/// `iss` of tokens minted by a server without `[server] issuer`.
pub(crate) const DEFAULT_ISSUER: &str = "ward";

pub(crate) struct Jwks {
    keys: RwLock<HashMap<String, VerifyingKey>>,
    /// When the set was last fetched (clock ticks), held across the fetch so
    /// that only one is in flight.
    fetched: tokio::sync::Mutex<Option<u64>>,
    min_refresh_ms: u64,
    issuer: RwLock<Option<String>>,
}

/// What asking for a key found.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Lookup {
    Found(VerifyingKey),
    /// Not in the set, even after a fetch (or a fetch was not allowed yet).
    Unknown,
}

impl Jwks {
    pub(crate) fn new(min_refresh_ms: u64, issuer: Option<String>) -> Self {
        Self {
            keys: RwLock::default(),
            fetched: tokio::sync::Mutex::new(None),
            min_refresh_ms,
            issuer: RwLock::new(issuer),
        }
    }

    fn cached(&self, kid: &str) -> Option<VerifyingKey> {
        self.keys.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(kid).copied()
    }

    /// The key named `kid`: from the cache, else from a fetch of the set if
    /// the last one is at least `min_refresh` old. Counts fetches in `fetches`.
    pub(crate) async fn key(
        &self,
        client: &Client,
        kid: &str,
        ticks_ms: impl Fn() -> u64,
        fetches: &std::sync::atomic::AtomicU64,
    ) -> Result<Lookup, Error> {
        if let Some(key) = self.cached(kid) {
            return Ok(Lookup::Found(key));
        }
        let mut fetched = self.fetched.lock().await;
        if let Some(key) = self.cached(kid) {
            return Ok(Lookup::Found(key));
        }
        let now = ticks_ms();
        if fetched.is_some_and(|at| now.saturating_sub(at) < self.min_refresh_ms) {
            return Ok(Lookup::Unknown);
        }
        fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let set = parse(&client.jwks().await?);
        *fetched = Some(now);
        let found = set.get(kid).copied();
        *self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner) = set;
        Ok(found.map_or(Lookup::Unknown, Lookup::Found))
    }

    /// Forgets one key (it was retired).
    pub(crate) fn forget(&self, kid: &str) {
        self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner).remove(kid);
    }

    /// Forgets every key; the next signed token refetches the set.
    pub(crate) fn clear(&self) {
        self.keys.write().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// The issuer signed tokens must name: configured, discovered once, or
    /// [`DEFAULT_ISSUER`].
    pub(crate) async fn issuer(&self, client: &Client) -> Result<String, Error> {
        if let Some(issuer) = self.issuer.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone() {
            return Ok(issuer);
        }
        let issuer = match client.oauth_metadata().await {
            Ok(metadata) => metadata.issuer,
            Err(Error::Api { status: 404, .. }) => DEFAULT_ISSUER.to_owned(),
            Err(e) => return Err(e),
        };
        *self.issuer.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(issuer.clone());
        Ok(issuer)
    }
}

/// The Ed25519 keys of a JWKS document; entries of another type or that do
/// not decode are skipped (they cannot verify a ward token anyway).
pub(crate) fn parse(jwks: &serde_json::Value) -> HashMap<String, VerifyingKey> {
    let Some(keys) = jwks.get("keys").and_then(|k| k.as_array()) else {
        return HashMap::new();
    };
    keys.iter()
        .filter(|k| k.get("kty").and_then(|v| v.as_str()) == Some("OKP"))
        .filter(|k| k.get("crv").and_then(|v| v.as_str()) == Some("Ed25519"))
        .filter_map(|k| {
            let kid = k.get("kid")?.as_str()?;
            let x: [u8; 32] = B64.decode(k.get("x")?.as_str()?).ok()?.try_into().ok()?;
            Some((kid.to_owned(), VerifyingKey::from_bytes(&x).ok()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    #[test]
    fn only_ed25519_keys_with_a_kid_are_kept() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let doc = serde_json::json!({"keys": [
            ward_core::signed::jwk("key_a", &key),
            {"kty": "RSA", "kid": "key_rsa", "n": "AQAB", "e": "AQAB"},
            {"kty": "OKP", "crv": "Ed25519", "kid": "key_short", "x": "AAAA"},
            {"kty": "OKP", "crv": "Ed25519", "x": B64.encode(key.as_bytes())},
        ]});
        let keys = parse(&doc);
        assert_eq!(keys.len(), 1);
        assert_eq!(keys.get("key_a"), Some(&key));
        assert!(parse(&serde_json::json!({"nokeys": []})).is_empty());
    }
}
