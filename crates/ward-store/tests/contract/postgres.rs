//! What only the PostgreSQL backend promises: migrations that run once
//! even when nodes start together, concurrent writers that behave as
//! SQLite's one writer does, errors that keep the password out, and the
//! per-test databases the whole suite runs on.

use crate::support::*;
use sqlx::{Connection, PgConnection};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use ward_core::TokenKind;
use ward_store::{PostgresStore, Store, StoreError, TokenFilter, TokenStatus};

const URL_VAR: &str = "WARD_TEST_DATABASE_URL";

/// The server to create test databases on, or `None` (having said so) when
/// the PostgreSQL checks are skipped. Under `CI` they are never skipped.
fn admin_url() -> Option<String> {
    if let Some(url) = std::env::var(URL_VAR).ok().filter(|u| !u.is_empty()) {
        return Some(url);
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "CI is set but {URL_VAR} is not: CI must run the PostgreSQL contract suite \
         (e.g. {URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres)"
    );
    static NOTICE: std::sync::Once = std::sync::Once::new();
    NOTICE.call_once(|| {
        // Straight to stderr, past the test harness's capture, once.
        let _ = writeln!(
            std::io::stderr(),
            "skipped: the PostgreSQL contract tests; set {URL_VAR}=postgres://postgres@127.0.0.1:5432/postgres to run them"
        );
    });
    eprintln!("skipped: set {URL_VAR} to run the PostgreSQL contract tests");
    None
}

/// `url` with its database replaced by `name`, query string kept.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority = base.find("://").map_or(0, |i| i + 3);
    let base = base[authority..].find('/').map_or(base, |i| &base[..authority + i]);
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

/// A new, empty database on the test server, dropped when this is.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// `None` when the PostgreSQL checks are skipped.
    pub async fn create() -> Option<Self> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let admin_url = admin_url()?;
        #[expect(
            clippy::disallowed_methods,
            reason = "a unique database name across test processes, not a decision"
        )]
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name =
            format!("ward_test_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let mut admin = PgConnection::connect(&admin_url).await.expect("connect to WARD_TEST_DATABASE_URL");
        sqlx::raw_sql(&format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.expect("close the admin connection");
        let url = with_database(&admin_url, &name);
        Some(Self { admin_url, name, url })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.expect("connect to the test database")
    }
}

