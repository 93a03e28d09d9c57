//! The one SQL layer: every query and every row decoding of both backends,
//! written once.
//!
//! Queries are plain SQL with `$N` placeholders in a [`Sql`] statement
//! whose arguments are plain values; rows are read through [`Columns`].
//! What differs between SQLite and PostgreSQL is the dialect seam,
//! [`Conn`]: how a statement is bound and run, how a unique violation is
//! recognised, the row-lock suffixes (`FOR UPDATE`/`FOR SHARE` on
//! PostgreSQL; nothing on SQLite, whose write gate serialises every write
//! of the process), the batch form of a list (`= ANY($1)` vs `json_each`),
//! the audit append lock and the cache invalidations PostgreSQL announces.
//! [`Db`] is how a backend hands out connections and transactions, and
//! where SQLite's group commit takes over token inserts and revokes.
//! `store.rs` implements the public traits once, for every [`Db`].

pub(crate) mod agents;
pub(crate) mod audit;
pub(crate) mod cascade;
pub(crate) mod clients;
pub(crate) mod issuer;
pub(crate) mod limits;
pub(crate) mod notices;
pub(crate) mod rows;
mod statement;
mod store;
pub(crate) mod tokens;
pub(crate) mod users;

pub use rows::Columns;
pub use statement::{Arg, Sql};

use crate::{Invalidation, StoreError, StoreResult, TokenRecord};
use chrono::{DateTime, Utc};
use std::future::Future;
use std::ops::DerefMut;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId};

/// A unique constraint, as each database names it in its error.
#[derive(Debug, Clone, Copy)]
pub struct Unique {
    /// SQLite's `table.column`, the end of its message.
    pub sqlite: &'static str,
    /// PostgreSQL's constraint (or unique index) name.
    pub postgres: &'static str,
}

/// A connection of one database: the dialect seam.
pub trait Conn: Send + Sized {
    type Row: Columns + Send;

    /// Appended to a `SELECT` that must lock the rows it reads for update.
    const FOR_UPDATE: &'static str;
    /// Appended to a `SELECT` that must share-lock the rows it reads.
    const FOR_SHARE: &'static str;

    /// `column` belongs to the list bound at `param`: the condition after
    /// the column, e.g. `= ANY($1)`.
    fn in_list(param: &str) -> String;

    /// A row source `(id, at)` reading the text at `param`, a JSON array of
    /// `[id, at]` pairs. One array of pairs rather than two arrays zipped
    /// by position: SQLite can only join two `json_each` on their keys by
    /// scanning one for every row of the other, quadratic in a batch of
    /// thousands (a usage flush took 35 s for 10,000 tokens that way).
    fn pairs(param: &str) -> String;

    /// True when `err` violates `which`.
    fn violates(err: &sqlx::Error, which: Unique) -> bool;

    fn execute(&mut self, sql: Sql) -> impl Future<Output = Result<u64, sqlx::Error>> + Send;
    fn fetch_all(&mut self, sql: Sql) -> impl Future<Output = Result<Vec<Self::Row>, sqlx::Error>> + Send;
    fn fetch_optional(
        &mut self,
        sql: Sql,
    ) -> impl Future<Output = Result<Option<Self::Row>, sqlx::Error>> + Send;

    /// Tells the other nodes, when this transaction commits (nothing where
    /// there are none).
    fn announce(&mut self, what: &Invalidation) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes the lock every audit appender takes, until the transaction
    /// ends (nothing where the transaction already excludes other writers).
    fn lock_audit(&mut self) -> impl Future<Output = StoreResult<()>> + Send;

    /// Takes a lock named `key` until the transaction ends, for writes that
    /// must not interleave although they touch no common row (nothing where
    /// the transaction already excludes other writers).
    fn lock_key(&mut self, key: &str) -> impl Future<Output = StoreResult<()>> + Send;
}

