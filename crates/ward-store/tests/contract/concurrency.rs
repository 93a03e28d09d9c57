//! Many writers at once: what each caller is told, and what is stored.
//!
//! The SQLite backend commits concurrent token inserts and revokes together
//! (group commit); these checks hold every backend to the answers one
//! writer at a time would get. The last checks are SQLite's own: what was
//! acknowledged is on disk, and the store stays usable and closable.

use crate::support::*;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashSet;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::task::Poll;
use ward_core::{TokenId, TokenKind};
use ward_store::{SqliteStore, Store, StoreError, TokenFilter, TokenRecord};

/// Writers at once: more than one group commit takes.
const WRITERS: usize = 300;

/// Runs every future on this task at once; their outputs, in order.
pub async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().map(|output| output.expect("every future finished")).collect()
}

pub async fn insert(store: &dyn Store, t: &NewToken) -> Result<(), StoreError> {
    store.insert_token(&t.record, &t.hash(), &[]).await
}

/// A distinct revocation time for the `i`-th writer.
fn moment(i: usize) -> DateTime<Utc> {
    at(10) + Duration::milliseconds(i64::try_from(i).expect("a small index"))
}

/// What [`write_concurrently`] was told: every token, and when each
/// revoked one was revoked.
struct Written {
    tokens: Vec<TokenRecord>,
    revoked: Vec<(TokenId, DateTime<Utc>)>,
}

/// `WRITERS` inserts at once; then half of them revoked, each at its own
/// moment, while `WRITERS / 2` more are inserted. Every write must succeed.
async fn write_concurrently(store: &dyn Store) -> Written {
    let alice = add_user(store, human("alice", at(0))).await;
    let first: Vec<NewToken> = (0..WRITERS).map(|_| token(&alice, TokenKind::Personal, at(1))).collect();
    for (i, result) in join_all(first.iter().map(|t| insert(store, t))).await.into_iter().enumerate() {
        result.unwrap_or_else(|e| panic!("insert {i} of {WRITERS} at once: {e:?}"));
    }

    let (to_revoke, _) = first.split_at(WRITERS / 2);
    let more: Vec<NewToken> = (0..WRITERS / 2).map(|_| token(&alice, TokenKind::Pipeline, at(2))).collect();
    let revoking =
        to_revoke.iter().enumerate().map(|(i, t)| store.revoke_token(&t.record.id, moment(i), &[]));
    let (revoked, inserted) =
        tokio::join!(join_all(revoking), join_all(more.iter().map(|t| insert(store, t))));
    for (i, result) in revoked.into_iter().enumerate() {
        assert!(result.unwrap_or_else(|e| panic!("revoke {i}: {e:?}")), "revoke {i} is the first");
    }
    for (i, result) in inserted.into_iter().enumerate() {
        result.unwrap_or_else(|e| panic!("insert {i} beside the revokes: {e:?}"));
    }

    let revoked = to_revoke.iter().enumerate().map(|(i, t)| (t.record.id.clone(), moment(i))).collect();
    let tokens = first.iter().chain(&more).map(|t| t.record.clone()).collect();
    Written { tokens, revoked }
}

/// Every token of `written` is stored as written, revoked exactly when its
/// revoke said, and nothing else is stored.
async fn assert_stored(store: &dyn Store, written: &Written) {
    let stored: HashSet<TokenId> = listed(store, &all_at(at(60))).await.into_iter().collect();
    let expected: HashSet<TokenId> = written.tokens.iter().map(|t| t.id.clone()).collect();
    assert_eq!(stored.len(), expected.len(), "as many tokens stored as acknowledged");
    assert_eq!(stored, expected);
    let revoked: std::collections::HashMap<&TokenId, DateTime<Utc>> =
        written.revoked.iter().map(|(id, when)| (id, *when)).collect();
    for t in &written.tokens {
        let found = fetch(store, &t.id).await;
        let mut want = t.clone();
        want.revoked_at = revoked.get(&t.id).copied();
        assert_eq!(found, want, "token {} as written", t.id);
    }
}

pub async fn concurrent_inserts_and_revokes_are_each_acknowledged_and_all_stored(store: &dyn Store) {
    let written = write_concurrently(store).await;
    assert_eq!(written.tokens.len(), WRITERS + WRITERS / 2);
    assert_stored(store, &written).await;
}

