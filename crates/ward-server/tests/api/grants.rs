//! Derived credentials (issue 9, findings 1 and 2): what a token, a session
//! or an agent obtains through create, rotate, service-user create and key
//! rotation never holds a scope its caller lacks, never outlives a caller
//! that is not a login session, and a token is rotated once.

use crate::agents::mint;
use crate::helpers::{Reply, TestApp};
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

fn time(r: &Value) -> Option<DateTime<Utc>> {
    r.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

fn message(r: &Reply) -> String {
    r.body["error"]["message"].as_str().unwrap_or_default().to_owned()
}

async fn rotate(app: &TestApp, caller: &str, id: &str, body: Option<Value>) -> Reply {
    app.call(Method::POST, &format!("/v1/tokens/{id}/rotate"), Some(caller), body).await
}

#[tokio::test]
async fn a_pipeline_token_with_only_ward_tokens_cannot_rotate_its_owners_broader_token() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let personal = app
        .create_token(
            &alice,
            json!({"name": "pat", "type": "personal", "scopes": ["ward:tokens", "ward:introspect"]}),
        )
        .await;
    let ci =
        app.create_token(&alice, json!({"name": "ci", "type": "pipeline", "scopes": ["ward:tokens"]})).await;
    assert_eq!(ci.status, StatusCode::CREATED, "{:?}", ci.body);

    let r = rotate(&app, &ci.str("token"), &personal.str("id"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(message(&r).contains("ward:introspect"), "{}", message(&r));
    assert_eq!(app.verify(&alice, &personal.str("token")).await.str("code"), "VALID", "nothing rotated");
}

#[tokio::test]
async fn a_one_hour_agent_token_cannot_rotate_admins_token_into_a_non_expiring_admin_token() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let personal = app.create_token(&admin, json!({"name": "pat", "type": "personal"})).await;
    assert!(personal.body["scopes"].as_array().is_some_and(|s| s.contains(&json!("ward:admin"))));
    let agent = mint(&app, &admin, "ci-bot", &["ward:tokens"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);

    let r = rotate(&app, &agent.str("token"), &personal.str("id"), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(message(&r).contains("ward:admin"), "{}", message(&r));
    assert_eq!(app.verify(&admin, &personal.str("token")).await.str("code"), "VALID", "nothing rotated");
}

#[tokio::test]
async fn a_successor_rotated_by_an_expiring_agent_ends_when_the_agent_does() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let forever = app
        .create_token(&admin, json!({"name": "d", "type": "pipeline", "scopes": ["ward:introspect"]}))
        .await;
    assert_eq!(forever.body["expires_at"], Value::Null);
    let agent = mint(&app, &admin, "ci-bot", &["ward:tokens", "ward:introspect"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);

    let r = rotate(&app, &agent.str("token"), &forever.str("id"), None).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(time(&r.body["expires_at"]), time(&agent.body["expires_at"]));
    assert_eq!(r.body["scopes"], json!(["ward:introspect"]));
}

#[tokio::test]
async fn a_one_hour_token_cannot_create_a_token_that_outlives_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let hour = app
        .create_token(
            &admin,
            json!({"name": "short", "type": "pipeline", "scopes": ["ward:tokens", "ward:introspect"], "ttl": "1h"}),
        )
        .await;
    assert_eq!(hour.status, StatusCode::CREATED, "{:?}", hour.body);
    let end = time(&hour.body["expires_at"]);

    let forever = app.create_token(&hour.str("token"), json!({"name": "child", "type": "pipeline"})).await;
    assert_eq!(forever.status, StatusCode::CREATED, "{:?}", forever.body);
    assert_eq!(time(&forever.body["expires_at"]), end, "a child with no lifetime ends with its parent");

    let month = app
        .create_token(&hour.str("token"), json!({"name": "long", "type": "pipeline", "expires_in_days": 30}))
        .await;
    assert_eq!(month.status, StatusCode::FORBIDDEN, "{:?}", month.body);
    let shown = end.map(|e| e.to_rfc3339()).unwrap_or_default();
    assert!(message(&month).contains(&shown), "names the parent's end {shown}: {}", message(&month));

    // A login session is the root: its tokens may outlive it.
    let year =
        app.create_token(&admin, json!({"name": "y", "type": "pipeline", "expires_in_days": 365})).await;
    assert_eq!(year.status, StatusCode::CREATED, "{:?}", year.body);
}

#[tokio::test]
async fn a_retried_rotation_answers_409_naming_the_successor_instead_of_forking() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let old = app.create_token(&admin, json!({"name": "ci", "type": "pipeline"})).await;
    let first = rotate(&app, &admin, &old.str("id"), Some(json!({"grace": "1h"}))).await;
    assert_eq!(first.status, StatusCode::CREATED, "{:?}", first.body);

    let again = rotate(&app, &admin, &old.str("id"), Some(json!({"grace": "1h"}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{:?}", again.body);
    assert!(message(&again).contains(&first.str("id")), "names the successor: {}", message(&again));
    let live = app.get("/v1/tokens?status=active&type=pipeline", &admin).await;
    assert_eq!(
        live.body["tokens"].as_array().map(Vec::len),
        Some(2),
        "the old one (in grace) and one successor"
    );
}

#[tokio::test]
async fn concurrent_rotations_of_one_token_leave_exactly_one_successor() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let old = app.create_token(&admin, json!({"name": "ci", "type": "pipeline"})).await;
    let id = old.str("id");
    let go = || rotate(&app, &admin, &id, Some(json!({"grace": "1h"})));
    let (a, b, c, d, e, f) = tokio::join!(go(), go(), go(), go(), go(), go());
    let answers = [a, b, c, d, e, f];
    let created = answers.iter().filter(|r| r.status == StatusCode::CREATED).count();
    let conflicts = answers.iter().filter(|r| r.status == StatusCode::CONFLICT).count();
    assert_eq!((created, conflicts), (1, 5), "{answers:?}");
}

#[tokio::test]
async fn an_expiring_admin_token_cannot_create_a_longer_lived_service_user_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let hour = app
        .create_token(
            &admin,
            json!({"name": "ops", "type": "pipeline", "scopes": ["ward:admin", "ward:introspect"], "ttl": "1h"}),
        )
        .await;
    let end = time(&hour.body["expires_at"]);
    let long = app
        .post(
            "/v1/service-users",
            &hour.str("token"),
            json!({"name": "svc-a", "scopes": ["ward:introspect"], "expires_in_days": 30}),
        )
        .await;
    assert_eq!(long.status, StatusCode::FORBIDDEN, "{:?}", long.body);
    let inherit = app
        .post(
            "/v1/service-users",
            &hour.str("token"),
            json!({"name": "svc-b", "scopes": ["ward:introspect"]}),
        )
        .await;
    assert_eq!(inherit.status, StatusCode::CREATED, "{:?}", inherit.body);
    assert_eq!(time(&inherit.body["key"]["expires_at"]), end);
}

#[tokio::test]
async fn rotating_a_service_user_key_needs_every_scope_of_the_key() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let svc =
        app.post("/v1/service-users", &admin, json!({"name": "svc", "scopes": ["ward:introspect"]})).await;
    assert_eq!(svc.status, StatusCode::CREATED, "{:?}", svc.body);
    let narrow =
        app.create_token(&admin, json!({"name": "ops", "type": "pipeline", "scopes": ["ward:admin"]})).await;
    let r = app.post("/v1/service-users/svc/rotate-key", &narrow.str("token"), json!({})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(message(&r).contains("ward:introspect"), "{}", message(&r));
    let ok = app.post("/v1/service-users/svc/rotate-key", &admin, json!({})).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{:?}", ok.body);
}
