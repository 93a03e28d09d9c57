//! The audit outbox's contract: the events passed to a state-changing write
//! are stored with it, in its transaction, and only when it changed
//! something; draining chains them in order, once, and empties the outbox.

use crate::audit::{event, key};
use crate::support::{add_token, add_user, at, human, token};
use ward_core::TokenKind;
use ward_core::audit::AuditEntry;
use ward_store::{Backend, verify_chain};

/// The ids the next drain chains, in order.
async fn drained(store: &dyn Backend) -> Vec<String> {
    let chained = store.drain_outbox(&key(), 1000).await.expect("drain the outbox");
    chained.into_iter().map(|c| c.entry.id).collect()
}

fn ev(n: u64, action: &str) -> AuditEntry {
    event(n, action, "alice", n as i64)
}

pub async fn events_of_committed_writes_are_drained_into_the_chain_in_order_once(store: &dyn Backend) {
    assert!(drained(store).await.is_empty(), "a new database has an empty outbox");
    let alice = human("alice", at(0));
    store.create_user(&alice, &[ev(1, "user.create")]).await.expect("create user");
    let t = token(&alice, TokenKind::Personal, at(1));
    store.insert_token(&t.record, &t.hash(), &[ev(2, "token.create")]).await.expect("insert");
    assert!(store.revoke_token(&t.record.id, at(2), &[ev(3, "token.revoke")]).await.expect("revoke"));
    let other = add_token(store, &alice, 3).await;
    store.delete_token(&other.id, at(3), &[ev(4, "token.delete")]).await.expect("delete");
    store.revoke_user_tokens(&alice.id, at(4), &[ev(5, "user.revoke_tokens")]).await.expect("end all");
    store.delete_user(&alice.id, at(5), &[ev(6, "user.delete")]).await.expect("delete user");

    let ids: Vec<String> = (1..=6).map(|n| ev(n, "x").id).collect();
    assert_eq!(drained(store).await, ids);
    assert!(drained(store).await.is_empty(), "drained events leave the outbox");
    let chain = store.audit_chain(None, 100).await.expect("chain");
    assert_eq!(chain.iter().map(|c| c.entry.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(chain[1].entry, ev(2, "token.create"), "stored as given");
    assert!(verify_chain(store, &key()).await.expect("verify").ok());
}

pub async fn a_write_that_fails_or_changes_nothing_stores_no_event(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t = add_token(store, &alice, 1).await;
    let dup = human("alice", at(1));
    assert!(store.create_user(&dup, &[ev(1, "user.create")]).await.is_err(), "duplicate name");
    let mut clash = token(&alice, TokenKind::Personal, at(2));
    clash.record.id = t.id.clone();
    assert!(store.insert_token(&clash.record, &clash.hash(), &[ev(2, "token.create")]).await.is_err());
    assert!(store.revoke_token(&t.id, at(3), &[]).await.expect("revoke"));
    let again = store.revoke_token(&t.id, at(4), &[ev(3, "token.revoke")]).await.expect("revoke again");
    assert!(!again, "already revoked");
    let missing = token(&alice, TokenKind::Personal, at(5));
    assert!(store.revoke_token(&missing.record.id, at(5), &[ev(4, "token.revoke")]).await.is_err());
    assert!(store.delete_token(&missing.record.id, at(5), &[ev(5, "token.delete")]).await.is_err());
    let rotated = token(&alice, TokenKind::Personal, at(6));
    let (hash, events) = (rotated.hash(), [ev(6, "token.rotate")]);
    let refused = store.rotate_token(&t.id, None, &rotated.record, &hash, at(6), &events).await;
    assert!(refused.is_err(), "a revoked token is not rotated");
    let stranger = human("bob", at(7));
    assert!(store.delete_user(&stranger.id, at(7), &[ev(7, "user.delete")]).await.is_err());

    assert!(drained(store).await.is_empty(), "no event of a failed or idle write is stored");
}

pub async fn minting_and_revoking_agent_tokens_store_their_events_only_when_they_change(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let m = crate::agents::minted("deployer", &alice, at(1));
    store.insert_minted(&m, &[ev(1, "mint")]).await.expect("mint");
    assert!(store.insert_minted(&m, &[ev(2, "mint")]).await.is_err(), "duplicate jti");
    assert!(store.revoke_minted(&m.jti, at(2), &[ev(3, "mint.revoke")]).await.expect("revoke"));
    let again = store.revoke_minted(&m.jti, at(3), &[ev(4, "mint.revoke")]).await.expect("again");
    assert!(!again, "already revoked");
    store.revoke_agent("deployer", None, at(4), &[ev(5, "mint.revoke")]).await.expect("revoke agent");
    assert_eq!(drained(store).await, [ev(1, "x").id, ev(3, "x").id, ev(5, "x").id]);
}

pub async fn approval_requests_and_decisions_store_their_events_only_when_they_happen(store: &dyn Backend) {
    let a = crate::agents::approval(at(1), at(60));
    let opened = store.open_approval(&a, 16, &[ev(1, "approval.request")]).await.expect("request");
    assert_eq!(opened, ward_store::Opened::New);
    let again = store.open_approval(&a, 16, &[ev(2, "approval.request")]).await.expect("again");
    assert_eq!(
        again,
        ward_store::Opened::Waiting(Box::new(a.clone())),
        "the same request is waiting already"
    );
    let decided = store.decide_approval(&a.id, true, "bob", None, at(2), &[ev(3, "approval.approve")]).await;
    assert!(decided.is_ok(), "{decided:?}");
    let again = store.decide_approval(&a.id, false, "bob", None, at(3), &[ev(4, "approval.deny")]).await;
    assert!(again.is_err(), "decided once");
    assert_eq!(drained(store).await, [ev(1, "x").id, ev(3, "x").id]);
}