pub async fn writers_at_once_each_get_their_own_answer_and_a_failure_undoes_nothing(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    store.delete_user(&bob.id, at(1), &[]).await.expect("delete bob");
    let twice = add_token(store, &alice, 2).await;
    let done = add_token(store, &alice, 2).await;
    assert!(store.revoke_token(&done.id, at(3), &[]).await.expect("revoke before"));
    let live = add_token(store, &alice, 2).await;
    let taken = token(&alice, TokenKind::Personal, at(2));
    let taken_hash = taken.hash();
    let taken = add(store, taken).await;

    let good: Vec<NewToken> = (0..40).map(|_| token(&alice, TokenKind::Personal, at(4))).collect();
    let (good_before, good_after) = good.split_at(20);
    let for_bob = token(&bob, TokenKind::Personal, at(4));
    let for_ghost = token(&human("ghost", at(0)), TokenKind::Personal, at(4));
    let same_hash = token(&alice, TokenKind::Personal, at(4));
    let mut same_id = token(&alice, TokenKind::Personal, at(4));
    same_id.record.id = taken.id.clone();
    let twin = token(&alice, TokenKind::Personal, at(4));
    let twin_hash = twin.hash();
    let twin_of_twin = token(&alice, TokenKind::Personal, at(4));
    let unknown = token(&alice, TokenKind::Personal, at(4)).record.id;

    let (before, failing, revokes, after) = tokio::join!(
        join_all(good_before.iter().map(|t| insert(store, t))),
        async {
            tokio::join!(
                insert(store, &for_bob),
                insert(store, &for_ghost),
                store.insert_token(&same_hash.record, &taken_hash, &[]),
                insert(store, &same_id),
                insert(store, &twin),
                store.insert_token(&twin_of_twin.record, &twin_hash, &[]),
            )
        },
        async {
            tokio::join!(
                store.revoke_token(&twice.id, at(5), &[]),
                store.revoke_token(&twice.id, at(6), &[]),
                store.revoke_token(&done.id, at(5), &[]),
                store.revoke_token(&live.id, at(5), &[]),
                store.revoke_token(&unknown, at(5), &[]),
            )
        },
        join_all(good_after.iter().map(|t| insert(store, t))),
    );

    for result in before.into_iter().chain(after) {
        result.expect("a good insert among failing ones");
    }
    let (for_bob_r, for_ghost_r, same_hash_r, same_id_r, twin_r, twin_of_twin_r) = failing;
    assert_not_found(for_bob_r);
    assert_not_found(for_ghost_r);
    assert_conflict(same_hash_r, "hash");
    assert_conflict(same_id_r, taken.id.as_str());
    let twin_won = match (twin_r, twin_of_twin_r) {
        (Ok(()), conflict) => {
            assert_conflict(conflict, "hash");
            &twin
        }
        (conflict, Ok(())) => {
            assert_conflict(conflict, "hash");
            &twin_of_twin
        }
        other => panic!("one of two inserts of one hash must win: {other:?}"),
    };

    let (first, second, done_r, live_r, unknown_r) = revokes;
    let twice_at = match (first.expect("revoke at 5"), second.expect("revoke at 6")) {
        (true, false) => at(5),
        (false, true) => at(6),
        other => panic!("exactly one of two revokes of one token must be first: {other:?}"),
    };
    assert!(!done_r.expect("revoke an already revoked token"));
    assert!(live_r.expect("revoke a live token"));
    assert_not_found(unknown_r);

    assert_eq!(fetch(store, &twice.id).await.revoked_at, Some(twice_at));
    assert_eq!(fetch(store, &done.id).await.revoked_at, Some(at(3)));
    assert_eq!(fetch(store, &live.id).await.revoked_at, Some(at(5)));
    assert_eq!(fetch(store, &taken.id).await, taken, "the token whose id was reused is untouched");
    for t in &good {
        assert_eq!(fetch(store, &t.record.id).await, t.record, "every good insert is stored");
    }
    let winner = store.token_by_hash(&twin_hash).await.expect("by hash").expect("the twin that won");
    assert_eq!(winner.token, twin_won.record);
    let bobs = TokenFilter { user_id: Some(bob.id.clone()), ..all_at(at(9)) };
    assert!(listed(store, &bobs).await.is_empty(), "a deleted user gained no token");
    assert_eq!(listed(store, &all_at(at(9))).await.len(), 4 + good.len() + 1);
}

// SQLite only ----------------------------------------------------------------

async fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path.to_str().expect("a UTF-8 temp path")).await.expect("open sqlite")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_concurrent_writes_are_on_disk_after_closing_and_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ward.db");
    let store = open(&path).await;
    let written = write_concurrently(&store).await;
    store.close().await;

    let reopened = open(&path).await;
    assert_stored(&reopened, &written).await;
    reopened.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_store_takes_writes_of_every_kind_at_once() {
    let store = SqliteStore::open(":memory:").await.expect("open :memory:");
    let work = async {
        let alice = add_user(&store, human("alice", at(0))).await;
        let old = add_token(&store, &alice, 1).await;
        let fresh: Vec<NewToken> = (0..50).map(|_| token(&alice, TokenKind::Personal, at(2))).collect();
        let (usage, carol) = ([(old.id.clone(), at(3))], human("carol", at(3)));
        let (inserted, revoked, used, read, created) = tokio::join!(
            join_all(fresh.iter().map(|t| insert(&store, t))),
            store.revoke_token(&old.id, at(3), &[]),
            store.record_usage(&usage),
            store.token_by_id(&old.id),
            store.create_user(&carol, &[]),
        );
        inserted.into_iter().collect::<Result<Vec<()>, _>>().expect("inserts");
        assert!(revoked.expect("revoke"));
        used.expect("usage");
        assert!(read.expect("read").is_some());
        created.expect("create carol");
        assert_eq!(listed(&store, &all_at(at(9))).await.len(), 51);
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), work)
        .await
        .expect("writes on one connection finish: the write gate never deadlocks with the pool");
}

#[tokio::test]
async fn token_writes_after_close_fail_instead_of_waiting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&dir.path().join("ward.db")).await;
    let alice = add_user(&store, human("alice", at(0))).await;
    let t = add_token(&store, &alice, 1).await;
    store.close().await;
    let late = token(&alice, TokenKind::Personal, at(2));
    let attempts = async { tokio::join!(insert(&store, &late), store.revoke_token(&t.id, at(3), &[])) };
    let (inserted, revoked) =
        tokio::time::timeout(std::time::Duration::from_secs(10), attempts).await.expect("an answer");
    assert!(matches!(inserted, Err(StoreError::Backend(_))), "{inserted:?}");
    assert!(matches!(revoked, Err(StoreError::Backend(_))), "{revoked:?}");
}

#[tokio::test]
async fn dropping_the_store_closes_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ward.db");
    let store = open(&path).await;
    let alice = add_user(&store, human("alice", at(0))).await;
    add_token(&store, &alice, 1).await;
    let wal = path.with_extension("db-wal");
    assert!(wal.exists(), "an open database in WAL mode has its -wal file");
    drop(store);
    // The last connection to close checkpoints the WAL and removes it.
    for _ in 0..500 {
        if !wal.exists() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the database is still open 5 s after its store was dropped");
}

/// Rotations of one token at once: exactly one succeeds, each other one is
/// a `Conflict` naming the successor that did, and one successor is stored.
pub async fn concurrent_rotations_of_one_token_leave_exactly_one_successor(store: &dyn Store) {
    const AT_ONCE: usize = 8;
    let alice = add_user(store, human("alice", at(0))).await;
    let old = add(store, token(&alice, TokenKind::Pipeline, at(1))).await;
    let successors: Vec<NewToken> = (0..AT_ONCE)
        .map(|_| {
            let mut t = token(&alice, TokenKind::Pipeline, at(10));
            t.record.rotated_from = Some(old.id.clone());
            t
        })
        .collect();
    let hashes: Vec<_> = successors.iter().map(NewToken::hash).collect();
    let rotating = successors
        .iter()
        .zip(&hashes)
        .map(|(t, hash)| store.rotate_token(&old.id, Some(at(70)), &t.record, hash, at(10), &[]));
    let answers = join_all(rotating).await;
    let winners: Vec<&NewToken> =
        successors.iter().zip(&answers).filter(|(_, a)| a.is_ok()).map(|(t, _)| t).collect();
    assert_eq!(winners.len(), 1, "exactly one rotation succeeds: {answers:?}");
    let winner = winners[0].record.id.as_str();
    for answer in answers.into_iter().filter(Result::is_err) {
        assert_conflict(answer, winner);
    }
    let stored: Vec<TokenId> = listed(store, &all_at(at(11))).await;
    assert_eq!(stored.len(), 2, "the old token and one successor: {stored:?}");
}
