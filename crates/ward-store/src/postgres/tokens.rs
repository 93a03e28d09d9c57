//! Token records: metadata plus the SHA-256 of the token, never the token.
//!
//! Status is derived at a moment `now`: revoked when `revoked_at <= now`,
//! else expired when `expires_at <= now`, else active. The SQL here and
//! [`crate::TokenRecord::status`] must agree.
//!
//! PostgreSQL runs many writers at once (READ COMMITTED), where SQLite runs
//! one: the statements here take the row locks that make each operation
//! behave as it does on SQLite. Locks are taken users before tokens, and
//! tokens in id order, so that concurrent operations queue rather than
//! deadlock.

use super::rows::{
    self, SELECT_TOKEN_WITH_OWNER, db_error, is_unique_violation, millis, opt_millis, scopes_json,
};
use crate::{StoreError, StoreResult, TokenFilter, TokenRecord, TokenStatus, TokenWithOwner};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder};
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};

/// Inserts a record for a live owner, issued via a live credential.
/// `NotFound` when the owner is missing or deleted; `IssuerEnded` when
/// `issuer` (the credential to check, normally `token.issued_via`) is no
/// longer live. The owner's row and then the issuer's are share-locked
/// until commit (`issuer.rs`), so a delete, an ending of the user or a
/// revocation in flight is waited for and then refuses the insert, or
/// waits for it and then ends the new token too.
pub(super) async fn insert(
    conn: &mut PgConnection,
    token: &TokenRecord,
    hash: &TokenHash,
    issuer: Option<&TokenId>,
) -> StoreResult<()> {
    super::issuer::lock_live_user(conn, token.user_id.as_str()).await?;
    if let Some(via) = issuer {
        super::issuer::require_live(conn, via, token.created_at).await?;
    }
    sqlx::query(
        "INSERT INTO tokens (id, hash, display, name, kind, user_id, scopes, created_at, expires_at,
                             revoked_at, last_used_at, rotated_from, parent_token_id, issued_by, issued_via)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
    .bind(token.parent_token_id.as_ref().map(TokenId::as_str))
    .bind(token.issued_by.as_ref().map(UserId::as_str))
    .bind(token.issued_via.as_ref().map(TokenId::as_str))
    .execute(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "tokens_hash_key") {
            StoreError::Conflict("a token with this hash already exists".into())
        } else if is_unique_violation(&e, "tokens_pkey") {
            StoreError::Conflict(format!("a token with id '{}' already exists", token.id))
        } else {
            db_error("insert token", e)
        }
    })?;
    Ok(())
}

pub(super) async fn by_hash(pool: &PgPool, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
    let sql = format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.hash = $1");
    sqlx::query(&sql)
        .bind(hash.as_bytes().as_slice())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token by hash", e))?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(super) async fn by_id(pool: &PgPool, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
    let sql = format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.id = $1");
    sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select token by id", e))?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(super) async fn list(pool: &PgPool, f: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
    let now = millis(f.now);
    let mut q = QueryBuilder::<Postgres>::new(SELECT_TOKEN_WITH_OWNER);
    q.push(" WHERE TRUE");
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

/// Sets `revoked_at` once. One statement: `revoked` says whether this call
/// set it, and a row comes back at all only when the token exists.
pub(super) async fn revoke<'e>(
    exec: impl PgExecutor<'e>,
    id: &TokenId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let revoked: Option<bool> = sqlx::query_scalar(
        "WITH hit AS (
             UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING id
         )
         SELECT EXISTS (SELECT 1 FROM hit) FROM tokens WHERE id = $2",
    )
    .bind(millis(now))
    .bind(id.as_str())
    .fetch_optional(exec)
    .await
    .map_err(|e| db_error("revoke token", e))?;
    revoked.ok_or(StoreError::NotFound)
}

/// Revokes every unrevoked token of user `$2` at `$1`, locking them in id
/// order first (as [`record_usage`] does) so the two cannot deadlock.
pub(super) const REVOKE_USER_TOKENS: &str = "UPDATE tokens SET revoked_at = $1
    WHERE revoked_at IS NULL AND id IN (
        SELECT id FROM tokens WHERE user_id = $2 AND revoked_at IS NULL ORDER BY id FOR UPDATE
    )";

