//! The agent side of ward: signing keys, minted-token metadata, approvals.
//!
//! Every change of state is one conditional statement, so SQLite's single
//! writer makes it atomic: an approval is decided only while pending and
//! unexpired, and spent at most once. An approval only ever moves forward
//! (pending → approved or denied, approved → used), so when a conditional
//! update misses, reading the row afterwards tells truthfully why.

use super::commit::Pool;
use super::rows::{
    self, APPROVAL_COLUMNS, SELECT_KEY, SELECT_MINTED, db_error, is_unique_violation, millis, opt_millis,
    scopes_json,
};
use crate::{ApprovalRecord, ApprovalStatus, KeyRecord, MintedRecord, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use ward_core::audit::AuditEntry;
use ward_core::{TokenId, UserId};

// Signing keys --------------------------------------------------------------

pub(super) async fn insert_key(pool: &Pool, key: &KeyRecord, events: &[AuditEntry]) -> StoreResult<()> {
    let mut conn = pool.begin("insert signing key").await?;
    sqlx::query(
        "INSERT INTO signing_keys (kid, public_key, private_sealed, created_at, retired_at)
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&key.kid)
    .bind(key.public_key.as_slice())
    .bind(key.private_sealed.as_slice())
    .bind(millis(key.created_at))
    .bind(opt_millis(key.retired_at))
    .execute(&mut *conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "signing_keys.kid") {
            StoreError::Conflict(format!("a signing key with kid '{}' already exists", key.kid))
        } else {
            db_error("insert signing key", e)
        }
    })?;
    super::outbox::insert(&mut conn, events).await?;
    conn.commit().await.map_err(|e| db_error("commit signing key", e))
}

pub(super) async fn list_keys(pool: &SqlitePool) -> StoreResult<Vec<KeyRecord>> {
    let sql = format!("{SELECT_KEY} ORDER BY created_at, kid");
    sqlx::query(&sql)
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list signing keys", e))?
        .iter()
        .map(rows::key)
        .collect()
}

pub(super) async fn retire_key(
    pool: &Pool,
    kid: &str,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut conn = pool.begin("retire signing key").await?;
    let done = sqlx::query("UPDATE signing_keys SET retired_at = ? WHERE kid = ? AND retired_at IS NULL")
        .bind(millis(now))
        .bind(kid)
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error("retire signing key", e))?;
    if done.rows_affected() == 1 {
        super::cascade::revoke_of_key(&mut conn, kid, now).await?;
        super::outbox::insert(&mut conn, events).await?;
        conn.commit().await.map_err(|e| db_error("commit retire signing key", e))?;
        return Ok(true);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM signing_keys WHERE kid = ?")
        .bind(kid)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error("select signing key", e))?;
    exists.map(|_| false).ok_or(StoreError::NotFound)
}

// Minted tokens -------------------------------------------------------------

/// Inserts the metadata of a minted token. `NotFound` when the minting user
/// is missing or deleted, `IssuerEnded` when the credential it is minted
/// via is no longer live (checked under the write gate, as token inserts are).
pub(super) async fn insert_minted(
    pool: &Pool,
    minted: &MintedRecord,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let scopes = scopes_json(&minted.scopes)?;
    let mut conn = pool.begin("insert minted token").await?;
    let sql = format!(
        "INSERT INTO minted_tokens (jti, agent, scopes, kid, minted_by, issued_at, expires_at, revoked_at,
                                    parent_token_id, issued_via)
         SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
         WHERE EXISTS (SELECT 1 FROM users WHERE id = ?5 AND deleted_at IS NULL) AND {}",
        super::issuer::live("?10", "?6")
    );
    let done = sqlx::query(&sql)
        .bind(minted.jti.as_str())
        .bind(&minted.agent)
        .bind(scopes)
        .bind(&minted.kid)
        .bind(minted.minted_by.as_str())
        .bind(millis(minted.issued_at))
        .bind(millis(minted.expires_at))
        .bind(opt_millis(minted.revoked_at))
        .bind(minted.parent_token_id.as_ref().map(TokenId::as_str))
        .bind(minted.issued_via.as_ref().map(TokenId::as_str))
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e, "minted_tokens.jti") {
                StoreError::Conflict(format!("a minted token with jti '{}' already exists", minted.jti))
            } else {
                db_error("insert minted token", e)
            }
        })?;
    if done.rows_affected() == 0 {
        let owner: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE id = ? AND deleted_at IS NULL")
                .bind(minted.minted_by.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(|e| db_error("select minting user", e))?;
        return Err(if owner.is_some() { StoreError::IssuerEnded } else { StoreError::NotFound });
    }
    super::outbox::insert(&mut conn, events).await?;
    conn.commit().await.map_err(|e| db_error("commit minted token", e))
}

