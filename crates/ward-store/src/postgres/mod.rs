//! The PostgreSQL backend: one database shared by any number of `ward
//! server` nodes.
//!
//! [`PostgresStore::connect`] opens a connection pool and migrates under an
//! advisory lock (see `migrations.rs`), so nodes may start together on a new
//! database. The schema and the encoding of every column follow the SQLite
//! backend: times as BIGINT milliseconds UTC, the token hash as 32 bytes of
//! BYTEA under a unique constraint, ids as TEXT, scope sets as JSON text.
//!
//! Errors never carry the URL's password or a bound value: a failure to
//! connect names the user, host, port and database only.

mod agents;
mod audit;
mod cascade;
mod issuer;
mod migrations;
mod notify;
mod outbox;
mod password;
mod rows;
mod tokens;
mod users;

use crate::Invalidation;
use crate::{AgentStore, ApprovalRecord, ApprovalStatus, KeyRecord, MintedRecord, PasswordEnds};
use crate::{
    Store, StoreError, StoreResult, TokenFilter, TokenRecord, TokenWithOwner, UserKindFilter, UserRecord,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};

/// Connections per node; the database's `max_connections` bounds the sum.
const MAX_CONNECTIONS: u32 = 16;
/// How long a query waits for a free (or new) connection before failing.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
}

impl PostgresStore {
    /// Connects to the database a `postgres://` or `postgresql://` URL
    /// names and brings its schema up to date.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let mut options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        if options.get_application_name().is_none() {
            options = options.application_name("ward");
        }
        let target = describe(&options);
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Backend(format!("could not connect to PostgreSQL at {target}: {e}")))?;
        migrations::run(&pool).await?;
        Ok(Self { pool })
    }

    /// The schema version of the connected database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        migrations::current_version(&self.pool).await
    }

    /// The schema version this build creates and expects.
    pub fn latest_schema_version() -> i64 {
        migrations::latest_version()
    }

    /// Waits for running queries, then closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A transaction for a change announced to other nodes: the change and its
/// `pg_notify` commit together or not at all (`notify.rs`).
async fn begin(pool: &PgPool, what: &str) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
    pool.begin().await.map_err(|e| rows::db_error(&format!("begin {what}"), e))
}

async fn commit(tx: sqlx::Transaction<'static, sqlx::Postgres>, what: &str) -> StoreResult<()> {
    tx.commit().await.map_err(|e| rows::db_error(&format!("commit {what}"), e))
}

/// `user@host:port/database`, for error messages: never the password.
fn describe(options: &PgConnectOptions) -> String {
    let host = match options.get_socket() {
        Some(socket) => socket.display().to_string(),
        None => format!("{}:{}", options.get_host(), options.get_port()),
    };
    let database = options.get_database().unwrap_or(options.get_username());
    format!("{}@{host}/{database}", options.get_username())
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_user(&self, user: &UserRecord, events: &[AuditEntry]) -> StoreResult<()> {
        users::create(&self.pool, user, events).await
    }

    async fn user_by_id(&self, id: &UserId) -> StoreResult<Option<UserRecord>> {
        users::by_id(&self.pool, id).await
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        users::by_name(&self.pool, name).await
    }

    async fn list_users(&self, kind: Option<UserKindFilter>) -> StoreResult<Vec<UserRecord>> {
        users::list(&self.pool, kind).await
    }

    async fn count_users(&self) -> StoreResult<u64> {
        users::count(&self.pool).await
    }

    async fn set_password_hash(&self, id: &UserId, hash: &str) -> StoreResult<()> {
        users::set_password_hash(&self.pool, id, hash).await
    }

    async fn set_password(
        &self,
        id: &UserId,
        hash: &str,
        ends: PasswordEnds<'_>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        // Announces the change inside its own transaction.
        password::set(&self.pool, id, hash, ends, now, events).await
    }

    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<u64> {
        // Announces the deletion in its own transaction.
        users::delete(&self.pool, id, now, events).await
    }

    async fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(|e| rows::db_error("begin insert token", e))?;
        tokens::insert(&mut tx, token, hash, token.issued_via.as_ref()).await?;
        outbox::insert(&mut tx, events).await?;
        tx.commit().await.map_err(|e| rows::db_error("commit insert token", e))
    }

    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
        tokens::by_hash(&self.pool, hash).await
    }

    async fn token_by_id(&self, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
        tokens::by_id(&self.pool, id).await
    }

    async fn list_tokens(&self, filter: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
        tokens::list(&self.pool, filter).await
    }

    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        let mut tx = begin(&self.pool, "revoke token").await?;
        let out = tokens::revoke(&mut *tx, id, now).await?;
        if out {
            cascade::revoke(&mut tx, &[id.as_str()], now).await?;
            outbox::insert(&mut tx, events).await?;
        }
        notify::publish(&mut *tx, &Invalidation::Token(id.clone())).await?;
        commit(tx, "revoke token").await?;
        Ok(out)
    }

    async fn revoke_user_tokens(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        users::end_all(&self.pool, user, now, events).await
    }

    async fn delete_token(&self, id: &TokenId, events: &[AuditEntry]) -> StoreResult<()> {
        let mut tx = begin(&self.pool, "delete token").await?;
        // Its descendants are revoked, not deleted: they stay listed as ended.
        #[expect(
            clippy::disallowed_methods,
            reason = "delete_token takes no time from its caller yet: the descendants' revoked_at is the store's wall clock"
        )]
        let now = Utc::now();
        cascade::revoke(&mut tx, &[id.as_str()], now).await?;
        tokens::delete(&mut *tx, id).await?;
        outbox::insert(&mut tx, events).await?;
        notify::publish(&mut *tx, &Invalidation::Token(id.clone())).await?;
        commit(tx, "delete token").await
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
        // Announces the old token's end in its own transaction.
        tokens::rotate(&self.pool, old, old_ends_at, new, new_hash, now, events).await
    }

    async fn record_usage(&self, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
        tokens::record_usage(&self.pool, used).await
    }

    fn invalidations(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Invalidation>> {
        Some(notify::subscribe(self.pool.clone()))
    }
}

