//! Contract checks for issuing: a token or agent token records who issued
//! it (`issued_by`) and with what (`issued_via`), and is inserted only while
//! that credential is live — ordered with revocations, so a credential
//! issued in a race with its issuer's ending is either refused or ended
//! with it, never left live.

use crate::agents::minted;
use crate::concurrency::{insert, join_all};
use crate::support::*;
use std::future::Future;
use ward_core::{TokenId, TokenKind};
use ward_store::{Backend, StoreError, TokenRecord, UserRecord};

/// A pipeline token of `owner` issued via `via` (and, when `parent`, a
/// descendant of it), created at `at(minute)`.
fn issued(owner: &UserRecord, via: &TokenRecord, parent: bool, minute: i64) -> NewToken {
    let mut t = token(owner, TokenKind::Pipeline, at(minute));
    t.record.issued_by = Some(via.user_id.clone());
    t.record.issued_via = Some(via.id.clone());
    t.record.parent_token_id = parent.then(|| via.id.clone());
    t
}

#[track_caller]
fn assert_issuer_ended(result: Result<impl std::fmt::Debug, StoreError>) {
    assert!(matches!(result, Err(StoreError::IssuerEnded)), "expected IssuerEnded, got {result:?}");
}

pub async fn who_and_what_issued_a_token_is_stored_and_read_back(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let session = add(store, token(&alice, TokenKind::Login, at(1))).await;
    let t = add(store, issued(&alice, &session, false, 2)).await;
    let back = fetch(store, &t.id).await;
    assert_eq!(back.issued_by, Some(alice.id.clone()));
    assert_eq!(back.issued_via, Some(session.id.clone()));
    assert_eq!(back.parent_token_id, None, "a login session is no parent");
}

pub async fn a_token_issued_via_an_ended_credential_is_refused_and_nothing_is_stored(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let revoked = add_token(store, &alice, 1).await;
    assert!(store.revoke_token(&revoked.id, at(2), &[]).await.expect("revoke"));
    let mut expired = token(&alice, TokenKind::Personal, at(1));
    expired.record.expires_at = Some(at(3));
    let expired = add(store, expired).await;

    for (via, what) in [(&revoked, "a revoked issuer"), (&expired, "an issuer expired by then")] {
        let t = issued(&alice, via, true, 4);
        let result = store.insert_token(&t.record, &t.hash(), &[]).await;
        assert_issuer_ended(result);
        assert!(store.token_by_id(&t.record.id).await.expect("by id").is_none(), "{what}: nothing stored");
    }
    let unknown = issued(&alice, &token(&alice, TokenKind::Personal, at(1)).record, false, 4);
    assert_issuer_ended(store.insert_token(&unknown.record, &unknown.hash(), &[]).await);

    let live = add_token(store, &alice, 1).await;
    add(store, issued(&alice, &live, true, 4)).await;
}

pub async fn a_token_issued_via_a_revoked_agent_token_is_refused(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut m = minted("builder", &alice, at(1));
    m.expires_at = at(600);
    store.insert_minted(&m, &[]).await.expect("insert minted");
    let mut t = token(&alice, TokenKind::Pipeline, at(2));
    t.record.issued_via = Some(m.jti.clone());
    store.insert_token(&t.record, &t.hash(), &[]).await.expect("issued via a live agent token");

    assert!(store.revoke_minted(&m.jti, at(3), &[]).await.expect("revoke minted"));
    let mut t = token(&alice, TokenKind::Pipeline, at(4));
    t.record.issued_via = Some(m.jti.clone());
    assert_issuer_ended(store.insert_token(&t.record, &t.hash(), &[]).await);
}

