//! The audit log's contract: appends chain from the genesis hash and go on
//! from the head, are idempotent by event id, keep one chain under
//! concurrent appenders, and read back exactly; queries filter and page
//! newest first; the chain verifies. At the bottom, per backend: editing,
//! deleting or swapping rows with plain SQL is caught and named.

use crate::support::at;
use ward_core::audit::{AuditEntry, ChainKey, ChainedEntry, EventHash, Problem};
use ward_store::{AuditFilter, AuditLog, verify_chain};

/// The chain key of every check.
pub fn key() -> ChainKey {
    ChainKey::new([7; 32])
}

/// An event of `action` about `subject`, at minute `minute`, with a unique id.
pub fn event(n: u64, action: &str, subject: &str, minute: i64) -> AuditEntry {
    AuditEntry {
        id: format!("evt_{n:026}"),
        time: at(minute),
        action: action.to_owned(),
        subject: Some(subject.to_owned()),
        token_id: Some(format!("tok_{n:026}")),
        scopes: vec!["stacks:read".into(), "ward:tokens".into()],
        operation: None,
        decision: Some(if n.is_multiple_of(2) { "allow" } else { "deny" }.into()),
        risk_level: Some(if n.is_multiple_of(3) { "critical" } else { "low" }.into()),
        error: None,
        request_id: Some(format!("req_{n}")),
        client_ip: Some("127.0.0.1".into()),
        count: n.is_multiple_of(4).then_some(n + 2),
    }
}

fn events(range: std::ops::Range<u64>) -> Vec<AuditEntry> {
    range.map(|n| event(n, "token.create", "alice", n as i64)).collect()
}

async fn append(log: &dyn AuditLog, entries: &[AuditEntry]) -> Vec<ChainedEntry> {
    log.append_audit(&key(), entries).await.expect("append audit events")
}

async fn query(log: &dyn AuditLog, filter: AuditFilter) -> Vec<u64> {
    log.query_audit(&filter).await.expect("query audit").iter().map(|e| e.seq).collect()
}

async fn assert_intact(log: &dyn AuditLog, events: u64) {
    let verdict = verify_chain(log, &key()).await.expect("verify");
    assert!(verdict.ok(), "{verdict:?}");
    assert_eq!(verdict.checked, events);
}

pub async fn an_empty_log_has_no_head_and_verifies(log: &dyn AuditLog) {
    assert_eq!(log.audit_head().await.expect("head"), None);
    assert!(log.audit_chain(None, 10).await.expect("chain").is_empty());
    assert!(log.append_audit(&key(), &[]).await.expect("empty append").is_empty());
    assert_intact(log, 0).await;
}

pub async fn an_empty_or_keyed_chain_needs_no_keyed_start(log: &dyn AuditLog) {
    let key = key();
    let start = |n: u64| log.begin_keyed_chain(&key, format!("evt_start{n}"), at(9));
    assert_eq!(start(1).await.expect("begin on an empty chain"), None);
    append(log, &events(0..2)).await;
    assert_eq!(start(2).await.expect("begin on a keyed chain"), None);
    assert_intact(log, 2).await;
}

