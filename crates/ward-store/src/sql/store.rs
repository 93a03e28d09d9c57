//! [`Store`], [`AgentStore`], [`AuditLog`] and [`NoticeStore`] for every [`Db`], once: each
//! method is the SQL layer's function of that name.

use super::{Db, agents, audit, clients, limits, notices, tokens, users};
use crate::{
    AgentStore, ApprovalRecord, ApprovalStatus, AuditFilter, AuditLog, ClientSeen, Invalidation, KeyRecord,
    MintedRecord, NoticeClaim, NoticeStore, Opened, PasswordEnds, Store, StoreResult, TokenFilter,
    TokenRecord, TokenWithOwner, UserKindFilter, UserRecord,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use ward_core::audit::{AuditEntry, ChainHead, ChainKey, ChainedEntry};
use ward_core::{TokenHash, TokenId, UserId};

#[async_trait]
impl<D: Db> Store for D {
    async fn create_user(&self, user: &UserRecord, events: &[AuditEntry]) -> StoreResult<()> {
        users::create(self, user, events).await
    }
    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        users::by_id(self, id).await
    }
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        users::by_name(self, name).await
    }
    async fn list_users(&self, kind: Option<UserKindFilter>) -> StoreResult<Vec<UserRecord>> {
        users::list(self, kind).await
    }
    async fn count_users(&self) -> StoreResult<u64> {
        users::count(self).await
    }
    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        users::set_password_hash(self, id, hash).await
    }
    async fn set_password(
        &self,
        id: &UserId,
        hash: &str,
        ends: PasswordEnds<'_>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        users::set_password(self, id, hash, ends, now, events).await
    }
    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<u64> {
        users::delete(self, id, now, events).await
    }
    async fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        Db::insert_token(self, token, hash, events).await
    }
    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
        tokens::by_hash(self, hash).await
    }
    async fn token_by_id(&self, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
        tokens::by_id(self, id).await
    }
    async fn tokens_by_ids(&self, ids: &[TokenId]) -> StoreResult<Vec<TokenWithOwner>> {
        tokens::by_ids(self, ids).await
    }
    async fn list_tokens(&self, filter: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
        tokens::list(self, filter).await
    }
    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        Db::revoke_token(self, id, now, events).await
    }
    async fn revoke_user_tokens(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        users::end_all(self, user, now, events).await
    }
    async fn delete_token(&self, id: &TokenId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<()> {
        tokens::delete(self, id, now, events).await
    }
    async fn rotate_token(
        &self,
        old: &TokenId,
        old_ends_at: Option<DateTime<Utc>>,
        new: &TokenRecord,
        new_hash: &TokenHash,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        tokens::rotate(self, old, old_ends_at, new, new_hash, now, events).await
    }
    async fn record_usage(&self, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
        tokens::record_usage(self, used).await
    }
    async fn consume_use(&self, id: &TokenId) -> StoreResult<Option<u64>> {
        limits::consume(self, id).await
    }
    async fn record_clients(&self, seen: &[(TokenId, ClientSeen)]) -> StoreResult<()> {
        clients::record(self, seen).await
    }
    async fn token_clients(&self, id: &TokenId) -> StoreResult<Vec<ClientSeen>> {
        clients::of(self, id).await
    }
    fn invalidations(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Invalidation>> {
        Db::invalidations(self)
    }
    fn pool_use(&self) -> Option<crate::PoolUse> {
        Some(Db::pool_use(self))
    }
}

#[async_trait]
impl<D: Db> AgentStore for D {
    async fn insert_key(&self, key: &KeyRecord, events: &[AuditEntry]) -> StoreResult<()> {
        agents::insert_key(self, key, events).await
    }
    async fn list_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        agents::list_keys(self).await
    }
    async fn retire_key(&self, kid: &str, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<bool> {
        agents::retire_key(self, kid, now, events).await
    }
    async fn insert_minted(&self, minted: &MintedRecord, events: &[AuditEntry]) -> StoreResult<()> {
        agents::insert_minted(self, minted, events).await
    }
    async fn minted_by_jti(&self, jti: &TokenId) -> StoreResult<Option<MintedRecord>> {
        agents::minted_by_jti(self, jti).await
    }
    async fn list_minted(
        &self,
        agent: Option<&str>,
        minted_by: Option<&UserId>,
        limit: u32,
    ) -> StoreResult<Vec<MintedRecord>> {
        agents::list_minted(self, agent, minted_by, limit).await
    }
    async fn revoke_minted(
        &self,
        jti: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        agents::revoke_minted(self, jti, now, events).await
    }
    async fn revoke_agent(
        &self,
        agent: &str,
        minted_by: Option<&UserId>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        agents::revoke_agent(self, agent, minted_by, now, events).await
    }
    async fn open_approval(
        &self,
        approval: &ApprovalRecord,
        max_pending: u32,
        events: &[AuditEntry],
    ) -> StoreResult<Opened> {
        agents::open_approval(self, approval, max_pending, events).await
    }
    async fn approval_by_id(&self, id: &str) -> StoreResult<Option<ApprovalRecord>> {
        agents::approval_by_id(self, id).await
    }
    async fn list_approvals(
        &self,
        status: Option<ApprovalStatus>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        agents::list_approvals(self, status, limit).await
    }
    async fn decide_approval(
        &self,
        id: &str,
        approve: bool,
        decided_by: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<ApprovalRecord> {
        agents::decide_approval(self, id, approve, decided_by, reason, now, events).await
    }
    async fn consume_approval(
        &self,
        id: &str,
        token_id: &str,
        operation: &str,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        agents::consume_approval(self, id, token_id, operation, now, events).await
    }
}

#[async_trait]
impl<D: Db> AuditLog for D {
    async fn append_audit(&self, key: &ChainKey, events: &[AuditEntry]) -> StoreResult<Vec<ChainedEntry>> {
        audit::append(self, key, events).await
    }
    async fn begin_keyed_chain(
        &self,
        key: &ChainKey,
        id: String,
        time: DateTime<Utc>,
    ) -> StoreResult<Option<ChainedEntry>> {
        audit::begin_keyed(self, key, id, time).await
    }
    async fn drain_outbox(&self, key: &ChainKey, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        audit::drain(self, key, limit).await
    }
    async fn query_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<ChainedEntry>> {
        audit::query(self, filter).await
    }
    async fn audit_chain(&self, after: Option<u64>, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        audit::chain(self, after, limit).await
    }
    async fn audit_head(&self) -> StoreResult<Option<ChainHead>> {
        audit::head(self).await
    }
}

#[async_trait]
impl<D: Db> NoticeStore for D {
    async fn due_notices(
        &self,
        window: ward_core::notice::Window,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<TokenWithOwner>> {
        notices::due(self, window, now, limit).await
    }
    async fn claim_notice(&self, claim: NoticeClaim<'_>) -> StoreResult<Option<u32>> {
        notices::claim(self, claim).await
    }
    async fn notice_sent(
        &self,
        token_id: &TokenId,
        point: chrono::Duration,
        node: &str,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        notices::sent(self, token_id, point, node, now, events).await
    }
    async fn notice_failed(
        &self,
        token_id: &TokenId,
        point: chrono::Duration,
        node: &str,
        retry_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        notices::failed(self, token_id, point, node, retry_at).await
    }
}
