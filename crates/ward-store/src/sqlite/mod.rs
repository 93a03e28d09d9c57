//! The embedded SQLite backend: one file, WAL journal, `synchronous=FULL`,
//! foreign keys on, a small connection pool.
//!
//! Writes of this process take turns through one async gate, and token
//! inserts and revokes are group-committed: many callers, one transaction,
//! one fsync, each answered after the COMMIT (`commit.rs`).
//!
//! The file is created with mode 0600 (and a missing parent directory with
//! 0700) before SQLite opens it; SQLite gives its `-wal` and `-shm` files
//! the same mode. `:memory:` opens a private in-memory database on a single
//! connection, for tests and throw-away servers; the writes and the group
//! committer take that connection in turn, like the reads.

mod agents;
mod audit;
mod cascade;
mod commit;
mod issuer;
mod migrations;
mod outbox;
mod password;
mod rows;
mod tokens;
mod users;

use crate::{AgentStore, ApprovalRecord, ApprovalStatus, KeyRecord, MintedRecord, PasswordEnds};
use crate::{
    Store, StoreError, StoreResult, TokenFilter, TokenRecord, TokenWithOwner, UserKindFilter, UserRecord,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use commit::{Committer, Pool};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};

/// How long a connection waits for another writer before `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite has one writer at a time; a few connections let reads overlap.
const MAX_CONNECTIONS: u32 = 4;

/// The SQLite implementation of [`Store`].
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: Pool,
    /// Token inserts and revokes, group-committed.
    commits: Committer,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `path` and brings its
    /// schema up to date. `:memory:` opens a private in-memory database.
    pub async fn open(path: &str) -> StoreResult<Self> {
        let (options, pool) = if path == ":memory:" {
            let options = SqliteConnectOptions::new().in_memory(true);
            // Every connection would see its own empty database: keep one
            // connection, forever.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
            (options, pool)
        } else {
            prepare_file(Path::new(path))?;
            let options = SqliteConnectOptions::new()
                .filename(path)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal);
            (options, SqlitePoolOptions::new().max_connections(MAX_CONNECTIONS))
        };
        let options =
            options.synchronous(SqliteSynchronous::Full).foreign_keys(true).busy_timeout(BUSY_TIMEOUT);
        // A local file does not drop connections: skip the ping, a round
        // trip to the connection's thread, on every acquire.
        let pool = pool
            .test_before_acquire(false)
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Backend(format!("could not open database '{path}': {e}")))?;
        migrations::run(&pool).await?;
        let pool = Pool::new(pool);
        Ok(Self { commits: Committer::start(pool.clone()), pool })
    }

    /// The schema version of the open database.
    pub async fn schema_version(&self) -> StoreResult<i64> {
        migrations::current_version(&self.pool).await
    }

    /// The schema version this build creates and expects.
    pub fn latest_schema_version() -> i64 {
        migrations::latest_version()
    }

    /// Waits for running queries, then closes every connection (which
    /// checkpoints the WAL into the main file). Writes after this fail.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the parent directory (0700) and the file (0600) when missing.
/// Blocking, but only once at start-up.
fn prepare_file(path: &Path) -> StoreResult<()> {
    let fail = |what: &str, p: &Path, e: std::io::Error| {
        StoreError::Backend(format!("could not create {what} '{}': {e}", p.display()))
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| fail("directory", dir, e))?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(fail("database file", path, e)),
    }
}

#[async_trait]
impl Store for SqliteStore {
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
        password::set(&self.pool, id, hash, ends, now, events).await
    }

    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<u64> {
        users::delete(&self.pool, id, now, events).await
    }

    async fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        self.commits.insert(token, hash, events).await
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
        self.commits.revoke(id, now, events).await
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
        tokens::delete(&self.pool, id, events).await
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
        tokens::rotate(&self.pool, old, old_ends_at, new, new_hash, now, events).await
    }

    async fn record_usage(&self, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
        tokens::record_usage(&self.pool, used).await
    }
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn insert_key(&self, key: &KeyRecord, events: &[AuditEntry]) -> StoreResult<()> {
        agents::insert_key(&self.pool, key, events).await
    }

    async fn list_keys(&self) -> StoreResult<Vec<KeyRecord>> {
        agents::list_keys(&self.pool).await
    }

    async fn retire_key(&self, kid: &str, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<bool> {
        agents::retire_key(&self.pool, kid, now, events).await
    }

    async fn insert_minted(&self, minted: &MintedRecord, events: &[AuditEntry]) -> StoreResult<()> {
        agents::insert_minted(&self.pool, minted, events).await
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
        agents::revoke_minted(&self.pool, jti, now, events).await
    }

    async fn revoke_agent(
        &self,
        agent: &str,
        minted_by: Option<&UserId>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        agents::revoke_agent(&self.pool, agent, minted_by, now, events).await
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
