//! Token records: metadata plus the SHA-256 of the token, never the token.
//!
//! Status is derived at a moment `now`: revoked when `revoked_at <= now`,
//! else expired when `expires_at <= now`, else active. The SQL here and
//! [`crate::TokenRecord::status`] must agree.

use super::rows::{
    self, SELECT_TOKEN_WITH_OWNER, db_error, is_unique_violation, millis, opt_millis, scopes_json,
};
use crate::{StoreError, StoreResult, TokenFilter, TokenRecord, TokenStatus, TokenWithOwner};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};
use ward_core::{TokenHash, TokenId, UserId};

/// Inserts a record for a live owner. `NotFound` when the owner is missing
/// or deleted, so a deleted user can never gain a live token in a race with
/// [`super::users::delete`].
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    token: &TokenRecord,
    hash: &TokenHash,
) -> StoreResult<()> {
    let done = sqlx::query(
        "INSERT INTO tokens (id, hash, display, name, kind, user_id, scopes, created_at,
                             expires_at, revoked_at, last_used_at, rotated_from)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL)",
    )
    .bind(token.id.as_str())
    .bind(hash.as_bytes().as_slice())
    .bind(&token.display)
    .bind(&token.name)
    .bind(token.kind.as_str())
    .bind(token.user_id.as_str())
    .bind(scopes_json(&token.scopes)?)
    .bind(millis(token.created_at))
    .bind(opt_millis(token.expires_at))
    .bind(opt_millis(token.revoked_at))
    .bind(opt_millis(token.last_used_at))
    .bind(token.rotated_from.as_ref().map(TokenId::as_str))
    .bind(token.user_id.as_str())
    .execute(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "tokens.hash") {
            StoreError::Conflict("a token with this hash already exists".into())
        } else if is_unique_violation(&e, "tokens.id") {
            StoreError::Conflict(format!("a token with id '{}' already exists", token.id))
        } else {
            db_error("insert token", e)
        }
    })?;
    match done.rows_affected() {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

pub(super) async fn by_hash(pool: &SqlitePool, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
    let sql = format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.hash = ?");
    sqlx::query(&sql)
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token by hash", e))?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(super) async fn by_id(pool: &SqlitePool, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
    let sql = format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.id = ?");
    sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token by id", e))?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(super) async fn list(pool: &SqlitePool, f: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
    let now = millis(f.now);
    let mut q = QueryBuilder::<Sqlite>::new(SELECT_TOKEN_WITH_OWNER);
    q.push(" WHERE 1 = 1");
    if let Some(user) = &f.user_id {
        q.push(" AND t.user_id = ").push_bind(user.as_str());
    }
    if let Some(kind) = f.kind {
        q.push(" AND t.kind = ").push_bind(kind.as_str());
    }
    if let Some(before) = &f.before {
        q.push(" AND t.id < ").push_bind(before.as_str());
    }
    match f.status {
        None => {}
        Some(TokenStatus::Revoked) => {
            q.push(" AND t.revoked_at IS NOT NULL AND t.revoked_at <= ").push_bind(now);
        }
        Some(TokenStatus::Expired) => {
            q.push(" AND (t.revoked_at IS NULL OR t.revoked_at > ").push_bind(now);
            q.push(") AND t.expires_at IS NOT NULL AND t.expires_at <= ").push_bind(now);
        }
        Some(TokenStatus::Active) => {
            q.push(" AND (t.revoked_at IS NULL OR t.revoked_at > ").push_bind(now);
            q.push(") AND (t.expires_at IS NULL OR t.expires_at > ").push_bind(now);
            q.push(")");
        }
    }
    q.push(" ORDER BY t.id DESC LIMIT ").push_bind(i64::from(f.limit));
    q.build()
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list tokens", e))?
        .iter()
        .map(rows::token_with_owner)
        .collect()
}

pub(super) async fn revoke(pool: &SqlitePool, id: &TokenId, now: DateTime<Utc>) -> StoreResult<bool> {
    let done = sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
        .bind(millis(now))
        .bind(id.as_str())
        .execute(pool)
        .await
        .map_err(|e| db_error("revoke token", e))?;
    if done.rows_affected() == 1 {
        return Ok(true);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM tokens WHERE id = ?")
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token", e))?;
    exists.map(|_| false).ok_or(StoreError::NotFound)
}

pub(super) async fn revoke_for_user(
    pool: &SqlitePool,
    user: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    let done = sqlx::query("UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
        .bind(millis(now))
        .bind(user.as_str())
        .execute(pool)
        .await
        .map_err(|e| db_error("revoke user tokens", e))?;
    Ok(done.rows_affected())
}

pub(super) async fn delete(pool: &SqlitePool, id: &TokenId) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM tokens WHERE id = ?")
        .bind(id.as_str())
        .execute(pool)
        .await
        .map_err(|e| db_error("delete token", e))?;
    match done.rows_affected() {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Ends `old` (at `old_ends_at`, never later than its own expiry, or now)
/// and inserts `new`, in one transaction.
pub(super) async fn rotate(
    pool: &SqlitePool,
    old: &TokenId,
    old_ends_at: Option<DateTime<Utc>>,
    new: &TokenRecord,
    new_hash: &TokenHash,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let now = millis(now);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| db_error("begin rotate token", e))?;
    let row: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT expires_at, revoked_at FROM tokens WHERE id = ?")
            .bind(old.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error("select token to rotate", e))?;
    let (expires_at, revoked_at) = row.ok_or(StoreError::NotFound)?;
    if revoked_at.is_some_and(|t| t <= now) {
        return Err(StoreError::Conflict(format!("token is not active: '{old}' is revoked")));
    }
    if expires_at.is_some_and(|t| t <= now) {
        return Err(StoreError::Conflict(format!("token is not active: '{old}' has expired")));
    }
    let end = match old_ends_at {
        Some(end) => {
            let end = millis(end);
            let end = expires_at.map_or(end, |t| t.min(end));
            sqlx::query("UPDATE tokens SET expires_at = ? WHERE id = ?").bind(end)
        }
        None => sqlx::query("UPDATE tokens SET revoked_at = ? WHERE id = ?").bind(now),
    };
    end.bind(old.as_str()).execute(&mut *tx).await.map_err(|e| db_error("end rotated token", e))?;
    insert(&mut tx, new, new_hash).await?;
    tx.commit().await.map_err(|e| db_error("commit rotate token", e))
}

/// Moves `last_used_at` forward, never back, for the whole batch at once.
/// Ids with no record (deleted since use) are skipped.
pub(super) async fn record_usage(pool: &SqlitePool, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await.map_err(|e| db_error("begin record usage", e))?;
    for (id, at) in used {
        sqlx::query("UPDATE tokens SET last_used_at = MAX(COALESCE(last_used_at, ?1), ?1) WHERE id = ?2")
            .bind(millis(*at))
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| db_error("record token usage", e))?;
    }
    tx.commit().await.map_err(|e| db_error("commit record usage", e))
}
