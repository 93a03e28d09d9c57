//! The agent side of ward: signing keys, minted-token metadata, approvals.
//!
//! Every change of state is one conditional statement. Under READ
//! COMMITTED a statement that finds its row locked by another writer waits,
//! then re-checks its condition on the committed row: so an approval is
//! decided only while pending and unexpired, and spent at most once, however
//! many nodes try at once. An approval only ever moves forward
//! (pending → approved or denied, approved → used), so when a conditional
//! update misses, reading the row afterwards tells truthfully why.

use super::rows::{
    self, APPROVAL_COLUMNS, SELECT_KEY, SELECT_MINTED, db_error, is_unique_violation, millis, opt_millis,
    scopes_json,
};
use crate::{ApprovalRecord, ApprovalStatus, KeyRecord, MintedRecord, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder};
use ward_core::audit::AuditEntry;
use ward_core::{TokenId, UserId};

// Signing keys --------------------------------------------------------------

pub(super) async fn insert_key<'e>(exec: impl PgExecutor<'e>, key: &KeyRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO signing_keys (kid, public_key, private_sealed, created_at, retired_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&key.kid)
    .bind(key.public_key.as_slice())
    .bind(key.private_sealed.as_slice())
    .bind(millis(key.created_at))
    .bind(opt_millis(key.retired_at))
    .execute(exec)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "signing_keys_pkey") {
            StoreError::Conflict(format!("a signing key with kid '{}' already exists", key.kid))
        } else {
            db_error("insert signing key", e)
        }
    })?;
    Ok(())
}

pub(super) async fn list_keys(pool: &PgPool) -> StoreResult<Vec<KeyRecord>> {
    let sql = format!("{SELECT_KEY} ORDER BY created_at, kid");
    sqlx::query(&sql)
        .fetch_all(pool)
        .await
        .map_err(|e| db_error("list signing keys", e))?
        .iter()
        .map(rows::key)
        .collect()
}

/// Sets `retired_at` once. One statement: `retired` says whether this call
/// set it, and a row comes back at all only when the key exists.
pub(super) async fn retire_key<'e>(
    exec: impl PgExecutor<'e>,
    kid: &str,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let retired: Option<bool> = sqlx::query_scalar(
        "WITH hit AS (
             UPDATE signing_keys SET retired_at = $1 WHERE kid = $2 AND retired_at IS NULL RETURNING kid
         )
         SELECT EXISTS (SELECT 1 FROM hit) FROM signing_keys WHERE kid = $2",
    )
    .bind(millis(now))
    .bind(kid)
    .fetch_optional(exec)
    .await
    .map_err(|e| db_error("retire signing key", e))?;
    retired.ok_or(StoreError::NotFound)
}

// Minted tokens -------------------------------------------------------------

/// Inserts the metadata of a minted token. `NotFound` when the minting user
/// is missing or deleted, `IssuerEnded` when the credential it is minted via
/// is no longer live; both rows are share-locked first, as
/// `tokens::insert` does, so an ending in flight is waited for.
pub(super) async fn insert_minted(conn: &mut PgConnection, minted: &MintedRecord) -> StoreResult<()> {
    super::issuer::lock_live_user(conn, minted.minted_by.as_str()).await?;
    if let Some(via) = &minted.issued_via {
        super::issuer::require_live(conn, via, minted.issued_at).await?;
    }
    sqlx::query(
        "INSERT INTO minted_tokens (jti, agent, scopes, kid, minted_by, issued_at, expires_at, revoked_at,
                                    parent_token_id, issued_via)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(minted.jti.as_str())
    .bind(&minted.agent)
    .bind(scopes_json(&minted.scopes)?)
    .bind(&minted.kid)
    .bind(minted.minted_by.as_str())
    .bind(millis(minted.issued_at))
    .bind(millis(minted.expires_at))
    .bind(opt_millis(minted.revoked_at))
    .bind(minted.parent_token_id.as_ref().map(TokenId::as_str))
    .bind(minted.issued_via.as_ref().map(TokenId::as_str))
    .execute(conn)
    .await
    .map_err(|e| {
        if is_unique_violation(&e, "minted_tokens_pkey") {
            StoreError::Conflict(format!("a minted token with jti '{}' already exists", minted.jti))
        } else {
            db_error("insert minted token", e)
        }
    })?;
    Ok(())
}

