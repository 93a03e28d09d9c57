//! What the agent side of ward persists: signing keys (private halves
//! encrypted by the server before they arrive here), the metadata of every
//! signed token minted (never the token), and approvals.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_core::audit::AuditEntry;
use ward_core::{Risk, ScopeSet, TokenId, UserId};

use crate::{StoreResult, forward};

/// An Ed25519 signing key. `private_sealed` is opaque to the store.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyRecord {
    /// `key_…`
    pub kid: String,
    pub public_key: [u8; 32],
    pub private_sealed: Vec<u8>,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for KeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRecord")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .field("retired_at", &self.retired_at)
            .finish_non_exhaustive()
    }
}

/// Who `decided_by` names on an approval that was denied because its
/// requester was ended (revoke-tokens, user delete, recover-admin).
pub const ENDED_BY: &str = "ward";
/// The reason such an approval carries.
pub const ENDED_REASON: &str = "the requester's credentials were ended";

/// A minted (signed) agent token's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedRecord {
    /// The JWT `jti`, a `tok_…` id.
    pub jti: TokenId,
    pub agent: String,
    pub scopes: ScopeSet,
    pub kid: String,
    pub minted_by: UserId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The non-session credential that minted it (a token id or a jti);
    /// ending that credential ends this one.
    pub parent_token_id: Option<TokenId>,
    /// The credential that minted it, login sessions included: inserted
    /// only while it is live (see [`crate::TokenRecord::issued_via`]).
    pub issued_via: Option<TokenId>,
}

/// What [`AgentStore::open_approval`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// The approval asked for is now pending.
    New,
    /// The token already waits on this one, for the same operation.
    Waiting(Box<ApprovalRecord>),
    /// The token already waits on this many requests for other operations.
    Full(u32),
}

/// Where an approval stands: ward-core's one enum; the store keeps
/// [`ApprovalStatus::LISTABLE`], never `Expired`.
pub use ward_core::ApprovalStatus;

/// A request for a human (or webhook) to approve one operation by one token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRecord {
    /// `apr_…`
    pub id: String,
    /// The token that asked (opaque `tok_…` id or a minted token's jti).
    pub token_id: String,
    /// Who asked: the token's owner or agent name.
    pub subject: String,
    /// The user behind the token (owner, or minter of an agent token): an
    /// approver may not be this user.
    pub requested_by: Option<UserId>,
    pub operation: String,
    pub risk: Risk,
    pub status: ApprovalStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// The agent side of a database. As with [`crate::Store`], every method
/// forwards by default to [`AgentStore::inner`], so a decorator writes only
/// what it changes; a backend implements them all.
#[async_trait]
pub trait AgentStore: Send + Sync + 'static {
    /// The store this one decorates; `None` for a backend.
    fn inner(&self) -> Option<&dyn AgentStore> {
        None
    }

    // Signing keys ----------------------------------------------------------

    async fn insert_key(&self, key: &KeyRecord, events: &[AuditEntry]) -> StoreResult<()> {
        forward(self.inner(), "insert_key")?.insert_key(key, events).await
    }
    /// Every key, oldest first, retired ones included.
    async fn list_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        forward(self.inner(), "list_keys")?.list_keys().await
    }
    /// Sets `retired_at`; `NotFound`, or `Ok(false)` when already retired.
    async fn retire_key(&self, kid: &str, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<bool> {
        forward(self.inner(), "retire_key")?.retire_key(kid, now, events).await
    }

    // Minted tokens ---------------------------------------------------------

    async fn insert_minted(&self, minted: &MintedRecord, events: &[AuditEntry]) -> StoreResult<()> {
        forward(self.inner(), "insert_minted")?.insert_minted(minted, events).await
    }
    async fn minted_by_jti(&self, jti: &TokenId) -> StoreResult<Option<MintedRecord>> {
        forward(self.inner(), "minted_by_jti")?.minted_by_jti(jti).await
    }
    /// Newest first, optionally of one agent and of one minter, at most
    /// `limit`.
    async fn list_minted(
        &self,
        agent: Option<&str>,
        minted_by: Option<&UserId>,
        limit: u32,
    ) -> StoreResult<Vec<MintedRecord>> {
        forward(self.inner(), "list_minted")?.list_minted(agent, minted_by, limit).await
    }
    /// `NotFound`, or `Ok(false)` when already revoked.
    async fn revoke_minted(
        &self,
        jti: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        forward(self.inner(), "revoke_minted")?.revoke_minted(jti, now, events).await
    }
    /// Revokes every unrevoked token of `agent` (only those `minted_by` this
    /// user, when given) issued at or before `now`; returns how many.
    async fn revoke_agent(
        &self,
        agent: &str,
        minted_by: Option<&UserId>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        forward(self.inner(), "revoke_agent")?.revoke_agent(agent, minted_by, now, events).await
    }

    // Approvals -------------------------------------------------------------

    /// Opens `approval` (pending) unless the token that asks already waits:
    /// a pending, unexpired request of the same token for the same
    /// operation is returned instead and nothing is written, and a token
    /// with `max_pending` such requests for other operations gets
    /// [`Opened::Full`]. Requests of one token are serialised, so two at
    /// once open one approval, not two.
    async fn open_approval(
        &self,
        approval: &ApprovalRecord,
        max_pending: u32,
        events: &[AuditEntry],
    ) -> StoreResult<Opened> {
        forward(self.inner(), "open_approval")?.open_approval(approval, max_pending, events).await
    }
    async fn approval_by_id(&self, id: &str) -> StoreResult<Option<ApprovalRecord>> {
        forward(self.inner(), "approval_by_id")?.approval_by_id(id).await
    }
    /// Newest first, optionally of one status, at most `limit`.
    async fn list_approvals(
        &self,
        status: Option<ApprovalStatus>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        forward(self.inner(), "list_approvals")?.list_approvals(status, limit).await
    }
    /// Moves a *pending, unexpired* approval to `Approved` or `Denied`.
    /// `NotFound` when missing; `Conflict` when it is no longer pending or
    /// has expired (the message says which).
    async fn decide_approval(
        &self,
        id: &str,
        approve: bool,
        decided_by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<ApprovalRecord> {
        forward(self.inner(), "decide_approval")?
            .decide_approval(id, approve, decided_by, reason, now, events)
            .await
    }
    /// Atomically spends an approval: succeeds (returns `true`) only when it
    /// is `Approved`, unexpired at `now`, and bound to exactly this token and
    /// operation; it is then `Used`. Two concurrent calls: one `true`.
    async fn consume_approval(
        &self,
        id: &str,
        token_id: &str,
        operation: &str,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        forward(self.inner(), "consume_approval")?
            .consume_approval(id, token_id, operation, now, events)
            .await
    }
}
