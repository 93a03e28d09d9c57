//! Contract checks for users.

use crate::support::*;
use ward_core::TokenKind;
use ward_store::{PasswordEnds, Store, UserKind, UserKindFilter};

pub async fn a_new_database_has_no_users(store: &dyn Store) {
    assert_eq!(store.count_users().await.expect("count"), 0);
    assert!(store.list_users(None).await.expect("list").is_empty());
}

pub async fn a_created_user_is_found_by_id_and_by_name(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let ci = add_user(store, service("ci", at(1))).await;
    for user in [&alice, &ci] {
        let by_id = store.user_by_id(&user.id).await.expect("by id");
        assert_eq!(by_id.as_ref(), Some(user));
        let by_name = store.user_by_name(user.name.as_str()).await.expect("by name");
        assert_eq!(by_name.as_ref(), Some(user));
    }
    assert_eq!(store.user_by_name("bob").await.expect("by name"), None);
}

pub async fn a_duplicate_username_is_a_conflict_that_names_the_user(store: &dyn Store) {
    add_user(store, human("alice", at(0))).await;
    assert_conflict(store.create_user(&human("alice", at(1)), &[]).await, "alice");
    assert_conflict(store.create_user(&service("alice", at(2)), &[]).await, "alice");
    assert_eq!(store.count_users().await.expect("count"), 1);
}

pub async fn a_name_is_reusable_after_its_user_is_deleted(store: &dyn Store) {
    let old = add_user(store, human("alice", at(0))).await;
    store.delete_user(&old.id, at(1), &[]).await.expect("delete");
    let new = add_user(store, human("alice", at(2))).await;
    assert_eq!(store.user_by_name("alice").await.expect("by name"), Some(new));
    assert_eq!(store.count_users().await.expect("count"), 2);
}

pub async fn a_deleted_user_is_hidden_from_lookups_and_listings(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(1))).await;
    store.delete_user(&alice.id, at(2), &[]).await.expect("delete");
    assert_eq!(store.user_by_id(&alice.id).await.expect("by id"), None);
    assert_eq!(store.user_by_name("alice").await.expect("by name"), None);
    assert_eq!(store.list_users(None).await.expect("list"), vec![bob]);
    assert_eq!(store.count_users().await.expect("count"), 2, "deleted users still count");
}

pub async fn users_are_listed_by_creation_and_filtered_by_kind(store: &dyn Store) {
    let carol = add_user(store, human("carol", at(0))).await;
    let ci = add_user(store, service("ci", at(1))).await;
    let alice = add_user(store, human("alice", at(2))).await;
    let deploy = add_user(store, service("deploy", at(3))).await;
    let all = store.list_users(None).await.expect("list");
    assert_eq!(all, vec![carol.clone(), ci.clone(), alice.clone(), deploy.clone()]);
    let humans = store.list_users(Some(UserKindFilter::Human)).await.expect("list");
    assert_eq!(humans, vec![carol, alice]);
    let services = store.list_users(Some(UserKindFilter::Service)).await.expect("list");
    assert_eq!(services, vec![ci, deploy]);
}

pub async fn a_password_hash_can_be_replaced_for_a_live_human_only(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    store.set_password_hash(&alice.id, "$argon2id$new").await.expect("set hash");
    let stored = store.user_by_id(&alice.id).await.expect("by id").expect("alice");
    match stored.kind {
        UserKind::Human { password_hash, .. } => {
            assert_eq!(password_hash.as_deref(), Some("$argon2id$new"));
        }
        other => panic!("alice should be human, is {other:?}"),
    }
    let ci = add_user(store, service("ci", at(1))).await;
    assert!(store.set_password_hash(&ci.id, "$argon2id$x").await.is_err());
    let ghost = human("ghost", at(2));
    assert_not_found(store.set_password_hash(&ghost.id, "$argon2id$x").await);
    store.delete_user(&alice.id, at(3), &[]).await.expect("delete");
    assert_not_found(store.set_password_hash(&alice.id, "$argon2id$x").await);
}

fn password_hash_of(user: Option<ward_store::UserRecord>) -> Option<String> {
    match user.map(|u| u.kind) {
        Some(UserKind::Human { password_hash, .. }) => password_hash,
        _ => None,
    }
}

pub async fn a_password_change_ends_the_login_sessions_but_the_kept_one_at_once(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let laptop = add(store, token(&alice, TokenKind::Login, at(1))).await;
    let phone = add(store, token(&alice, TokenKind::Login, at(2))).await;
    let old = add(store, token(&alice, TokenKind::Login, at(3))).await;
    assert!(store.revoke_token(&old.id, at(4), &[]).await.expect("revoke"));
    let personal = add_token(store, &alice, 5).await;
    let bobs = add(store, token(&bob, TokenKind::Login, at(6))).await;

    let ended = store
        .set_password(&alice.id, "$argon2id$new", PasswordEnds::SessionsExcept(Some(&laptop.id)), at(10), &[])
        .await;

    assert_eq!(ended.expect("set password"), 1, "only the phone's session was live and not kept");
    assert_eq!(
        password_hash_of(store.user_by_id(&alice.id).await.expect("by id")).as_deref(),
        Some("$argon2id$new")
    );
    assert_eq!(fetch(store, &laptop.id).await.revoked_at, None, "the kept session lives");
    assert_eq!(fetch(store, &phone.id).await.revoked_at, Some(at(10)));
    assert_eq!(fetch(store, &old.id).await.revoked_at, Some(at(4)), "first revocation kept");
    assert_eq!(fetch(store, &personal.id).await.revoked_at, None, "other kinds of token stay");
    assert_eq!(fetch(store, &bobs.id).await.revoked_at, None, "other users untouched");

    let ended = store
        .set_password(&alice.id, "$argon2id$reset", PasswordEnds::SessionsExcept(None), at(11), &[])
        .await;
    assert_eq!(ended.expect("reset password"), 1, "a reset keeps no session");
    assert_eq!(fetch(store, &laptop.id).await.revoked_at, Some(at(11)));
}

