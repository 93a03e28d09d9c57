//! The audit chain and its outbox.
//!
//! Every append takes the appenders' lock before it reads the head, so
//! appenders never chain after the same event: on SQLite the write
//! transaction is the lock (`BEGIN IMMEDIATE` takes the database's one
//! write lock, across processes too); on PostgreSQL [`Conn::lock_audit`]
//! takes a transaction-level advisory lock, so every node that shares the
//! database queues up and extends one chain.
//!
//! A write that changes state inserts its audit events into the outbox in
//! its own transaction ([`outbox_insert`]), so they are durable exactly when
//! the change is; [`drain`] moves them into the chain (in order) and
//! deletes them, in one transaction under the appenders' lock.

use super::{Columns, Conn, Db, DbResult, Sql, texts};
use crate::audit::columns::{self, Raw, SELECT};
use crate::{AuditFilter, MAX_AUDIT_LIMIT, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use ward_core::audit::{AuditEntry, ChainHead, ChainKey, ChainedEntry, keyed_start};

/// The event columns the outbox and the chain share, in [`event_values`]'s order.
const EVENT_COLUMNS: &str = "id, time, action, subject, token_id, scopes, operation, decision, risk_level, error, request_id, client_ip, use_count";

fn event_values(e: &AuditEntry) -> Vec<super::Arg> {
    vec![
        e.id.as_str().into(),
        e.time.timestamp_millis().into(),
        e.action.as_str().into(),
        e.subject.clone().into(),
        e.token_id.clone().into(),
        columns::scopes_json(&e.scopes).into(),
        e.operation.clone().into(),
        e.decision.clone().into(),
        e.risk_level.clone().into(),
        e.error.clone().into(),
        e.request_id.clone().into(),
        e.client_ip.clone().into(),
        e.count.map(columns::int).into(),
    ]
}

/// Inserts `events` into the outbox, inside the caller's transaction.
pub(crate) async fn outbox_insert<C: Conn>(conn: &mut C, events: &[AuditEntry]) -> StoreResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let mut sql = Sql::new(format!("INSERT INTO audit_outbox ({EVENT_COLUMNS}) "));
    sql.push_values(events, event_values);
    conn.execute(sql).await.db("insert audit outbox")?;
    Ok(())
}

/// Chains up to `limit` outbox events with `key`, oldest first, and deletes
/// them, in one transaction. Returns what was chained.
pub(crate) async fn drain<D: Db>(db: &D, key: &ChainKey, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
    let mut tx = db.begin("audit outbox drain").await?;
    tx.lock_audit().await?;
    let sql = Sql::new(format!("SELECT pos, {EVENT_COLUMNS} FROM audit_outbox ORDER BY pos LIMIT $1"))
        .bind(i64::from(limit));
    let rows = tx.fetch_all(sql).await.db("read audit outbox")?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let positions = rows.iter().map(|row| row.int("pos")).collect::<StoreResult<Vec<_>>>()?;
    let events = rows
        .iter()
        .map(|row| Ok(columns::chained(raw(row, false)?).entry))
        .collect::<StoreResult<Vec<_>>>()?;
    let chained = append_in(&mut *tx, key, &events).await?;
    let delete =
        Sql::new(format!("DELETE FROM audit_outbox WHERE pos {}", D::Conn::in_list("$1"))).bind(positions);
    tx.execute(delete).await.db("delete drained audit outbox")?;
    D::commit(tx, "audit outbox drain").await?;
    Ok(chained)
}

pub(crate) async fn append<D: Db>(
    db: &D,
    key: &ChainKey,
    events: &[AuditEntry],
) -> StoreResult<Vec<ChainedEntry>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db.begin("audit append").await?;
    tx.lock_audit().await?;
    let chained = append_in(&mut *tx, key, events).await?;
    if !chained.is_empty() {
        D::commit(tx, "audit append").await?;
    }
    Ok(chained)
}

/// Appends the keyed start when the last stored event is not keyed with
/// `key` (a chain begun before the key existed).
pub(crate) async fn begin_keyed<D: Db>(
    db: &D,
    key: &ChainKey,
    id: String,
    time: DateTime<Utc>,
) -> StoreResult<Option<ChainedEntry>> {
    let mut tx = db.begin("audit keyed start").await?;
    tx.lock_audit().await?;
    let last = tx
        .fetch_optional(Sql::new(format!("{SELECT} ORDER BY seq DESC LIMIT 1")))
        .await
        .db("read last audit event")?;
    let last = last.map(|row| chained(&row)).transpose()?;
    let Some(last) = last.filter(|last| !last.hash_matches(key)) else {
        return Ok(None);
    };
    let start = keyed_start(id, time, ChainHead { seq: last.seq, hash: last.hash });
    let stored = append_in(&mut *tx, key, &[start]).await?;
    D::commit(tx, "audit keyed start").await?;
    Ok(stored.into_iter().next())
}