pub(super) async fn minted_by_jti(pool: &PgPool, jti: &TokenId) -> StoreResult<Option<MintedRecord>> {
    let sql = format!("{SELECT_MINTED} WHERE jti = $1");
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
    pool: &PgPool,
    agent: Option<&str>,
    minted_by: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<MintedRecord>> {
    let mut q = QueryBuilder::<Postgres>::new(SELECT_MINTED);
    q.push(" WHERE TRUE");
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

/// Sets `revoked_at` once, in one statement as [`retire_key`] does.
pub(super) async fn revoke_minted<'e>(
    exec: impl PgExecutor<'e>,
    jti: &TokenId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let revoked: Option<bool> = sqlx::query_scalar(
        "WITH hit AS (
             UPDATE minted_tokens SET revoked_at = $1 WHERE jti = $2 AND revoked_at IS NULL RETURNING jti
         )
         SELECT EXISTS (SELECT 1 FROM hit) FROM minted_tokens WHERE jti = $2",
    )
    .bind(millis(now))
    .bind(jti.as_str())
    .fetch_optional(exec)
    .await
    .map_err(|e| db_error("revoke minted token", e))?;
    revoked.ok_or(StoreError::NotFound)
}

/// Revokes the agent's unrevoked tokens issued at or before `$1`, locking
/// them in jti order first so that two such calls queue, not deadlock;
/// the jtis it revoked.
pub(super) async fn revoke_agent<'e>(
    exec: impl PgExecutor<'e>,
    agent: &str,
    minted_by: Option<&UserId>,
    now: DateTime<Utc>,
) -> StoreResult<Vec<String>> {
    sqlx::query_scalar(
        "UPDATE minted_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL AND jti IN (
             SELECT jti FROM minted_tokens
             WHERE agent = $2 AND revoked_at IS NULL AND issued_at <= $1
               AND ($3::TEXT IS NULL OR minted_by = $3)
             ORDER BY jti FOR UPDATE
         )
         RETURNING jti",
    )
    .bind(millis(now))
    .bind(agent)
    .bind(minted_by.map(UserId::as_str))
    .fetch_all(exec)
    .await
    .map_err(|e| db_error("revoke agent tokens", e))
}

// Approvals -----------------------------------------------------------------

pub(super) async fn insert_approval(
    pool: &PgPool,
    a: &ApprovalRecord,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(|e| db_error("begin insert approval", e))?;
    let sql = format!(
        "INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    );
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
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e, "approvals_pkey") {
                StoreError::Conflict(format!("an approval with id '{}' already exists", a.id))
            } else {
                db_error("insert approval", e)
            }
        })?;
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit insert approval", e))
}

pub(super) async fn approval_by_id(pool: &PgPool, id: &str) -> StoreResult<Option<ApprovalRecord>> {
    let sql = format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = $1");
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
    pool: &PgPool,
    status: Option<ApprovalStatus>,
    limit: u32,
) -> StoreResult<Vec<ApprovalRecord>> {
    let mut q = QueryBuilder::<Postgres>::new(format!("SELECT {APPROVAL_COLUMNS} FROM approvals"));
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
/// statement; when it misses, the row read afterwards says why.
pub(super) async fn decide_approval(
    pool: &PgPool,
    id: &str,
    approve: bool,
    decided_by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<ApprovalRecord> {
    let mut tx = pool.begin().await.map_err(|e| db_error("begin decide approval", e))?;
    let status = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Denied };
    let sql = format!(
        "UPDATE approvals SET status = $1, decided_by = $2, decided_at = $3, reason = $4
         WHERE id = $5 AND status = 'pending' AND expires_at > $3
         RETURNING {APPROVAL_COLUMNS}"
    );
    let decided = sqlx::query(&sql)
        .bind(status.as_str())
        .bind(decided_by)
        .bind(millis(now))
        .bind(reason)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error("decide approval", e))?;
    if let Some(row) = decided {
        let decided = rows::approval(&row)?;
        super::outbox::insert(&mut tx, events).await?;
        tx.commit().await.map_err(|e| db_error("commit decide approval", e))?;
        return Ok(decided);
    }
    drop(tx);
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
    pool: &PgPool,
    id: &str,
    token_id: &str,
    operation: &str,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut tx = pool.begin().await.map_err(|e| db_error("begin consume approval", e))?;
    let done = sqlx::query(
        "UPDATE approvals SET status = 'used'
         WHERE id = $1 AND status = 'approved' AND token_id = $2 AND operation = $3 AND expires_at > $4",
    )
    .bind(id)
    .bind(token_id)
    .bind(operation)
    .bind(millis(now))
    .execute(&mut *tx)
    .await
    .map_err(|e| db_error("consume approval", e))?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    super::outbox::insert(&mut tx, events).await?;
    tx.commit().await.map_err(|e| db_error("commit consume approval", e))?;
    Ok(true)
}
