//! The idle-token policy (issue 16): `GET /v1/idle-tokens` is a dry run
//! that changes nothing; `POST /v1/idle-tokens/revoke` revokes exactly the
//! idle tokens, one `token.revoke` event each, with what they obtained.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;

const DAY: u64 = 86_400;

fn ids(body: &Value) -> Vec<String> {
    let mut ids: Vec<String> = body["tokens"]
        .as_array()
        .map(|a| a.iter().filter_map(|t| t["id"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    ids.sort();
    ids
}

/// A pipeline token with `scopes`: (id, token).
async fn make(app: &TestApp, caller: &str, name: &str, scopes: Value) -> (String, String) {
    let r = app.create_token(caller, json!({"name": name, "type": "pipeline", "scopes": scopes})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (r.str("id"), r.str("token"))
}

async fn status(app: &TestApp, admin: &str, id: &str) -> String {
    app.get(&format!("/v1/tokens/{id}"), admin).await.str("status")
}

#[tokio::test]
async fn the_idle_policy_revokes_exactly_the_idle_tokens_after_a_dry_run_that_changes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (idle, idle_token) = make(&app, &admin, "idle", json!(["ward:tokens", "ward:introspect"])).await;
    let (used, used_token) = make(&app, &admin, "used", json!(["ward:introspect"])).await;
    // Obtained by the idle token, and used since: revoked with its parent.
    let child = app
        .create_token(
            &idle_token,
            json!({"name": "child", "type": "pipeline", "scopes": ["ward:introspect"]}),
        )
        .await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.body);
    let (child, child_token) = (child.str("id"), child.str("token"));
    app.verify(&idle_token, &idle_token).await; // used on day 0
    app.advance(Duration::from_secs(60 * DAY));
    let admin = app.admin().await;
    let (young, _) = {
        let r = app.create_token(&admin, json!({"name": "young", "type": "pipeline"})).await;
        (r.str("id"), r.str("token"))
    };
    app.advance(Duration::from_secs(20 * DAY));
    app.verify(&used_token, &used_token).await; // used on day 80
    app.verify(&child_token, &child_token).await;
    app.advance(Duration::from_secs(11 * DAY));
    let admin = app.admin().await;

    let dry = app.get("/v1/idle-tokens?unused_for=90d", &admin).await;
    assert_eq!(dry.status, StatusCode::OK, "{:?}", dry.body);
    assert_eq!((dry.body["applied"].as_bool(), dry.str("unused_for")), (Some(false), "90d".to_owned()));
    assert_eq!(ids(&dry.body), vec![idle.clone()]);
    for id in [&idle, &used, &child, &young] {
        assert_eq!(status(&app, &admin, id).await, "active", "the dry run changed nothing");
    }

    let applied = app.post("/v1/idle-tokens/revoke", &admin, json!({"unused_for": "90d"})).await;
    assert_eq!(applied.status, StatusCode::OK, "{:?}", applied.body);
    assert_eq!(applied.body["applied"].as_bool(), Some(true));
    assert_eq!(ids(&applied.body), vec![idle.clone()]);
    assert_eq!(applied.body["tokens"][0]["status"], "revoked");
    assert_eq!(status(&app, &admin, &idle).await, "revoked");
    assert_eq!(status(&app, &admin, &child).await, "revoked", "what it obtained ends with it");
    assert_eq!(status(&app, &admin, &used).await, "active");
    assert_eq!(status(&app, &admin, &young).await, "active");
    assert_eq!(app.verify(&used_token, &idle_token).await.str("code"), "REVOKED");

    let events = app.get(&format!("/v1/audit?action=token.revoke&token_id={idle}"), &admin).await;
    let events = events.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{events:?}");
    let decision = events[0]["decision"].as_str().unwrap_or_default();
    assert!(decision.starts_with("idle: unused for 90d"), "{decision}");
    // Nothing is idle any more.
    let again = app.post("/v1/idle-tokens/revoke", &admin, json!({"unused_for": "90d"})).await;
    assert_eq!(ids(&again.body), Vec::<String>::new());
}

#[tokio::test]
async fn the_idle_threshold_comes_from_the_request_or_the_config_and_only_admins_ask() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = app.get("/v1/idle-tokens", &admin).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("lifecycle.revoke_unused_after")));
    let r = app.post("/v1/idle-tokens/revoke", &admin, json!({"unused_for": "ninety days"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let bob = app.user("bob").await;
    let r = app.get("/v1/idle-tokens?unused_for=90d", &bob).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    let r = app.post("/v1/idle-tokens/revoke", &bob, json!({"unused_for": "1s"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);

    let app = TestApp::with_config("[lifecycle]\nrevoke_unused_after = \"30d\"").await;
    let admin = app.admin().await;
    let old = app.create_token(&admin, json!({"name": "old", "type": "pipeline"})).await.str("id");
    app.advance(Duration::from_secs(31 * DAY));
    let admin = app.admin().await;
    let r = app.get("/v1/idle-tokens", &admin).await;
    assert_eq!((r.str("unused_for"), ids(&r.body)), ("30d".to_owned(), vec![old]));
}

#[tokio::test]
async fn with_a_sweep_interval_the_server_revokes_idle_tokens_by_itself() {
    let app =
        TestApp::with_config("[lifecycle]\nrevoke_unused_after = \"30d\"\nidle_sweep_interval = \"1s\"")
            .await;
    let admin = app.admin().await;
    let old = app.create_token(&admin, json!({"name": "old", "type": "pipeline"})).await.str("id");
    app.advance(Duration::from_secs(31 * DAY));
    let admin = app.admin().await;
    // The sweep runs on tokio's interval (its pace), judging idleness by the server's clock.
    let started = std::time::Instant::now();
    while status(&app, &admin, &old).await != "revoked" {
        assert!(started.elapsed() < Duration::from_secs(10), "the background sweep did not run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