pub async fn appends_chain_from_genesis_and_go_on_from_the_head(log: &dyn AuditLog) {
    let first = append(log, &events(0..3)).await;
    assert_eq!(first.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(first[0].prev_hash, EventHash::GENESIS);
    assert_eq!(first[1].prev_hash, first[0].hash);
    let second = append(log, &events(3..5)).await;
    assert_eq!(second[0].seq, 4);
    assert_eq!(second[0].prev_hash, first[2].hash);
    assert!(first.iter().chain(&second).all(|e| e.hash_matches(&key())));
    let head = log.audit_head().await.expect("head").expect("a head");
    assert_eq!((head.seq, head.hash), (5, second[1].hash));
    assert_intact(log, 5).await;
}

pub async fn events_read_back_exactly_as_appended(log: &dyn AuditLog) {
    let mut sparse = event(7, "login.failure", "bob", 2);
    (sparse.token_id, sparse.decision, sparse.risk_level, sparse.request_id) = (None, None, None, None);
    sparse.scopes.clear();
    sparse.error = Some("invalid username or password".into());
    sparse.operation = Some("POST /v1/login".into());
    let stored = append(log, &[event(1, "token.create", "alice", 1), sparse]).await;
    let chain = log.audit_chain(None, 10).await.expect("chain");
    assert_eq!(chain, stored);
    let newest = log.query_audit(&AuditFilter::default()).await.expect("query");
    assert_eq!(newest, stored.into_iter().rev().collect::<Vec<_>>());
}

pub async fn an_event_already_stored_is_not_appended_twice(log: &dyn AuditLog) {
    let batch = events(0..3);
    append(log, &batch[..2]).await;
    let retried = append(log, &batch).await;
    assert_eq!(retried.len(), 1, "only the new event is appended");
    assert_eq!(retried[0].entry.id, batch[2].id);
    assert_eq!(retried[0].seq, 3);
    assert!(append(log, &batch).await.is_empty());
    assert_intact(log, 3).await;
}

pub async fn concurrent_appenders_extend_one_chain(log: &dyn AuditLog) {
    let appender = |worker: u64| async move {
        for batch in 0..5 {
            let start = worker * 100 + batch * 10;
            log.append_audit(&key(), &events(start..start + 4)).await.expect("append");
        }
    };
    tokio::join!(appender(1), appender(2), appender(3), appender(4));
    let chain = log.audit_chain(None, 1000).await.expect("chain");
    assert_eq!(chain.iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=80).collect::<Vec<_>>());
    assert_intact(log, 80).await;
}

pub async fn the_chain_is_read_and_verified_page_by_page(log: &dyn AuditLog) {
    for start in (0..2300).step_by(500) {
        append(log, &events(start..(start + 500).min(2300))).await;
    }
    let page = log.audit_chain(Some(1000), 5).await.expect("page");
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [1001, 1002, 1003, 1004, 1005]);
    assert_intact(log, 2300).await;
}

pub async fn queries_are_newest_first_and_filter_by_each_field(log: &dyn AuditLog) {
    append(
        log,
        &[
            event(1, "login.success", "alice", 1),
            event(2, "token.create", "alice", 2),
            event(3, "token.create", "bob", 3),
            event(4, "token.revoke", "bob", 4),
        ],
    )
    .await;
    let all = AuditFilter::default;
    assert_eq!(query(log, all()).await, [4, 3, 2, 1]);
    assert_eq!(query(log, AuditFilter { subject: Some("alice".into()), ..all() }).await, [2, 1]);
    assert_eq!(query(log, AuditFilter { action: Some("token.create".into()), ..all() }).await, [3, 2]);
    let token = Some(format!("tok_{:026}", 3));
    assert_eq!(query(log, AuditFilter { token_id: token, ..all() }).await, [3]);
    assert_eq!(query(log, AuditFilter { decision: Some("allow".into()), ..all() }).await, [4, 2]);
    assert_eq!(query(log, AuditFilter { risk_level: Some(ward_core::Risk::Critical), ..all() }).await, [3]);
    let bob_creates =
        AuditFilter { subject: Some("bob".into()), action: Some("token.create".into()), ..all() };
    assert_eq!(query(log, bob_creates).await, [3]);
    assert!(query(log, AuditFilter { subject: Some("carol".into()), ..all() }).await.is_empty());
}

