//! The audit chain, without I/O.
//!
//! An event's fields have one canonical byte form ([`AuditEntry::canonical`]):
//! compact JSON of an object with a fixed field order, every field present
//! (absent ones as `null`) except `count`, which was added later and is left
//! out when absent, the time in RFC 3339 UTC with milliseconds.
//! Each stored event carries the hash of the one before it and its own
//! hash, `HMAC-SHA-256(key, prev_hash || canonical)` with a key that is
//! passed in and never stored with the chain ([`key`]); the first event's `prev_hash` is
//! [`EventHash::GENESIS`] (32 zero bytes). The sequence number is *not*
//! hashed: the order of the chain is the `prev_hash` links, and `seq` only
//! says where a row claims to stand, so that a row moved elsewhere is told
//! apart from a row whose fields were edited (see [`verify`]).
//!
//! The chain shows edits made with database access alone: without the key
//! no one can recompute a hash that verifies. Events chained before the key
//! existed are "unkeyed" and are told apart by [`key::KEYED_START`]. What
//! the key cannot show: a chain cut short at its end *and* its recorded head
//! moved back to an earlier event, or the whole trail deleted; ship the
//! JSON-lines mirror (which carries the hashes) off the host to catch that.

pub mod key;
pub mod verify;

pub use key::{ChainKey, KEYED_START, chain_hash, keyed_start, unkeyed_hash};
pub use verify::{BadEvent, ChainVerifier, Problem, Verdict};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use std::fmt;

/// A SHA-256 in the chain: an event's hash, or the hash it follows.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventHash([u8; 32]);

impl EventHash {
    /// What the first event of a chain follows.
    pub const GENESIS: EventHash = EventHash([0; 32]);

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// 32 bytes as read from a database column; `None` for another length.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; 32]>::try_from(bytes).ok().map(Self)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 || !text.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *slot = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Display for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for EventHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventHash({})", self.to_hex())
    }
}

/// The fields of one event that the chain protects. Strings rather than
/// domain types, so that a row edited into nonsense still reads back (and
/// fails its hash) instead of failing to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// `evt_…`, given when the event happens.
    pub id: String,
    pub time: DateTime<Utc>,
    /// Dotted: `login.success`, `token.create`, `authorize` …
    pub action: String,
    pub subject: Option<String>,
    pub token_id: Option<String>,
    pub scopes: Vec<String>,
    pub operation: Option<String>,
    pub decision: Option<String>,
    pub risk_level: Option<String>,
    pub error: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    /// How many uses this one event stands for, when uses of a token were
    /// counted over an interval instead of written one by one (`token.use`,
    /// `token.verify`); `time` is the first of them. `None` for a single
    /// event, never `Some(0)` or `Some(1)`.
    pub count: Option<u64>,
}

/// The canonical form's field order. Never reorder or rename: every stored
/// hash depends on it. A new field is added at the end and left out while
/// absent, so events stored before it existed hash as they did.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a str,
    time: String,
    action: &'a str,
    subject: Option<&'a str>,
    token_id: Option<&'a str>,
    scopes: &'a [String],
    operation: Option<&'a str>,
    decision: Option<&'a str>,
    risk_level: Option<&'a str>,
    error: Option<&'a str>,
    request_id: Option<&'a str>,
    client_ip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    count: Option<u64>,
}

/// RFC 3339 UTC with milliseconds, `2025-06-15T10:00:00.123Z`: the form of
/// every audit time on the wire, in the mirror and in the hash.
pub fn format_time(time: &DateTime<Utc>) -> String {
    let millis = DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(*time);
    millis.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl AuditEntry {
    /// The bytes that are hashed.
    pub fn canonical(&self) -> Vec<u8> {
        let canonical = Canonical {
            id: &self.id,
            time: format_time(&self.time),
            action: &self.action,
            subject: self.subject.as_deref(),
            token_id: self.token_id.as_deref(),
            scopes: &self.scopes,
            operation: self.operation.as_deref(),
            decision: self.decision.as_deref(),
            risk_level: self.risk_level.as_deref(),
            error: self.error.as_deref(),
            request_id: self.request_id.as_deref(),
            client_ip: self.client_ip.as_deref(),
            count: self.count,
        };
        // Strings, options and a slice of strings: serialising to a Vec
        // cannot fail.
        serde_json::to_vec(&canonical).unwrap_or_default()
    }

    /// This entry chained after `prev` at `seq` with `key`.
    pub fn chain(self, key: &ChainKey, seq: u64, prev: EventHash) -> ChainedEntry {
        let hash = chain_hash(key, &prev, &self.canonical());
        ChainedEntry { seq, prev_hash: prev, hash, entry: self }
    }
}

/// An event as stored: its place, its link and its fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainedEntry {
    /// 1, 2, 3 … in the order events were appended.
    pub seq: u64,
    pub prev_hash: EventHash,
    pub hash: EventHash,
    pub entry: AuditEntry,
}

