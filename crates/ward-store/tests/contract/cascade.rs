//! Contract checks for the line of descent: a credential records the
//! non-session credential that obtained it (`parent_token_id`), and ending
//! a token or agent token — revoke, delete, revoke by jti or by agent,
//! rotation — ends or cuts short every descendant, through tokens and
//! agent tokens alike, in the same write.

use crate::agents::minted;
use crate::support::*;
use chrono::{DateTime, Utc};
use ward_core::{TokenId, TokenKind};
use ward_store::{Backend, KeyRecord, MintedRecord, TokenRecord};

/// A pipeline token of `owner` obtained by `parent`, created at `at(minute)`.
async fn child(
    store: &dyn Backend,
    owner: &ward_store::UserRecord,
    parent: Option<&TokenId>,
    minute: i64,
) -> TokenRecord {
    let mut t = token(owner, TokenKind::Pipeline, at(minute));
    t.record.parent_token_id = parent.cloned();
    add(store, t).await
}

/// An agent token minted by `owner` through `parent`.
async fn agent(
    store: &dyn Backend,
    name: &str,
    owner: &ward_store::UserRecord,
    parent: &TokenId,
    minute: i64,
) -> MintedRecord {
    let mut m = minted(name, owner, at(minute));
    m.expires_at = at(minute + 600);
    m.parent_token_id = Some(parent.clone());
    store.insert_minted(&m, &[]).await.expect("insert minted token");
    m
}

async fn revoked_at(store: &dyn Backend, id: &TokenId) -> Option<DateTime<Utc>> {
    store.token_by_id(id).await.expect("by id").expect("found").token.revoked_at
}

async fn minted_revoked_at(store: &dyn Backend, jti: &TokenId) -> Option<DateTime<Utc>> {
    store.minted_by_jti(jti).await.expect("by jti").expect("found").revoked_at
}

/// root -> kid -> agent -> grandkid, and an unrelated token beside them.
struct Line {
    root: TokenRecord,
    kid: TokenRecord,
    agent: MintedRecord,
    grandkid: TokenRecord,
    other: TokenRecord,
}

async fn line(store: &dyn Backend) -> Line {
    let alice = add_user(store, human("alice", at(0))).await;
    let root = child(store, &alice, None, 1).await;
    let kid = child(store, &alice, Some(&root.id), 2).await;
    let agent = agent(store, "builder", &alice, &kid.id, 3).await;
    let grandkid = child(store, &alice, Some(&agent.jti), 4).await;
    let other = child(store, &alice, None, 5).await;
    Line { root, kid, agent, grandkid, other }
}

pub async fn a_credentials_parent_is_stored_and_read_back(store: &dyn Backend) {
    let l = line(store).await;
    let kid = store.token_by_id(&l.kid.id).await.expect("by id").expect("found");
    assert_eq!(kid.token.parent_token_id.as_ref(), Some(&l.root.id));
    let found = store.minted_by_jti(&l.agent.jti).await.expect("by jti").expect("found");
    assert_eq!(found.parent_token_id.as_ref(), Some(&l.kid.id));
    assert_eq!(
        store.token_by_id(&l.root.id).await.expect("by id").expect("found").token.parent_token_id,
        None
    );
}

pub async fn revoking_a_token_revokes_every_descendant_and_nothing_else(store: &dyn Backend) {
    let l = line(store).await;
    assert!(store.revoke_token(&l.root.id, at(10), &[]).await.expect("revoke"));
    assert_eq!(revoked_at(store, &l.kid.id).await, Some(at(10)));
    assert_eq!(minted_revoked_at(store, &l.agent.jti).await, Some(at(10)));
    assert_eq!(revoked_at(store, &l.grandkid.id).await, Some(at(10)));
    assert_eq!(revoked_at(store, &l.other.id).await, None);
}

pub async fn revoking_a_child_leaves_its_parent_and_already_revoked_descendants_keep_their_time(
    store: &dyn Backend,
) {
    let l = line(store).await;
    assert!(store.revoke_token(&l.grandkid.id, at(8), &[]).await.expect("revoke"));
    assert!(store.revoke_token(&l.kid.id, at(10), &[]).await.expect("revoke"));
    assert_eq!(revoked_at(store, &l.root.id).await, None);
    assert_eq!(minted_revoked_at(store, &l.agent.jti).await, Some(at(10)));
    assert_eq!(revoked_at(store, &l.grandkid.id).await, Some(at(8)));
}

