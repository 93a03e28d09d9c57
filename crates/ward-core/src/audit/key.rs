//! The key of the audit chain, and where a chain written before the key
//! existed meets the keyed chain.
//!
//! Each event's hash is `HMAC-SHA-256(key, prev_hash || canonical)`. The key
//! is passed in (the server derives it from its master key), never stored in
//! the database, so someone who can only write the database cannot compute
//! a hash that verifies: editing an event and recomputing the chain after it
//! shows.
//!
//! Chains begun before the key existed hashed with plain SHA-256. Those
//! events stay as they are ("unkeyed"); the first server with a key appends
//! a **keyed start** event ([`keyed_start`], action `audit.keyed_start`)
//! that records the `seq` and hash of the last unkeyed event under the key.
//! From then on the unkeyed part can no longer be changed unseen either
//! (its end is fixed by a keyed hash), though nothing proves it was not
//! changed *before* the keyed start. A chain with no valid keyed start must
//! be keyed from its first event, so removing the start, or rewriting keyed
//! events as unkeyed ones, fails verification.

use super::{AuditEntry, ChainHead, EventHash};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::fmt;
use zeroize::Zeroizing;

/// The action of the event that starts the keyed chain after unkeyed events.
pub const KEYED_START: &str = "audit.keyed_start";

/// The 32-byte key of the chain's HMAC. `Debug` never shows it.
#[derive(Clone)]
pub struct ChainKey(Zeroizing<[u8; 32]>);

impl ChainKey {
    pub fn new(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }
}

impl From<Zeroizing<[u8; 32]>> for ChainKey {
    fn from(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }
}

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(…)")
    }
}

/// `HMAC-SHA-256(key, prev || canonical)`: the link from one event to the
/// next.
pub fn chain_hash(key: &ChainKey, prev: &EventHash, canonical: &[u8]) -> EventHash {
    EventHash::from_bytes(crate::keyed::mac(key.0.as_ref(), &[prev.as_bytes(), canonical]))
}

/// `sha256(prev || canonical)`: how events were linked before the chain was
/// keyed. Anyone can compute it; it is only read, never written.
pub fn unkeyed_hash(prev: &EventHash, canonical: &[u8]) -> EventHash {
    let mut hasher = Sha256::new();
    hasher.update(prev.as_bytes());
    hasher.update(canonical);
    EventHash::from_bytes(hasher.finalize().into())
}

/// The event that starts the keyed chain after the unkeyed events ending
/// at `unkeyed_head`, with id `id` at `time`.
pub fn keyed_start(id: String, time: DateTime<Utc>, unkeyed_head: ChainHead) -> AuditEntry {
    AuditEntry {
        id,
        time,
        action: KEYED_START.to_owned(),
        subject: None,
        token_id: None,
        scopes: Vec::new(),
        operation: Some(format!("{}:{}", unkeyed_head.seq, unkeyed_head.hash)),
        decision: None,
        risk_level: None,
        error: Some(format!(
            "events 1..{} were chained before the audit key existed and are not forgery-proof",
            unkeyed_head.seq
        )),
        request_id: None,
        client_ip: None,
        count: None,
    }
}

/// The unkeyed head a keyed start records; `None` for any other event.
pub fn recorded_unkeyed_head(entry: &AuditEntry) -> Option<ChainHead> {
    if entry.action != KEYED_START {
        return None;
    }
    let (seq, hash) = entry.operation.as_deref()?.split_once(':')?;
    Some(ChainHead { seq: seq.parse().ok()?, hash: EventHash::from_hex(hash)? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};

    #[test]
    fn the_chain_hash_is_hmac_sha256_of_prev_then_canonical() {
        let key = ChainKey::new([9; 32]);
        let prev = EventHash::from_bytes([7; 32]);
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&[9; 32]).expect("key");
        mac.update(&[7; 32]);
        mac.update(b"{}");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(chain_hash(&key, &prev, b"{}"), EventHash::from_bytes(expected));
        assert_ne!(chain_hash(&ChainKey::new([8; 32]), &prev, b"{}"), EventHash::from_bytes(expected));
        assert_ne!(unkeyed_hash(&prev, b"{}"), EventHash::from_bytes(expected));
        assert_eq!(format!("{key:?}"), "ChainKey(…)");
    }

    #[test]
    fn a_keyed_start_records_the_unkeyed_head_it_follows() {
        let head = ChainHead { seq: 41, hash: EventHash::from_bytes([3; 32]) };
        let start = keyed_start("evt_x".into(), DateTime::<Utc>::MIN_UTC, head);
        assert_eq!(recorded_unkeyed_head(&start), Some(head));
        let other = AuditEntry { action: "token.create".into(), ..start };
        assert_eq!(recorded_unkeyed_head(&other), None);
    }
}
