//! The audit chain in SQLite: appends under `BEGIN IMMEDIATE`, which takes
//! the database's one write lock before the head is read, so two appenders
//! (two connections, or two processes on one file) never chain after the
//! same event.

use super::rows::db_error;
use crate::audit::columns::{self, Raw, SELECT};
use crate::{AuditFilter, MAX_AUDIT_LIMIT, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite, SqliteConnection, SqlitePool};
use std::collections::HashSet;
use ward_core::audit::{AuditEntry, ChainHead, ChainKey, ChainedEntry, keyed_start};

pub(super) async fn append(
    pool: &super::commit::Pool,
    key: &ChainKey,
    events: &[AuditEntry],
) -> StoreResult<Vec<ChainedEntry>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin("audit append").await?;
    let chained = append_in(&mut tx, key, events).await?;
    if !chained.is_empty() {
        tx.commit().await.map_err(|e| db_error("commit audit append", e))?;
    }
    Ok(chained)
}

/// Appends the keyed start when the last stored event is not keyed with
/// `key` (a chain begun before the key existed).
pub(super) async fn begin_keyed(
    pool: &super::commit::Pool,
    key: &ChainKey,
    id: String,
    time: DateTime<Utc>,
) -> StoreResult<Option<ChainedEntry>> {
    let mut tx = pool.begin("audit keyed start").await?;
    let mut query = QueryBuilder::<Sqlite>::new(SELECT);
    query.push(" ORDER BY seq DESC LIMIT 1");
    let last = query
        .build()
        .fetch_optional(&mut *tx)
        .await
        .map_err(|e| db_error("read last audit event", e))?
        .map(|row| chained(&row))
        .transpose()?;
    let Some(last) = last.filter(|last| !last.hash_matches(key)) else {
        return Ok(None);
    };
    let start = keyed_start(id, time, ChainHead { seq: last.seq, hash: last.hash });
    let stored = append_in(&mut tx, key, &[start]).await?;
    tx.commit().await.map_err(|e| db_error("commit audit keyed start", e))?;
    Ok(stored.into_iter().next())
}

/// Chains and inserts `events` on `conn`, which holds the write lock.
pub(super) async fn append_in(
    conn: &mut SqliteConnection,
    key: &ChainKey,
    events: &[AuditEntry],
) -> StoreResult<Vec<ChainedEntry>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error("read audit head", e))?
        .map(|row| head_of(&row))
        .transpose()?;
    let last = sqlx::query("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(|e| db_error("read last audit event", e))?
        .map(|row| head_of(&row))
        .transpose()?;
    let stored = stored_ids(&mut *conn, events).await?;
    let fresh: Vec<AuditEntry> = events.iter().filter(|e| !stored.contains(&e.id)).cloned().collect();
    let chained = columns::plan(key, head, last, fresh);
    let Some(new_head) = chained.last() else {
        return Ok(Vec::new());
    };

    let mut insert = QueryBuilder::<Sqlite>::new(
        "INSERT INTO audit_events (seq, id, time, action, subject, token_id, scopes, operation, \
         decision, risk_level, error, request_id, client_ip, use_count, prev_hash, hash) ",
    );
    insert.push_values(&chained, |mut row, c| {
        let e = &c.entry;
        row.push_bind(columns::seq_param(c.seq))
            .push_bind(e.id.clone())
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
            .push_bind(e.count.map(columns::count_param))
            .push_bind(c.prev_hash.as_bytes().to_vec())
            .push_bind(c.hash.as_bytes().to_vec());
    });
    insert.build().execute(&mut *conn).await.map_err(|e| db_error("insert audit events", e))?;
    sqlx::query(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(columns::seq_param(new_head.seq))
    .bind(new_head.hash.as_bytes().as_slice())
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("update audit head", e))?;
    Ok(chained)
}

