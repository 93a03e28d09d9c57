//! Token records: metadata plus the SHA-256 of the token, never the token.
//!
//! Status is derived at a moment `now`: revoked when `revoked_at <= now`,
//! else expired when `expires_at <= now`, else active. The SQL here and
//! [`crate::TokenRecord::status`] must agree.
//!
//! PostgreSQL runs many writers at once (READ COMMITTED), where SQLite runs
//! one: the statements here take the row locks ([`Conn::FOR_UPDATE`],
//! [`Conn::FOR_SHARE`]) that make each operation behave on PostgreSQL as
//! it does on SQLite. Locks are taken users before tokens, and tokens in id
//! order, so that concurrent operations queue rather than deadlock.

use super::rows::{self, SELECT_TOKEN_WITH_OWNER, millis, opt_millis, scopes_json};
use super::{Arg, Columns, Conn, Db, DbResult, Sql, Unique, finish, set_once};
use crate::{Invalidation, StoreError, StoreResult, TokenFilter, TokenRecord, TokenStatus, TokenWithOwner};
use chrono::{DateTime, Utc};
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};

const TOKEN_HASH: Unique = Unique { sqlite: "tokens.hash", postgres: "tokens_hash_key" };
const TOKEN_ID: Unique = Unique { sqlite: "tokens.id", postgres: "tokens_pkey" };

/// The columns a token insert writes, in the order of [`values`].
pub(crate) const TOKEN_COLUMNS: &str =
    "id, hash, display, name, kind, user_id, scopes, created_at, expires_at,
    revoked_at, last_used_at, rotated_from, parent_token_id, issued_by, issued_via,
    max_uses, uses_left, rate_limit";

/// The values of a token insert, in the order of [`TOKEN_COLUMNS`].
pub(crate) fn values(token: &TokenRecord, hash: &TokenHash, scopes: &str) -> Vec<Arg> {
    vec![
        token.id.as_str().into(),
        hash.as_bytes().as_slice().into(),
        token.display.as_str().into(),
        token.name.as_str().into(),
        token.kind.as_str().into(),
        token.user_id.as_str().into(),
        scopes.into(),
        millis(token.created_at).into(),
        opt_millis(token.expires_at).into(),
        opt_millis(token.revoked_at).into(),
        opt_millis(token.last_used_at).into(),
        token.rotated_from.as_ref().map(TokenId::as_str).into(),
        token.parent_token_id.as_ref().map(TokenId::as_str).into(),
        token.issued_by.as_ref().map(UserId::as_str).into(),
        token.issued_via.as_ref().map(TokenId::as_str).into(),
        opt_count(token.limits.max_uses).into(),
        opt_count(token.limits.uses_left).into(),
        token.limits.rate.map(|r| r.to_string()).into(),
    ]
}

/// A use count as the database stores it (counts are bounded far below
/// `i64::MAX` by `ward_core::limits::MAX_USES_LIMIT`).
fn opt_count(n: Option<u64>) -> Option<i64> {
    n.map(|n| i64::try_from(n).unwrap_or(i64::MAX))
}

/// What a failed token insert means to the caller.
pub(crate) fn insert_error<C: Conn>(e: sqlx::Error, token: &TokenRecord) -> StoreError {
    if C::violates(&e, TOKEN_HASH) {
        StoreError::Conflict("a token with this hash already exists".into())
    } else if C::violates(&e, TOKEN_ID) {
        StoreError::Conflict(format!("a token with id '{}' already exists", token.id))
    } else {
        super::db_error("insert token", e)
    }
}

/// The insert alone, with the database's own error; how many rows it
/// inserted.
pub(crate) async fn insert_row<C: Conn>(
    conn: &mut C,
    token: &TokenRecord,
    hash: &TokenHash,
    scopes: &str,
) -> Result<u64, sqlx::Error> {
    let mut sql = Sql::new(format!("INSERT INTO tokens ({TOKEN_COLUMNS}) "));
    sql.push_values(&[token], |token| values(token, hash, scopes));
    conn.execute(sql).await
}

/// Inserts a record for a live owner, issued via a live credential.
/// `NotFound` when the owner is missing or deleted, so a deleted user can
/// never gain a live token in a race with [`super::users::delete`];
/// `IssuerEnded` when `issuer` (the credential to check, normally
/// `token.issued_via`) is no longer live (`issuer.rs`).
pub(crate) async fn insert<C: Conn>(
    conn: &mut C,
    token: &TokenRecord,
    hash: &TokenHash,
    issuer: Option<&TokenId>,
) -> StoreResult<()> {
    let scopes = scopes_json(&token.scopes)?;
    super::issuer::check(conn, token.user_id.as_str(), issuer, token.created_at).await?;
    match insert_row(conn, token, hash, &scopes).await {
        Ok(_) => Ok(()),
        Err(e) => Err(insert_error::<C>(e, token)),
    }
}