impl ChainedEntry {
    /// Whether the stored hash still matches the stored fields under `key`.
    pub fn hash_matches(&self, key: &ChainKey) -> bool {
        chain_hash(key, &self.prev_hash, &self.entry.canonical()) == self.hash
    }

    /// Whether the stored hash is the unkeyed SHA-256 of the stored fields
    /// (an event chained before the key existed, or forged without it).
    pub fn unkeyed_hash_matches(&self) -> bool {
        unkeyed_hash(&self.prev_hash, &self.entry.canonical()) == self.hash
    }
}

/// The last event appended, recorded apart from the events so that removing
/// events from the end of the chain shows too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub seq: u64,
    pub hash: EventHash,
}

/// Chains `entries` with `key` after `head` (or from the start), numbering
/// on from it.
pub fn chain_after(key: &ChainKey, head: Option<ChainHead>, entries: Vec<AuditEntry>) -> Vec<ChainedEntry> {
    let (mut seq, mut prev) = head.map_or((0, EventHash::GENESIS), |h| (h.seq, h.hash));
    entries
        .into_iter()
        .map(|entry| {
            seq += 1;
            let chained = entry.chain(key, seq, prev);
            prev = chained.hash;
            chained
        })
        .collect()
}

/// A time bound that is neither RFC 3339 nor a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid time '{input}': use RFC 3339 (e.g. 2025-06-15T10:00:00Z) or a duration ago (e.g. 24h, 7d)")]
pub struct InvalidTimeBound {
    input: String,
}

