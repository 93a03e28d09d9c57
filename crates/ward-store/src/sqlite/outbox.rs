//! The audit outbox in SQLite: a write that changes state inserts its audit
//! events here in its own transaction, so they are durable exactly when the
//! change is; [`drain`] moves them into the chain (in order) and deletes
//! them, in one transaction under the write lock.

use super::rows::db_error;
use crate::audit::columns;
use crate::{StoreError, StoreResult};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use ward_core::audit::{AuditEntry, ChainKey, ChainedEntry};

/// Inserts `events` on `conn`, inside the caller's transaction.
pub(super) async fn insert(conn: &mut SqliteConnection, events: &[AuditEntry]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut q = QueryBuilder::<Sqlite>::new(
        "INSERT INTO audit_outbox (id, time, action, subject, token_id, scopes, operation, decision, \
         risk_level, error, request_id, client_ip, use_count) ",
    );
    q.push_values(events, |mut row, e| {
        row.push_bind(e.id.clone())
            .push_bind(e.time.timestamp_millis())
            .push_bind(e.action.clone())
            .push_bind(e.subject.clone())
            .push_bind(e.token_id.clone())
            .push_bind(columns::scopes_json(&e.scopes))
            .push_bind(e.operation.clone())
            .push_bind(e.decision.clone())
            .push_bind(e.risk_level.clone())
            .push_bind(e.error.clone())
            .push_bind(e.request_id.clone())
            .push_bind(e.client_ip.clone())
            .push_bind(e.count.map(columns::count_param));
    });
    q.build().persistent(false).execute(conn).await.map_err(|e| db_error("insert audit outbox", e))?;
    Ok(())
}

/// Chains up to `limit` outbox events with `key`, oldest first, and deletes
/// them, in one transaction. Returns what was chained.
pub(super) async fn drain(
    pool: &super::commit::Pool,
    key: &ChainKey,
    limit: u32,
) -> StoreResult<Vec<ChainedEntry>> {
    let mut tx = pool.begin("audit outbox drain").await?;
    let rows = sqlx::query(
        "SELECT pos AS seq, id, time, action, subject, token_id, scopes, operation, decision, risk_level, error, \
         request_id, client_ip, use_count, X'' AS prev_hash, X'' AS hash \
         FROM audit_outbox ORDER BY pos LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(|e| db_error("read audit outbox", e))?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let (positions, events): (Vec<i64>, Vec<AuditEntry>) =
        rows.iter().map(outboxed).collect::<StoreResult<Vec<_>>>()?.into_iter().unzip();
    let chained = super::audit::append_in(&mut tx, key, &events).await?;
    let mut delete = QueryBuilder::<Sqlite>::new("DELETE FROM audit_outbox WHERE pos IN (");
    let mut list = delete.separated(", ");
    for pos in &positions {
        list.push_bind(*pos);
    }
    delete.push(")");
    delete
        .build()
        .persistent(false)
        .execute(&mut *tx)
        .await
        .map_err(|e| db_error("delete drained audit outbox", e))?;
    tx.commit().await.map_err(|e| db_error("commit audit outbox drain", e))?;
    Ok(chained)
}

/// An outbox row, read through the chain's row mapping (its hashes are
/// empty and unused): its position and its event.
fn outboxed(row: &SqliteRow) -> StoreResult<(i64, AuditEntry)> {
    let read = super::audit::chained(row)?;
    let pos = i64::try_from(read.seq).map_err(|_| StoreError::Corrupt("audit outbox position".into()))?;
    Ok((pos, read.entry))
}
