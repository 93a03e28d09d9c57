//! The shown-once hand-off, carried by the browser rather than kept by a
//! node. A form that issues a token (create, rotate, a service user's key)
//! answers with a redirect to `/ui/shown/{slot}` (post/redirect/get) and
//! a cookie that holds the token sealed with XChaCha20-Poly1305 under a
//! key derived from the master key (`ui-shown`), so any node that shares
//! the master key can show it: behind a load balancer without sticky
//! sessions the redirect may land anywhere.
//!
//! The sealed cookie is bound (as associated data) to the session that
//! created the token and to its slot, and carries the moment it was
//! sealed: another session's cookie, a cookie moved to another slot, an
//! edited one or one older than [`TTL_SECONDS`] opens to nothing. The
//! cookie (`cookie::shown`) is `HttpOnly; SameSite=Strict`, `Secure`
//! under TLS, sent only to its own slot's page and lives [`TTL_SECONDS`];
//! the page that shows the token clears it, so a reload shows nothing.
//! The token string exists in the clear only in the response that shows
//! it; nothing else in the dashboard holds or renders one.

use crate::authority::Issued;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ward_core::{Entropy, PlainToken, TokenId};
use zeroize::{Zeroize, Zeroizing};

/// How long a token waits for its page (the cookie's `Max-Age`, and
/// checked again against the sealed time).
pub const TTL_SECONDS: i64 = 120;
/// A sealed cookie longer than this would not be kept by every browser.
const MAX_SEALED: usize = 3800;
const NONCE: usize = 24;

/// What happened, for the page's heading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Heading {
    Created,
    Rotated,
    ServiceUserCreated,
    ServiceKeyRotated,
}

impl Heading {
    pub fn text(self) -> &'static str {
        match self {
            Heading::Created => "Token created",
            Heading::Rotated => "Token rotated",
            Heading::ServiceUserCreated => "Service user created: its key",
            Heading::ServiceKeyRotated => "Service user key rotated",
        }
    }
}

/// A token just issued, on its way to its one showing.
#[derive(Debug)]
pub struct Waiting {
    pub issued: Issued,
    pub heading: Heading,
    /// A line about the token it replaced, for a rotation.
    pub note: Option<String>,
}

/// What the shown-once page renders; the token is zeroed on drop.
#[derive(Debug)]
pub struct Shown {
    pub token: PlainToken,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub heading: Heading,
    pub note: Option<String>,
}

/// The sealed plaintext.
#[derive(Serialize, Deserialize)]
struct Sealed {
    token: String,
    id: String,
    name: String,
    kind: String,
    scopes: Vec<String>,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    heading: Heading,
    note: Option<String>,
    /// When it was sealed, by the server's clock.
    at: DateTime<Utc>,
}

impl Drop for Sealed {
    fn drop(&mut self) {
        self.token.zeroize();
    }
}

/// Whether `slot` is one [`new_slot`] could have made (so it is safe in
/// a cookie's `Path`).
pub fn valid_slot(slot: &str) -> bool {
    slot.len() == 32 && slot.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A fresh slot name: 16 random bytes, hex.
pub fn new_slot() -> String {
    super::csrf::nonce()
}

fn cipher(state: &AppState) -> XChaCha20Poly1305 {
    let key = state.master.derive("ui-shown");
    XChaCha20Poly1305::new(key.as_ref().into())
}

/// What the seal is bound to: the session and the slot.
fn bound_to(session: &TokenId, slot: &str) -> Vec<u8> {
    [b"ward/ui-shown\0".as_slice(), session.as_str().as_bytes(), b"\0", slot.as_bytes()].concat()
}

/// Seals `waiting` for `session`'s page at `slot`: the cookie's value
/// (base64url of nonce || ciphertext).
pub fn seal(state: &AppState, session: &TokenId, slot: &str, waiting: Waiting) -> ApiResult<String> {
    let Waiting { issued, heading, note } = waiting;
    let record = &issued.record;
    let sealed = Sealed {
        token: issued.plain.expose().to_owned(),
        id: record.id.to_string(),
        name: record.name.as_str().to_owned(),
        kind: record.kind.as_str().to_owned(),
        scopes: record.scopes.iter().map(|s| s.as_str().to_owned()).collect(),
        created_at: record.created_at,
        expires_at: record.expires_at,
        heading,
        note,
        at: state.now(),
    };
    let plaintext = Zeroizing::new(
        serde_json::to_vec(&sealed).map_err(|_| ApiError::Internal("encoding a shown-once token".into()))?,
    );
    let mut nonce = [0u8; NONCE];
    crate::entropy::OsEntropy.fill(&mut nonce);
    let aad = bound_to(session, slot);
    let body = cipher(state)
        .encrypt(XNonce::from_slice(&nonce), Payload { msg: &plaintext, aad: &aad })
        .map_err(|_| ApiError::Internal("sealing a shown-once token failed".into()))?;
    let value = URL_SAFE_NO_PAD.encode([nonce.as_slice(), &body].concat());
    if value.len() > MAX_SEALED {
        return Err(ApiError::invalid(
            "the new token holds too many scopes to hand to the page; it was created: revoke it, \
             or create it with `ward token create`, which prints it",
        ));
    }
    Ok(value)
}

/// Opens the cookie `value` for `session`'s page at `slot`: `None` when
/// it was sealed for another session or slot, edited, sealed under
/// another master key, or is older than [`TTL_SECONDS`].
pub fn open(state: &AppState, session: &TokenId, slot: &str, value: &str) -> Option<Shown> {
    let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
    if raw.len() <= NONCE {
        return None;
    }
    let (nonce, body) = raw.split_at(NONCE);
    let aad = bound_to(session, slot);
    let plaintext = Zeroizing::new(
        cipher(state).decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad: &aad }).ok()?,
    );
    let sealed: Sealed = serde_json::from_slice(&plaintext).ok()?;
    let age = (state.now() - sealed.at).num_seconds();
    if !(0..TTL_SECONDS).contains(&age) {
        return None;
    }
    Some(Shown {
        token: PlainToken::parse(&sealed.token).ok()?,
        id: sealed.id.clone(),
        name: sealed.name.clone(),
        kind: sealed.kind.clone(),
        scopes: sealed.scopes.clone(),
        created_at: sealed.created_at,
        expires_at: sealed.expires_at,
        heading: sealed.heading,
        note: sealed.note.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::valid_slot;

    #[test]
    fn only_a_slot_this_module_makes_is_valid() {
        assert!(valid_slot(&super::new_slot()));
        assert!(!valid_slot("abc"));
        assert!(!valid_slot(&"A".repeat(32)));
        assert!(!valid_slot(&format!("{};Path=/", "a".repeat(23))));
    }
}