/// The ids among `events` that are already stored.
async fn stored_ids(conn: &mut SqliteConnection, events: &[AuditEntry]) -> StoreResult<HashSet<String>> {
    let mut query = QueryBuilder::<Sqlite>::new("SELECT id FROM audit_events WHERE id IN (");
    let mut ids = query.separated(", ");
    for e in events {
        ids.push_bind(e.id.clone());
    }
    query.push(")");
    let rows = query.build().fetch_all(conn).await.map_err(|e| db_error("look up audit ids", e))?;
    rows.iter().map(|row| row.try_get::<String, _>("id").map_err(|e| db_error("read audit id", e))).collect()
}

pub(super) async fn query(pool: &SqlitePool, filter: &AuditFilter) -> StoreResult<Vec<ChainedEntry>> {
    let mut query = QueryBuilder::<Sqlite>::new(SELECT);
    query.push(" WHERE 1 = 1");
    let exact = [
        ("subject", &filter.subject),
        ("token_id", &filter.token_id),
        ("action", &filter.action),
        ("decision", &filter.decision),
        ("risk_level", &filter.risk_level),
    ];
    for (column, value) in exact {
        if let Some(value) = value {
            query.push(format!(" AND {column} = ")).push_bind(value.clone());
        }
    }
    if let Some(since) = filter.since {
        query.push(" AND time >= ").push_bind(since.timestamp_millis());
    }
    if let Some(until) = filter.until {
        query.push(" AND time <= ").push_bind(until.timestamp_millis());
    }
    if let Some(before) = filter.before_seq {
        query.push(" AND seq < ").push_bind(columns::seq_param(before));
    }
    query.push(" ORDER BY seq DESC LIMIT ").push_bind(i64::from(filter.limit.min(MAX_AUDIT_LIMIT)));
    let rows = query.build().fetch_all(pool).await.map_err(|e| db_error("query audit events", e))?;
    rows.iter().map(chained).collect()
}

pub(super) async fn chain(
    pool: &SqlitePool,
    after: Option<u64>,
    limit: u32,
) -> StoreResult<Vec<ChainedEntry>> {
    let mut query = QueryBuilder::<Sqlite>::new(SELECT);
    if let Some(after) = after {
        query.push(" WHERE seq > ").push_bind(columns::seq_param(after));
    }
    query.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await.map_err(|e| db_error("read audit chain", e))?;
    rows.iter().map(chained).collect()
}

pub(super) async fn head(pool: &SqlitePool) -> StoreResult<Option<ChainHead>> {
    sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("read audit head", e))?
        .map(|row| head_of(&row))
        .transpose()
}

fn head_of(row: &SqliteRow) -> StoreResult<ChainHead> {
    let seq: i64 = row.try_get("seq").map_err(|e| db_error("read audit head seq", e))?;
    let hash: Vec<u8> = row.try_get("hash").map_err(|e| db_error("read audit head hash", e))?;
    Ok(columns::head(seq, &hash))
}

pub(super) fn chained(row: &SqliteRow) -> StoreResult<ChainedEntry> {
    let get = |e: sqlx::Error| db_error("read audit event", e);
    Ok(columns::chained(Raw {
        seq: row.try_get("seq").map_err(get)?,
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
        prev_hash: row.try_get("prev_hash").map_err(get)?,
        hash: row.try_get("hash").map_err(get)?,
    }))
}

#[async_trait::async_trait]
impl crate::AuditLog for super::SqliteStore {
    async fn append_audit(&self, key: &ChainKey, events: &[AuditEntry]) -> StoreResult<Vec<ChainedEntry>> {
        append(&self.pool, key, events).await
    }

    async fn begin_keyed_chain(
        &self,
        key: &ChainKey,
        id: String,
        time: DateTime<Utc>,
    ) -> StoreResult<Option<ChainedEntry>> {
        begin_keyed(&self.pool, key, id, time).await
    }

    async fn drain_outbox(&self, key: &ChainKey, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        super::outbox::drain(&self.pool, key, limit).await
    }

    async fn query_audit(&self, filter: &AuditFilter) -> StoreResult<Vec<ChainedEntry>> {
        query(&self.pool, filter).await
    }

    async fn audit_chain(&self, after: Option<u64>, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
        chain(&self.pool, after, limit).await
    }

    async fn audit_head(&self) -> StoreResult<Option<ChainHead>> {
        head(&self.pool).await
    }
}