pub async fn queries_filter_by_inclusive_times_and_page_by_seq(log: &dyn AuditLog) {
    append(log, &events(1..7)).await;
    let all = AuditFilter::default;
    assert_eq!(query(log, AuditFilter { since: Some(at(3)), until: Some(at(5)), ..all() }).await, [5, 4, 3]);
    assert_eq!(query(log, AuditFilter { since: Some(at(6)), ..all() }).await, [6]);
    assert_eq!(query(log, AuditFilter { limit: 2, ..all() }).await, [6, 5]);
    assert_eq!(query(log, AuditFilter { limit: 2, before_seq: Some(5), ..all() }).await, [4, 3]);
    let oldest = || AuditFilter { oldest_first: true, limit: 2, ..all() };
    assert_eq!(query(log, oldest()).await, [1, 2]);
    assert_eq!(query(log, AuditFilter { after_seq: Some(2), ..oldest() }).await, [3, 4]);
    assert_eq!(query(log, AuditFilter { since: Some(at(5)), ..oldest() }).await, [5, 6]);
}

/// `UPDATE`s that tamper with a stored chain, and what verify must say.
pub struct Tampering {
    pub sql: &'static str,
    pub seq: u64,
    pub problem: Problem,
}

/// Editing a field or a use count, deleting a row, swapping two rows,
/// truncating the end.
pub const TAMPERINGS: &[Tampering] = &[
    Tampering {
        sql: "UPDATE audit_events SET use_count = 99 WHERE seq = 1",
        seq: 1,
        problem: Problem::Changed,
    },
    Tampering {
        sql: "UPDATE audit_events SET subject = 'mallory' WHERE seq = 3",
        seq: 3,
        problem: Problem::Changed,
    },
    Tampering { sql: "DELETE FROM audit_events WHERE seq = 2", seq: 2, problem: Problem::Removed },
    Tampering {
        sql: "UPDATE audit_events SET seq = -seq WHERE seq IN (2, 4); \
              UPDATE audit_events SET seq = 6 + seq WHERE seq IN (-2, -4)",
        seq: 2,
        problem: Problem::Reordered,
    },
    Tampering { sql: "DELETE FROM audit_events WHERE seq = 5", seq: 5, problem: Problem::Removed },
];

/// Verify's verdict after `tampering` on a log of five events.
pub async fn assert_named(log: &dyn AuditLog, tampering: &Tampering) {
    let verdict = verify_chain(log, &key()).await.expect("verify");
    let bad = verdict.first_bad.unwrap_or_else(|| panic!("`{}` went unnoticed", tampering.sql));
    assert_eq!(
        (bad.seq, bad.problem),
        (tampering.seq, tampering.problem),
        "after `{}`: {bad:?}",
        tampering.sql
    );
}

/// Three events chained the way ward did before the key existed (plain
/// SHA-256), as the rows `(seq, event, prev_hash, hash)` to insert.
fn unkeyed_rows() -> Vec<(i64, AuditEntry, Vec<u8>, Vec<u8>)> {
    let mut prev = EventHash::GENESIS;
    events(0..3)
        .into_iter()
        .enumerate()
        .map(|(n, e)| {
            let hash = ward_core::audit::unkeyed_hash(&prev, &e.canonical());
            let row = (n as i64 + 1, e, prev.as_bytes().to_vec(), hash.as_bytes().to_vec());
            prev = hash;
            row
        })
        .collect()
}

/// After unkeyed rows: the keyed start is appended once, fixes their end,
/// and the chain goes on keyed and verifies with three unkeyed events.
async fn assert_keyed_start_after_unkeyed_rows(log: &dyn AuditLog) {
    let start = log.begin_keyed_chain(&key(), "evt_start".into(), at(9)).await.expect("begin");
    let start = start.expect("a keyed start after unkeyed events");
    assert_eq!((start.seq, start.entry.action.as_str()), (4, ward_core::audit::KEYED_START));
    let again = log.begin_keyed_chain(&key(), "evt_start2".into(), at(9)).await.expect("begin");
    assert_eq!(again, None, "one keyed start is enough");
    append(log, &events(10..12)).await;
    let verdict = verify_chain(log, &key()).await.expect("verify");
    assert!(verdict.ok(), "{verdict:?}");
    assert_eq!((verdict.checked, verdict.unkeyed), (6, 3));
}

