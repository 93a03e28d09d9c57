//! A password is a root credential: whoever sets one can open login
//! sessions, which nothing bounds. So only an interactive login session may
//! create a person or reset someone's password; an API token, however much
//! `ward:admin` it holds and however short-lived, may not (it would obtain
//! a non-expiring root through the back door). Found by an attack on the
//! running server after issue 9's fixes.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

async fn admin_pipeline_token(app: &TestApp) -> String {
    let admin = app.admin().await;
    let r = app
        .create_token(
            &admin,
            json!({"name": "ops", "type": "pipeline", "ttl": "10m", "scopes": ["ward:admin"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.str("token")
}

#[tokio::test]
async fn a_short_lived_admin_token_cannot_create_a_person_who_could_log_in() {
    let app = TestApp::spawn().await;
    let ten_minutes = admin_pipeline_token(&app).await;
    let r = app
        .post(
            "/v1/users",
            &ten_minutes,
            json!({"name": "mallory", "role": "admin", "password": "mallory password 1"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(
        r.body["error"]["message"].as_str().unwrap_or_default().contains("login session"),
        "{:?}",
        r.body
    );
    assert_eq!(app.login("mallory", "mallory password 1").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_short_lived_admin_token_cannot_reset_a_password() {
    let app = TestApp::spawn().await;
    app.user("erin").await;
    let ten_minutes = admin_pipeline_token(&app).await;
    let r =
        app.post("/v1/users/erin/password", &ten_minutes, json!({"new_password": "taken over 12345"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert_eq!(app.login("erin", "taken over 12345").await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_admin_session_still_creates_people_and_resets_passwords() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let r = app.post("/v1/users", &admin, json!({"name": "dora", "password": "dora password 12"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let r = app.post("/v1/users/dora/password", &admin, json!({"new_password": "dora password 34"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(app.login("dora", "dora password 34").await.status, StatusCode::OK);
}

#[tokio::test]
async fn another_users_token_id_is_as_unknown_as_a_missing_one() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let hers = app.create_token(&alice, json!({"name": "hers", "type": "personal"})).await.str("id");
    let missing = "tok_01m8sxzty9hdwb1kfnxmx0svsb";
    for path in [format!("/v1/tokens/{hers}"), format!("/v1/tokens/{missing}")] {
        let r = app.get(&path, &bob).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}: {:?}", r.body);
    }
    let existing = app.post(&format!("/v1/tokens/{hers}/revoke"), &bob, json!({})).await;
    let absent = app.post(&format!("/v1/tokens/{missing}/revoke"), &bob, json!({})).await;
    assert_eq!((existing.status, existing.body), (absent.status, absent.body));
}