pub async fn an_agent_token_minted_via_an_ended_credential_is_refused(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let via = add_token(store, &alice, 1).await;
    let mut m = minted("builder", &alice, at(2));
    m.issued_via = Some(via.id.clone());
    store.insert_minted(&m, &[]).await.expect("minted via a live token");
    assert_eq!(
        store.minted_by_jti(&m.jti).await.expect("by jti").expect("found").issued_via,
        Some(via.id.clone())
    );

    assert!(store.revoke_token(&via.id, at(3), &[]).await.expect("revoke"));
    let mut again = minted("builder", &alice, at(4));
    again.issued_via = Some(via.id.clone());
    assert_issuer_ended(store.insert_minted(&again, &[]).await);
    assert!(store.minted_by_jti(&again.jti).await.expect("by jti").is_none(), "nothing stored");
}

pub async fn a_rotation_by_an_ended_caller_is_refused_and_the_old_token_lives_on(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let old = add_token(store, &alice, 1).await;
    let caller = add_token(store, &alice, 1).await;
    assert!(store.revoke_token(&caller.id, at(2), &[]).await.expect("revoke"));
    let mut new = issued(&alice, &caller, true, 3);
    new.record.rotated_from = Some(old.id.clone());
    assert_issuer_ended(store.rotate_token(&old.id, None, &new.record, &new.hash(), at(3), &[]).await);
    assert_eq!(fetch(store, &old.id).await.revoked_at, None, "the rotation changed nothing");

    // A token rotating itself ends itself in that rotation: that is no ended issuer.
    let mut own = issued(&alice, &old, false, 4);
    own.record.rotated_from = Some(old.id.clone());
    store.rotate_token(&old.id, None, &own.record, &own.hash(), at(4), &[]).await.expect("self-rotation");
}

/// The tokens of `user` still active.
async fn live_tokens(store: &dyn Backend, user: &UserRecord) -> Vec<TokenId> {
    let filter = ward_store::TokenFilter {
        user_id: Some(user.id.clone()),
        status: Some(ward_store::TokenStatus::Active),
        ..all_at(at(10))
    };
    listed(store, &filter).await
}

/// `count` inserts issued via `via`, all in flight at once, with `end`
/// started beside them (after the first of them were sent): how many were
/// stored and how many refused because their issuer had ended — no other
/// answer is right.
async fn race(
    store: &dyn Backend,
    owner: &UserRecord,
    via: &TokenRecord,
    parent: bool,
    end: impl Future<Output = ()>,
) -> (usize, usize) {
    let batch: Vec<NewToken> = (0..RACERS).map(|_| issued(owner, via, parent, 3)).collect();
    let (early, late) = batch.split_at(RACERS / 4);
    let early = join_all(early.iter().map(|t| insert(store, t)));
    let late = async {
        tokio::task::yield_now().await;
        join_all(late.iter().map(|t| insert(store, t))).await
    };
    let (early, (), late) = tokio::join!(early, end, late);
    let (mut stored, mut refused) = (0, 0);
    for result in early.into_iter().chain(late) {
        match result {
            Ok(()) => stored += 1,
            Err(StoreError::IssuerEnded) => refused += 1,
            Err(e) => panic!("an insert failed for another reason: {e}"),
        }
    }
    (stored, refused)
}

/// How many inserts race an ending.
const RACERS: usize = 300;

pub async fn tokens_issued_while_their_users_tokens_are_revoked_never_survive(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let session = add(store, token(&alice, TokenKind::Login, at(1))).await;
    let end = async {
        store.revoke_user_tokens(&alice.id, at(2), &[]).await.expect("revoke user tokens");
    };
    let (stored, refused) = race(store, &alice, &session, false, end).await;
    assert_eq!(stored + refused, RACERS);
    assert_eq!(live_tokens(store, &alice).await, Vec::<TokenId>::new(), "{stored} stored, {refused} refused");
}

pub async fn children_issued_while_their_parent_is_revoked_never_survive(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let parent = add_token(store, &alice, 1).await;
    let end = async {
        assert!(store.revoke_token(&parent.id, at(2), &[]).await.expect("revoke parent"));
    };
    let (stored, refused) = race(store, &alice, &parent, true, end).await;
    assert_eq!(stored + refused, RACERS);
    assert_eq!(live_tokens(store, &alice).await, Vec::<TokenId>::new(), "{stored} stored, {refused} refused");
}
