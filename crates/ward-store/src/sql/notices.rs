//! Expiry notices (`crate::notices`): the due query and the claim, written
//! once for both databases.
//!
//! The claim is an `INSERT … ON CONFLICT DO NOTHING` of the (token, point)
//! row, then, when a row was there, an `UPDATE` that takes it only while
//! it is unsent and its lease has run out. On PostgreSQL a second
//! inserter waits for the first one's commit and then inserts nothing, and
//! the update re-reads the committed row (READ COMMITTED), so of two nodes
//! exactly one wins; on SQLite the write gate orders them.

use super::rows::{self, SELECT_TOKEN_WITH_OWNER, millis};
use super::{Columns, Conn, Db, DbResult, Sql, finish};
use crate::notices::NoticeClaim;
use crate::{StoreResult, TokenWithOwner};
use chrono::{DateTime, Duration, Utc};
use ward_core::TokenId;
use ward_core::audit::AuditEntry;
use ward_core::notice::Window;

/// [`crate::NoticeStore::due_notices`]: the rule of
/// `ward_core::notice::Window::contains`, in SQL.
pub(crate) async fn due<D: Db>(
    db: &D,
    window: Window,
    now: DateTime<Utc>,
    limit: u32,
) -> StoreResult<Vec<TokenWithOwner>> {
    let (now, point, next) = (millis(now), window.point.num_milliseconds(), window.next.num_milliseconds());
    let sql = Sql::new(format!(
        "{SELECT_TOKEN_WITH_OWNER}
         WHERE (t.revoked_at IS NULL OR t.revoked_at > $1) AND t.kind <> 'login'
           AND t.expires_at IS NOT NULL
           AND t.expires_at <= $1 + $2 AND t.expires_at > $1 + $3
           AND t.created_at <= t.expires_at - $2
           AND NOT EXISTS (SELECT 1 FROM expiry_notices n
                           WHERE n.token_id = t.id AND n.point_ms = $2
                             AND (n.sent_at IS NOT NULL OR n.lease_until > $1))
         ORDER BY t.expires_at, t.id LIMIT $4"
    ))
    .bind(now)
    .bind(point)
    .bind(next)
    .bind(i64::from(limit));
    db.read()
        .await?
        .fetch_all(sql)
        .await
        .db("select due notices")?
        .iter()
        .map(rows::token_with_owner)
        .collect()
}

/// [`crate::NoticeStore::claim_notice`].
pub(crate) async fn claim<D: Db>(db: &D, c: NoticeClaim<'_>) -> StoreResult<Option<u32>> {
    let mut tx = db.begin("claim notice").await?;
    let (id, point, lease) = (c.token_id.as_str(), c.point.num_milliseconds(), millis(c.lease_until));
    let insert = Sql::new(
        "INSERT INTO expiry_notices (token_id, point_ms, attempts, claimed_by, lease_until)
         VALUES ($1, $2, 1, $3, $4) ON CONFLICT (token_id, point_ms) DO NOTHING",
    )
    .bind(id)
    .bind(point)
    .bind(c.node)
    .bind(lease);
    if tx.execute(insert).await.db("insert notice claim")? == 1 {
        D::commit(tx, "claim notice").await?;
        return Ok(Some(1));
    }
    let take = Sql::new(
        "UPDATE expiry_notices SET claimed_by = $3, lease_until = $4, attempts = attempts + 1
         WHERE token_id = $1 AND point_ms = $2 AND sent_at IS NULL AND lease_until <= $5",
    )
    .bind(id)
    .bind(point)
    .bind(c.node)
    .bind(lease)
    .bind(millis(c.now));
    if tx.execute(take).await.db("take notice claim")? != 1 {
        D::commit(tx, "claim notice").await?;
        return Ok(None);
    }
    let attempts = Sql::new("SELECT attempts FROM expiry_notices WHERE token_id = $1 AND point_ms = $2")
        .bind(id)
        .bind(point);
    let row = tx.fetch_optional(attempts).await.db("read notice attempts")?;
    let attempts = row.map(|r| r.int("attempts")).transpose()?.unwrap_or(1);
    D::commit(tx, "claim notice").await?;
    Ok(Some(u32::try_from(attempts).unwrap_or(u32::MAX)))
}

/// [`crate::NoticeStore::notice_sent`].
pub(crate) async fn sent<D: Db>(
    db: &D,
    token_id: &TokenId,
    point: Duration,
    node: &str,
    now: DateTime<Utc>,
    events: &[AuditEntry],
) -> StoreResult<bool> {
    let mut tx = db.begin("mark notice sent").await?;
    let sql = Sql::new(
        "UPDATE expiry_notices SET sent_at = $4
         WHERE token_id = $1 AND point_ms = $2 AND claimed_by = $3 AND sent_at IS NULL",
    )
    .bind(token_id.as_str())
    .bind(point.num_milliseconds())
    .bind(node)
    .bind(millis(now));
    let marked = tx.execute(sql).await.db("mark notice sent")? == 1;
    finish::<D>(tx, if marked { events } else { &[] }, "mark notice sent").await?;
    Ok(marked)
}

/// [`crate::NoticeStore::notice_failed`].
pub(crate) async fn failed<D: Db>(
    db: &D,
    token_id: &TokenId,
    point: Duration,
    node: &str,
    retry_at: DateTime<Utc>,
) -> StoreResult<()> {
    let mut tx = db.begin("hand back notice").await?;
    let sql = Sql::new(
        "UPDATE expiry_notices SET claimed_by = NULL, lease_until = $4
         WHERE token_id = $1 AND point_ms = $2 AND claimed_by = $3 AND sent_at IS NULL",
    )
    .bind(token_id.as_str())
    .bind(point.num_milliseconds())
    .bind(node)
    .bind(millis(retry_at));
    tx.execute(sql).await.db("hand back notice")?;
    D::commit(tx, "hand back notice").await
}