impl Drop for TestDatabase {
    /// Drops the database from a thread of its own: `Drop` cannot await, and
    /// the test's runtime may be the one this runs on.
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

async fn connect(db: &TestDatabase) -> PostgresStore {
    PostgresStore::connect(db.url()).await.expect("connect")
}

/// `(version, applied_at)` for every recorded migration.
async fn migration_rows(db: &TestDatabase) -> Vec<(i64, i64)> {
    let mut conn = db.connect().await;
    sqlx::query_as("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        .fetch_all(&mut conn)
        .await
        .expect("read schema_migrations")
}

#[tokio::test]
async fn reconnecting_keeps_the_data_and_does_not_rerun_migrations() {
    let Some(db) = TestDatabase::create().await else { return };
    let first = connect(&db).await;
    assert_eq!(first.schema_version().await.expect("version"), PostgresStore::latest_schema_version());
    let alice = add_user(&first, human("alice", at(0))).await;
    let t = add_token(&first, &alice, 1).await;
    first.close().await;
    let applied_before = migration_rows(&db).await;

    let second = connect(&db).await;
    assert_eq!(second.user_by_name("alice").await.expect("by name"), Some(alice));
    assert_eq!(fetch(&second, &t.id).await, t);
    second.close().await;
    assert_eq!(migration_rows(&db).await, applied_before, "no migration ran twice");
    assert_eq!(applied_before.last().map(|m| m.0), Some(PostgresStore::latest_schema_version()));
}

#[tokio::test]
async fn nodes_starting_together_on_a_new_database_migrate_it_once() {
    let Some(db) = TestDatabase::create().await else { return };
    let nodes: Vec<_> = (0..8)
        .map(|_| {
            let url = db.url().to_owned();
            tokio::spawn(async move { PostgresStore::connect(&url).await })
        })
        .collect();
    for node in nodes {
        let node = node.await.expect("task").expect("every node connects");
        assert_eq!(node.schema_version().await.expect("version"), PostgresStore::latest_schema_version());
        node.close().await;
    }
    let rows = migration_rows(&db).await;
    let versions: std::collections::BTreeSet<i64> = rows.iter().map(|m| m.0).collect();
    assert_eq!(versions.len(), rows.len(), "each migration recorded once");
    assert_eq!(versions.last().copied(), Some(PostgresStore::latest_schema_version()));
}

#[tokio::test]
async fn a_database_from_a_newer_ward_is_refused_with_advice() {
    let Some(db) = TestDatabase::create().await else { return };
    connect(&db).await.close().await;
    let mut conn = db.connect().await;
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)")
        .execute(&mut conn)
        .await
        .expect("insert a future version");

    match PostgresStore::connect(db.url()).await {
        Err(StoreError::Backend(message)) => {
            assert!(message.contains("newer") && message.contains("upgrade"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| "a store")),
    }
}

#[tokio::test]
async fn the_store_opens_through_a_postgres_or_postgresql_url() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = ward_store::open(db.url()).await.expect("open a postgres:// url");
    add_user(store.as_ref(), human("alice", at(0))).await;
    let other = db.url().replacen("postgres://", "postgresql://", 1);
    let same = ward_store::open(&other).await.expect("open a postgresql:// url");
    assert_eq!(same.count_users().await.expect("count"), 1, "the same database");
}

#[tokio::test]
async fn an_unreachable_server_is_a_backend_error_that_keeps_the_password_out() {
    let url = "postgres://ward:hunter2-secret@127.0.0.1:1/wardprod";
    match PostgresStore::connect(url).await {
        Err(StoreError::Backend(message)) => {
            assert!(!message.contains("hunter2-secret"), "{message}");
            assert!(message.contains("ward@127.0.0.1:1/wardprod"), "names the target: {message}");
        }
        other => panic!("expected a backend error, got {:?}", other.map(|_| "a store")),
    }
}

#[tokio::test]
async fn the_database_holds_the_hash_and_display_start_but_never_the_token() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = connect(&db).await;
    let alice = add_user(&store, human("alice", at(0))).await;
    let t = token(&alice, TokenKind::Personal, at(1));
    let plain = t.plain.expose().to_owned();
    let hash = t.hash();
    let record = add(&store, t).await;

