//! Contract checks for one token at a time: insert, look up, revoke,
//! delete, rotate, record usage.

use crate::support::*;
use ward_core::{TokenHash, TokenKind};
use ward_store::{Store, TokenStatus};

pub async fn an_inserted_token_is_found_by_hash_and_by_id_with_its_owner(store: &dyn Store) {
    let ci = add_user(store, service("ci", at(0))).await;
    let mut t = token(&ci, TokenKind::Pipeline, at(1));
    t.record.expires_at = Some(at(60));
    t.record.last_used_at = Some(at(2));
    t.record.scopes = scopes(&["deploy:write", "stacks:read"]);
    let hash = t.hash();
    let record = add(store, t).await;

    let by_hash = store.token_by_hash(&hash).await.expect("by hash").expect("found");
    assert_eq!(by_hash.token, record);
    assert_eq!(by_hash.owner, ci);
    let by_id = store.token_by_id(&record.id).await.expect("by id").expect("found");
    assert_eq!(by_id, by_hash);
}

pub async fn an_unknown_hash_or_id_finds_nothing(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    add_token(store, &alice, 1).await;
    let stranger = token(&alice, TokenKind::Personal, at(2));
    assert_eq!(store.token_by_hash(&stranger.hash()).await.expect("by hash"), None);
    assert_eq!(store.token_by_hash(&TokenHash::from_bytes([0; 32])).await.expect("zero"), None);
    assert_eq!(store.token_by_id(&stranger.record.id).await.expect("by id"), None);
}

pub async fn many_tokens_are_read_by_id_at_once_with_their_owners(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let ci = add_user(store, service("ci", at(0))).await;
    let mine = add_token(store, &alice, 1).await;
    let theirs = add_token(store, &ci, 2).await;
    add_token(store, &ci, 3).await;
    store.revoke_token(&theirs.id, at(4), &[]).await.expect("revoke");
    let missing = token(&alice, TokenKind::Personal, at(5)).record.id;

    let mut read = store.tokens_by_ids(&[theirs.id.clone(), missing, mine.id.clone()]).await.expect("by ids");
    read.sort_by(|a, b| a.token.id.cmp(&b.token.id));
    let expected = vec![
        store.token_by_id(&mine.id).await.expect("by id").expect("found"),
        store.token_by_id(&theirs.id).await.expect("by id").expect("found"),
    ];
    assert_eq!(read, expected, "the same records as one by one, revoked ones included, unknown ids left out");
    assert!(read[1].token.revoked_at.is_some());
    assert_eq!(store.tokens_by_ids(&[]).await.expect("none"), Vec::new());
}

pub async fn a_hash_or_id_collision_is_a_conflict(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let first = token(&alice, TokenKind::Personal, at(1));
    let hash = first.hash();
    let first = add(store, first).await;

    let same_hash = token(&alice, TokenKind::Personal, at(2));
    assert_conflict(store.insert_token(&same_hash.record, &hash, &[]).await, "hash");
    let mut same_id = token(&alice, TokenKind::Personal, at(3));
    same_id.record.id = first.id.clone();
    assert_conflict(store.insert_token(&same_id.record, &same_id.hash(), &[]).await, first.id.as_str());
    assert_eq!(listed(store, &all_at(at(9))).await, ids(&[&first]));
}

pub async fn a_token_for_a_missing_or_deleted_owner_is_not_found(store: &dyn Store) {
    let ghost = human("ghost", at(0));
    let orphan = token(&ghost, TokenKind::Personal, at(1));
    assert_not_found(store.insert_token(&orphan.record, &orphan.hash(), &[]).await);
    let alice = add_user(store, human("alice", at(0))).await;
    store.delete_user(&alice.id, at(1), &[]).await.expect("delete");
    let late = token(&alice, TokenKind::Personal, at(2));
    assert_not_found(store.insert_token(&late.record, &late.hash(), &[]).await);
    assert!(listed(store, &all_at(at(9))).await.is_empty());
}

pub async fn revoking_twice_keeps_the_first_time_and_returns_false(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t = add_token(store, &alice, 1).await;
    assert!(store.revoke_token(&t.id, at(5), &[]).await.expect("first revoke"));
    assert!(!store.revoke_token(&t.id, at(6), &[]).await.expect("second revoke"));
    let stored = fetch(store, &t.id).await;
    assert_eq!(stored.revoked_at, Some(at(5)));
    assert_eq!(stored.status(at(5)), TokenStatus::Revoked);
}

