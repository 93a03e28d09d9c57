//! The audit outbox in SQLite: a write that changes state inserts its audit
//! events here in its own transaction, so they are durable exactly when the
//! change is; [`drain`] moves them into the chain (in order) and deletes
//! them, in one transaction under the write lock.

use super::rows::db_error;
use crate::StoreResult;
use crate::audit::columns::{self, Raw};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection};
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
        "SELECT pos, id, time, action, subject, token_id, scopes, operation, decision, risk_level, error, \
         request_id, client_ip, use_count FROM audit_outbox ORDER BY pos LIMIT ?",
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

/// An outbox row: its position and its event.
fn outboxed(row: &SqliteRow) -> StoreResult<(i64, AuditEntry)> {
    let get = |e: sqlx::Error| db_error("read audit outbox event", e);
    let pos: i64 = row.try_get("pos").map_err(get)?;
    // Read through the chain's lenient row mapping; the hashes are unused.
    let raw = Raw {
        seq: pos,
        id: row.try_get("id").map_err(get)?,
        time: row.try_get("time").map_err(get)?,
        action: row.try_get("action").map_err(get)?,
        subject: row.try_get("subject").map_err(get)?,
        token_id: row.try_get("token_id").map_err(get)?,
        scopes: row.try_get("scopes").map_err(get)?,
        operation: row.try_get("operation").map_err(get)?,
        decision: row.try_get("decision").map_err(get)?,
        risk_level: row.try_get("risk_level").map_err(get)?,
        error: row.try_get("error").map_err(get)?,
        request_id: row.try_get("request_id").map_err(get)?,
        client_ip: row.try_get("client_ip").map_err(get)?,
        use_count: row.try_get("use_count").map_err(get)?,
        prev_hash: Vec::new(),
        hash: Vec::new(),
    };
    Ok((pos, columns::chained(raw).entry))
}
