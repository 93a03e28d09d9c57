//! The audit chain in PostgreSQL: every append takes one transaction-level
//! advisory lock before it reads the head, so appenders on every node that
//! shares the database queue up and extend one chain. The lock goes with
//! the transaction, commit or rollback.

use super::rows::db_error;
use crate::audit::columns::{self, Raw, SELECT};
use crate::{AuditFilter, MAX_AUDIT_LIMIT, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder, Row};
use std::collections::HashSet;
use ward_core::audit::{AuditEntry, ChainHead, ChainKey, ChainedEntry, keyed_start};

/// The advisory lock every audit append takes: "wardaudt" in ASCII.
const AUDIT_LOCK: i64 = 0x7761_7264_6175_6474;

pub(super) async fn append(
    pool: &PgPool,
    key: &ChainKey,
    events: &[AuditEntry],
) -> StoreResult<Vec<ChainedEntry>> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = pool.begin().await.map_err(|e| db_error("begin audit append", e))?;
    lock_chain(&mut tx).await?;
    let chained = append_in(&mut tx, key, events).await?;
    if !chained.is_empty() {
        tx.commit().await.map_err(|e| db_error("commit audit append", e))?;
    }
    Ok(chained)
}

/// Takes the lock every appender takes, until `conn`'s transaction ends.
pub(super) async fn lock_chain(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(AUDIT_LOCK)
        .execute(conn)
        .await
        .map_err(|e| db_error("take the audit lock", e))?;
    Ok(())
}

/// Appends the keyed start when the last stored event is not keyed with
/// `key` (a chain begun before the key existed).
pub(super) async fn begin_keyed(
    pool: &PgPool,
    key: &ChainKey,
    id: String,
    time: DateTime<Utc>,
) -> StoreResult<Option<ChainedEntry>> {
    let mut tx = pool.begin().await.map_err(|e| db_error("begin audit keyed start", e))?;
    lock_chain(&mut tx).await?;
    let mut query = QueryBuilder::<Postgres>::new(SELECT);
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

/// Chains and inserts `events` in `conn`'s transaction, which holds the
/// audit lock.
pub(super) async fn append_in(
    conn: &mut PgConnection,
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
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let stored: HashSet<String> = sqlx::query_scalar("SELECT id FROM audit_events WHERE id = ANY($1)")
        .bind(&ids)
        .fetch_all(&mut *conn)
        .await
        .map_err(|e| db_error("look up audit ids", e))?
        .into_iter()
        .collect();
    let fresh: Vec<AuditEntry> = events.iter().filter(|e| !stored.contains(&e.id)).cloned().collect();
    let chained = columns::plan(key, head, last, fresh);
    let Some(new_head) = chained.last() else {
        return Ok(Vec::new());
    };

    let mut insert = QueryBuilder::<Postgres>::new(
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
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .bind(columns::seq_param(new_head.seq))
    .bind(new_head.hash.as_bytes().as_slice())
    .execute(&mut *conn)
    .await
    .map_err(|e| db_error("update audit head", e))?;
    Ok(chained)
}

pub(super) async fn query(pool: &PgPool, filter: &AuditFilter) -> StoreResult<Vec<ChainedEntry>> {
    let mut query = QueryBuilder::<Postgres>::new(SELECT);
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

pub(super) async fn chain(pool: &PgPool, after: Option<u64>, limit: u32) -> StoreResult<Vec<ChainedEntry>> {
    let mut query = QueryBuilder::<Postgres>::new(SELECT);
    if let Some(after) = after {
        query.push(" WHERE seq > ").push_bind(columns::seq_param(after));
    }
    query.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit));
    let rows = query.build().fetch_all(pool).await.map_err(|e| db_error("read audit chain", e))?;
    rows.iter().map(chained).collect()
}

pub(super) async fn head(pool: &PgPool) -> StoreResult<Option<ChainHead>> {
    sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_optional(pool)
        .await
        .map_err(|e| db_error("read audit head", e))?
        .map(|row| head_of(&row))
        .transpose()
}

fn head_of(row: &PgRow) -> StoreResult<ChainHead> {
    let seq: i64 = row.try_get("seq").map_err(|e| db_error("read audit head seq", e))?;
    let hash: Vec<u8> = row.try_get("hash").map_err(|e| db_error("read audit head hash", e))?;
    Ok(columns::head(seq, &hash))
}

pub(super) fn chained(row: &PgRow) -> StoreResult<ChainedEntry> {
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
impl crate::AuditLog for super::PostgresStore {
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
