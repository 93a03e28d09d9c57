//! Opaque tokens: asked once, cached, evicted by the stream.

use crate::fake::{Fake, refused, token, until, valid};
use serde_json::json;
use std::sync::Arc;
use ward_client::VerifyError;

const ALICE: &str = "ward_u_Ab3xAb3xAb3xAb3xAb3xAb3xAb3xAb3x";

#[tokio::test]
async fn a_token_is_asked_about_once_then_answered_from_the_cache() {
    let fake = Fake::start().await;
    let t = token('a');
    fake.answer(&t, valid("tok_a", "alice", &["read:stacks"]));
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    for _ in 0..5 {
        let p = verifier.verify(&t).await.expect("valid");
        assert_eq!((p.subject(), p.token_id()), ("alice", "tok_a"));
        assert!(p.has_scope("read:stacks") && !p.has_scope("write:stacks"));
    }
    assert_eq!(fake.verify_calls(), 1);
}

#[tokio::test]
async fn garbage_is_refused_without_asking_ward() {
    let fake = Fake::start().await;
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    let long = "a".repeat(10_000);
    for bad in [ALICE, "", "ward_u_short", "Bearer x", long.as_str()] {
        assert_eq!(verifier.verify(bad).await.err(), Some(VerifyError::Malformed), "{bad:.20}");
    }
    assert_eq!(fake.verify_calls(), 0);
}

#[tokio::test]
async fn a_refusal_from_ward_is_not_cached() {
    let fake = Fake::start().await;
    let t = token('b');
    fake.answer(&t, refused("REVOKED", "tok_b"));
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    assert_eq!(verifier.verify(&t).await.err(), Some(VerifyError::Revoked));
    assert_eq!(verifier.verify(&t).await.err(), Some(VerifyError::Revoked));
    assert_eq!(fake.verify_calls(), 2);
}

#[tokio::test]
async fn each_event_evicts_at_once_and_the_next_check_asks_ward() {
    let fake = Fake::start().await;
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    let (a, b, c) = (token('c'), token('d'), token('e'));
    fake.answer(&a, valid("tok_c", "alice", &[]));
    fake.answer(&b, valid("tok_d", "alice", &[]));
    fake.answer(&c, valid("tok_e", "bob", &[]));
    for t in [&a, &b, &c] {
        verifier.verify(t).await.expect("valid");
    }
    assert_eq!(fake.verify_calls(), 3);

    // One token by id: revoked at ward, and the event says so.
    fake.answer(&a, refused("REVOKED", "tok_c"));
    fake.event("e-1", json!({"kind": "token", "token_id": "tok_c"}));
    until(&verifier, |s| s.events >= 1).await;
    assert_eq!(verifier.verify(&a).await.err(), Some(VerifyError::Revoked));
    verifier.verify(&b).await.expect("alice's other token is still cached");
    verifier.verify(&c).await.expect("bob's token is still cached");
    assert_eq!(fake.verify_calls(), 4);

    // Every token of a user.
    fake.event("e-2", json!({"kind": "user", "user_id": "usr_1", "user": "alice"}));
    until(&verifier, |s| s.events >= 2).await;
    verifier.verify(&b).await.expect("still valid at ward");
    verifier.verify(&c).await.expect("bob's token is still cached");
    assert_eq!(fake.verify_calls(), 5);

    // reset: everything.
    fake.event("e-3", json!({"kind": "reset", "reason": "gap"}));
    until(&verifier, |s| s.resets >= 1).await;
    verifier.verify(&c).await.expect("valid");
    assert_eq!(fake.verify_calls(), 6);
}

#[tokio::test]
async fn an_event_this_version_cannot_read_forgets_everything() {
    let fake = Fake::start().await;
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    let t = token('f');
    fake.answer(&t, valid("tok_f", "alice", &[]));
    verifier.verify(&t).await.expect("valid");
    fake.event("e-1", json!({"kind": "tenant", "tenant": "acme"}));
    until(&verifier, |s| s.resets >= 1).await;
    verifier.verify(&t).await.expect("valid");
    assert_eq!(fake.verify_calls(), 2);
}

#[tokio::test]
async fn an_answer_that_raced_an_eviction_is_returned_but_not_cached() {
    let fake = Fake::start().await;
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    let t = token('g');
    fake.answer(&t, valid("tok_g", "alice", &[]));
    let hold = Arc::new(tokio::sync::Notify::new());
    *fake.ward.hold_verify.lock().expect("lock") = Some(hold.clone());

    let asking = tokio::spawn({
        let (verifier, t) = (verifier.clone(), t.clone());
        async move { verifier.verify(&t).await }
    });
    fake.ward.verify_arrived.notified().await;
    // ward answered VALID, but the token is revoked before the answer lands.
    fake.event("e-1", json!({"kind": "token", "token_id": "tok_g"}));
    until(&verifier, |s| s.events >= 1).await;
    *fake.ward.hold_verify.lock().expect("lock") = None;
    hold.notify_one();
    asking.await.expect("joins").expect("ward said VALID when asked");

    fake.answer(&t, refused("REVOKED", "tok_g"));
    assert_eq!(verifier.verify(&t).await.err(), Some(VerifyError::Revoked), "the stale VALID was not cached");
    assert_eq!(fake.verify_calls(), 2);
}

#[tokio::test]
async fn a_cached_answer_never_outlives_the_token() {
    let fake = Fake::start().await;
    let (clock, hand) = ward_client::verifier::Clock::adjustable();
    let verifier =
        fake.builder().clock(clock.clone()).staleness(std::time::Duration::from_secs(3600)).start();
    assert!(verifier.subscribed(std::time::Duration::from_secs(10)).await);
    let t = token('h');
    let mut answer = valid("tok_h", "alice", &[]);
    answer.expires_at = Some(clock.now() + chrono::TimeDelta::seconds(30));
    fake.answer(&t, answer);
    verifier.verify(&t).await.expect("valid");
    verifier.verify(&t).await.expect("cached");
    assert_eq!(fake.verify_calls(), 1);
    hand.advance(std::time::Duration::from_secs(31));
    fake.answer(&t, refused("EXPIRED", "tok_h"));
    assert_eq!(verifier.verify(&t).await.err(), Some(VerifyError::Expired));
    assert_eq!(fake.verify_calls(), 2);
}