#[tokio::test]
async fn a_sqlite_chain_begun_without_the_key_goes_on_after_a_keyed_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ward.db");
    let store = ward_store::SqliteStore::open(path.to_str().expect("utf-8 path")).await.expect("open");
    let mut conn =
        <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", path.display()))
            .await
            .expect("open the file directly");
    for (seq, e, prev, hash) in unkeyed_rows() {
        sqlx::query(
            "INSERT INTO audit_events (seq, id, time, action, subject, token_id, scopes, operation, decision, \
             risk_level, error, request_id, client_ip, use_count, prev_hash, hash) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(seq).bind(&e.id).bind(e.time.timestamp_millis()).bind(&e.action).bind(&e.subject)
        .bind(&e.token_id).bind(serde_json::to_string(&e.scopes).unwrap_or_default()).bind(&e.operation)
        .bind(&e.decision).bind(&e.risk_level).bind(&e.error).bind(&e.request_id).bind(&e.client_ip)
        .bind(e.count.map(|c| c as i64)).bind(prev).bind(hash.clone())
        .execute(&mut conn)
        .await
        .expect("insert an unkeyed event");
        sqlx::query("INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")
            .bind(seq).bind(hash).execute(&mut conn).await.expect("move the head");
    }
    assert_keyed_start_after_unkeyed_rows(&store).await;
}

#[tokio::test]
async fn a_postgres_chain_begun_without_the_key_goes_on_after_a_keyed_start() {
    let Some(db) = crate::postgres::TestDatabase::create().await else { return };
    let store = ward_store::PostgresStore::connect(db.url()).await.expect("connect");
    let mut conn = db.connect().await;
    for (seq, e, prev, hash) in unkeyed_rows() {
        sqlx::query(
            "INSERT INTO audit_events (seq, id, time, action, subject, token_id, scopes, operation, decision, \
             risk_level, error, request_id, client_ip, use_count, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(seq).bind(&e.id).bind(e.time.timestamp_millis()).bind(&e.action).bind(&e.subject)
        .bind(&e.token_id).bind(serde_json::to_string(&e.scopes).unwrap_or_default()).bind(&e.operation)
        .bind(&e.decision).bind(&e.risk_level).bind(&e.error).bind(&e.request_id).bind(&e.client_ip)
        .bind(e.count.map(|c| c as i64)).bind(prev).bind(hash.clone())
        .execute(&mut conn)
        .await
        .expect("insert an unkeyed event");
        sqlx::query("INSERT INTO audit_head (id, seq, hash) VALUES (1, $1, $2) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash")
            .bind(seq).bind(hash).execute(&mut conn).await.expect("move the head");
    }
    assert_keyed_start_after_unkeyed_rows(&store).await;
    store.close().await;
}

#[tokio::test]
async fn tampering_with_a_sqlite_file_is_caught_and_named() {
    for tampering in TAMPERINGS {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ward.db");
        let store = ward_store::SqliteStore::open(path.to_str().expect("utf-8 path")).await.expect("open");
        append(&store, &events(0..5)).await;
        let mut conn =
            <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{}", path.display()))
                .await
                .expect("open the file directly");
        sqlx::raw_sql(tampering.sql).execute(&mut conn).await.expect("tamper");
        assert_named(&store, tampering).await;
    }
}

#[tokio::test]
async fn tampering_with_a_postgres_database_is_caught_and_named() {
    for tampering in TAMPERINGS {
        let Some(db) = crate::postgres::TestDatabase::create().await else { return };
        let store = ward_store::PostgresStore::connect(db.url()).await.expect("connect");
        append(&store, &events(0..5)).await;
        let mut conn = db.connect().await;
        sqlx::raw_sql(tampering.sql).execute(&mut conn).await.expect("tamper");
        assert_named(&store, tampering).await;
        store.close().await;
    }
}
