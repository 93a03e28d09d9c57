//! The agent side of ward: signing keys, minted-token metadata, approvals.
//!
//! Every change of state is one conditional statement. SQLite's single
//! writer makes it atomic; under PostgreSQL's READ COMMITTED a statement
//! that finds its row locked by another writer waits, then re-checks its
//! condition on the committed row. So an approval is decided only while
//! pending and unexpired, and spent at most once, however many nodes try
//! at once. An approval only ever moves forward (pending → approved or
//! denied, approved → used), so when a conditional update misses, reading
//! the row afterwards tells truthfully why.

use super::rows::{self, APPROVAL_COLUMNS, SELECT_KEY, SELECT_MINTED, millis, opt_millis, scopes_json};
use super::{Conn, Db, DbResult, Sql, Unique, finish, set_once, texts};
use crate::{
    ApprovalRecord, ApprovalStatus, Invalidation, KeyRecord, MintedRecord, Opened, StoreError, StoreResult,
};
use chrono::{DateTime, Utc};
use ward_core::audit::AuditEntry;
use ward_core::{TokenId, UserId};

const KID: Unique = Unique { sqlite: "signing_keys.kid", postgres: "signing_keys_pkey" };
const JTI: Unique = Unique { sqlite: "minted_tokens.jti", postgres: "minted_tokens_pkey" };
const APPROVAL_ID: Unique = Unique { sqlite: "approvals.id", postgres: "approvals_pkey" };

/// Runs an insert; a violation of `unique` is a `Conflict` saying `taken`.
async fn insert<C: Conn>(
    conn: &mut C,
    sql: Sql,
    unique: Unique,
    taken: String,
    what: &str,
) -> StoreResult<()> {
    match conn.execute(sql).await {
        Ok(_) => Ok(()),
        Err(e) if C::violates(&e, unique) => Err(StoreError::Conflict(taken)),
        Err(e) => Err(super::db_error(what, e)),
    }
}

// Signing keys --------------------------------------------------------------

