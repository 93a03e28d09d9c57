//! CSRF tokens: `HMAC-SHA-256(key, purpose || value)` in hex, with a key
//! derived from the master key (`ui-csrf`) that never leaves the server.
//!
//! A signed-in form carries the MAC of its session's token id, so it is
//! good for that session only and ends with it. The sign-in form, before
//! there is a session, carries the MAC of a random nonce that a
//! `SameSite=Strict` cookie also holds (a signed double submit), so a
//! page elsewhere cannot sign a browser in to an account of its choosing.

use crate::state::AppState;
use ward_core::TokenId;

/// The name of the hidden field every state-changing form carries.
pub const FIELD: &str = "csrf";

fn mac(state: &AppState, purpose: &[u8], value: &[u8]) -> String {
    let key = state.master.derive("ui-csrf");
    let digest = ward_core::keyed::mac(key.as_ref(), &[purpose, b"\0", value]);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// The token of every form of the session whose credential is `session`.
pub fn for_session(state: &AppState, session: &TokenId) -> String {
    mac(state, b"session", session.as_str().as_bytes())
}

/// The token of the sign-in form whose cookie holds `nonce`.
pub fn for_login(state: &AppState, nonce: &str) -> String {
    mac(state, b"login", nonce.as_bytes())
}

/// Whether `given` is `expected`, in time that does not depend on where
/// they differ.
pub fn matches(expected: &str, given: Option<&str>) -> bool {
    let Some(given) = given else { return false };
    if given.len() != expected.len() {
        return false;
    }
    given.bytes().zip(expected.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

/// A fresh nonce for the sign-in cookie: 16 random bytes, hex.
pub fn nonce() -> String {
    use ward_core::Entropy;
    let mut buf = [0u8; 16];
    crate::entropy::OsEntropy.fill(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn only_the_same_token_matches() {
        assert!(matches("abcd", Some("abcd")));
        assert!(!matches("abcd", Some("abce")));
        assert!(!matches("abcd", Some("abc")));
        assert!(!matches("abcd", Some("")));
        assert!(!matches("abcd", None));
    }
}