/// A `since`/`until` bound: RFC 3339, or a duration such as `24h` meaning
/// that long before `now`.
pub fn parse_time_bound(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, InvalidTimeBound> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&Utc));
    }
    crate::Ttl::parse(text)
        .map(|ago| now - ago.as_duration())
        .map_err(|_| InvalidTimeBound { input: text.chars().take(40).collect() })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn key() -> ChainKey {
        ChainKey::new([42; 32])
    }

    pub(crate) fn entry(n: u64) -> AuditEntry {
        AuditEntry {
            id: format!("evt_{n:026}"),
            time: DateTime::from_timestamp_millis(1_750_000_000_000 + i64::try_from(n).unwrap_or(0) * 1000)
                .unwrap_or_default(),
            action: "token.create".into(),
            subject: Some("alice".into()),
            token_id: Some(format!("tok_{n:026}")),
            scopes: vec!["stacks:read".into(), "ward:tokens".into()],
            operation: None,
            decision: None,
            risk_level: Some("moderate".into()),
            error: None,
            request_id: Some("req_1".into()),
            client_ip: Some("127.0.0.1".into()),
            count: None,
        }
    }

    #[test]
    fn the_canonical_form_is_fixed_order_compact_json_with_every_field() {
        let text = String::from_utf8(entry(1).canonical()).unwrap_or_default();
        assert_eq!(
            text,
            concat!(
                r#"{"id":"evt_00000000000000000000000001","time":"2025-06-15T15:06:41.000Z","#,
                r#""action":"token.create","subject":"alice","token_id":"tok_00000000000000000000000001","#,
                r#""scopes":["stacks:read","ward:tokens"],"operation":null,"decision":null,"#,
                r#""risk_level":"moderate","error":null,"request_id":"req_1","client_ip":"127.0.0.1"}"#
            )
        );
    }

    #[test]
    fn a_count_is_hashed_at_the_end_and_absent_when_there_is_none() {
        let single = String::from_utf8(entry(1).canonical()).unwrap_or_default();
        assert!(!single.contains("count"), "{single}");
        let counted = AuditEntry { count: Some(42), ..entry(1) };
        let text = String::from_utf8(counted.canonical()).unwrap_or_default();
        assert!(text.ends_with(r#""client_ip":"127.0.0.1","count":42}"#), "{text}");
        assert_ne!(
            counted.clone().chain(&key(), 1, EventHash::GENESIS).hash,
            entry(1).chain(&key(), 1, EventHash::GENESIS).hash
        );
    }

    #[test]
    fn times_are_hashed_to_the_millisecond() {
        let mut a = entry(1);
        let mut b = entry(1);
        a.time += chrono::Duration::microseconds(400);
        b.time += chrono::Duration::microseconds(900);
        assert_eq!(a.canonical(), b.canonical());
        assert!(String::from_utf8(a.canonical()).unwrap_or_default().contains("41.000Z"));
    }

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = chain_hash(&key(), &EventHash::GENESIS, b"x");
        assert_eq!(EventHash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(EventHash::from_hex(&hash.to_hex().to_uppercase()), Some(hash));
        assert_eq!(EventHash::from_hex("00"), None);
        assert_eq!(EventHash::from_hex(&"zz".repeat(32)), None);
        assert_eq!(EventHash::GENESIS.to_hex(), "0".repeat(64));
    }

    #[test]
    fn chaining_numbers_on_from_the_head_and_links_each_event_to_the_last() {
        let first = chain_after(&key(), None, vec![entry(1), entry(2)]);
        assert_eq!(first[0].seq, 1);
        assert_eq!(first[0].prev_hash, EventHash::GENESIS);
        assert_eq!(first[1].prev_hash, first[0].hash);
        let head = ChainHead { seq: first[1].seq, hash: first[1].hash };
        let next = chain_after(&key(), Some(head), vec![entry(3)]);
        assert_eq!(next[0].seq, 3);
        assert_eq!(next[0].prev_hash, first[1].hash);
        assert!(next.iter().chain(&first).all(|e| e.hash_matches(&key())));
    }

    #[test]
    fn any_changed_field_changes_the_hash() {
        let base = entry(1).chain(&key(), 1, EventHash::GENESIS);
        let edits: Vec<fn(&mut AuditEntry)> = vec![
            |e| e.id.push('x'),
            |e| e.time += chrono::Duration::milliseconds(1),
            |e| e.action = "token.revoke".into(),
            |e| e.subject = None,
            |e| e.token_id = Some("tok_other".into()),
            |e| e.scopes.pop().map_or((), drop),
            |e| e.operation = Some("op".into()),
            |e| e.decision = Some("allow".into()),
            |e| e.risk_level = Some("critical".into()),
            |e| e.error = Some("x".into()),
            |e| e.request_id = None,
            |e| e.client_ip = Some("10.0.0.1".into()),
        ];
        for (i, edit) in edits.into_iter().enumerate() {
            let mut changed = base.clone();
            edit(&mut changed.entry);
            assert!(!changed.hash_matches(&key()), "edit {i} went unnoticed");
        }
    }

    #[test]
    fn time_bounds_are_rfc3339_or_a_duration_ago() {
        let now = entry(0).time;
        assert_eq!(parse_time_bound("24h", now), Ok(now - chrono::Duration::hours(24)));
        assert_eq!(parse_time_bound(" 1d12h ", now), Ok(now - chrono::Duration::hours(36)));
        let given = parse_time_bound("2025-06-15T12:00:00+02:00", now).map(|t| format_time(&t));
        assert_eq!(given.as_deref(), Ok("2025-06-15T10:00:00.000Z"));
        for bad in ["", "yesterday", "24", "2025-13-01T00:00:00Z"] {
            assert!(parse_time_bound(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_null_and_an_empty_string_hash_differently() {
        let mut a = entry(1);
        let mut b = entry(1);
        a.error = None;
        b.error = Some(String::new());
        assert_ne!(a.canonical(), b.canonical());
    }
}