pub(crate) async fn insert_key<D: Db>(db: &D, key: &KeyRecord, events: &[AuditEntry]) -> StoreResult<()> {
    let mut tx = db.begin("insert signing key").await?;
    let sql = Sql::new(
        "INSERT INTO signing_keys (kid, public_key, private_sealed, created_at, retired_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key.kid.as_str())
    .bind(key.public_key.as_slice())
    .bind(key.private_sealed.as_slice())
    .bind(millis(key.created_at))
    .bind(opt_millis(key.retired_at));
    let taken = format!("a signing key with kid '{}' already exists", key.kid);
    insert(&mut *tx, sql, KID, taken, "insert signing key").await?;
    tx.announce(&Invalidation::Keys).await?;
    finish::<D>(tx, events, "insert signing key").await
}

pub(crate) async fn list_keys<D: Db>(db: &D) -> StoreResult<Vec<KeyRecord>> {
    let sql = Sql::new(format!("{SELECT_KEY} ORDER BY created_at, kid"));
    db.read().await?.fetch_all(sql).await.db("list signing keys")?.iter().map(rows::key).collect()
}

/// Retires a key and revokes what its agent tokens obtained.
pub(crate) async fn retire_key<D: Db>(
    db: &D,
    kid: &str,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut tx = db.begin("retire signing key").await?;
    let out = set_once(&mut *tx, "signing_keys", "kid", "retired_at", kid, millis(now)).await?;
    if out {
        super::cascade::revoke_of_key(&mut *tx, kid, now).await?;
        tx.announce(&Invalidation::Key(kid.to_owned())).await?;
    }
    finish::<D>(tx, if out { events } else { &[] }, "retire signing key").await?;
    Ok(out)
}

// Minted tokens -------------------------------------------------------------

/// Inserts the metadata of a minted token. `NotFound` when the minting user
/// is missing or deleted, `IssuerEnded` when the credential it is minted via
/// is no longer live; checked as token inserts check (`issuer.rs`).
pub(crate) async fn insert_minted<D: Db>(
    db: &D,
    minted: &MintedRecord,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let scopes = scopes_json(&minted.scopes)?;
    let mut tx = db.begin("insert minted token").await?;
    super::issuer::check(&mut *tx, minted.minted_by.as_str(), minted.issued_via.as_ref(), minted.issued_at)
        .await?;
    let sql = Sql::new(
        "INSERT INTO minted_tokens (jti, agent, scopes, kid, minted_by, issued_at, expires_at, revoked_at,
                                    parent_token_id, issued_via)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(minted.jti.as_str())
    .bind(minted.agent.as_str())
    .bind(scopes)
    .bind(minted.kid.as_str())
    .bind(minted.minted_by.as_str())
    .bind(millis(minted.issued_at))
    .bind(millis(minted.expires_at))
    .bind(opt_millis(minted.revoked_at))
    .bind(minted.parent_token_id.as_ref().map(TokenId::as_str))
    .bind(minted.issued_via.as_ref().map(TokenId::as_str));
    let taken = format!("a minted token with jti '{}' already exists", minted.jti);
    insert(&mut *tx, sql, JTI, taken, "insert minted token").await?;
    finish::<D>(tx, events, "insert minted token").await
}

pub(crate) async fn minted_by_jti<D: Db>(db: &D, jti: &TokenId) -> StoreResult<Option<MintedRecord>> {
    let sql = Sql::new(format!("{SELECT_MINTED} WHERE jti = $1")).bind(jti.as_str());
    db.read()
        .await?
        .fetch_optional(sql)
        .await
        .db("select minted token")?
        .as_ref()
        .map(rows::minted)
        .transpose()
}

pub(crate) async fn list_minted<D: Db>(
    db: &D,
    agent: Option<&str>,
    minted_by: Option<&UserId>,
    limit: u32,
) -> StoreResult<Vec<MintedRecord>> {
    let mut q = Sql::new(SELECT_MINTED);
    q.push(" WHERE 1 = 1");
    if let Some(agent) = agent {
        q.push(" AND agent = ").push_bind(agent);
    }
    if let Some(minter) = minted_by {
        q.push(" AND minted_by = ").push_bind(minter.as_str());
    }
    q.push(" ORDER BY jti DESC LIMIT ").push_bind(i64::from(limit));
    db.read().await?.fetch_all(q).await.db("list minted tokens")?.iter().map(rows::minted).collect()
}

/// Revokes an agent token and what it obtained.
pub(crate) async fn revoke_minted<D: Db>(
    db: &D,
    jti: &TokenId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut tx = db.begin("revoke minted token").await?;
    let out = set_once(&mut *tx, "minted_tokens", "jti", "revoked_at", jti.as_str(), millis(now)).await?;
    if !out {
        return Ok(false);
    }
    super::cascade::revoke(&mut *tx, &[jti.as_str()], now).await?;
    tx.announce(&Invalidation::AgentToken(jti.clone())).await?;
    finish::<D>(tx, events, "revoke minted token").await?;
    Ok(true)
}

/// Revokes the agent's unrevoked tokens issued at or before `now` (only
/// those `minted_by` this user, when given), locking them in jti order
/// first so that two such calls queue, not deadlock, and what they
/// obtained; how many agent tokens it revoked.
pub(crate) async fn revoke_agent<D: Db>(
    db: &D,
    agent: &str,
    minted_by: Option<&UserId>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<u64> {
    let mut tx = db.begin("revoke agent tokens").await?;
    let sql = Sql::new(format!(
        "UPDATE minted_tokens SET revoked_at = $1
         WHERE revoked_at IS NULL AND jti IN (
             SELECT jti FROM minted_tokens
             WHERE agent = $2 AND revoked_at IS NULL AND issued_at <= $1
               AND (CAST($3 AS TEXT) IS NULL OR minted_by = $3)
             ORDER BY jti{}
         )
         RETURNING jti",
        <D::Conn as Conn>::FOR_UPDATE
    ))
    .bind(millis(now))
    .bind(agent)
    .bind(minted_by.map(UserId::as_str));
    let revoked = texts(&mut *tx, sql, "jti", "revoke agent tokens").await?;
    let roots: Vec<&str> = revoked.iter().map(String::as_str).collect();
    super::cascade::revoke(&mut *tx, &roots, now).await?;
    if !revoked.is_empty() {
        // One notice for the agent rather than one per jti: a subscriber
        // forgets every token of that agent (more than were ended when
        // `minted_by` narrowed it, which is safe).
        tx.announce(&Invalidation::Agent(agent.to_owned())).await?;
    }
    finish::<D>(tx, events, "revoke agent tokens").await?;
    Ok(revoked.len() as u64)
}

// Approvals -----------------------------------------------------------------

/// [`crate::AgentStore::open_approval`]: under the token's own lock, the
/// pending and unexpired requests of the token are read first; the same
/// operation's is returned, a full queue refused, or the new one inserted.
pub(crate) async fn open_approval<D: Db>(
    db: &D,
    a: &ApprovalRecord,
    max_pending: u32,
    events: &[AuditEntry],
) -> StoreResult<Opened> {
    let mut tx = db.begin("open approval").await?;
    tx.lock_key(&format!("approval:{}", a.token_id)).await?;
    let waiting = Sql::new(format!(
        "SELECT {APPROVAL_COLUMNS} FROM approvals
         WHERE token_id = $1 AND status = 'pending' AND expires_at > $2 ORDER BY id"
    ))
    .bind(a.token_id.as_str())
    .bind(millis(a.created_at));
    let waiting: Vec<ApprovalRecord> = tx
        .fetch_all(waiting)
        .await
        .db("read pending approvals")?
        .iter()
        .map(rows::approval)
        .collect::<StoreResult<_>>()?;
    if let Some(same) = waiting.iter().find(|w| w.operation == a.operation) {
        return Ok(Opened::Waiting(Box::new(same.clone())));
    }
    let pending = u32::try_from(waiting.len()).unwrap_or(u32::MAX);
    if pending >= max_pending {
        return Ok(Opened::Full(pending));
    }
    let sql = Sql::new(format!(
        "INSERT INTO approvals ({APPROVAL_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(a.id.as_str())
    .bind(a.token_id.as_str())
    .bind(a.subject.as_str())
    .bind(a.requested_by.as_ref().map(UserId::as_str))
    .bind(a.operation.as_str())
    .bind(a.risk.as_str())
    .bind(a.status.as_str())
    .bind(millis(a.created_at))
    .bind(millis(a.expires_at))
    .bind(a.decided_by.as_deref())
    .bind(opt_millis(a.decided_at))
    .bind(a.reason.as_deref());
    let taken = format!("an approval with id '{}' already exists", a.id);
    insert(&mut *tx, sql, APPROVAL_ID, taken, "insert approval").await?;
    finish::<D>(tx, events, "insert approval").await?;
    Ok(Opened::New)
}

pub(crate) async fn approval_by_id<D: Db>(db: &D, id: &str) -> StoreResult<Option<ApprovalRecord>> {
    let sql = Sql::new(format!("SELECT {APPROVAL_COLUMNS} FROM approvals WHERE id = $1")).bind(id);
    db.read().await?.fetch_optional(sql).await.db("select approval")?.as_ref().map(rows::approval).transpose()
}

pub(crate) async fn list_approvals<D: Db>(
    db: &D,
    status: Option<ApprovalStatus>,
    limit: u32,
) -> StoreResult<Vec<ApprovalRecord>> {
    let mut q = Sql::new(format!("SELECT {APPROVAL_COLUMNS} FROM approvals"));
    if let Some(status) = status {
        q.push(" WHERE status = ").push_bind(status.as_str());
    }
    q.push(" ORDER BY id DESC LIMIT ").push_bind(i64::from(limit));
    db.read().await?.fetch_all(q).await.db("list approvals")?.iter().map(rows::approval).collect()
}

/// Moves a pending, unexpired approval to approved or denied in one
/// statement; when it misses, the row read afterwards (the transaction,
/// and with it SQLite's write gate, already ended) says why.
pub(crate) async fn decide_approval<D: Db>(
    db: &D,
    id: &str,
    approve: bool,
    decided_by: &str,
    reason: Option<&str>,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<ApprovalRecord> {
    let status = if approve { ApprovalStatus::Approved } else { ApprovalStatus::Denied };
    let sql = Sql::new(format!(
        "UPDATE approvals SET status = $1, decided_by = $2, decided_at = $3, reason = $4
         WHERE id = $5 AND status = 'pending' AND expires_at > $3
         RETURNING {APPROVAL_COLUMNS}"
    ))
    .bind(status.as_str())
    .bind(decided_by)
    .bind(millis(now))
    .bind(reason)
    .bind(id);
    let mut tx = db.begin("decide approval").await?;
    if let Some(row) = tx.fetch_optional(sql).await.db("decide approval")? {
        let decided = rows::approval(&row)?;
        finish::<D>(tx, events, "decide approval").await?;
        return Ok(decided);
    }
    drop(tx);
    match approval_by_id(db, id).await? {
        None => Err(StoreError::NotFound),
        Some(a) if a.status != ApprovalStatus::Pending => {
            Err(StoreError::Conflict(format!("approval {id} is already {}", a.status.as_str())))
        }
        Some(_) => Err(StoreError::Conflict(format!("approval {id} has expired"))),
    }
}

/// Spends an approved, unexpired approval bound to this token and
/// operation: one conditional update, so of two concurrent calls one wins.
pub(crate) async fn consume_approval<D: Db>(
    db: &D,
    id: &str,
    token_id: &str,
    operation: &str,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut tx = db.begin("consume approval").await?;
    let sql = Sql::new(
        "UPDATE approvals SET status = 'used'
         WHERE id = $1 AND status = 'approved' AND token_id = $2 AND operation = $3 AND expires_at > $4",
    )
    .bind(id)
    .bind(token_id)
    .bind(operation)
    .bind(millis(now));
    if tx.execute(sql).await.db("consume approval")? != 1 {
        return Ok(false);
    }
    finish::<D>(tx, events, "consume approval").await?;
    Ok(true)
}
