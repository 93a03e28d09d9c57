//! The staleness bound, on a clock the tests move, and reconnection.

use crate::fake::{Fake, refused, token, until, valid};
use serde_json::json;
use std::time::Duration;
use ward_client::verifier::Clock;
use ward_client::{OnStale, VerifyError};

const BOUND: Duration = Duration::from_secs(30);

#[tokio::test]
async fn a_silent_stream_past_the_bound_fails_closed_and_the_cache_is_trusted_again_when_it_speaks() {
    let fake = Fake::start().await;
    let (clock, hand) = Clock::adjustable();
    let verifier = fake.builder().clock(clock).staleness(BOUND).on_stale(OnStale::FailClosed).start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    let t = token('s');
    fake.answer(&t, valid("tok_s", "alice", &[]));
    verifier.verify(&t).await.expect("valid");

    hand.advance(BOUND - Duration::from_secs(1));
    verifier.verify(&t).await.expect("still within the bound: cached");
    hand.advance(Duration::from_secs(2));
    assert!(!verifier.is_fresh());
    assert!(matches!(verifier.verify(&t).await, Err(VerifyError::Stale { .. })));
    assert_eq!(fake.verify_calls(), 1, "failing closed asks nobody");

    let frames = verifier.stream_status().borrow().frames;
    fake.push(": heartbeat\n\n");
    until(&verifier, |s| s.frames > frames).await;
    assert!(verifier.is_fresh());
    verifier.verify(&t).await.expect("cached again");
    assert_eq!(fake.verify_calls(), 1);
}

#[tokio::test]
async fn recheck_asks_ward_for_every_token_while_stale_and_caches_nothing() {
    let fake = Fake::start().await;
    let (clock, hand) = Clock::adjustable();
    let verifier = fake.builder().clock(clock).staleness(BOUND).on_stale(OnStale::Recheck).start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    let t = token('r');
    fake.answer(&t, valid("tok_r", "alice", &[]));
    verifier.verify(&t).await.expect("valid");
    hand.advance(BOUND + Duration::from_secs(1));

    verifier.verify(&t).await.expect("ward says valid");
    verifier.verify(&t).await.expect("ward says valid");
    assert_eq!(fake.verify_calls(), 3, "every token went to ward");
    // Revoked while the stream is away (no event reaches us): refused at once.
    fake.answer(&t, refused("REVOKED", "tok_r"));
    assert_eq!(verifier.verify(&t).await.err(), Some(VerifyError::Revoked));
}

#[tokio::test]
async fn a_verifier_that_never_heard_the_stream_is_stale() {
    let fake = Fake::start().await;
    let client = ward_client::Client::new("http://127.0.0.1:9", Some("x".into())).expect("client");
    let verifier = ward_client::Verifier::builder(client).start();
    assert!(!verifier.is_fresh());
    let t = token('n');
    assert!(matches!(verifier.verify(&t).await, Err(VerifyError::Stale { .. })));
    drop(fake);
}

#[tokio::test]
async fn a_dropped_stream_reconnects_and_resumes_from_the_last_event_id() {
    let fake = Fake::start().await;
    let verifier = fake.builder().reconnect_max(Duration::from_millis(200)).start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    fake.event("7f3a-41", json!({"kind": "token", "token_id": "tok_x"}));
    until(&verifier, |s| s.last_event_id.as_deref() == Some("7f3a-41")).await;
    fake.drop_subscriptions();
    until(&verifier, |s| s.connects >= 2 && s.connected).await;
    let seen = fake.ward.subscriptions.lock().expect("lock").clone();
    assert_eq!(seen, vec![None, Some("7f3a-41".to_owned())]);
}

#[tokio::test]
async fn a_stream_that_refuses_the_credential_leaves_the_verifier_stale_and_says_why() {
    let fake = Fake::start().await;
    let client = ward_client::Client::new(&fake.url, Some("ward_u_wrong".into())).expect("client");
    let verifier = ward_client::Verifier::builder(client).start();
    until(&verifier, |s| s.last_error.as_deref().is_some_and(|e| e.contains("401"))).await;
    assert!(!verifier.is_fresh());
}
