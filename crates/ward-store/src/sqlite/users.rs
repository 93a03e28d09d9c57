//! Users: humans with a role and a password hash, service users with fixed
//! scopes. A user is never removed, only marked deleted, so that tokens and
//! audit records keep an owner to name.
//!
//! Ending a user (revoke-tokens, delete) ends everything they hold in one
//! transaction: their tokens (sessions included), every agent token they
//! minted, and their pending approval requests (denied, with
//! [`crate::ENDED_REASON`]).

use super::commit::{Pool, WriteTx};
use super::rows::{self, SELECT_USER, db_error, is_unique_violation, millis, scopes_json};
use crate::{StoreError, StoreResult, UserKind, UserKindFilter, UserRecord};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use ward_core::UserId;
use ward_core::audit::AuditEntry;

pub(super) async fn create(pool: &Pool, user: &UserRecord, events: &[AuditEntry]) -> StoreResult<()> {
    let (kind, role, password_hash, scopes) = match &user.kind {
        UserKind::Human { role, password_hash } => {
            ("human", Some(role.as_str()), password_hash.as_deref(), "[]".to_owned())
        }
        UserKind::Service { scopes } => ("service", None, None, scopes_json(scopes)?),
    };
    let mut tx = pool.begin("create user").await?;
    sqlx::query(
        "INSERT INTO users (id, name, kind, role, password_hash, scopes, created_at, deleted_at, created_by)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        if is_unique_violation(&e, "users.name") {
            StoreError::Conflict(format!("a user named '{}' already exists", user.name))
        } else if is_unique_violation(&e, "users.id") {
            StoreError::Conflict(format!("a user with id '{}' already exists", user.id))
        } else {
            db_error("insert user", e)
        }
    })?;
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit create user", e))
}

pub(super) async fn by_id(pool: &SqlitePool, id: &UserId) -> StoreResult<Option<UserRecord>> {
    let sql = format!("{SELECT_USER} WHERE id = ? AND deleted_at IS NULL");
    sqlx::query(&sql)
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select user by id", e))?
        .as_ref()
        .map(rows::user)
        .transpose()
}

pub(super) async fn by_name(pool: &SqlitePool, name: &str) -> StoreResult<Option<UserRecord>> {
    let sql = format!("{SELECT_USER} WHERE name = ? AND deleted_at IS NULL");
    sqlx::query(&sql)
        .bind(name)
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select user by name", e))?
        .as_ref()
        .map(rows::user)
        .transpose()
}

pub(super) async fn list(pool: &SqlitePool, kind: Option<UserKindFilter>) -> StoreResult<Vec<UserRecord>> {
    let kind = kind.map(|k| match k {
        UserKindFilter::Human => "human",
        UserKindFilter::Service => "service",
    });
    let sql = format!(
        "{SELECT_USER} WHERE deleted_at IS NULL AND (?1 IS NULL OR kind = ?1)
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

pub(super) async fn count(pool: &SqlitePool) -> StoreResult<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await
        .map_err(|e| db_error("count users", e))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub(super) async fn set_password_hash(pool: &Pool, id: &UserId, hash: &str) -> StoreResult<()> {
    let mut conn = pool.write().await?;
    let done = sqlx::query(
        "UPDATE users SET password_hash = ? WHERE id = ? AND deleted_at IS NULL AND kind = 'human'",
    )
    .bind(hash)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("update password hash", e))?;
    if done.rows_affected() == 1 {
        return Ok(());
    }
    let live: Option<i64> = sqlx::query_scalar("SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL")
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error("select user by id", e))?;
    match live {
        Some(_) => {
            Err(StoreError::Conflict(format!("'{id}' is a service user: service users have no password")))
        }
        None => Err(StoreError::NotFound),
    }
}

/// Marks the user deleted and ends everything they hold, in one
/// transaction. `NotFound` when there is no live user with that id. Returns
/// how many tokens and minted agent tokens were revoked.
pub(super) async fn delete(
    pool: &Pool,
    id: &UserId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = pool.begin("delete user").await?;
    let marked = sqlx::query("UPDATE users SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL")
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
    pool: &Pool,
    id: &UserId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = pool.begin("revoke user tokens").await?;
    let revoked = end_credentials(&mut tx, id, now).await?;
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit revoke user tokens", e))?;
    Ok(revoked)
}

/// Inside `tx`: revokes the user's tokens and the agent tokens they minted,
/// and denies their pending approval requests.
pub(super) async fn end_credentials(tx: &mut WriteTx, id: &UserId, now: DateTime<Utc>) -> StoreResult<u64> {
    // What their credentials obtained (other users' included) ends too.
    super::cascade::revoke_of_user(tx, id.as_str(), now).await?;
    let now = millis(now);
    let tokens = sqlx::query("UPDATE tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL")
        .bind(now)
        .bind(id.as_str())
        .execute(&mut **tx)
        .await
        .map_err(|e| db_error("revoke user tokens", e))?;
    let minted =
        sqlx::query("UPDATE minted_tokens SET revoked_at = ? WHERE minted_by = ? AND revoked_at IS NULL")
            .bind(now)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await
            .map_err(|e| db_error("revoke minted tokens of user", e))?;
    sqlx::query(
        "UPDATE approvals SET status = 'denied', decided_by = ?, decided_at = ?, reason = ?
         WHERE requested_by = ? AND status = 'pending'",
    )
    .bind(crate::ENDED_BY)
    .bind(now)
    .bind(crate::ENDED_REASON)
    .bind(id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(|e| db_error("deny pending approvals of user", e))?;
    Ok(tokens.rows_affected() + minted.rows_affected())
}
