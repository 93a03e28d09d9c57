//! PostgreSQL's invalidation notices (issue 9, finding 11): a change that
//! ends a token is announced on `ward_invalidate` in the transaction that
//! makes it, so listeners hear of exactly the changes that committed; a
//! change whose notice cannot be sent does not commit (the caller retries),
//! instead of leaving other nodes' caches trusting a revoked token.

use crate::postgres::TestDatabase;
use crate::support::*;
use sqlx::Connection;
use sqlx::postgres::PgListener;
use ward_core::TokenKind;
use ward_store::{Invalidation, PostgresStore, Store, StoreError};

const CHANNEL: &str = "ward_invalidate";

async fn listen(db: &TestDatabase) -> PgListener {
    let mut listener = PgListener::connect(db.url()).await.expect("connect a listener");
    listener.listen(CHANNEL).await.expect("LISTEN");
    listener
}

async fn next(listener: &mut PgListener) -> Invalidation {
    let n = listener.recv().await.expect("a notification");
    Invalidation::parse(n.payload())
}

#[tokio::test]
async fn listeners_hear_each_committed_ending_change_and_nothing_from_a_failed_one() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = PostgresStore::connect(db.url()).await.expect("connect");
    let alice = add_user(&store, human("alice", at(0))).await;
    let a = add_token(&store, &alice, 1).await;
    let b = add_token(&store, &alice, 2).await;
    let ghost = token(&alice, TokenKind::Personal, at(3));
    let mut listener = listen(&db).await;

    // Fails, rolled back: neither may be announced.
    assert!(matches!(store.revoke_token(&ghost.record.id, at(5), &[]).await, Err(StoreError::NotFound)));
    store.revoke_token(&b.id, at(5), &[]).await.expect("revoke b");
    let late = token(&alice, TokenKind::Personal, at(6));
    let refused = store.rotate_token(&b.id, None, &late.record, &late.hash(), at(6), &[]).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    store.revoke_token(&a.id, at(7), &[]).await.expect("revoke a");
    store.revoke_user_tokens(&alice.id, at(8), &[]).await.expect("revoke all");

    // In commit order, and only what committed.
    assert_eq!(next(&mut listener).await, Invalidation::Token(b.id.clone()));
    assert_eq!(next(&mut listener).await, Invalidation::Token(a.id.clone()));
    assert_eq!(next(&mut listener).await, Invalidation::User { id: alice.id.clone(), name: "alice".into() });
    store.close().await;
}

#[tokio::test]
async fn ending_a_token_announces_each_descendant_it_ends_with_it() {
    let Some(db) = TestDatabase::create().await else { return };
    let store = PostgresStore::connect(db.url()).await.expect("connect");
    let alice = add_user(&store, human("alice", at(0))).await;
    let root = add_token(&store, &alice, 1).await;
    let mut kid = token(&alice, TokenKind::Pipeline, at(2));
    kid.record.parent_token_id = Some(root.id.clone());
    let kid = add(&store, kid).await;
    let mut listener = listen(&db).await;

    store.revoke_token(&root.id, at(5), &[]).await.expect("revoke root");
    let mut heard = vec![next(&mut listener).await, next(&mut listener).await];
    heard.sort_by_key(Invalidation::payload);
    let mut want = vec![Invalidation::Token(root.id.clone()), Invalidation::Token(kid.id.clone())];
    want.sort_by_key(Invalidation::payload);
    assert_eq!(heard, want);
    store.close().await;
}

/// `url` connecting as `role` instead of its user.
fn as_role(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL with a scheme");
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

/// A login role that may write every table of the test database but not
/// send notifications; dropped (with its grants) when this is.
struct MutedRole {
    name: String,
    db_url: String,
}

impl MutedRole {
    async fn create(db: &TestDatabase) -> Self {
        let base = db.url().rsplit('/').next().unwrap_or("ward").split('?').next().unwrap_or("ward");
        let name = format!("{base}_mute");
        let mut admin = db.connect().await;
        for sql in [
            format!("CREATE ROLE \"{name}\" LOGIN"),
            format!("GRANT USAGE, CREATE ON SCHEMA public TO \"{name}\""),
            format!("GRANT ALL ON ALL TABLES IN SCHEMA public TO \"{name}\""),
            format!("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO \"{name}\""),
            "REVOKE EXECUTE ON FUNCTION pg_notify(text, text) FROM PUBLIC".to_owned(),
        ] {
            sqlx::raw_sql(&sql).execute(&mut admin).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
        admin.close().await.expect("close");
        Self { name, db_url: db.url().to_owned() }
    }
}

impl Drop for MutedRole {
    /// From a thread of its own, as `TestDatabase` is dropped.
    fn drop(&mut self) {
        let (name, url) = (self.name.clone(), self.db_url.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&url).await?;
                sqlx::raw_sql(&format!("DROP OWNED BY \"{name}\"; DROP ROLE \"{name}\""))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test role {}: {dropped:?}", self.name);
        }
    }
}

#[tokio::test]
async fn a_revoke_whose_notification_cannot_be_sent_does_not_commit() {
    let Some(db) = TestDatabase::create().await else { return };
    let owner = PostgresStore::connect(db.url()).await.expect("connect");
    let alice = add_user(&owner, human("alice", at(0))).await;
    let t = add_token(&owner, &alice, 1).await;
    owner.close().await;
    let role = MutedRole::create(&db).await;
    let muted =
        PostgresStore::connect(&as_role(db.url(), &role.name)).await.expect("connect as the muted role");

    let result = muted.revoke_token(&t.id, at(5), &[]).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "the revoke reports the failure: {result:?}");
    assert_eq!(fetch(&muted, &t.id).await.revoked_at, None, "and did not commit without its notice");
    let result = muted.delete_user(&alice.id, at(6), &[]).await;
    assert!(matches!(result, Err(StoreError::Backend(_))), "nor does a user's deletion: {result:?}");
    assert!(muted.user_by_id(&alice.id).await.expect("by id").is_some());
    muted.close().await;
}
