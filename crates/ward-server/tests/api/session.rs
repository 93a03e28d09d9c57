//! Login, logout, whoami, sessions on several devices, brute force.

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn login_gives_a_session_token_and_whoami_names_its_owner() {
    let app = TestApp::spawn().await;
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let token = r.str("token");
    assert!(token.starts_with("ward_l_"));
    let me = app.get("/v1/whoami", &token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.str("username"), "admin");
    assert_eq!(me.str("role"), "admin");
    assert_eq!(me.str("type"), "login");
    assert!(me.body["scopes"].as_array().is_some_and(|s| s.contains(&json!("ward:admin"))));
    // About twelve hours.
    let expires: chrono::DateTime<chrono::Utc> = me.str("expires_at").parse().expect("RFC 3339");
    let left = expires - app.now();
    assert!(left > chrono::Duration::hours(11) && left <= chrono::Duration::hours(12), "{left}");
}

#[tokio::test]
async fn a_wrong_password_or_unknown_user_is_401_with_the_same_message() {
    let app = TestApp::spawn().await;
    let wrong = app.login("admin", "not the password").await;
    let nobody = app.login("nobody", "not the password").await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, nobody.body);
}

#[tokio::test]
async fn logout_revokes_only_the_calling_session() {
    let app = TestApp::spawn().await;
    let laptop = app.admin().await;
    let phone = app.admin().await;
    assert_ne!(laptop, phone);
    let r = app.call(Method::POST, "/v1/logout", Some(&laptop), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["revoked"], true);
    assert_eq!(app.get("/v1/whoami", &laptop).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/v1/whoami", &phone).await.status, StatusCode::OK);
}

#[tokio::test]
async fn missing_and_garbage_credentials_are_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let none = app.call(Method::GET, "/v1/whoami", None, None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert!(none.header("www-authenticate").starts_with("Bearer"));
    assert_eq!(none.body["error"]["code"], "invalid_token");
    let garbage = app.get("/v1/whoami", "ward_u_garbage").await;
    assert_eq!(garbage.status, StatusCode::UNAUTHORIZED);
    assert!(garbage.header("www-authenticate").contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn repeated_failures_are_refused_with_429_until_the_lockout_passes() {
    let app = TestApp::with_config("[login]\nmax_failures = 3\nlockout = \"2s\"\n").await;
    for _ in 0..3 {
        assert_eq!(app.login("admin", "wrong password").await.status, StatusCode::UNAUTHORIZED);
    }
    let refused = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry: u64 = refused.header("retry-after").parse().expect("Retry-After in seconds");
    assert!((1..=2).contains(&retry), "{retry}");
    assert_eq!(refused.body["error"]["code"], "too_many_requests");

    app.advance(std::time::Duration::from_secs(2));
    let r = app.login("admin", ADMIN_PASSWORD).await;
    assert_eq!(r.status, StatusCode::OK, "still locked out after the window: {:?}", r.body);
}
