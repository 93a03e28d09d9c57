//! ward's persistence, behind one trait.
//!
//! [`Store`] is everything the server asks of a database, [`AuditLog`] the
//! hash-chained audit trail, [`AgentStore`] the agent side (signing keys,
//! minted tokens, approvals); [`Backend`] is all three. Every query is
//! written once, in `sql/`, for both backends; each backend's module holds
//! what is its own (connecting, migrations, its side of the dialect seam):
//! [`SqliteStore`] (embedded, the default) and [`PostgresStore`] (many
//! server nodes on one database). [`open`] picks one from the URL scheme.
//! The same contract suite (`tests/contract.rs`) runs against every backend.
//!
//! What is stored of a token is its SHA-256 and a short display start: no
//! method here ever receives the token string.

mod agents;
mod audit;
mod invalidation;
mod notices;
mod open;
mod postgres;
mod records;
mod rotation;
mod sql;
mod sqlite;

pub use agents::*;
pub use audit::{AuditFilter, AuditLog, MAX_AUDIT_LIMIT, verify_chain};
pub use invalidation::Invalidation;
pub use notices::{NoticeClaim, NoticeStore};
pub use open::{DatabaseUrl, StartLock, open, open_for_start};
pub use postgres::PostgresStore;
pub use records::*;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};

/// A storage failure, typed so the server can map it to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A unique constraint: the message names what already exists.
    #[error("{0}")]
    Conflict(String),
    /// The database could not be reached or failed; details are for the log.
    #[error("storage failure: {0}")]
    Backend(String),
    /// Stored data that no longer parses; details are for the log.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The credential a new one was to be issued via (its `issued_via`)
    /// was revoked or ended before the insert could commit: nothing changed.
    #[error("the credential that made this request has ended")]
    IssuerEnded,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Where a decorator's default method goes: its `inner` store. A store
/// that neither implements `method` nor decorates another (a programming
/// error) gets an error, not a recursion.
pub(crate) fn forward<'a, T: ?Sized>(inner: Option<&'a T>, method: &str) -> StoreResult<&'a T> {
    inner.ok_or_else(|| {
        StoreError::Backend(format!("this store implements no {method} and decorates no other"))
    })
}