/// [`crate::Store::insert_token`] in a transaction of its own.
pub(crate) async fn insert_one<D: Db>(
    db: &D,
    token: &TokenRecord,
    hash: &TokenHash,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let mut tx = db.begin("insert token").await?;
    insert(&mut *tx, token, hash, token.issued_via.as_ref()).await?;
    finish::<D>(tx, events, "insert token").await
}

async fn one<D: Db>(db: &D, column: &str, value: Arg) -> StoreResult<Option<TokenWithOwner>> {
    let sql = Sql::new(format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.{column} = $1")).bind(value);
    db.read()
        .await?
        .fetch_optional(sql)
        .await
        .db("select token")?
        .as_ref()
        .map(rows::token_with_owner)
        .transpose()
}

pub(crate) async fn by_hash<D: Db>(db: &D, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
    one(db, "hash", hash.as_bytes().as_slice().into()).await
}

pub(crate) async fn by_id<D: Db>(db: &D, id: &TokenId) -> StoreResult<Option<TokenWithOwner>> {
    one(db, "id", id.as_str().into()).await
}

pub(crate) async fn by_ids<D: Db>(db: &D, ids: &[TokenId]) -> StoreResult<Vec<TokenWithOwner>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = ids.iter().map(|id| id.as_str().to_owned()).collect();
    let sql = Sql::new(format!("{SELECT_TOKEN_WITH_OWNER} WHERE t.id {}", D::Conn::in_list("$1"))).bind(ids);
    db.read()
        .await?
        .fetch_all(sql)
        .await
        .db("select tokens by id")?
        .iter()
        .map(rows::token_with_owner)
        .collect()
}

pub(crate) async fn list<D: Db>(db: &D, f: &TokenFilter) -> StoreResult<Vec<TokenWithOwner>> {
    let now = millis(f.now);
    let mut q = Sql::new(SELECT_TOKEN_WITH_OWNER);
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
    if let Some(by) = f.expiring_by {
        q.push(" AND t.expires_at IS NOT NULL AND t.expires_at > ").push_bind(now);
        q.push(" AND t.expires_at <= ").push_bind(millis(by));
    }
    if let Some(since) = f.unused_since {
        // Never used counts from creation.
        q.push(" AND COALESCE(t.last_used_at, t.created_at) <= ").push_bind(millis(since));
    }
    q.push(" ORDER BY t.id DESC LIMIT ").push_bind(i64::from(f.limit));
    db.read().await?.fetch_all(q).await.db("list tokens")?.iter().map(rows::token_with_owner).collect()
}

/// Sets `revoked_at` on `id` unless set: `Ok(true)` when this call set it,
/// `Ok(false)` when it was set already, `NotFound` for no such token.
pub(crate) async fn revoke<C: Conn>(conn: &mut C, id: &TokenId, now: DateTime<Utc>) -> StoreResult<bool> {
    set_once(conn, "tokens", "id", "revoked_at", id.as_str(), millis(now)).await
}

/// [`crate::Store::revoke_token`] in a transaction of its own: the token,
/// then what it obtained.
pub(crate) async fn revoke_one<D: Db>(
    db: &D,
    id: &TokenId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut tx = db.begin("revoke token").await?;
    let out = revoke(&mut *tx, id, now).await?;
    if out {
        super::cascade::revoke(&mut *tx, &[id.as_str()], now).await?;
    }
    tx.announce(&Invalidation::Token(id.clone())).await?;
    finish::<D>(tx, if out { events } else { &[] }, "revoke token").await?;
    Ok(out)
}

pub(crate) async fn delete<D: Db>(
    db: &D,
    id: &TokenId,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let mut tx = db.begin("delete token").await?;
    // Its descendants are revoked, not deleted: they stay listed as ended.
    super::cascade::revoke(&mut *tx, &[id.as_str()], now).await?;
    let sql = Sql::new("DELETE FROM tokens WHERE id = $1").bind(id.as_str());
    if tx.execute(sql).await.db("delete token")? == 0 {
        return Err(StoreError::NotFound);
    }
    tx.announce(&Invalidation::Token(id.clone())).await?;
    finish::<D>(tx, events, "delete token").await
}