pub(super) async fn minted_by_jti(pool: &SqlitePool, jti: &TokenId) -> StoreResult<Option<MintedRecord>> {
    let sql = format!("{SELECT_MINTED} WHERE jti = ?");
    sqlx::query(&sql)
        .bind(jti.as_str())
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select minted token", e))?
        .as_ref()
        .map(rows::minted)
        .transpose()
}

pub(super) async fn list_minted(
    pool: &SqlitePool,
    agent: Option<&str>,
    minted_by: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<MintedRecord>> {
    let mut q = QueryBuilder::<Sqlite>::new(SELECT_MINTED);
    q.push(" WHERE 1 = 1");
    if let Some(agent) = agent {
        q.push(" AND agent = ").push_bind(agent);
    }
    if let Some(minter) = minted_by {
        q.push(" AND minted_by = ").push_bind(minter.as_str());
    }
    q.push(" ORDER BY jti DESC LIMIT ").push_bind(i64::from(limit));
    q.build()
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list minted tokens", e))?
        .iter()
        .map(rows::minted)
        .collect()
}

pub(super) async fn revoke_minted(
    pool: &Pool,
    jti: &TokenId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut conn = pool.begin("revoke minted token").await?;
    let done = sqlx::query("UPDATE minted_tokens SET revoked_at = ? WHERE jti = ? AND revoked_at IS NULL")
        .bind(millis(now))
        .bind(jti.as_str())
        .execute(&mut *conn)
        .await
        .map_err(|e| db_error("revoke minted token", e))?;
    if done.rows_affected() == 1 {
        super::cascade::revoke(&mut conn, &[jti.as_str()], now).await?;
        super::cascade::revoke(&mut conn, &[jti.as_str()], now).await?;
        super::outbox::insert(&mut conn, events).await?;
        conn.commit().await.map_err(|e| db_error("commit revoke minted token", e))?;
        return Ok(true);
    }
    let exists: Option<i64> = sqlx::query_scalar("SELECT 1 FROM minted_tokens WHERE jti = ?")
        .bind(jti.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error("select minted token", e))?;
    exists.map(|_| false).ok_or(StoreError::NotFound)
}

pub(super) async fn revoke_agent(
    pool: &Pool,
    agent: &str,
    minted_by: Option<&UserId>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut conn = pool.begin("revoke agent tokens").await?;
    let revoked: Vec<String> = sqlx::query_scalar(
        "UPDATE minted_tokens SET revoked_at = ?1
         WHERE agent = ?2 AND revoked_at IS NULL AND issued_at <= ?1 AND (?3 IS NULL OR minted_by = ?3)
         RETURNING jti",
    )
    .bind(millis(now))
    .bind(agent)
    .bind(minted_by.map(UserId::as_str))
    .fetch_all(&mut *conn)
    .await
    .map_err(|e| db_error("revoke agent tokens", e))?;
    let roots: Vec<&str> = revoked.iter().map(String::as_str).collect();
    super::cascade::revoke(&mut conn, &roots, now).await?;
    super::outbox::insert(&mut conn, events).await?;
    conn.commit().await.map_err(|e| db_error("commit revoke agent tokens", e))?;
    Ok(revoked.len() as u64)
}

// Approvals -----------------------------------------------------------------

pub(super) async fn insert_approval(
    pool: &Pool,
    a: &ApprovalRecord,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let sql =
        format!("INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    let mut conn = pool.begin("insert approval").await?;
    sqlx::query(&sql)
        .bind(&a.id)
        .bind(&a.token_id)
        .bind(&a.subject)
        .bind(a.requested_by.as_ref().map(UserId::as_str))
        .bind(&a.operation)
        .bind(a.risk.as_str())
        .bind(a.status.as_str())
        .bind(millis(a.created_at))
        .bind(millis(a.expires_at))
        .bind(a.decided_by.as_deref())
        .bind(opt_millis(a.decided_at))
        .bind(a.reason.as_deref())
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if is_unique_violation(&e, "approvals.id") {
                StoreError::Conflict(format!("an approval with id '{}' already exists", a.id))
            } else {
                db_error("insert approval", e)
            }
        })?;
    super::outbox::insert(&mut conn, events).await?;
    conn.commit().await.map_err(|e| db_error("commit insert approval", e))
}