#[async_trait]
impl AgentStore for PostgresStore {
    async fn insert_key(&self, key: &KeyRecord, events: &[AuditEntry]) -> StoreResult<()> {
        let mut tx = begin(&self.pool, "insert signing key").await?;
        agents::insert_key(&mut *tx, key).await?;
        outbox::insert(&mut tx, events).await?;
        notify::publish(&mut *tx, &Invalidation::Keys).await?;
        commit(tx, "insert signing key").await
    }

    async fn list_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        agents::list_keys(&self.pool).await
    }

    async fn retire_key(&self, kid: &str, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<bool> {
        let mut tx = begin(&self.pool, "retire signing key").await?;
        let out = agents::retire_key(&mut *tx, kid, now).await?;
        if out {
            cascade::revoke_of_key(&mut tx, kid, now).await?;
            outbox::insert(&mut tx, events).await?;
        }
        notify::publish(&mut *tx, &Invalidation::Keys).await?;
        commit(tx, "retire signing key").await?;
        Ok(out)
    }

    async fn insert_minted(&self, minted: &MintedRecord, events: &[AuditEntry]) -> StoreResult<()> {
        let mut tx = begin(&self.pool, "insert minted token").await?;
        agents::insert_minted(&mut tx, minted).await?;
        outbox::insert(&mut tx, events).await?;
        commit(tx, "insert minted token").await
    }

    async fn minted_by_jti(&self, jti: &TokenId) -> StoreResult<Option<MintedRecord>> {
        agents::minted_by_jti(&self.pool, jti).await
    }

    async fn list_minted(
        &self,
        agent: Option<&str>,
        minted_by: Option<&UserId>,
        limit: u32,
    ) -> StoreResult<Vec<MintedRecord>> {
        agents::list_minted(&self.pool, agent, minted_by, limit).await
    }

    async fn revoke_minted(
        &self,
        jti: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        let mut tx = begin(&self.pool, "revoke minted token").await?;
        let out = agents::revoke_minted(&mut *tx, jti, now).await?;
        if out {
            cascade::revoke(&mut tx, &[jti.as_str()], now).await?;
            outbox::insert(&mut tx, events).await?;
        }
        commit(tx, "revoke minted token").await?;
        Ok(out)
    }

    async fn revoke_agent(
        &self,
        agent: &str,
        minted_by: Option<&UserId>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        let mut tx = begin(&self.pool, "revoke agent tokens").await?;
        let revoked = agents::revoke_agent(&mut *tx, agent, minted_by, now).await?;
        let roots: Vec<&str> = revoked.iter().map(String::as_str).collect();
        cascade::revoke(&mut tx, &roots, now).await?;
        let out = revoked.len() as u64;
        outbox::insert(&mut tx, events).await?;
        commit(tx, "revoke agent tokens").await?;
        Ok(out)
    }

    async fn insert_approval(&self, approval: &ApprovalRecord, events: &[AuditEntry]) -> StoreResult<()> {
        agents::insert_approval(&self.pool, approval, events).await
    }

    async fn approval_by_id(&self, id: &str) -> StoreResult<Option<ApprovalRecord>> {
        agents::approval_by_id(&self.pool, id).await
    }

    async fn list_approvals(
        &self,
        status: Option<ApprovalStatus>,
        limit: u32,
    ) -> StoreResult<Vec<ApprovalRecord>> {
        agents::list_approvals(&self.pool, status, limit).await
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
        agents::decide_approval(&self.pool, id, approve, decided_by, reason, now, events).await
    }

    async fn consume_approval(
        &self,
        id: &str,
        token_id: &str,
        operation: &str,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        agents::consume_approval(&self.pool, id, token_id, operation, now, events).await
    }
}
