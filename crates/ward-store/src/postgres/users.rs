//! Users: humans with a role and a password hash, service users with fixed
//! scopes. A user is never removed, only marked deleted, so that tokens and
//! audit records keep an owner to name.
//!
//! Ending a user (revoke-tokens, delete) ends everything they hold in one
//! transaction: their tokens (sessions included), every agent token they
//! minted, and their pending approval requests (denied, with
//! [`crate::ENDED_REASON`]).

use super::rows::{self, SELECT_USER, db_error, is_unique_violation, millis, scopes_json};
use crate::{StoreError, StoreResult, UserKind, UserKindFilter, UserRecord};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgPool};
use ward_core::UserId;
use ward_core::audit::AuditEntry;

pub(super) async fn create(pool: &PgPool, user: &UserRecord, events: &[AuditEntry]) -> StoreResult<()> {
    let (kind, role, password_hash, scopes) = match &user.kind {
        UserKind::Human { role, password_hash } => {
            ("human", Some(role.as_str()), password_hash.as_deref(), "[]".to_owned())
        }
        UserKind::Service { scopes } => ("service", None, None, scopes_json(scopes)?),
    };
    let mut tx = pool.begin().await.map_err(|e| db_error("begin create user", e))?;
    sqlx::query(
        "INSERT INTO users (id, name, kind, role, password_hash, scopes, created_at, deleted_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(user.id.as_str())
    .bind(&user.name)
    .bind(kind)
    .bind(role)
    .bind(password_hash)
    .bind(scopes)
    .bind(millis(user.created_at))
    .bind(rows::opt_millis(user.deleted_at))
    .bind(user.created_by.as_ref().map(UserId::as_str))
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "users_live_name") {
            StoreError::Conflict(format!("a user named '{}' already exists", user.name))
        } else if is_unique_violation(&e, "users_pkey") {
            StoreError::Conflict(format!("a user with id '{}' already exists", user.id))
        } else {
            db_error("insert user", e)
        }
    })?;
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit create user", e))
}

pub(super) async fn by_id(pool: &PgPool, id: &UserId) -> StoreResult<Option<UserRecord>> {
    let sql = format!("{SELECT_USER} WHERE id = $1 AND deleted_at IS NULL");
    sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select user by id", e))?
        .as_ref()
        .map(rows::user)
        .transpose()
}

pub(super) async fn by_name(pool: &PgPool, name: &str) -> StoreResult<Option<UserRecord>> {
    let sql = format!("{SELECT_USER} WHERE name = $1 AND deleted_at IS NULL");
    sqlx::query(&sql)
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select user by name", e))?
        .as_ref()
        .map(rows::user)
        .transpose()
}

pub(super) async fn list(pool: &PgPool, kind: Option<UserKindFilter>) -> StoreResult<Vec<UserRecord>> {
    let kind = kind.map(|k| match k {
        UserKindFilter::Human => "human",
        UserKindFilter::Service => "service",
    });
    let sql = format!(
        "{SELECT_USER} WHERE deleted_at IS NULL AND ($1::TEXT IS NULL OR kind = $1)
         ORDER BY created_at, id"
    );
    sqlx::query(&sql)
        .bind(kind)
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list users", e))?
        .iter()
        .map(rows::user)
        .collect()
}

pub(super) async fn count(pool: &PgPool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
        .map_err(|e| db_error("count users", e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn set_password_hash(pool: &PgPool, id: &UserId, hash: &str) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE users SET password_hash = $1 WHERE id = $2 AND deleted_at IS NULL AND kind = 'human'",
    )
    .bind(hash)
    .bind(id.as_str())
    .execute(pool)
    .await
    .map_err(|e| db_error("update password hash", e))?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    match by_id(pool, id).await? {
        Some(_) => {
            Err(StoreError::Conflict(format!("'{id}' is a service user: service users have no password")))
        }
        None => Err(StoreError::NotFound),
    }
}

/// Marks the user deleted and ends everything they hold, in one
/// transaction. `NotFound` when there is no live user with that id. Returns
/// how many tokens and minted agent tokens were revoked.
///
/// The first update locks the user's row until commit, and the others run
/// on fresh snapshots: a concurrent [`super::tokens::insert`] or
/// [`super::agents::insert_minted`] either committed before them (and its
/// token is revoked here) or waits for this transaction and then finds the
/// owner deleted.
pub(super) async fn delete(
    pool: &PgPool,
    id: &UserId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = pool.begin().await.map_err(|e| db_error("begin delete user", e))?;
    let marked = sqlx::query("UPDATE users SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(millis(now))
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("mark user deleted", e))?;
    if marked.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    let revoked = end_credentials(&mut tx, id, now).await?;
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit delete user", e))?;
    Ok(revoked)
}

/// Ends everything a (live or deleted) user holds, in one transaction;
/// how many tokens and minted agent tokens were revoked.
pub(super) async fn end_all(
    pool: &PgPool,
    id: &UserId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = pool.begin().await.map_err(|e| db_error("begin revoke user tokens", e))?;
    // The user's row first, in its own statement: an insert for this user
    // in flight holds it share-locked, so this waits for it to commit, and
    // the statements below, each on a fresh snapshot, find its token.
    sqlx::query("SELECT 1 FROM users WHERE id = $1 FOR UPDATE")
        .bind(id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("lock user", e))?;
    let revoked = end_credentials(&mut tx, id, now).await?;
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit revoke user tokens", e))?;
    Ok(revoked)
}

/// Inside a transaction: revokes the user's tokens and the agent tokens
/// they minted (each locked in id order first, so concurrent enders queue
/// rather than deadlock), and denies their pending approval requests.
pub(super) async fn end_credentials(
    conn: &mut PgConnection,
    id: &UserId,
    now: DateTime<Utc>,
) -> StoreResult<u64> {
    // What their credentials obtained (other users' included) ends too.
    super::cascade::revoke_of_user(conn, id.as_str(), now).await?;
    let now = millis(now);
    let tokens = sqlx::query(super::tokens::REVOKE_USER_TOKENS)
        .bind(now)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error("revoke user tokens", e))?;
    let minted = sqlx::query(
        "UPDATE minted_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL AND jti IN (
             SELECT jti FROM minted_tokens WHERE minted_by = $2 AND revoked_at IS NULL ORDER BY jti FOR UPDATE
         )",
    )
    .bind(now)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("revoke minted tokens of user", e))?;
    sqlx::query(
        "UPDATE approvals SET status = 'denied', decided_by = $1, decided_at = $2, reason = $3
         WHERE requested_by = $4 AND status = 'pending'",
    )
    .bind(crate::ENDED_BY)
    .bind(now)
    .bind(crate::ENDED_REASON)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("deny pending approvals of user", e))?;
    super::notify::publish(&mut *conn, &crate::Invalidation::User(id.clone())).await?;
    Ok(tokens.rows_affected() + minted.rows_affected())
}
