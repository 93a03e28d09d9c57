//! A credential never outlives the one that obtained it: revoking,
//! deleting or rotating with grace a token that is not a login session ends
//! (or cuts short) every credential obtained through it, down the whole
//! line; a login session is the root, and logging out ends nothing else.

use crate::agents::mint;
use crate::helpers::{Reply, TestApp};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn time(r: &Value) -> Option<DateTime<Utc>> {
    r.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// A token `caller` creates, asserted created.
async fn child(app: &TestApp, caller: &str, name: &str, scopes: &[&str]) -> Reply {
    let r = app.create_token(caller, json!({"name": name, "type": "pipeline", "scopes": scopes})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r
}

async fn code(app: &TestApp, observer: &str, token: &str) -> String {
    app.verify(observer, token).await.str("code")
}

#[tokio::test]
async fn revoking_a_pipeline_token_revokes_its_child_and_grandchild() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let pipeline = child(&app, &alice, "ci", &["ward:tokens", "ward:introspect"]).await;
    let kid = child(&app, &pipeline.str("token"), "kid", &["ward:tokens"]).await;
    let grandkid = child(&app, &kid.str("token"), "grandkid", &[]).await;
    // Both are cached as valid before the revoke.
    assert_eq!(code(&app, &alice, &kid.str("token")).await, "VALID");
    assert_eq!(code(&app, &alice, &grandkid.str("token")).await, "VALID");

    let r = app.post(&format!("/v1/tokens/{}/revoke", pipeline.str("id")), &alice, json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &alice, &kid.str("token")).await, "REVOKED");
    assert_eq!(code(&app, &alice, &grandkid.str("token")).await, "REVOKED");
}

#[tokio::test]
async fn a_login_sessions_children_survive_its_logout_and_a_sibling_is_untouched() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let observer = app.admin().await;
    let kept = child(&app, &alice, "kept", &["ward:tokens"]).await;
    let other = child(&app, &alice, "other", &["ward:tokens"]).await;
    let kid = child(&app, &kept.str("token"), "kid", &[]).await;

    // Revoking `other` touches neither `kept` nor what `kept` made.
    let r = app.post(&format!("/v1/tokens/{}/revoke", other.str("id")), &alice, json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    let r = app.post("/v1/logout", &alice, json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &observer, &alice).await, "REVOKED");
    assert_eq!(code(&app, &observer, &kept.str("token")).await, "VALID");
    assert_eq!(code(&app, &observer, &kid.str("token")).await, "VALID");
}

#[tokio::test]
async fn logging_out_a_pipeline_token_ends_what_it_created() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let pipeline = child(&app, &alice, "ci", &["ward:tokens"]).await;
    let kid = child(&app, &pipeline.str("token"), "kid", &[]).await;
    let r = app.post("/v1/logout", &pipeline.str("token"), json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &alice, &kid.str("token")).await, "REVOKED");
}

#[tokio::test]
async fn revoking_a_pipeline_token_ends_the_agent_tokens_it_minted_and_their_children() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let pipeline = child(&app, &admin, "ci", &["ward:mint", "ward:tokens", "ward:introspect"]).await;
    let agent =
        mint(&app, &pipeline.str("token"), "builder", &["ward:tokens", "ward:introspect"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let from_agent = child(&app, &agent.str("token"), "from-agent", &[]).await;
    assert_eq!(code(&app, &admin, &agent.str("token")).await, "VALID");
    assert_eq!(code(&app, &admin, &from_agent.str("token")).await, "VALID");

    let r = app.post(&format!("/v1/tokens/{}/revoke", pipeline.str("id")), &admin, json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &admin, &agent.str("token")).await, "REVOKED");
    assert_eq!(code(&app, &admin, &from_agent.str("token")).await, "REVOKED");
}

#[tokio::test]
async fn revoking_an_agent_token_by_jti_or_by_agent_ends_what_it_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let first = mint(&app, &admin, "one", &["ward:tokens"], "1h").await;
    let second = mint(&app, &admin, "two", &["ward:tokens"], "1h").await;
    let a = child(&app, &first.str("token"), "a", &[]).await;
    let b = child(&app, &second.str("token"), "b", &[]).await;
    assert_eq!(code(&app, &admin, &a.str("token")).await, "VALID");

    let r = app.post("/v1/mint/revoke", &admin, json!({"jti": first.str("jti")})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &admin, &a.str("token")).await, "REVOKED");
    assert_eq!(code(&app, &admin, &b.str("token")).await, "VALID");
    let r = app.post("/v1/mint/revoke", &admin, json!({"agent": "two"})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &admin, &b.str("token")).await, "REVOKED");
}

