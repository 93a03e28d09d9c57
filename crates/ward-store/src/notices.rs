//! Expiry notices, claimed in the database so that each (token, point)
//! notice is sent once across restarts and nodes.
//!
//! A node that finds a due notice ([`NoticeStore::due_notices`]) first
//! claims it ([`NoticeStore::claim_notice`]): an insert-if-absent of the
//! row keyed (token, point), or, for a row that exists unsent and whose
//! lease ran out, a conditional update. Exactly one claimant wins; it
//! holds the notice until its lease ends, sends the webhook, then marks it
//! sent with its audit event ([`NoticeStore::notice_sent`]) or hands it
//! back with a time before which nobody retries
//! ([`NoticeStore::notice_failed`]). A node that dies while holding a
//! claim delays the notice by at most the lease; one that sent but died
//! before marking it makes a second send possible, the only way one can
//! happen (at least once, not exactly once, past a crash).

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use ward_core::TokenId;
use ward_core::audit::AuditEntry;
use ward_core::notice::Window;

use crate::{StoreResult, TokenWithOwner, forward};

/// One claim on the notice for `token_id` at `point` before its expiry.
#[derive(Debug, Clone, Copy)]
pub struct NoticeClaim<'a> {
    pub token_id: &'a TokenId,
    pub point: Duration,
    /// Who claims: a node's random id.
    pub node: &'a str,
    pub now: DateTime<Utc>,
    /// Until when the claim holds; past it, another node may take over.
    pub lease_until: DateTime<Utc>,
}

/// The notice side of the store.
#[async_trait]
pub trait NoticeStore: Send + Sync + 'static {
    /// The store this one decorates; see [`crate::Store::inner`].
    fn inner(&self) -> Option<&dyn NoticeStore> {
        None
    }

    /// Tokens whose notice for `window.point` is due at `now`
    /// ([`Window::contains`]: unrevoked, not a login session, existing at
    /// the window's start), that is neither sent nor held by a running
    /// claim: soonest expiry first, at most `limit`.
    async fn due_notices(
        &self,
        window: Window,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<TokenWithOwner>> {
        forward(NoticeStore::inner(self), "due_notices")?.due_notices(window, now, limit).await
    }

    /// Claims a notice: `Some(attempt)` (1 for the first) when this caller
    /// now holds it, `None` when it is sent or another claim still runs.
    async fn claim_notice(&self, claim: NoticeClaim<'_>) -> StoreResult<Option<u32>> {
        forward(NoticeStore::inner(self), "claim_notice")?.claim_notice(claim).await
    }

    /// Marks a notice `node` holds as sent at `now`, with `events`, in one
    /// transaction; `false` (and no events) when `node` no longer holds it.
    async fn notice_sent(
        &self,
        token_id: &TokenId,
        point: Duration,
        node: &str,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        forward(NoticeStore::inner(self), "notice_sent")?
            .notice_sent(token_id, point, node, now, events)
            .await
    }

    /// Hands back a notice `node` could not send: nobody retries it before
    /// `retry_at`.
    async fn notice_failed(
        &self,
        token_id: &TokenId,
        point: Duration,
        node: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        forward(NoticeStore::inner(self), "notice_failed")?
            .notice_failed(token_id, point, node, retry_at)
            .await
    }
}