/// A database as the SQL layer uses it.
pub trait Db: Send + Sync + 'static {
    type Conn: Conn;
    /// A write transaction; rolled back when dropped uncommitted.
    type Tx: DerefMut<Target = Self::Conn> + Send;
    /// A pooled connection for reads.
    type Read: DerefMut<Target = Self::Conn> + Send;

    fn read(&self) -> impl Future<Output = StoreResult<Self::Read>> + Send;
    /// Begins a write transaction (`what` names it in errors).
    fn begin(&self, what: &'static str) -> impl Future<Output = StoreResult<Self::Tx>> + Send;
    fn commit(tx: Self::Tx, what: &'static str) -> impl Future<Output = StoreResult<()>> + Send;

    /// [`crate::Store::insert_token`]: SQLite group-commits it.
    fn insert_token(
        &self,
        token: &TokenRecord,
        hash: &TokenHash,
        events: &[AuditEntry],
    ) -> impl Future<Output = StoreResult<()>> + Send;
    /// [`crate::Store::revoke_token`]: SQLite group-commits it.
    fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> impl Future<Output = StoreResult<bool>> + Send;
    /// [`crate::Store::invalidations`].
    fn invalidations(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Invalidation>>;
    /// [`crate::Store::pool_use`].
    fn pool_use(&self) -> crate::PoolUse;
}

/// A failure of the database itself, with what we were doing. The
/// drivers' messages name tables, columns and constraints, never a bound
/// value.
pub(crate) fn db_error(context: &str, err: sqlx::Error) -> StoreError {
    StoreError::Backend(format!("{context}: {err}"))
}

/// `.db("what")`: a driver error as [`StoreError::Backend`] naming `what`.
pub(crate) trait DbResult<T> {
    fn db(self, context: &str) -> StoreResult<T>;
}

impl<T> DbResult<T> for Result<T, sqlx::Error> {
    fn db(self, context: &str) -> StoreResult<T> {
        self.map_err(|e| db_error(context, e))
    }
}

/// The `column` of every row `sql` returns, as text.
pub(crate) async fn texts<C: Conn>(
    conn: &mut C,
    sql: Sql,
    column: &str,
    what: &str,
) -> StoreResult<Vec<String>> {
    conn.fetch_all(sql).await.db(what)?.iter().map(|row| row.text(column)).collect()
}

/// Whether `sql` returns a row.
pub(crate) async fn exists<C: Conn>(conn: &mut C, sql: Sql, what: &str) -> StoreResult<bool> {
    Ok(conn.fetch_optional(sql).await.db(what)?.is_some())
}

/// Sets `column` to `$1` on the row of `table` whose `key` is `$2`, unless
/// set: `Ok(true)` when this call set it, `Ok(false)` when it was set
/// already, `NotFound` for no such row.
pub(crate) async fn set_once<C: Conn>(
    conn: &mut C,
    table: &str,
    key: &str,
    column: &str,
    id: &str,
    now: i64,
) -> StoreResult<bool> {
    let sql = Sql::new(format!("UPDATE {table} SET {column} = $1 WHERE {key} = $2 AND {column} IS NULL"))
        .bind(now)
        .bind(id);
    if conn.execute(sql).await.map_err(|e| db_error(&format!("set {table}.{column}"), e))? == 1 {
        return Ok(true);
    }
    let found = Sql::new(format!("SELECT {key} FROM {table} WHERE {key} = $1")).bind(id);
    if exists(conn, found, &format!("select from {table}")).await? {
        Ok(false)
    } else {
        Err(StoreError::NotFound)
    }
}

/// Inserts `events` into the audit outbox in `tx` and commits: how every
/// write that changes state ends.
pub(crate) async fn finish<D: Db>(
    mut tx: D::Tx,
    events: &[AuditEntry],
    what: &'static str,
) -> StoreResult<()> {
    audit::outbox_insert(&mut *tx, events).await?;
    D::commit(tx, what).await
}
