//! Signed (JWT) tokens: offline checks with the cached JWKS, the first
//! sight confirmed through ward, key rotation and retirement.

use crate::fake::{Fake, refused, until, valid};
use ed25519_dalek::SigningKey;
use serde_json::json;
use std::sync::atomic::Ordering;
use std::time::Duration;
use ward_client::VerifyError;
use ward_core::signed::{Claims, encode, jwk};

const ISSUER: &str = "https://ward.example.com";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn publish(fake: &Fake, keys: &[(&str, u8)]) {
    let set: Vec<_> = keys.iter().map(|(kid, seed)| jwk(kid, &key(*seed).verifying_key())).collect();
    *fake.ward.jwks.lock().expect("lock") = json!({ "keys": set });
}

fn mint(kid: &str, seed: u8, jti: &str, f: impl FnOnce(&mut Claims)) -> String {
    let now = ward_client::verifier::Clock::system().now().timestamp();
    let mut claims = Claims {
        iss: ISSUER.into(),
        sub: "deploy-bot".into(),
        scope: "system:read".into(),
        exp: now + 3600,
        iat: now,
        jti: jti.into(),
        aud: None,
    };
    f(&mut claims);
    encode(kid, &claims, &key(seed))
}

fn agent(jti: &str) -> ward_api::VerifyResponse {
    let mut answer = valid(jti, "deploy-bot", &["system:read"]);
    answer.token_type = Some(ward_api::TokenKind::Agent);
    answer
}

async fn started(fake: &Fake) -> ward_client::Verifier {
    *fake.ward.issuer.lock().expect("lock") = Some(ISSUER.into());
    let verifier = fake.builder().jwks_min_refresh(Duration::ZERO).start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    verifier
}

#[tokio::test]
async fn a_signed_token_is_checked_offline_confirmed_once_then_cached() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = started(&fake).await;
    let t = mint("key_a", 1, "tok_j1", |_| {});
    fake.answer(&t, agent("tok_j1"));
    for _ in 0..5 {
        let p = verifier.verify(&t).await.expect("valid");
        assert_eq!((p.subject(), p.token_id()), ("deploy-bot", "tok_j1"));
        assert!(p.has_scope("system:read"));
    }
    assert_eq!(fake.verify_calls(), 1, "the first sight is confirmed by ward, once");
    assert_eq!(fake.ward.jwks_calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_token_revoked_before_the_verifier_subscribed_is_refused_on_first_sight() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = started(&fake).await;
    let t = mint("key_a", 1, "tok_j2", |_| {});
    fake.answer(&t, refused("REVOKED", "tok_j2"));
    assert_eq!(verifier.verify(&t).await.err(), Some(VerifyError::Revoked));
}

#[tokio::test]
async fn forged_foreign_expired_and_misaddressed_tokens_are_refused_without_asking_ward() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = started(&fake).await;
    let cases = [
        (mint("key_a", 9, "tok_f", |_| {}), VerifyError::Malformed),
        (mint("key_a", 1, "tok_f", |c| c.iss = "https://evil.example".into()), VerifyError::WrongIssuer),
        (mint("key_a", 1, "tok_f", |c| c.aud = Some("billing".into())), VerifyError::WrongAudience),
        (mint("key_a", 1, "tok_f", |c| c.exp = c.iat - 10), VerifyError::Expired),
    ];
    for (t, expected) in cases {
        assert_eq!(verifier.verify(&t).await.err(), Some(expected));
    }
    assert_eq!(fake.verify_calls(), 0);
}

#[tokio::test]
async fn the_audience_is_required_when_configured() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    *fake.ward.issuer.lock().expect("lock") = Some(ISSUER.into());
    let verifier = fake.builder().audience("stacks-api").start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    let ours = mint("key_a", 1, "tok_a1", |c| c.aud = Some("stacks-api".into()));
    fake.answer(&ours, agent("tok_a1"));
    verifier.verify(&ours).await.expect("meant for us");
    let none = mint("key_a", 1, "tok_a2", |_| {});
    assert_eq!(verifier.verify(&none).await.err(), Some(VerifyError::WrongAudience));
}

#[tokio::test]
async fn without_issuer_metadata_the_issuer_is_ward_and_a_configured_one_wins() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = fake.builder().start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    let t = mint("key_a", 1, "tok_w", |c| c.iss = "ward".into());
    fake.answer(&t, agent("tok_w"));
    verifier.verify(&t).await.expect("a server without [server] issuer signs iss=ward");
    let configured = fake.builder().issuer("https://other").start();
    assert!(configured.subscribed(Duration::from_secs(10)).await);
    assert_eq!(configured.verify(&t).await.err(), Some(VerifyError::WrongIssuer));
}