pub(super) async fn delete<'e>(exec: impl PgExecutor<'e>, id: &TokenId) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM tokens WHERE id = $1")
        .bind(id.as_str())
        .execute(exec)
        .await
        .map_err(|e| db_error("delete token", e))?;
    match done.rows_affected() {
        0 => Err(StoreError::NotFound),
        _ => Ok(()),
    }
}

/// Ends `old` (at `old_ends_at`, never later than its own expiry, or now)
/// and inserts `new`, in one transaction. The old token's row is locked for
/// the whole transaction, so of two concurrent rotations of one token the
/// second waits, then finds the first one's successor (READ COMMITTED: the
/// successor query is a new statement and sees what committed meanwhile)
/// and answers `Conflict` naming it.
pub(super) async fn rotate(
    pool: &PgPool,
    old: &TokenId,
    old_ends_at: Option<DateTime<Utc>>,
    new: &TokenRecord,
    new_hash: &TokenHash,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let at = now;
    let now = millis(now);
    let mut tx = pool.begin().await.map_err(|e| db_error("begin rotate token", e))?;
    // The owner before the token, in the order `users::delete` locks them.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR SHARE")
        .bind(new.user_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("lock token owner", e))?;
    let row: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT expires_at, revoked_at FROM tokens WHERE id = $1 FOR UPDATE")
            .bind(old.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error("select token to rotate", e))?;
    let (expires_at, revoked_at) = row.ok_or(StoreError::NotFound)?;
    let successor: Option<String> =
        sqlx::query_scalar("SELECT id FROM tokens WHERE rotated_from = $1 ORDER BY id LIMIT 1")
            .bind(old.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| db_error("select successor of rotated token", e))?;
    crate::rotation::check(old, expires_at, revoked_at, successor.as_deref(), at)?;
    let end = old_ends_at.map(|end| expires_at.map_or(millis(end), |t| t.min(millis(end))));
    let ending = match end {
        Some(end) => sqlx::query("UPDATE tokens SET expires_at = $1 WHERE id = $2").bind(end),
        None => sqlx::query("UPDATE tokens SET revoked_at = $1 WHERE id = $2").bind(now),
    };
    ending.bind(old.as_str()).execute(&mut *tx).await.map_err(|e| db_error("end rotated token", e))?;
    // A token rotating itself was checked above; any other caller must still be live.
    insert(&mut tx, new, new_hash, new.issued_via.as_ref().filter(|via| *via != old)).await?;
    // After the insert: a successor obtained by a descendant of `old` is
    // one of its descendants too.
    match end {
        Some(end) => super::cascade::shorten(&mut tx, old.as_str(), end).await?,
        None => super::cascade::revoke(&mut tx, &[old.as_str()], at).await?,
    }
    super::outbox::insert(&mut tx, events).await?;
    super::notify::publish(&mut *tx, &crate::Invalidation::Token(old.clone())).await?;
    tx.commit().await.map_err(|e| db_error("commit rotate token", e))
}

/// Moves `last_used_at` forward, never back, for the whole batch in one
/// transaction: the rows are locked in id order first, then one statement
/// updates each to the latest time the batch holds for it. Ids with no
/// record (deleted since use) are skipped.
pub(super) async fn record_usage(pool: &PgPool, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = used.iter().map(|(id, _)| id.as_str()).collect();
    let times: Vec<i64> = used.iter().map(|(_, at)| millis(*at)).collect();
    let mut tx = pool.begin().await.map_err(|e| db_error("begin record usage", e))?;
    sqlx::query("SELECT 1 FROM tokens WHERE id = ANY($1) ORDER BY id FOR UPDATE")
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("lock used tokens", e))?;
    sqlx::query(
        "UPDATE tokens t SET last_used_at = GREATEST(COALESCE(t.last_used_at, u.at), u.at)
         FROM (SELECT id, MAX(at) AS at FROM UNNEST($1::TEXT[], $2::BIGINT[]) AS b (id, at)
               GROUP BY id) u
         WHERE t.id = u.id",
    )
    .bind(&ids)
    .bind(&times)
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error("record token usage", e))?;
    tx.commit().await.map_err(|e| db_error("commit record usage", e))
}