/// Ends `old` (at `old_ends_at`, never later than its own expiry, or now)
/// and inserts `new`, in one transaction. The old token's row is locked
/// for the whole transaction (on SQLite the write gate is), so of two
/// concurrent rotations of one token the second waits, then finds the
/// first one's successor (READ COMMITTED: the successor query is a new
/// statement and sees what committed meanwhile) and answers `Conflict`
/// naming it.
pub(crate) async fn rotate<D: Db>(
    db: &D,
    old: &TokenId,
    old_ends_at: Option<DateTime<Utc>>,
    new: &TokenRecord,
    new_hash: &TokenHash,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<()> {
    let for_update = <D::Conn as Conn>::FOR_UPDATE;
    let mut tx = db.begin("rotate token").await?;
    // The owner before the token, in the order `users::delete` locks them.
    let owner = Sql::new(format!("SELECT id FROM users WHERE id = $1{}", <D::Conn as Conn>::FOR_SHARE))
        .bind(new.user_id.as_str());
    tx.fetch_optional(owner).await.db("lock token owner")?;
    let row = Sql::new(format!("SELECT expires_at, revoked_at FROM tokens WHERE id = $1{for_update}"))
        .bind(old.as_str());
    let row = tx.fetch_optional(row).await.db("select token to rotate")?.ok_or(StoreError::NotFound)?;
    let (expires_at, revoked_at) = (row.opt_int("expires_at")?, row.opt_int("revoked_at")?);
    let successor =
        Sql::new("SELECT id FROM tokens WHERE rotated_from = $1 ORDER BY id LIMIT 1").bind(old.as_str());
    let successor = tx.fetch_optional(successor).await.db("select successor of rotated token")?;
    let successor = successor.map(|row| row.text("id")).transpose()?;
    crate::rotation::check(old, expires_at, revoked_at, successor.as_deref(), now)?;
    let end = old_ends_at.map(|end| expires_at.map_or(millis(end), |t| t.min(millis(end))));
    let ending = match end {
        Some(end) => Sql::new("UPDATE tokens SET expires_at = $1 WHERE id = $2").bind(end),
        None => Sql::new("UPDATE tokens SET revoked_at = $1 WHERE id = $2").bind(millis(now)),
    };
    tx.execute(ending.bind(old.as_str())).await.db("end rotated token")?;
    // A token rotating itself was checked above; any other caller must still be live.
    insert(&mut *tx, new, new_hash, new.issued_via.as_ref().filter(|via| *via != old)).await?;
    // After the insert: a successor obtained by a descendant of `old` is
    // one of its descendants too.
    match end {
        Some(end) => super::cascade::shorten(&mut *tx, old.as_str(), end).await?,
        None => super::cascade::revoke(&mut *tx, &[old.as_str()], now).await?,
    }
    tx.announce(&Invalidation::Token(old.clone())).await?;
    finish::<D>(tx, events, "rotate token").await
}

/// Moves `last_used_at` forward, never back, for the whole batch in one
/// transaction: the rows are locked in id order first (where rows lock),
/// then one statement updates each to the latest time the batch holds for
/// it. Ids with no record (deleted since use) are skipped.
pub(crate) async fn record_usage<D: Db>(db: &D, used: &[(TokenId, DateTime<Utc>)]) -> StoreResult<()> {
    if used.is_empty() {
        return Ok(());
    }
    let pairs: Vec<(&str, i64)> = used.iter().map(|(id, at)| (id.as_str(), millis(*at))).collect();
    let pairs =
        serde_json::to_string(&pairs).map_err(|e| StoreError::Backend(format!("usage batch: {e}")))?;
    let mut tx = db.begin("record usage").await?;
    let for_update = <D::Conn as Conn>::FOR_UPDATE;
    if !for_update.is_empty() {
        let ids: Vec<String> = used.iter().map(|(id, _)| id.as_str().to_owned()).collect();
        let in_ids = <D::Conn as Conn>::in_list("$1");
        let lock = Sql::new(format!("SELECT id FROM tokens WHERE id {in_ids} ORDER BY id{for_update}"))
            .bind(ids)
            .once();
        tx.execute(lock).await.db("lock used tokens")?;
    }
    let update = Sql::new(format!(
        "UPDATE tokens SET last_used_at = CASE
             WHEN tokens.last_used_at IS NULL OR tokens.last_used_at < u.at THEN u.at
             ELSE tokens.last_used_at END
         FROM (SELECT id, MAX(at) AS at FROM {} GROUP BY id) AS u
         WHERE tokens.id = u.id",
        <D::Conn as Conn>::pairs("$1")
    ))
    .bind(pairs)
    .once();
    tx.execute(update).await.db("record token usage")?;
    D::commit(tx, "record usage").await
}
