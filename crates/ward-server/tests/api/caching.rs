//! Issue 9, findings 11 and 12: nothing from `/v1` may be cached by a
//! browser or proxy (`Cache-Control: no-store`), and no node's verify cache
//! may be configured to trust a verdict for longer than 60 seconds.

use crate::agents::mint;
use crate::helpers::{Reply, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;
use ward_server::Settings;

fn no_store(what: &str, r: &Reply) {
    assert_eq!(r.header("cache-control"), "no-store", "{what}: {:?} {:?}", r.status, r.headers);
}

#[tokio::test]
async fn every_response_that_carries_a_credential_is_no_store() {
    let app = TestApp::spawn().await;
    let login = app.login("admin", crate::helpers::ADMIN_PASSWORD).await;
    assert_eq!(login.status, StatusCode::OK);
    no_store("login", &login);
    let admin = login.str("token");

    let created = app.create_token(&admin, json!({"name": "ci", "type": "pipeline"})).await;
    assert_eq!(created.status, StatusCode::CREATED);
    no_store("token create", &created);

    let rotated = app.post(&format!("/v1/tokens/{}/rotate", created.str("id")), &admin, json!({})).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{:?}", rotated.body);
    no_store("token rotate", &rotated);

    let minted = mint(&app, &admin, "bot", &["ward:introspect"], "1h").await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    no_store("mint", &minted);

    let svc =
        app.post("/v1/service-users", &admin, json!({"name": "svc", "scopes": ["ward:introspect"]})).await;
    assert_eq!(svc.status, StatusCode::CREATED, "{:?}", svc.body);
    no_store("service-user create", &svc);

    let key = app.post("/v1/service-users/svc/rotate-key", &admin, json!({})).await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    no_store("service-user key rotate", &key);
}

#[tokio::test]
async fn errors_and_reads_under_v1_are_no_store_too() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    no_store("token list", &app.get("/v1/tokens", &admin).await);
    no_store("401", &app.call(Method::GET, "/v1/whoami", None, None).await);
    no_store("failed login", &app.login("admin", "wrong-password").await);
    no_store("404", &app.get("/v1/tokens/tok_nope", &admin).await);
}

#[test]
fn a_cache_ttl_above_60_seconds_is_refused_naming_the_cap() {
    let err = Settings::parse("[cache]\nttl = \"120s\"").err().map(|e| e.to_string()).unwrap_or_default();
    assert!(err.contains("cache.ttl") && err.contains("60s"), "{err}");
    assert!(Settings::parse("[cache]\nttl = \"60s\"").is_ok());
}