pub async fn revoking_an_expired_token_marks_it_revoked(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut t = token(&alice, TokenKind::Personal, at(1));
    t.record.expires_at = Some(at(2));
    let t = add(store, t).await;
    assert!(store.revoke_token(&t.id, at(3), &[]).await.expect("revoke"));
    assert_eq!(fetch(store, &t.id).await.status(at(3)), TokenStatus::Revoked);
}

pub async fn revoking_a_missing_token_is_not_found(store: &dyn Store) {
    let alice = human("alice", at(0));
    let ghost = token(&alice, TokenKind::Personal, at(1));
    assert_not_found(store.revoke_token(&ghost.record.id, at(2), &[]).await);
}

pub async fn revoking_a_users_tokens_touches_only_their_unrevoked_tokens(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let a1 = add_token(store, &alice, 1).await;
    let a2 = add_token(store, &alice, 2).await;
    let a3 = add_token(store, &alice, 3).await;
    let b1 = add_token(store, &bob, 4).await;
    store.revoke_token(&a3.id, at(5), &[]).await.expect("revoke");

    assert_eq!(store.revoke_user_tokens(&alice.id, at(10), &[]).await.expect("revoke all"), 2);
    assert_eq!(fetch(store, &a1.id).await.revoked_at, Some(at(10)));
    assert_eq!(fetch(store, &a2.id).await.revoked_at, Some(at(10)));
    assert_eq!(fetch(store, &a3.id).await.revoked_at, Some(at(5)));
    assert_eq!(fetch(store, &b1.id).await.revoked_at, None);
    assert_eq!(store.revoke_user_tokens(&alice.id, at(11), &[]).await.expect("again"), 0);
    assert!(store.user_by_id(&alice.id).await.expect("by id").is_some(), "user stays");
}

pub async fn deleting_a_token_removes_it_and_a_second_delete_is_not_found(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t = token(&alice, TokenKind::Personal, at(1));
    let hash = t.hash();
    let gone = add(store, t).await;
    let kept = add_token(store, &alice, 2).await;
    store.delete_token(&gone.id, at(3), &[]).await.expect("delete");
    assert_eq!(store.token_by_id(&gone.id).await.expect("by id"), None);
    assert_eq!(store.token_by_hash(&hash).await.expect("by hash"), None);
    assert_not_found(store.delete_token(&gone.id, at(3), &[]).await);
    assert_eq!(listed(store, &all_at(at(9))).await, ids(&[&kept]));
}

pub async fn rotating_without_grace_revokes_the_old_token_now(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let old = add_token(store, &alice, 1).await;
    let mut new = token(&alice, TokenKind::Personal, at(10));
    new.record.rotated_from = Some(old.id.clone());
    let new_hash = new.hash();

    store.rotate_token(&old.id, None, &new.record, &new_hash, at(10), &[]).await.expect("rotate");

    let old_now = fetch(store, &old.id).await;
    assert_eq!(old_now.revoked_at, Some(at(10)));
    assert_eq!(old_now.expires_at, None);
    let found = store.token_by_hash(&new_hash).await.expect("by hash").expect("new token");
    assert_eq!(found.token, new.record);
}

pub async fn rotating_with_grace_ends_the_old_token_at_the_earlier_of_grace_and_expiry(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut long = token(&alice, TokenKind::Personal, at(1));
    long.record.expires_at = Some(at(1000));
    let long = add(store, long).await;
    let mut short = token(&alice, TokenKind::Personal, at(2));
    short.record.expires_at = Some(at(20));
    let short = add(store, short).await;
    let forever = add_token(store, &alice, 3).await;

    for (old, expected) in [(&long, at(70)), (&short, at(20)), (&forever, at(70))] {
        let new = token(&alice, TokenKind::Personal, at(10));
        store
            .rotate_token(&old.id, Some(at(70)), &new.record, &new.hash(), at(10), &[])
            .await
            .expect("rotate");
        let stored = fetch(store, &old.id).await;
        assert_eq!(stored.expires_at, Some(expected), "old token {}", old.name);
        assert_eq!(stored.revoked_at, None);
        assert_eq!(stored.status(at(11)), TokenStatus::Active, "still usable in the grace");
        assert!(store.token_by_id(&new.record.id).await.expect("by id").is_some());
    }
}