/// Chains and inserts `events` in `conn`'s transaction, which holds the
/// appenders' lock.
async fn append_in<C: Conn>(
    conn: &mut C,
    key: &ChainKey,
    events: &[AuditEntry],
) -> StoreResult<Vec<ChainedEntry>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let head = head_in(conn, "SELECT seq, hash FROM audit_head WHERE id = 1").await?;
    let last = head_in(conn, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").await?;
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let sql = Sql::new(format!("SELECT id FROM audit_events WHERE id {}", C::in_list("$1"))).bind(ids);
    let stored: HashSet<String> = texts(conn, sql, "id", "look up audit ids").await?.into_iter().collect();
    let fresh: Vec<AuditEntry> = events.iter().filter(|e| !stored.contains(&e.id)).cloned().collect();
    let chained = columns::plan(key, head, last, fresh);
    let Some(new_head) = chained.last() else {
        return Ok(Vec::new());
    };
    let mut insert = Sql::new(format!("INSERT INTO audit_events (seq, {EVENT_COLUMNS}, prev_hash, hash) "));
    insert.push_values(&chained, |c| {
        let mut values = vec![columns::int(c.seq).into()];
        values.extend(event_values(&c.entry));
        values.extend([c.prev_hash.as_bytes().as_slice().into(), c.hash.as_bytes().as_slice().into()]);
        values
    });
    conn.execute(insert).await.db("insert audit events")?;
    let head = Sql::new(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(columns::int(new_head.seq))
    .bind(new_head.hash.as_bytes().as_slice());
    conn.execute(head).await.db("update audit head")?;
    Ok(chained)
}

pub(crate) async fn query<D: Db>(db: &D, filter: &AuditFilter) -> StoreResult<Vec<ChainedEntry>> {
    let mut query = Sql::new(SELECT);
    query.push(" WHERE 1 = 1");
    let risk_level = filter.risk_level.map(|risk| risk.as_str().to_owned());
    let exact = [
        ("subject", &filter.subject),
        ("token_id", &filter.token_id),
        ("action", &filter.action),
        ("decision", &filter.decision),
        ("risk_level", &risk_level),
    ];
    for (column, value) in exact {
        if let Some(value) = value {
            query.push(&format!(" AND {column} = ")).push_bind(value);
        }
    }
    if let Some(since) = filter.since {
        query.push(" AND time >= ").push_bind(since.timestamp_millis());
    }
    if let Some(until) = filter.until {
        query.push(" AND time <= ").push_bind(until.timestamp_millis());
    }
    if let Some(before) = filter.before_seq {
        query.push(" AND seq < ").push_bind(columns::int(before));
    }
    if let Some(after) = filter.after_seq {
        query.push(" AND seq > ").push_bind(columns::int(after));
    }
    query.push(if filter.oldest_first { " ORDER BY seq ASC LIMIT " } else { " ORDER BY seq DESC LIMIT " });
    query.push_bind(i64::from(filter.limit.min(MAX_AUDIT_LIMIT)));
    db.read().await?.fetch_all(query).await.db("query audit events")?.iter().map(chained).collect()
}

pub(crate) async fn chain<D: Db>(db: &D, after: Option<u64>, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
    let mut query = Sql::new(SELECT);
    if let Some(after) = after {
        query.push(" WHERE seq > ").push_bind(columns::int(after));
    }
    query.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
    db.read().await?.fetch_all(query).await.db("read audit chain")?.iter().map(chained).collect()
}

pub(crate) async fn head<D: Db>(db: &D) -> StoreResult<Option<ChainHead>> {
    head_in(&mut *db.read().await?, "SELECT seq, hash FROM audit_head WHERE id = 1").await
}

async fn head_in<C: Conn>(conn: &mut C, sql: &str) -> StoreResult<Option<ChainHead>> {
    let row = conn.fetch_optional(Sql::new(sql)).await.db("read audit head")?;
    row.map(|row| Ok(columns::head(row.int("seq")?, &row.bytes("hash")?))).transpose()
}

/// A stored event as read; a tampered one still comes back (and fails its hash).
fn chained(row: &impl Columns) -> StoreResult<ChainedEntry> {
    Ok(columns::chained(raw(row, true)?))
}

/// The columns of an event row; `chain`: with `seq` and the hashes.
fn raw(row: &impl Columns, chain: bool) -> StoreResult<Raw> {
    let read = |e: StoreError| StoreError::Backend(format!("read audit event: {e}"));
    let get = |column: &str| row.opt_text(column).map_err(read);
    Ok(Raw {
        seq: if chain { row.int("seq").map_err(read)? } else { 0 },
        id: row.text("id").map_err(read)?,
        time: row.int("time").map_err(read)?,
        action: row.text("action").map_err(read)?,
        subject: get("subject")?,
        token_id: get("token_id")?,
        scopes: row.text("scopes").map_err(read)?,
        operation: get("operation")?,
        decision: get("decision")?,
        risk_level: get("risk_level")?,
        error: get("error")?,
        request_id: get("request_id")?,
        client_ip: get("client_ip")?,
        use_count: row.opt_int("use_count").map_err(read)?,
        prev_hash: if chain { row.bytes("prev_hash").map_err(read)? } else { Vec::new() },
        hash: if chain { row.bytes("hash").map_err(read)? } else { Vec::new() },
    })
}
