//! What only the SQLite backend promises: the file on disk, its mode,
//! reopening, schema versions, `:memory:`.

use crate::support::*;
use std::path::{Path, PathBuf};
use ward_core::TokenKind;
use ward_store::{SqliteStore, Store, StoreError};

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ward.db")
}

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path.to_str().expect("a UTF-8 temp path")).await.expect("open sqlite")
}

/// The database file and its WAL, if any, as one byte string.
fn bytes_on_disk(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).expect("read database file");
    if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
        bytes.extend(wal);
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn the_database_file_holds_the_hash_and_display_start_but_never_the_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    let store = open(&path).await;
    let alice = add_user(&store, human("alice", at(0))).await;
    let mut t = token(&alice, TokenKind::Personal, at(1));
    t.record.name = ward_core::TokenName::parse("deploy-from-laptop").expect("a token name");
    let plain = t.plain.expose().to_owned();
    let hash = t.hash();
    let record = add(&store, t).await;
    store.close().await;

    let bytes = bytes_on_disk(&path);
    assert!(contains(&bytes, hash.as_bytes()), "the 32 hash bytes are stored");
    assert!(contains(&bytes, record.display.as_bytes()), "the display start is stored");
    assert!(contains(&bytes, b"deploy-from-laptop"), "the record's name is stored");
    assert!(!contains(&bytes, plain.as_bytes()), "the token itself is never stored");
    let secret_tail = &plain[record.display.len()..];
    assert!(!contains(&bytes, secret_tail.as_bytes()), "nor the secret past the display start");
}

#[tokio::test]
async fn reopening_a_database_keeps_its_data_and_does_not_rerun_migrations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    let first = open(&path).await;
    assert_eq!(first.schema_version().await.expect("version"), SqliteStore::latest_schema_version());
    let alice = add_user(&first, human("alice", at(0))).await;
    let t = add_token(&first, &alice, 1).await;
    first.close().await;
    let applied_before = migration_rows(&path).await;

    let second = open(&path).await;
    assert_eq!(second.user_by_name("alice").await.expect("by name"), Some(alice));
    assert_eq!(fetch(&second, &t.id).await, t);
    second.close().await;
    assert_eq!(migration_rows(&path).await, applied_before, "no migration ran twice");
    assert_eq!(applied_before.last().map(|m| m.0), Some(SqliteStore::latest_schema_version()));
}

#[tokio::test]
async fn a_database_at_versions_10_and_12_without_11_gets_11_when_opened() {
    // What main's ward leaves: lifecycle (10) and approvals (12), no usage limits (11).
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    open(&path).await.close().await;
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    for undo in [
        "DROP TABLE token_clients",
        "ALTER TABLE tokens DROP COLUMN max_uses",
        "ALTER TABLE tokens DROP COLUMN uses_left",
        "ALTER TABLE tokens DROP COLUMN rate_limit",
        "DELETE FROM schema_migrations WHERE version = 11",
    ] {
        sqlx::query(undo).execute(&pool).await.expect(undo);
    }
    pool.close().await;
    assert!(!migration_rows(&path).await.iter().any(|m| m.0 == 11));

    let store = open(&path).await;
    let alice = add_user(&store, human("alice", at(0))).await;
    let mut t = token(&alice, TokenKind::Pipeline, at(1));
    t.record.limits.max_uses = Some(2);
    t.record.limits.uses_left = Some(2);
    let record = add(&store, t).await;
    assert_eq!(store.consume_use(&record.id).await.expect("a use"), Some(1), "the limit columns are back");
    store.close().await;
    assert!(migration_rows(&path).await.iter().any(|m| m.0 == 11), "migration 11 is recorded");
}

/// `(version, applied_at)` for every recorded migration.
async fn migration_rows(path: &Path) -> Vec<(i64, i64)> {
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    let rows = sqlx::query_as("SELECT version, applied_at FROM schema_migrations ORDER BY version")
        .fetch_all(&pool)
        .await
        .expect("read schema_migrations");
    pool.close().await;
    rows
}

#[tokio::test]
async fn a_database_from_a_newer_ward_is_refused_with_advice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_path(&dir);
    open(&path).await.close().await;
    let url = format!("sqlite://{}", path.display());
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    sqlx::query("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'x', 0)")
        .execute(&pool)
        .await
        .expect("insert a future version");
    pool.close().await;

    match SqliteStore::open(path.to_str().expect("utf-8")).await {
        Err(StoreError::Backend(message)) => {
            assert!(message.contains("newer") && message.contains("upgrade"), "{message}");
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| "a store")),
    }
}

#[tokio::test]
async fn open_creates_missing_directories_and_a_private_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("a").join("b").join("ward.db");
    let store = open(&path).await;
    add_user(&store, human("alice", at(0))).await;
    assert!(path.is_file());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "database file");
        assert_eq!(mode(path.parent().expect("parent")), 0o700, "created directory");
        let wal = path.with_extension("db-wal");
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600, "WAL file");
        }
    }
    store.close().await;
}

#[tokio::test]
async fn the_store_opens_through_a_sqlite_url_or_a_bare_db_path() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", db_path(&dir).display());
    let store = ward_store::open(&url).await.expect("open by url");
    add_user(store.as_ref(), human("alice", at(0))).await;
    assert_eq!(store.count_users().await.expect("count"), 1);
    let bare = ward_store::open(db_path(&dir).to_str().expect("utf-8")).await.expect("bare .db path");
    assert_eq!(bare.count_users().await.expect("count"), 1, "the same file");
}

#[tokio::test]
async fn an_in_memory_database_keeps_data_between_calls_and_is_private() {
    let store = SqliteStore::open(":memory:").await.expect("open :memory:");
    let alice = add_user(&store, human("alice", at(0))).await;
    add_token(&store, &alice, 1).await;
    assert_eq!(listed(&store, &all_at(at(9))).await.len(), 1);
    let other = SqliteStore::open(":memory:").await.expect("open a second :memory:");
    assert_eq!(other.count_users().await.expect("count"), 0);
}

#[tokio::test]
async fn concurrent_writers_wait_for_each_other_instead_of_failing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = std::sync::Arc::new(open(&db_path(&dir)).await);
    let alice = add_user(store.as_ref(), human("alice", at(0))).await;
    let mut tasks = Vec::new();
    for minute in 1..=20 {
        let (store, alice) = (store.clone(), alice.clone());
        tasks.push(tokio::spawn(async move {
            let t = add_token(store.as_ref(), &alice, minute).await;
            store.record_usage(&[(t.id.clone(), at(minute + 1))]).await.expect("usage");
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }
    assert_eq!(store.revoke_user_tokens(&alice.id, at(30), &[]).await.expect("revoke"), 20);
}