    let mut conn = db.connect().await;
    let (by_hash, display, with_plain, with_tail): (i64, String, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM tokens WHERE hash = $1),
                (SELECT display FROM tokens WHERE id = $2),
                (SELECT COUNT(*) FROM tokens t WHERE strpos(t::TEXT, $3) > 0),
                (SELECT COUNT(*) FROM tokens t WHERE strpos(t::TEXT, $4) > 0)",
    )
    .bind(hash.as_bytes().as_slice())
    .bind(record.id.as_str())
    .bind(&plain)
    .bind(&plain[record.display.len()..])
    .fetch_one(&mut conn)
    .await
    .expect("inspect the tokens table");
    assert_eq!(by_hash, 1, "the 32 hash bytes are stored");
    assert_eq!(display, record.display, "the display start is stored");
    assert_eq!((with_plain, with_tail), (0, 0), "neither the token nor its secret is stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_insert_racing_its_owners_delete_never_leaves_a_live_token() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = Arc::new(connect(&db).await);
    let alice = add_user(store.as_ref(), human("alice", at(0))).await;
    let mut inserts = Vec::new();
    for minute in 1..=30 {
        let (store, t) = (store.clone(), token(&alice, TokenKind::Personal, at(minute)));
        inserts.push(tokio::spawn(async move { store.insert_token(&t.record, &t.hash(), &[]).await }));
    }
    store.delete_user(&alice.id, at(40), &[]).await.expect("delete");
    for insert in inserts {
        match insert.await.expect("task") {
            Ok(()) | Err(StoreError::NotFound) => {}
            Err(other) => panic!("an insert failed with {other:?}"),
        }
    }
    let live = TokenFilter { status: Some(TokenStatus::Active), ..all_at(at(50)) };
    assert!(listed(store.as_ref(), &live).await.is_empty(), "no token of a deleted user is live");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_rotations_of_one_token_let_exactly_one_through() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = Arc::new(connect(&db).await);
    let alice = add_user(store.as_ref(), human("alice", at(0))).await;
    let old = add_token(store.as_ref(), &alice, 1).await;
    let mut rotations = Vec::new();
    for _ in 0..8 {
        let (store, old, new) = (store.clone(), old.id.clone(), token(&alice, TokenKind::Personal, at(10)));
        rotations.push(tokio::spawn(async move {
            store.rotate_token(&old, None, &new.record, &new.hash(), at(10), &[]).await
        }));
    }
    let mut won = 0;
    for rotation in rotations {
        match rotation.await.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::Conflict(message)) => assert!(message.contains("cannot be rotated"), "{message}"),
            Err(other) => panic!("a rotation failed with {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(listed(store.as_ref(), &all_at(at(20))).await.len(), 2, "the old token and one successor");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_usage_batches_in_any_order_all_land() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = Arc::new(connect(&db).await);
    let alice = add_user(store.as_ref(), human("alice", at(0))).await;
    let mut ids = Vec::new();
    for minute in 1..=20 {
        ids.push(add_token(store.as_ref(), &alice, minute).await.id);
    }
    let mut batches = Vec::new();
    for round in 0..10i64 {
        let mut batch: Vec<_> = ids.iter().map(|id| (id.clone(), at(100 + round))).collect();
        if round % 2 == 1 {
            batch.reverse();
        }
        let store = store.clone();
        batches.push(tokio::spawn(async move { store.record_usage(&batch).await }));
    }
    for batch in batches {
        batch.await.expect("task").expect("a usage batch");
    }
    for id in &ids {
        assert_eq!(fetch(store.as_ref(), id).await.last_used_at, Some(at(109)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_of_one_token_on_two_nodes_open_one_approval() {
    use ward_store::{AgentStore, Opened};
    let Some(db) = TestDatabase::create().await else { return };
    let nodes = [Arc::new(connect(&db).await), Arc::new(connect(&db).await)];
    let first = crate::agents::approval(at(1), at(10));
    let mut requests = Vec::new();
    for i in 0..8 {
        let node = nodes[i % 2].clone();
        let a = ward_store::ApprovalRecord { id: format!("apr_{i}"), ..first.clone() };
        requests.push(tokio::spawn(async move { node.open_approval(&a, 16, &[]).await }));
    }
    let mut opened = Vec::new();
    for r in requests {
        opened.push(r.await.expect("join").expect("open approval"));
    }
    let new = opened.iter().filter(|o| **o == Opened::New).count();
    assert_eq!(new, 1, "{opened:?}");
    let waiting: Vec<_> = opened
        .iter()
        .filter_map(|o| if let Opened::Waiting(w) = o { Some(w.id.clone()) } else { None })
        .collect();
    assert_eq!(waiting.len(), 7, "{opened:?}");
    assert!(waiting.windows(2).all(|w| w[0] == w[1]), "all wait on the one opened: {waiting:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consumers_on_two_nodes_spend_an_approval_exactly_once() {
    use ward_store::AgentStore;
    let Some(db) = TestDatabase::create().await else { return };
    let nodes = [Arc::new(connect(&db).await), Arc::new(connect(&db).await)];
    let a = crate::agents::approval(at(1), at(10));
    nodes[0].open_approval(&a, 16, &[]).await.expect("open approval");
    nodes[0].decide_approval(&a.id, true, "usr_bob", None, at(2), &[]).await.expect("approve");
    let mut consumers = Vec::new();
    for i in 0..8 {
        let (node, a) = (nodes[i % 2].clone(), a.clone());
        consumers.push(tokio::spawn(async move {
            node.consume_approval(&a.id, &a.token_id, &a.operation, at(3), &[]).await
        }));
    }
    let mut won = 0;
    for consumer in consumers {
        if consumer.await.expect("task").expect("consume") {
            won += 1;
        }
    }
    assert_eq!(won, 1);
}

#[test]
fn a_test_database_url_keeps_the_server_and_options_and_swaps_the_database() {
    let swap = |url| with_database(url, "ward_test_1");
    assert_eq!(swap("postgres://u@h:5432/postgres"), "postgres://u@h:5432/ward_test_1");
    assert_eq!(swap("postgres://u:p@h/db?sslmode=disable"), "postgres://u:p@h/ward_test_1?sslmode=disable");
    assert_eq!(swap("postgres://h"), "postgres://h/ward_test_1");
}