pub async fn rotating_a_revoked_or_expired_token_is_a_conflict_and_changes_nothing(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let revoked = add_token(store, &alice, 1).await;
    store.revoke_token(&revoked.id, at(2), &[]).await.expect("revoke");
    let mut expired = token(&alice, TokenKind::Personal, at(3));
    expired.record.expires_at = Some(at(4));
    let expired = add(store, expired).await;

    for old in [&revoked, &expired] {
        let before = fetch(store, &old.id).await;
        let new = token(&alice, TokenKind::Personal, at(10));
        let result = store.rotate_token(&old.id, None, &new.record, &new.hash(), at(10), &[]).await;
        assert_conflict(result, "cannot be rotated");
        assert_eq!(fetch(store, &old.id).await, before);
        assert_eq!(store.token_by_id(&new.record.id).await.expect("by id"), None);
    }
}

pub async fn a_token_with_a_successor_is_not_rotated_again_and_the_conflict_names_it(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let old = add_token(store, &alice, 1).await;
    let mut first = token(&alice, TokenKind::Personal, at(10));
    first.record.rotated_from = Some(old.id.clone());
    store
        .rotate_token(&old.id, Some(at(70)), &first.record, &first.hash(), at(10), &[])
        .await
        .expect("rotate");
    let in_grace = fetch(store, &old.id).await;
    assert_eq!(in_grace.status(at(11)), TokenStatus::Active, "the old token is still in its grace");

    let mut second = token(&alice, TokenKind::Personal, at(11));
    second.record.rotated_from = Some(old.id.clone());
    let result = store.rotate_token(&old.id, Some(at(80)), &second.record, &second.hash(), at(11), &[]).await;
    assert_conflict(result, first.record.id.as_str());
    assert_eq!(fetch(store, &old.id).await, in_grace, "the old token's end did not move");
    assert_eq!(store.token_by_id(&second.record.id).await.expect("by id"), None);
}

pub async fn rotating_a_missing_token_is_not_found_and_inserts_nothing(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let ghost = token(&alice, TokenKind::Personal, at(1));
    let new = token(&alice, TokenKind::Personal, at(2));
    let result = store.rotate_token(&ghost.record.id, None, &new.record, &new.hash(), at(2), &[]).await;
    assert_not_found(result);
    assert!(listed(store, &all_at(at(9))).await.is_empty());
}

pub async fn a_rotation_that_fails_to_insert_leaves_the_old_token_untouched(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let old = token(&alice, TokenKind::Personal, at(1));
    let old_hash = old.hash();
    let old = add(store, old).await;
    let new = token(&alice, TokenKind::Personal, at(2));
    let result = store.rotate_token(&old.id, None, &new.record, &old_hash, at(2), &[]).await;
    assert_conflict(result, "hash");
    assert_eq!(fetch(store, &old.id).await, old, "the revocation was rolled back");
    assert_eq!(store.token_by_id(&new.record.id).await.expect("by id"), None);
}

pub async fn recorded_usage_never_moves_last_used_back(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let a = add_token(store, &alice, 1).await;
    let b = add_token(store, &alice, 2).await;
    let deleted = add_token(store, &alice, 3).await;
    store.delete_token(&deleted.id, at(4), &[]).await.expect("delete");

    let batch = [
        (a.id.clone(), at(30)),
        (b.id.clone(), at(20)),
        (a.id.clone(), at(25)),
        (deleted.id.clone(), at(30)),
    ];
    store.record_usage(&batch).await.expect("record usage");
    assert_eq!(fetch(store, &a.id).await.last_used_at, Some(at(30)));
    assert_eq!(fetch(store, &b.id).await.last_used_at, Some(at(20)));

    store.record_usage(&[(a.id.clone(), at(10)), (b.id.clone(), at(40))]).await.expect("again");
    assert_eq!(fetch(store, &a.id).await.last_used_at, Some(at(30)), "an older time is ignored");
    assert_eq!(fetch(store, &b.id).await.last_used_at, Some(at(40)));
    store.record_usage(&[]).await.expect("an empty batch");
}