pub async fn deleting_a_token_revokes_its_descendants(store: &dyn Backend) {
    let l = line(store).await;
    store.delete_token(&l.root.id, at(11), &[]).await.expect("delete");
    assert_eq!(revoked_at(store, &l.kid.id).await, Some(at(11)), "revoked at the caller's now");
    assert!(minted_revoked_at(store, &l.agent.jti).await.is_some());
    assert!(revoked_at(store, &l.grandkid.id).await.is_some());
    assert_eq!(revoked_at(store, &l.other.id).await, None);
}

pub async fn revoking_an_agent_token_by_jti_or_by_agent_revokes_its_descendants(store: &dyn Backend) {
    let l = line(store).await;
    assert!(store.revoke_minted(&l.agent.jti, at(10), &[]).await.expect("revoke"));
    assert_eq!(revoked_at(store, &l.grandkid.id).await, Some(at(10)));
    assert_eq!(revoked_at(store, &l.kid.id).await, None, "an agent token's end does not end its parent");

    let bob = add_user(store, human("bob", at(0))).await;
    let root = child(store, &bob, None, 11).await;
    let other = agent(store, "runner", &bob, &root.id, 12).await;
    let kid = child(store, &bob, Some(&other.jti), 13).await;
    assert_eq!(store.revoke_agent("runner", None, at(20), &[]).await.expect("revoke agent"), 1);
    assert_eq!(revoked_at(store, &kid.id).await, Some(at(20)));
}

pub async fn rotating_with_grace_cuts_descendants_to_the_old_tokens_new_end(store: &dyn Backend) {
    let l = line(store).await;
    let alice = store.user_by_name("alice").await.expect("user").expect("alice");
    let mut next = token(&alice, TokenKind::Pipeline, at(10));
    next.record.rotated_from = Some(l.root.id.clone());
    store
        .rotate_token(&l.root.id, Some(at(70)), &next.record, &next.hash(), at(10), &[])
        .await
        .expect("rotate");
    let kid = store.token_by_id(&l.kid.id).await.expect("by id").expect("found").token;
    assert_eq!((kid.expires_at, kid.revoked_at), (Some(at(70)), None));
    let found = store.minted_by_jti(&l.agent.jti).await.expect("by jti").expect("found");
    assert_eq!(found.expires_at, at(70));
    let grandkid = store.token_by_id(&l.grandkid.id).await.expect("by id").expect("found").token;
    assert_eq!(grandkid.expires_at, Some(at(70)));
    let successor = store.token_by_id(&next.record.id).await.expect("by id").expect("found").token;
    assert_eq!(successor.expires_at, None, "a successor that does not descend from it keeps its end");
    assert_eq!(store.token_by_id(&l.other.id).await.expect("by id").expect("found").token.expires_at, None);
}

pub async fn rotating_without_grace_revokes_descendants(store: &dyn Backend) {
    let l = line(store).await;
    let alice = store.user_by_name("alice").await.expect("user").expect("alice");
    let mut next = token(&alice, TokenKind::Pipeline, at(10));
    next.record.rotated_from = Some(l.root.id.clone());
    store.rotate_token(&l.root.id, None, &next.record, &next.hash(), at(10), &[]).await.expect("rotate");
    assert_eq!(revoked_at(store, &l.kid.id).await, Some(at(10)));
    assert_eq!(revoked_at(store, &l.grandkid.id).await, Some(at(10)));
    assert_eq!(revoked_at(store, &next.record.id).await, None);
}

pub async fn ending_a_user_revokes_what_their_credentials_obtained_for_others(store: &dyn Backend) {
    let l = line(store).await;
    let alice = store.user_by_name("alice").await.expect("user").expect("alice");
    let svc = add_user(store, service("svc", at(6))).await;
    let key = child(store, &svc, Some(&l.root.id), 7).await;
    store.revoke_user_tokens(&alice.id, at(10), &[]).await.expect("revoke user tokens");
    assert_eq!(revoked_at(store, &key.id).await, Some(at(10)), "another user's token obtained by alice's");
}

pub async fn retiring_a_key_revokes_what_its_agent_tokens_obtained(store: &dyn Backend) {
    let l = line(store).await;
    let k = KeyRecord {
        kid: l.agent.kid.clone(),
        public_key: [1; 32],
        private_sealed: vec![1, 2, 3],
        created_at: at(0),
        retired_at: None,
    };
    store.insert_key(&k, &[]).await.expect("insert key");
    assert!(store.retire_key(&k.kid, at(10), &[]).await.expect("retire"));
    assert_eq!(revoked_at(store, &l.grandkid.id).await, Some(at(10)));
    assert_eq!(revoked_at(store, &l.kid.id).await, None);
}
