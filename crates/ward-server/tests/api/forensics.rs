//! Forensics (issue 16): the newest five clients a token was used from, on
//! its page; what a raw token is, told to its owner or an admin without
//! using it.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use ward_store::{SqliteStore, Store};

#[tokio::test]
async fn token_show_lists_the_last_five_clients_after_uses_from_six_addresses() {
    let mut app = TestApp::with_config("[server]\ntrusted_proxies = [\"127.0.0.1/32\"]").await;
    let admin = app.admin().await;
    let t = app.create_token(&admin, json!({"name": "laptop", "type": "personal"})).await;
    let (id, token) = (t.str("id"), t.str("token"));
    for i in 1..=6 {
        app.advance(Duration::from_secs(1));
        let r = app
            .http
            .get(format!("{}/v1/whoami", app.base))
            .bearer_auth(&token)
            .header("X-Forwarded-For", format!("203.0.113.{i}"))
            .header("User-Agent", format!("deploy-bot/{i}"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), StatusCode::OK);
    }
    let shown = app.get(&format!("/v1/tokens/{id}"), &admin).await;
    let clients = shown.body["recent_clients"].as_array().cloned().unwrap_or_default();
    let seen: Vec<(String, String)> = clients
        .iter()
        .map(|c| {
            (
                c["address"].as_str().unwrap_or("").to_owned(),
                c["user_agent"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> =
        (2..=6).rev().map(|i| (format!("203.0.113.{i}"), format!("deploy-bot/{i}"))).collect();
    assert_eq!(seen, want, "{:?}", shown.body);
    assert!(
        clients[0]["last_seen"].as_str().is_some_and(|t| t > clients[4]["last_seen"].as_str().unwrap_or(""))
    );
    // Listings do not carry them.
    let list = app.get("/v1/tokens", &admin).await;
    assert!(list.body["tokens"][0].get("recent_clients").is_none());

    // Written behind, in one batch at the latest when the server stops.
    app.stop().await;
    let store = SqliteStore::open(app.db_path.to_str().expect("path")).await.expect("reopen");
    let stored = store.token_clients(&ward_core::TokenId::parse(&id).expect("id")).await.expect("clients");
    let addresses: Vec<&str> = stored.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addresses, ["203.0.113.6", "203.0.113.5", "203.0.113.4", "203.0.113.3", "203.0.113.2"]);
}

#[tokio::test]
async fn identify_tells_the_owner_or_an_admin_what_a_raw_token_is_without_using_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let alice = app.user("alice").await;
    let mallory = app.user("mallory").await;
    let t = app.create_token(&alice, json!({"name": "ci", "type": "pipeline", "max_uses": 2})).await;
    let token = t.str("token");

    let r = app.post("/v1/tokens/identify", &alice, json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.str("id"), r.str("type"), r.str("username"), r.str("status")),
        (t.str("id"), "pipeline".into(), "alice".into(), "active".into())
    );
    assert!(r.body["last_used_at"].is_null(), "identifying is not a use");
    assert_eq!(r.body["uses_left"].as_u64(), Some(2), "no use counted");
    assert_eq!(app.post("/v1/tokens/identify", &admin, json!({"token": token})).await.status, StatusCode::OK);

    // Someone else's token is not found, like one that does not exist.
    let r = app.post("/v1/tokens/identify", &mallory, json!({"token": token})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
    let mut typo = token.clone();
    typo.pop();
    typo.push(if token.ends_with('A') { 'B' } else { 'A' });
    let r = app.post("/v1/tokens/identify", &alice, json!({"token": typo})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(!r.body.to_string().contains(&token[8..]), "no secret in the answer");
    assert_eq!(
        app.call(reqwest::Method::POST, "/v1/tokens/identify", None, Some(json!({"token": token})))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}