pub(super) async fn approval_by_id(pool: &SqlitePool, id: &str) -> StoreResult<Option<ApprovalRecord>> {
    let sql = format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = ?");
    sqlx::query(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("select approval", e))?
        .as_ref()
        .map(rows::approval)
        .transpose()
}

pub(super) async fn list_approvals(
    pool: &SqlitePool,
    status: Option<ApprovalStatus>,
    limit: u32,
) -> StoreResult<Vec<ApprovalRecord>> {
    let mut q = QueryBuilder::<Sqlite>::new(format!("SELECT {APPROVAL_COLUMNS} FROM approvals"));
    if let Some(status) = status {
        q.push(" WHERE status = ").push_bind(status.as_str());
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
    q.build()
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list approvals", e))?
        .iter()
        .map(rows::approval)
        .collect()
}

/// Moves a pending, unexpired approval to approved or denied in one
/// statement; when it misses, the row read afterwards (with the write gate
/// open again) says why.
pub(super) async fn decide_approval(
    pool: &Pool,
    id: &str,
    approve: bool,
    decided_by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<ApprovalRecord> {
    let status = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Denied };
    let sql = format!(
        "UPDATE approvals SET status = ?1, decided_by = ?2, decided_at = ?3, reason = ?4
         WHERE id = ?5 AND status = 'pending' AND expires_at > ?3
         RETURNING {APPROVAL_COLUMNS}"
    );
    let mut conn = pool.begin("decide approval").await?;
    let decided = sqlx::query(&sql)
        .bind(status.as_str())
        .bind(decided_by)
        .bind(millis(now))
        .bind(reason)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error("decide approval", e))?;
    if let Some(row) = decided {
        let decided = rows::approval(&row)?;
        super::outbox::insert(&mut conn, events).await?;
        conn.commit().await.map_err(|e| db_error("commit decide approval", e))?;
        return Ok(decided);
    }
    drop(conn);
    match approval_by_id(pool, id).await? {
        None => Err(StoreError::NotFound),
        Some(a) if a.status != ApprovalStatus::Pending => {
            Err(StoreError::Conflict(format!("approval {id} is already {}", a.status.as_str())))
        }
        Some(_) => Err(StoreError::Conflict(format!("approval {id} has expired"))),
    }
}

/// Spends an approved, unexpired approval bound to this token and
/// operation: one conditional update, so of two concurrent calls one wins.
pub(super) async fn consume_approval(
    pool: &Pool,
    id: &str,
    token_id: &str,
    operation: &str,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut conn = pool.begin("consume approval").await?;
    let done = sqlx::query(
        "UPDATE approvals SET status = 'used'
         WHERE id = ? AND status = 'approved' AND token_id = ? AND operation = ? AND expires_at > ?",
    )
    .bind(id)
    .bind(token_id)
    .bind(operation)
    .bind(millis(now))
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("consume approval", e))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    super::outbox::insert(&mut conn, events).await?;
    conn.commit().await.map_err(|e| db_error("commit consume approval", e))?;
    Ok(true)
}
