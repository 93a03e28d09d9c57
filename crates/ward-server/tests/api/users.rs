//! Users: who may manage whose tokens; revoke-tokens; delete.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_user_cannot_list_revoke_or_delete_another_users_tokens_but_an_admin_can() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let bob = app.user("bob").await;
    let t = app.create_token(&bob, json!({"name": "bob's", "type": "personal"})).await;
    let id = t.str("id");

    let list = app.get("/v1/tokens?user_id=bob", &alice).await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    assert_eq!(list.body["error"]["message"], "Only admins can list other users' tokens");
    assert_eq!(app.get("/v1/users/bob/tokens", &alice).await.status, StatusCode::FORBIDDEN);
    // Another user's token id is as unknown to her as a missing one.
    let revoke = app.post(&format!("/v1/tokens/{id}/revoke"), &alice, json!({})).await;
    assert_eq!(revoke.status, StatusCode::NOT_FOUND, "{:?}", revoke.body);
    assert_eq!(app.delete(&format!("/v1/tokens/{id}"), &alice).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.delete(&format!("/v1/tokens/{id}"), &bob).await.status,
        StatusCode::FORBIDDEN,
        "deleting is for admins"
    );
    assert_eq!(app.verify(&bob, &t.str("token")).await.str("code"), "VALID", "nothing changed");

    let admin = app.admin().await;
    let listed = app.get("/v1/tokens?user_id=bob", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert!(listed.body["tokens"].as_array().is_some_and(|a| a.iter().any(|x| x["id"] == json!(id))));
    assert_eq!(app.post(&format!("/v1/tokens/{id}/revoke"), &admin, json!({})).await.status, StatusCode::OK);
    assert_eq!(app.delete(&format!("/v1/tokens/{id}"), &admin).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.verify(&admin, &t.str("token")).await.str("code"), "NOT_FOUND");
}

#[tokio::test]
async fn only_admins_manage_users() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let r = app.post("/v1/users", &alice, json!({"name": "mallory", "password": "password-123"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["message"], "Only admins can create users");
    assert_eq!(app.get("/v1/users", &alice).await.status, StatusCode::FORBIDDEN);
    let admin = app.admin().await;
    let dup = app.post("/v1/users", &admin, json!({"name": "alice", "password": "password-123"})).await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let short = app.post("/v1/users", &admin, json!({"name": "carol", "password": "short"})).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    let users = app.get("/v1/users", &admin).await;
    let names: Vec<&str> = users.body["users"]
        .as_array()
        .map(|a| a.iter().filter_map(|u| u["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["admin", "alice"]);
}

#[tokio::test]
async fn revoke_tokens_ends_every_session_and_token_of_a_user() {
    let app = TestApp::spawn().await;
    let laptop = app.user("alice").await;
    let phone = app.session("alice", "alice-password").await;
    let pat = app.create_token(&laptop, json!({"name": "pat", "type": "personal"})).await.str("token");
    let admin = app.admin().await;
    let r = app.post("/v1/users/alice/revoke-tokens", &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["revoked"], 3);
    for t in [&laptop, &phone, &pat] {
        assert_eq!(app.verify(&admin, t).await.str("code"), "REVOKED");
    }
    // She can still log in again.
    app.session("alice", "alice-password").await;
}

#[tokio::test]
async fn deleting_a_user_invalidates_all_their_tokens_at_once() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    let pat = app.create_token(&alice, json!({"name": "pat", "type": "personal"})).await.str("token");
    let admin = app.admin().await;
    let r = app.delete("/v1/users/alice", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["revoked"], 2);
    assert_eq!(app.verify(&admin, &pat).await.str("code"), "REVOKED");
    assert_eq!(app.get("/v1/whoami", &alice).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.login("alice", "alice-password").await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.delete("/v1/users/alice", &admin).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_admin_cannot_delete_themselves() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    assert_eq!(app.delete("/v1/users/admin", &admin).await.status, StatusCode::CONFLICT);
}