#[tokio::test]
async fn a_rotated_key_is_fetched_on_the_first_sight_of_its_kid_and_no_request_fails() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = started(&fake).await;
    let old = mint("key_a", 1, "tok_o", |_| {});
    fake.answer(&old, agent("tok_o"));
    verifier.verify(&old).await.expect("valid");

    publish(&fake, &[("key_a", 1), ("key_b", 2)]);
    let new = mint("key_b", 2, "tok_n", |_| {});
    fake.answer(&new, agent("tok_n"));
    verifier.verify(&new).await.expect("the new key is fetched");
    verifier.verify(&old).await.expect("the old key still verifies");
    assert_eq!(fake.ward.jwks_calls.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_unknown_kid_within_the_refresh_limit_is_asked_of_ward_instead_of_refused() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    *fake.ward.issuer.lock().expect("lock") = Some(ISSUER.into());
    let verifier = fake.builder().jwks_min_refresh(Duration::from_secs(3600)).start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await);
    let old = mint("key_a", 1, "tok_o", |_| {});
    fake.answer(&old, agent("tok_o"));
    verifier.verify(&old).await.expect("valid");
    let new = mint("key_c", 3, "tok_c", |_| {});
    fake.answer(&new, agent("tok_c"));
    verifier.verify(&new).await.expect("ward vouches for it");
    assert_eq!(fake.ward.jwks_calls.load(Ordering::SeqCst), 1, "rate-limited: no second fetch");
}

#[tokio::test]
async fn a_retired_key_event_refuses_every_token_it_signed() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1), ("key_b", 2)]);
    let verifier = started(&fake).await;
    let a = mint("key_a", 1, "tok_ka", |_| {});
    let b = mint("key_b", 2, "tok_kb", |_| {});
    fake.answer(&a, agent("tok_ka"));
    fake.answer(&b, agent("tok_kb"));
    verifier.verify(&a).await.expect("valid");
    verifier.verify(&b).await.expect("valid");

    publish(&fake, &[("key_b", 2)]);
    fake.answer(&a, refused("REVOKED", "tok_ka"));
    fake.event("e-1", json!({"kind": "key", "kid": "key_a"}));
    until(&verifier, |s| s.events >= 1).await;
    assert_eq!(verifier.verify(&a).await.err(), Some(VerifyError::Revoked));
    verifier.verify(&b).await.expect("the other key's token is still cached");
    assert_eq!(fake.verify_calls(), 3);
}

#[tokio::test]
async fn agent_token_agent_and_user_events_evict_signed_tokens() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = started(&fake).await;
    let t = mint("key_a", 1, "tok_e", |_| {});
    fake.answer(&t, agent("tok_e"));
    let mut calls = 1;
    verifier.verify(&t).await.expect("valid");
    for (n, event) in [
        json!({"kind": "agent_token", "jti": "tok_e"}),
        json!({"kind": "agent", "agent": "deploy-bot"}),
        json!({"kind": "user", "user_id": "usr_9", "user": "the-minter"}),
    ]
    .into_iter()
    .enumerate()
    {
        fake.event(&format!("e-{n}"), event.clone());
        until(&verifier, |s| s.events > u64::try_from(n).unwrap_or(0)).await;
        verifier.verify(&t).await.expect("still valid at ward");
        calls += 1;
        assert_eq!(fake.verify_calls(), calls, "{event} evicted it");
    }
}

#[tokio::test]
async fn claims_grafted_onto_a_cached_signature_are_not_read() {
    let fake = Fake::start().await;
    publish(&fake, &[("key_a", 1)]);
    let verifier = started(&fake).await;
    let t = mint("key_a", 1, "tok_g", |_| {});
    fake.answer(&t, agent("tok_g"));
    verifier.verify(&t).await.expect("valid");
    // Another agent and scope in the claims, the cached token's signature.
    let forged_claims = mint("key_a", 1, "tok_other", |c| {
        c.sub = "root-bot".into();
        c.scope = "system:admin".into();
    });
    let (head_claims, _) = forged_claims.rsplit_once('.').expect("three parts");
    let (_, signature) = t.rsplit_once('.').expect("three parts");
    let p =
        verifier.verify(&format!("{head_claims}.{signature}")).await.expect("answered as the cached token");
    assert_eq!(
        (p.subject(), p.token_id(), p.scopes()),
        ("deploy-bot", "tok_g", &["system:read".to_owned()][..])
    );
    assert_eq!(fake.verify_calls(), 1);
}