pub async fn a_refused_password_change_changes_nothing(store: &dyn Store) {
    let ci = add_user(store, service("ci", at(0))).await;
    let key = add(store, token(&ci, TokenKind::Login, at(1))).await;
    assert_conflict(
        store.set_password(&ci.id, "$argon2id$x", PasswordEnds::SessionsExcept(None), at(2), &[]).await,
        "service user",
    );
    assert_eq!(fetch(store, &key.id).await.revoked_at, None);
    let ghost = human("ghost", at(2));
    assert_not_found(
        store.set_password(&ghost.id, "$argon2id$x", PasswordEnds::SessionsExcept(None), at(3), &[]).await,
    );
    let alice = add_user(store, human("alice", at(0))).await;
    let session = add(store, token(&alice, TokenKind::Login, at(1))).await;
    store.delete_user(&alice.id, at(3), &[]).await.expect("delete");
    assert_not_found(
        store.set_password(&alice.id, "$argon2id$x", PasswordEnds::SessionsExcept(None), at(4), &[]).await,
    );
    assert_eq!(
        fetch(store, &session.id).await.revoked_at,
        Some(at(3)),
        "the deletion's time, not a later one"
    );
}

pub async fn deleting_a_user_revokes_their_unrevoked_tokens_and_counts_them(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let active = add_token(store, &alice, 1).await;
    let mut expiring = token(&alice, TokenKind::Pipeline, at(2));
    expiring.record.expires_at = Some(at(3));
    let expired = add(store, expiring).await;
    let revoked = add_token(store, &alice, 4).await;
    assert!(store.revoke_token(&revoked.id, at(5), &[]).await.expect("revoke"));
    let bobs = add_token(store, &bob, 6).await;

    let count = store.delete_user(&alice.id, at(10), &[]).await.expect("delete");

    assert_eq!(count, 2, "the active and the expired token are revoked");
    assert_eq!(fetch(store, &active.id).await.revoked_at, Some(at(10)));
    assert_eq!(fetch(store, &expired.id).await.revoked_at, Some(at(10)));
    assert_eq!(fetch(store, &revoked.id).await.revoked_at, Some(at(5)), "first revocation kept");
    assert_eq!(fetch(store, &bobs.id).await.revoked_at, None, "other users untouched");
}

pub async fn deleting_a_missing_or_deleted_user_is_not_found_and_revokes_nothing(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    assert_not_found(store.delete_user(&human("ghost", at(0)).id, at(1), &[]).await);
    store.delete_user(&alice.id, at(2), &[]).await.expect("delete");
    assert_not_found(store.delete_user(&alice.id, at(3), &[]).await);
    assert_eq!(store.count_users().await.expect("count"), 1);
}

pub async fn a_token_of_a_deleted_user_still_resolves_with_its_deleted_owner(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t = token(&alice, TokenKind::Personal, at(1));
    let hash = t.hash();
    let record = add(store, t).await;
    store.delete_user(&alice.id, at(2), &[]).await.expect("delete");
    for found in [
        store.token_by_hash(&hash).await.expect("by hash"),
        store.token_by_id(&record.id).await.expect("by id"),
    ] {
        let found = found.expect("the token record stays");
        assert_eq!(found.owner.id, alice.id);
        assert_eq!(found.owner.deleted_at, Some(at(2)));
        assert_eq!(found.token.revoked_at, Some(at(2)));
    }
}

pub async fn a_users_creator_is_kept_and_read_back_with_its_tokens(store: &dyn Store) {
    let admin = add_user(store, human("admin", at(0))).await;
    let ci = add_user(
        store,
        ward_store::UserRecord { created_by: Some(admin.id.clone()), ..service("ci", at(1)) },
    )
    .await;
    assert_eq!(admin.created_by, None);
    let found = store.user_by_id(&ci.id).await.expect("by id").expect("exists");
    assert_eq!(found.created_by, Some(admin.id.clone()));
    let listed = store.list_users(Some(UserKindFilter::Service)).await.expect("list");
    assert_eq!(listed, vec![ci.clone()]);
    let key = add(store, token(&ci, TokenKind::Service, at(2))).await;
    let with_owner = store.token_by_id(&key.id).await.expect("by id").expect("exists");
    assert_eq!(with_owner.owner.created_by, Some(admin.id));
}