/// Everything ward persists. Every multi-statement change is one transaction.
/// Every write below that changes state takes `events`: the audit events of
/// that change, inserted into the audit outbox in the write's own
/// transaction (and only when it changed something: a revoke that finds
/// the token already revoked stores none), so they are durable exactly when
/// the change is. [`AuditLog::drain_outbox`] chains them.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The store this one decorates (the verify cache, a test's counting
    /// wrapper): every method it does not implement forwards there. `None`
    /// for a backend, which implements every method itself.
    fn inner(&self) -> Option<&dyn Store> {
        None
    }

    // Users -----------------------------------------------------------------

    /// Inserts a user; `Conflict` when an undeleted user has that name.
    async fn create_user(&self, user: &UserRecord, events: &[AuditEntry]) -> StoreResult<()> {
        forward(self.inner(), "create_user")?.create_user(user, events).await
    }
    /// A live (not deleted) user by id.
    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        forward(self.inner(), "user_by_id")?.user_by_id(id).await
    }
    /// A live user by name.
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        forward(self.inner(), "user_by_name")?.user_by_name(name).await
    }
    /// Live users, by creation, optionally of one kind.
    async fn list_users(&self, kind: Option<UserKindFilter>) -> StoreResult<Vec<UserRecord>> {
        forward(self.inner(), "list_users")?.list_users(kind).await
    }
    /// How many users exist, deleted ones included (0 means a new database).
    async fn count_users(&self) -> StoreResult<u64> {
        forward(self.inner(), "count_users")?.count_users().await
    }
    /// Replaces a user's password hash; `NotFound` for no such live user.
    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        forward(self.inner(), "set_password_hash")?.set_password_hash(id, hash).await
    }
    /// A password change, in one transaction: replaces a live human's
    /// password hash and ends what `ends` names — their login sessions but
    /// one (a change of one's own password), or everything they hold, as
    /// [`Store::revoke_user_tokens`] ends it (a recovery, where whoever had
    /// the old password may hold anything). Returns how many credentials
    /// ended; `NotFound` for no such live user, `Conflict` for a service
    /// user, and then nothing changes.
    async fn set_password(
        &self,
        id: &UserId,
        hash: &str,
        ends: PasswordEnds<'_>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        forward(self.inner(), "set_password")?.set_password(id, hash, ends, now, events).await
    }
    /// Marks a user deleted and revokes all their live tokens, atomically.
    /// Returns how many tokens were revoked.
    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<u64> {
        forward(self.inner(), "delete_user")?.delete_user(id, now, events).await
    }

    // Tokens ----------------------------------------------------------------

    /// Inserts a token record with its hash; `Conflict` on a hash collision,
    /// `NotFound` when its owner is not a live user, `IssuerEnded` when
    /// `token.issued_via` names a credential that is no longer live —
    /// decided in the insert's own transaction, ordered with revocations,
    /// so a token issued in a race with its issuer's revocation is either
    /// refused or revoked with it.
    async fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        forward(self.inner(), "insert_token")?.insert_token(token, hash, events).await
    }
    /// The token with this hash and its (live or deleted) owner.
    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
        forward(self.inner(), "token_by_hash")?.token_by_hash(hash).await
    }
    /// [`Store::token_by_hash`] for the verify hot path: a store that keeps
    /// records in memory (the server's cache) hands out what it holds
    /// without copying it. By default, `token_by_hash` wrapped in an `Arc`.
    async fn token_by_hash_shared(&self, hash: &TokenHash) -> StoreResult<Option<Arc<TokenWithOwner>>> {
        Ok(self.token_by_hash(hash).await?.map(Arc::new))
    }
    async fn token_by_id(&self, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
        forward(self.inner(), "token_by_id")?.token_by_id(id).await
    }
    /// The tokens of `ids` that exist, with their owners, in no particular
    /// order, in one query: the verify cache re-reads the tokens in use
    /// this way before their entries expire.
    async fn tokens_by_ids(&self, ids: &[TokenId]) -> StoreResult<Vec<TokenWithOwner>> {
        forward(self.inner(), "tokens_by_ids")?.tokens_by_ids(ids).await
    }
    /// Tokens matching `filter`, newest first, at most `filter.limit`.
    async fn list_tokens(&self, filter: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
        forward(self.inner(), "list_tokens")?.list_tokens(filter).await
    }
    /// Sets `revoked_at` on a live token. `NotFound`, or `Ok(false)` when it
    /// was already revoked.
    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        forward(self.inner(), "revoke_token")?.revoke_token(id, now, events).await
    }
    /// Revokes every unrevoked token of a user; returns how many.
    async fn revoke_user_tokens(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        forward(self.inner(), "revoke_user_tokens")?.revoke_user_tokens(user, now, events).await
    }
    /// Removes a token record; `NotFound` when there is none. What it
    /// obtained is revoked at `now`, not deleted.
    async fn delete_token(&self, id: &TokenId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<()> {
        forward(self.inner(), "delete_token")?.delete_token(id, now, events).await
    }
    /// In one transaction: inserts `new`, and ends the old token at
    /// `old_ends_at` (revoked now when `None`). `NotFound` when the old token
    /// is missing, `Conflict` when it is no longer active or already has a
    /// successor (a token whose `rotated_from` is it; the message names it),
    /// decided inside the transaction so two concurrent rotations of one
    /// token cannot both succeed.
    async fn rotate_token(
        &self,
        old: &TokenId,
        old_ends_at: Option<DateTime<Utc>>,
        new: &TokenRecord,
        new_hash: &TokenHash,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        forward(self.inner(), "rotate_token")?
            .rotate_token(old, old_ends_at, new, new_hash, now, events)
            .await
    }
    /// Records last-used times in one batch; a later time never moves back.
    async fn record_usage(&self, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
        forward(self.inner(), "record_usage")?.record_usage(used).await
    }

    /// Counts one use of a `--max-uses` token: one conditional decrement,
    /// exact across nodes. The uses left after this one, or `None` when
    /// none were left (then the use must be refused), the token has no
    /// count, or no record.
    async fn consume_use(&self, id: &TokenId) -> StoreResult<Option<u64>> {
        forward(self.inner(), "consume_use")?.consume_use(id).await
    }
    /// Records, in one batch, the clients tokens were used from; each
    /// token keeps its newest [`MAX_CLIENTS`] distinct pairs.
    async fn record_clients(&self, seen: &[(TokenId, ClientSeen)]) -> StoreResult<()> {
        forward(self.inner(), "record_clients")?.record_clients(seen).await
    }
    /// The newest [`MAX_CLIENTS`] clients a token was used from, newest first.
    async fn token_clients(&self, id: &TokenId) -> StoreResult<Vec<ClientSeen>> {
        forward(self.inner(), "token_clients")?.token_clients(id).await
    }

    /// A feed of every committed change that invalidates cached verdicts
    /// or ends credentials, this node's own included, in commit order
    /// (`Invalidation`): PostgreSQL's LISTEN/NOTIFY, SQLite's own feed.
    /// `None` for a store with no feed.
    fn invalidations(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Invalidation>> {
        self.inner().and_then(|inner| inner.invalidations())
    }

    /// The connection pool right now, for the server's metrics.
    fn pool_use(&self) -> Option<PoolUse> {
        self.inner().and_then(|inner| inner.pool_use())
    }
}

/// How many connections a store's pool holds open, and how many of them
/// are idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub size: u32,
    pub idle: u32,
}

/// What a password change ends besides the old password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordEnds<'a> {
    /// Every unrevoked login session, except this one when given (the
    /// caller's own, when they change their own password).
    SessionsExcept(Option<&'a TokenId>),
    /// Every token, session and minted agent token of the user, what they
    /// obtained, and their pending approval requests.
    Everything,
}

/// Everything a server needs of one database: [`Store`], [`AuditLog`],
/// [`AgentStore`] and [`NoticeStore`]. Implemented for every type that
/// implements its parts.
pub trait Backend: Store + AuditLog + AgentStore + NoticeStore {}
impl<T: Store + AuditLog + AgentStore + NoticeStore> Backend for T {}
