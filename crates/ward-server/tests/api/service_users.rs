//! Service users and their rotatable keys.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

const CONFIG: &str = "[[scopes]]\nname = \"read:metrics\"\nrisk = \"low\"\n";

#[tokio::test]
async fn a_service_user_key_verifies_and_rotation_honours_the_grace_window() {
    let app = TestApp::with_config(CONFIG).await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/v1/service-users",
            &admin,
            json!({"name": "grafana", "scopes": ["read:metrics", "ward:introspect"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let first = r.body["key"]["token"].as_str().unwrap_or_default().to_owned();
    assert!(first.starts_with("ward_s_"));
    let v = app.verify(&admin, &first).await;
    assert_eq!(v.str("code"), "VALID");
    assert_eq!(v.str("user"), "grafana");

    let rotated = app.post("/v1/service-users/grafana/rotate-key", &admin, json!({"grace": "10m"})).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{:?}", rotated.body);
    let second = rotated.str("token");
    assert_eq!(app.verify(&admin, &first).await.str("code"), "VALID", "inside the grace window");
    assert_eq!(app.verify(&admin, &second).await.str("code"), "VALID");
    app.advance(std::time::Duration::from_secs(9 * 60));
    assert_eq!(app.verify(&admin, &first).await.str("code"), "VALID", "still inside the grace window");
    app.advance(std::time::Duration::from_secs(60));
    assert_eq!(app.verify(&admin, &first).await.str("code"), "EXPIRED", "old key outlived its grace");
    assert_eq!(app.verify(&admin, &second).await.str("code"), "VALID");
    // The key can use its scopes: verify others.
    assert_eq!(app.verify(&second, &first).await.str("code"), "EXPIRED");
}

#[tokio::test]
async fn service_users_are_listed_with_keys_and_deleted_with_them() {
    let app = TestApp::with_config(CONFIG).await;
    let admin = app.admin().await;
    let r = app
        .post(
            "/v1/service-users",
            &admin,
            json!({"name": "ci", "scopes": ["read:metrics"], "expires_in_days": 30}),
        )
        .await;
    let key = r.body["key"]["token"].as_str().unwrap_or_default().to_owned();
    assert!(r.body["key"]["expires_at"].is_string());
    let list = app.get("/v1/service-users", &admin).await;
    assert_eq!(list.body["service_users"][0]["name"], "ci");
    assert_eq!(list.body["service_users"][0]["keys"].as_array().map(Vec::len), Some(1));
    // Service users are not people.
    let people = app.get("/v1/users", &admin).await;
    assert!(people.body["users"].as_array().is_some_and(|a| a.iter().all(|u| u["name"] != "ci")));
    let del = app.delete("/v1/service-users/ci", &admin).await;
    assert_eq!(del.status, StatusCode::OK);
    assert_eq!(app.verify(&admin, &key).await.str("code"), "REVOKED");
}

#[tokio::test]
async fn service_user_scopes_are_checked_and_only_admins_create_them() {
    let app = TestApp::with_config(CONFIG).await;
    let admin = app.admin().await;
    let unknown =
        app.post("/v1/service-users", &admin, json!({"name": "x", "scopes": ["read:metricz"]})).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let alice = app.user("alice").await;
    let r = app.post("/v1/service-users", &alice, json!({"name": "y", "scopes": ["read:metrics"]})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A service key holds exactly its scopes: no token creation without ward:tokens.
    let svc = app.post("/v1/service-users", &admin, json!({"name": "z", "scopes": ["read:metrics"]})).await;
    let key = svc.body["key"]["token"].as_str().unwrap_or_default().to_owned();
    let r = app.create_token(&key, json!({"name": "n", "type": "pipeline"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
