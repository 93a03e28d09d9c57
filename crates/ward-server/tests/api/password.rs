//! Passwords: changing one's own ends one's other sessions; an admin reset
//! ends all of the user's; a wrong current password is throttled like a
//! login.

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::json;

async fn change(app: &TestApp, session: &str, current: &str, new: &str) -> crate::helpers::Reply {
    app.post("/v1/password", session, json!({"current_password": current, "new_password": new})).await
}

#[tokio::test]
async fn changing_ones_password_ends_ones_other_sessions_and_keeps_this_one() {
    let app = TestApp::spawn().await;
    let laptop = app.user("alice").await;
    let phone = app.session("alice", "alice-password").await;
    let personal = app.create_token(&laptop, json!({"name": "mine", "type": "personal"})).await.str("token");

    let r = change(&app, &laptop, "alice-password", "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["sessions_ended"], 1);
    assert_eq!(r.str("username"), "alice");

    assert_eq!(
        app.get("/v1/whoami", &phone).await.status,
        StatusCode::UNAUTHORIZED,
        "the other session ended"
    );
    assert_eq!(app.get("/v1/whoami", &laptop).await.status, StatusCode::OK, "this session goes on");
    assert_eq!(app.get("/v1/whoami", &personal).await.status, StatusCode::OK, "API tokens are not sessions");
    assert_eq!(app.login("alice", "alice-password").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("alice", "a brand new passphrase").await.status, StatusCode::OK);

    let admin = app.admin().await;
    let r = app.get("/v1/audit?action=user.password&limit=10", &admin).await;
    let events = r.body["events"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["subject"], "alice");
    assert!(!r.body.to_string().contains("passphrase"));
}

#[tokio::test]
async fn a_wrong_current_password_is_refused_and_throttled_like_a_login() {
    let app = TestApp::with_config("[login]\nmax_failures = 3\n").await;
    let alice = app.user("alice").await;
    for _ in 0..3 {
        let r = change(&app, &alice, "not my password", "a brand new passphrase").await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
        assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("current password is wrong")));
    }
    let r = change(&app, &alice, "alice-password", "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert_eq!(app.get("/v1/whoami", &alice).await.status, StatusCode::OK, "nothing changed");
}

#[tokio::test]
async fn only_a_login_session_changes_a_password_and_the_new_one_must_be_long_enough() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let personal = app.create_token(&alice, json!({"name": "mine", "type": "personal"})).await.str("token");
    let r = change(&app, &personal, "alice-password", "a brand new passphrase").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{:?}", r.body);
    assert!(r.body["error"]["message"].as_str().is_some_and(|m| m.contains("ward login")), "{:?}", r.body);
    let r = change(&app, &alice, "alice-password", "short").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(app.login("alice", "alice-password").await.status, StatusCode::OK, "nothing changed");
}

#[tokio::test]
async fn an_admin_reset_ends_every_session_of_the_user() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let admin = app.admin().await;

    let r = app.post("/v1/users/alice/password", &bob, json!({"new_password": "bob chose this"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "only admins: {:?}", r.body);

    let r = app.post("/v1/users/alice/password", &admin, json!({"new_password": "reset by admin"})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["sessions_ended"], 1);
    assert_eq!(app.get("/v1/whoami", &alice).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/v1/whoami", &bob).await.status, StatusCode::OK);
    assert_eq!(app.login("alice", "alice-password").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("alice", "reset by admin").await.status, StatusCode::OK);

    let r = app.post("/v1/users/admin/password", &admin, json!({"new_password": "my own new one"})).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "your own goes through ward passwd: {:?}", r.body);
    assert_eq!(app.login("admin", ADMIN_PASSWORD).await.status, StatusCode::OK);
}
