//! The audit log: one hash chain of events per database.
//!
//! [`AuditLog::append_audit`] chains a batch after the current head and
//! stores events and head in one transaction that excludes every other
//! appender — SQLite's `BEGIN IMMEDIATE`, PostgreSQL's transaction-level
//! advisory lock — so any number of server nodes on one PostgreSQL
//! database extend one chain, never two. The hashing itself is
//! `ward_core::audit`; [`verify_chain`] reads the chain back page by page
//! and names the first event that was changed, removed or reordered.
//!
//! State changes do not append: each write of [`crate::Store`] and
//! [`crate::AgentStore`] that changes state takes its audit events and
//! inserts them into an outbox table in its own transaction;
//! [`AuditLog::drain_outbox`] moves them into the chain. So an acknowledged
//! change always has its event, whatever happens to the process after.
//!
//! Appends are idempotent by event id: an event whose id is already stored
//! is skipped, so a batch retried after a commit whose answer was lost is
//! not written twice.

use crate::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_core::Risk;
use ward_core::audit::{
    AuditEntry, ChainHead, ChainKey, ChainVerifier, ChainedEntry, EventHash, Verdict, chain_after,
};

/// How many events [`verify_chain`] reads per query.
const VERIFY_PAGE: u32 = 1000;

/// The most events one query returns, whatever the filter asks.
pub const MAX_AUDIT_LIMIT: u32 = 1000;

/// What [`AuditLog::query_audit`] returns: every field is an exact match,
/// the times are inclusive, the result newest first (or oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFilter {
    pub subject: Option<String>,
    pub token_id: Option<String>,
    pub action: Option<String>,
    pub decision: Option<String>,
    pub risk_level: Option<Risk>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only events with a smaller `seq` (the previous page's last).
    pub before_seq: Option<u64>,
    /// Only events with a larger `seq` (the previous page's last, oldest
    /// first).
    pub after_seq: Option<u64>,
    /// Oldest first (ascending `seq`) instead of newest first.
    pub oldest_first: bool,
    /// At most this many (capped at [`MAX_AUDIT_LIMIT`]).
    pub limit: u32,
}

impl Default for AuditFilter {
    fn default() -> Self {
        Self {
            subject: None,
            token_id: None,
            action: None,
            decision: None,
            risk_level: None,
            since: None,
            until: None,
            before_seq: None,
            after_seq: None,
            oldest_first: false,
            limit: 100,
        }
    }
}

/// The tamper-evident audit trail.
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// The log this one decorates: every method it does not implement
    /// forwards there. `None` for a backend.
    fn inner(&self) -> Option<&dyn AuditLog> {
        None
    }

    /// Chains `events` with `key`, in order, after the current head and
    /// stores them and the new head in one transaction that serialises
    /// appenders. Events whose id is already stored are skipped. Returns
    /// what was stored, with `seq`, `prev_hash` and `hash`.
    async fn append_audit(&self, key: &ChainKey, events: &[AuditEntry]) -> StoreResult<Vec<ChainedEntry>> {
        crate::forward(self.inner(), "append_audit")?.append_audit(key, events).await
    }

    /// Under the appenders' lock: when the last stored event is not keyed
    /// with `key` (the chain was begun before the key existed), appends the
    /// keyed start (`ward_core::audit::keyed_start`, id `id`, at `time`)
    /// that fixes where the unkeyed events end. Returns it, or `None` when
    /// the chain is empty or already keyed.
    async fn begin_keyed_chain(
        &self,
        key: &ChainKey,
        id: String,
        time: DateTime<Utc>,
    ) -> StoreResult<Option<ChainedEntry>> {
        crate::forward(self.inner(), "begin_keyed_chain")?.begin_keyed_chain(key, id, time).await
    }

    /// Moves up to `limit` events of the outbox (the events of state
    /// changes, inserted by each write in its own transaction) into the
    /// chain, oldest first, keyed with `key`, and deletes them from the
    /// outbox, in one transaction that serialises appenders. Returns what
    /// was chained; fewer than `limit` means the outbox is empty for now.
    async fn drain_outbox(&self, key: &ChainKey, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        crate::forward(self.inner(), "drain_outbox")?.drain_outbox(key, limit).await
    }

    /// Events matching `filter`, newest first.
    async fn query_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<ChainedEntry>> {
        crate::forward(self.inner(), "query_audit")?.query_audit(filter).await
    }

    /// Up to `limit` stored events in `seq` order: from the first when
    /// `after` is `None`, else those with a larger `seq`. Rows are read as
    /// they are, so a tampered one still comes back (and fails its hash).
    async fn audit_chain(&self, after: Option<u64>, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        crate::forward(self.inner(), "audit_chain")?.audit_chain(after, limit).await
    }

    /// The head recorded by the last append; `None` before the first.
    async fn audit_head(&self) -> StoreResult<Option<ChainHead>> {
        crate::forward(self.inner(), "audit_head")?.audit_head().await
    }
}