#[tokio::test]
async fn rotating_a_parent_with_grace_cuts_its_childrens_end_to_the_grace() {
    let app = TestApp::spawn().await;
    let alice = app.admin().await;
    let pipeline = child(&app, &alice, "ci", &["ward:tokens", "ward:mint"]).await;
    let kid = child(&app, &pipeline.str("token"), "kid", &[]).await;
    let agent = mint(&app, &pipeline.str("token"), "builder", &["ward:tokens"], "1d").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    assert_eq!(time(&kid.body["expires_at"]), None, "a never-ending parent's child never ends");

    let r =
        app.post(&format!("/v1/tokens/{}/rotate", pipeline.str("id")), &alice, json!({"grace": "1h"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let ends = time(&r.body["previous"]["expires_at"]).expect("the old token ends after the grace");
    let v = app.verify(&alice, &kid.str("token")).await;
    assert_eq!(v.str("code"), "VALID");
    assert_eq!(time(&v.body["expires_at"]), Some(ends), "{:?}", v.body);
    let v = app.verify(&alice, &agent.str("token")).await;
    assert_eq!(v.str("code"), "VALID");
    let agent_ends = time(&v.body["expires_at"]).expect("an agent token ends");
    assert!(agent_ends <= ends, "the agent token ends {agent_ends}, after its parent's {ends}");
    // The successor is the caller's (a login session's), not cut short.
    let v = app.verify(&alice, &r.str("token")).await;
    assert_eq!((v.str("code"), time(&v.body["expires_at"])), ("VALID".to_owned(), None), "{:?}", v.body);
}

#[tokio::test]
async fn a_token_that_rotates_itself_keeps_its_successor_alive() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let pipeline = child(&app, &alice, "ci", &["ward:tokens"]).await;
    let id = pipeline.str("id");
    let r =
        app.post(&format!("/v1/tokens/{id}/rotate"), &pipeline.str("token"), json!({"grace": "1h"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r2 = app.post(&format!("/v1/tokens/{id}/revoke"), &alice, json!({})).await;
    assert!(r2.status.is_success(), "{:?}", r2.body);
    let v = app.verify(&alice, &r.str("token")).await;
    assert_eq!((v.str("code"), time(&v.body["expires_at"])), ("VALID".to_owned(), None), "{:?}", v.body);
}

#[tokio::test]
async fn deleting_a_token_ends_its_descendants() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let pipeline = child(&app, &admin, "ci", &["ward:tokens"]).await;
    let kid = child(&app, &pipeline.str("token"), "kid", &["ward:tokens"]).await;
    let grandkid = child(&app, &kid.str("token"), "grandkid", &[]).await;
    assert_eq!(code(&app, &admin, &grandkid.str("token")).await, "VALID");

    let r = app.delete(&format!("/v1/tokens/{}", pipeline.str("id")), &admin).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &admin, &pipeline.str("token")).await, "NOT_FOUND");
    assert_eq!(code(&app, &admin, &kid.str("token")).await, "REVOKED");
    assert_eq!(code(&app, &admin, &grandkid.str("token")).await, "REVOKED");
}

#[tokio::test]
async fn ending_a_user_ends_the_service_user_key_their_pipeline_token_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let boss = app
        .post("/v1/users", &admin, json!({"name": "boss", "role": "admin", "password": "boss-password"}))
        .await;
    assert_eq!(boss.status, StatusCode::CREATED, "{:?}", boss.body);
    let session = app.session("boss", "boss-password").await;
    let pipeline = child(&app, &session, "ci", &["ward:admin", "ward:tokens", "ward:introspect"]).await;
    let svc = app
        .post(
            "/v1/service-users",
            &pipeline.str("token"),
            json!({"name": "svc", "scopes": ["ward:introspect"]}),
        )
        .await;
    assert_eq!(svc.status, StatusCode::CREATED, "{:?}", svc.body);
    let key = svc.body["key"]["token"].as_str().unwrap_or_default().to_owned();
    assert_eq!(code(&app, &admin, &key).await, "VALID");

    let r = app.post(&format!("/v1/users/{}/revoke-tokens", boss.str("id")), &admin, json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &admin, &key).await, "REVOKED");
}

#[tokio::test]
async fn retiring_a_key_ends_what_its_agent_tokens_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let agent = mint(&app, &admin, "builder", &["ward:tokens"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);
    let made = child(&app, &agent.str("token"), "made", &[]).await;
    assert_eq!(code(&app, &admin, &made.str("token")).await, "VALID");

    let path = format!("/v1/keys/{}/retire", agent.str("kid"));
    let r = app.post(&path, &admin, json!({})).await;
    assert!(r.status.is_success(), "{:?}", r.body);
    assert_eq!(code(&app, &admin, &made.str("token")).await, "REVOKED");
}
