//! Usage limits (issue 16): `max_uses` counts down to the last use that
//! verifies, and `rate` answers 429 with `Retry-After` — on verify,
//! authorize and forward auth alike — until the server's clock moves on.

use crate::agents::OPS;
use crate::forward_auth::ask;
use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn a_token_with_max_uses_verifies_exactly_that_many_times() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.create_token(&admin, json!({"name": "once", "type": "pipeline", "max_uses": 3})).await;
    assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
    let token = t.str("token");
    let codes: Vec<String> = {
        let mut codes = Vec::new();
        for _ in 0..4 {
            codes.push(app.verify(&admin, &token).await.str("code"));
        }
        codes
    };
    assert_eq!(codes, ["VALID", "VALID", "VALID", "USAGE_EXCEEDED"]);
    // Spent for every use, as a bearer too.
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::UNAUTHORIZED);
    let shown = app.get(&format!("/v1/tokens/{}", t.str("id")), &admin).await;
    assert_eq!((shown.body["max_uses"].as_u64(), shown.body["uses_left"].as_u64()), (Some(3), Some(0)));
    // A token with no limit says nothing of one.
    let free = app.create_token(&admin, json!({"name": "free", "type": "pipeline"})).await;
    let shown = app.get(&format!("/v1/tokens/{}", free.str("id")), &admin).await;
    assert!(shown.body.get("max_uses").is_none() && shown.body.get("rate").is_none(), "{:?}", shown.body);
}

#[tokio::test]
async fn a_rate_of_10_per_second_answers_429_with_retry_after_on_the_11th_use_in_a_second() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let body = json!({"name": "ops", "type": "pipeline", "scopes": ["readonly"], "rate": "10/s"});
    let t = app.create_token(&admin, body).await;
    assert_eq!(t.status, StatusCode::CREATED, "{:?}", t.body);
    let token = t.str("token");
    for i in 0..10 {
        assert_eq!(app.verify(&admin, &token).await.str("code"), "VALID", "use {i}");
    }
    let r = app.post("/v1/verify", &admin, json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(r.header("retry-after"), "1");
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("10/s")), "{:?}", r.body);
    let r = app.post("/v1/authorize", &token, json!({"operation": "list_containers"})).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "authorize: {:?}", r.body);
    let r = ask(&app, Some(&token), "GET", "/containers", &[]).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "forward auth: {:?}", r.body);
    assert_eq!(r.header("retry-after"), "1");

    app.advance(Duration::from_secs(1));
    assert_eq!(app.verify(&admin, &token).await.str("code"), "VALID");
    let shown = app.get(&format!("/v1/tokens/{}", t.str("id")), &admin).await;
    assert_eq!(shown.str("rate"), "10/s");
}

#[tokio::test]
async fn limits_out_of_range_are_refused_with_the_form_and_nothing_is_created() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for (body, says) in [
        (json!({"name": "a", "type": "pipeline", "max_uses": 0}), "max uses"),
        (json!({"name": "a", "type": "pipeline", "rate": "10/week"}), "COUNT/UNIT"),
        (json!({"name": "a", "type": "pipeline", "rate": "0/s"}), "COUNT/UNIT"),
    ] {
        let r = app.create_token(&admin, body).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains(says)), "{:?}", r.body);
    }
    let list = app.get("/v1/tokens?type=pipeline", &admin).await;
    assert_eq!(list.body["tokens"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn a_spent_token_can_still_be_revoked_by_its_holder() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let t = app.create_token(&admin, json!({"name": "once", "type": "pipeline", "max_uses": 1})).await;
    let token = t.str("token");
    assert_eq!(app.verify(&admin, &token).await.str("code"), "VALID");
    let r =
        app.http.post(format!("{}/oauth/revoke", app.base)).form(&[("token", token.as_str())]).send().await;
    assert_eq!(r.map(|r| r.status()).ok(), Some(StatusCode::OK));
    assert_eq!(app.verify(&admin, &token).await.str("code"), "REVOKED");
}