/// Reads the whole chain and checks it with `key` against the recorded head.
pub async fn verify_chain(log: &dyn AuditLog, key: &ChainKey) -> StoreResult<Verdict> {
    let head = log.audit_head().await?;
    let mut verifier = ChainVerifier::new(key.clone(), head);
    let mut after = None;
    loop {
        let page = log.audit_chain(after, VERIFY_PAGE).await?;
        for event in &page {
            verifier.push(event);
        }
        match page.last() {
            Some(last) if page.len() == VERIFY_PAGE as usize => after = Some(last.seq),
            _ => break,
        }
    }
    Ok(verifier.finish())
}

/// What the backends share: turning columns into chain records (leniently)
/// and deciding where a batch goes.
pub(crate) mod columns {
    use super::*;

    /// The columns every audit read selects, in [`Raw`]'s order.
    pub(crate) const SELECT: &str = "SELECT seq, id, time, action, subject, token_id, scopes, operation, \
         decision, risk_level, error, request_id, client_ip, use_count, prev_hash, hash FROM audit_events";

    /// One row as read.
    pub(crate) struct Raw {
        pub seq: i64,
        pub id: String,
        pub time: i64,
        pub action: String,
        pub subject: Option<String>,
        pub token_id: Option<String>,
        pub scopes: String,
        pub operation: Option<String>,
        pub decision: Option<String>,
        pub risk_level: Option<String>,
        pub error: Option<String>,
        pub request_id: Option<String>,
        pub client_ip: Option<String>,
        pub use_count: Option<i64>,
        pub prev_hash: Vec<u8>,
        pub hash: Vec<u8>,
    }

    /// A row as a chain record. Nothing here fails: a value edited into
    /// something unreadable is kept in a form that cannot match its hash,
    /// so verification names the row instead of erroring out.
    pub(crate) fn chained(raw: Raw) -> ChainedEntry {
        let unreadable = EventHash::from_bytes([0xff; 32]);
        ChainedEntry {
            seq: u64::try_from(raw.seq).unwrap_or(0),
            prev_hash: EventHash::from_slice(&raw.prev_hash).unwrap_or(unreadable),
            hash: EventHash::from_slice(&raw.hash).unwrap_or(unreadable),
            entry: AuditEntry {
                id: raw.id,
                time: DateTime::from_timestamp_millis(raw.time).unwrap_or(DateTime::<Utc>::MIN_UTC),
                action: raw.action,
                subject: raw.subject,
                token_id: raw.token_id,
                scopes: serde_json::from_str(&raw.scopes).unwrap_or_else(|_| vec![raw.scopes]),
                operation: raw.operation,
                decision: raw.decision,
                risk_level: raw.risk_level,
                error: raw.error,
                request_id: raw.request_id,
                client_ip: raw.client_ip,
                count: raw.use_count.map(|n| u64::try_from(n).unwrap_or(u64::MAX)),
            },
        }
    }

    /// The JSON array stored in `scopes`.
    pub(crate) fn scopes_json(scopes: &[String]) -> String {
        serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into())
    }

    /// A `seq` or `count` as the database stores it.
    pub(crate) fn int(n: u64) -> i64 {
        i64::try_from(n).unwrap_or(i64::MAX)
    }

    /// Where the next event goes: after the recorded head, numbered past
    /// every stored `seq` (so a tampered head cannot make appends collide
    /// and stop the log), following the last stored event when no head is
    /// recorded.
    pub(crate) fn plan(
        key: &ChainKey,
        head: Option<ChainHead>,
        last_stored: Option<ChainHead>,
        events: Vec<AuditEntry>,
    ) -> Vec<ChainedEntry> {
        let prev = head.or(last_stored);
        let seq = head.map_or(0, |h| h.seq).max(last_stored.map_or(0, |h| h.seq));
        chain_after(key, prev.map(|p| ChainHead { seq, hash: p.hash }), events)
    }

    /// A `(seq, hash)` pair read from the database.
    pub(crate) fn head(seq: i64, hash: &[u8]) -> ChainHead {
        ChainHead {
            seq: u64::try_from(seq).unwrap_or(0),
            hash: EventHash::from_slice(hash).unwrap_or(EventHash::from_bytes([0xff; 32])),
        }
    }
}
