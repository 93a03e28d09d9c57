//! Issue 9, the two gaps the last attack found: a token created while its
//! user's tokens (or its parent) are being revoked never survives them, and
//! an admin never decides an approval asked with a token they issued for
//! someone else, directly or up its line.

use crate::agents::OPS;
use crate::helpers::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// 400 requests in flight at once come from one address, over as many
/// connections: beyond the default per-address cap (128), which would close
/// the rest at accept.
const RACE_CONFIG: &str = "[server]\nmax_connections_per_address = 1024\n";

/// `count` token creates by `caller`, all in flight at once, with `end`
/// (a POST path, called by `ender`) sent after the first quarter of them:
/// each create's status.
async fn creates_racing(
    app: &TestApp,
    caller: &str,
    count: usize,
    ender: &str,
    end: &str,
) -> Vec<StatusCode> {
    let mut tasks = tokio::task::JoinSet::new();
    let mut ending = None;
    for i in 0..count {
        if i == count / 4 {
            let req = app.http.post(format!("{}{end}", app.base)).bearer_auth(ender).json(&json!({}));
            ending =
                Some(tokio::spawn(async move { req.send().await.expect("the ending request").status() }));
        }
        let req = app
            .http
            .post(format!("{}/v1/tokens", app.base))
            .bearer_auth(caller)
            .json(&json!({"name": format!("racer-{i}"), "type": "pipeline"}));
        tasks.spawn(async move { req.send().await.expect("create request").status() });
    }
    let statuses = tasks.join_all().await;
    let ended = ending.expect("the ending was sent").await.expect("the ending task");
    assert!(ended.is_success(), "the ending itself: {ended}");
    statuses
}

/// Every token of `user` the admin can list, with its status.
async fn statuses_of(app: &TestApp, admin: &str, user: &str) -> Vec<(String, String)> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/v1/tokens?user_id={user}&limit=1000");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let r = app.get(&path, admin).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        for t in r.body["tokens"].as_array().cloned().unwrap_or_default() {
            all.push((
                t["name"].as_str().unwrap_or_default().to_owned(),
                t["status"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        cursor = r.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_none() {
            return all;
        }
    }
}

fn active(tokens: &[(String, String)]) -> Vec<&str> {
    tokens.iter().filter(|(_, status)| status == "active").map(|(name, _)| name.as_str()).collect()
}

#[track_caller]
fn assert_created_or_refused(statuses: &[StatusCode]) {
    for s in statuses {
        assert!(
            *s == StatusCode::CREATED || *s == StatusCode::UNAUTHORIZED,
            "each create is made or refused as its caller ended, nothing else: {statuses:?}"
        );
    }
}

#[tokio::test]
async fn tokens_created_while_their_users_tokens_are_revoked_never_survive() {
    let app = TestApp::with_config(RACE_CONFIG).await;
    let admin = app.admin().await;
    let alice = app.user("alice").await;
    let statuses = creates_racing(&app, &alice, 400, &admin, "/v1/users/alice/revoke-tokens").await;
    assert_created_or_refused(&statuses);
    let tokens = statuses_of(&app, &admin, "alice").await;
    assert_eq!(active(&tokens), Vec::<&str>::new(), "of {} listed", tokens.len());
    let made = statuses.iter().filter(|s| **s == StatusCode::CREATED).count();
    assert_eq!(tokens.len(), made + 1, "every acknowledged create is listed, beside the session");
}

#[tokio::test]
async fn tokens_created_while_their_parent_is_revoked_never_survive() {
    let app = TestApp::with_config(RACE_CONFIG).await;
    let admin = app.admin().await;
    let parent =
        app.create_token(&admin, json!({"name": "ci", "type": "pipeline", "scopes": ["ward:tokens"]})).await;
    assert_eq!(parent.status, StatusCode::CREATED, "{:?}", parent.body);
    let revoke = format!("/v1/tokens/{}/revoke", parent.str("id"));
    let statuses = creates_racing(&app, &parent.str("token"), 400, &admin, &revoke).await;
    assert_created_or_refused(&statuses);
    let racers: Vec<(String, String)> = statuses_of(&app, &admin, "admin")
        .await
        .into_iter()
        .filter(|(name, _)| name.starts_with("racer-"))
        .collect();
    assert_eq!(active(&racers), Vec::<&str>::new(), "of {} listed", racers.len());
}

/// Two more admins, `bob` and `carol`, and their sessions.
async fn two_admins(app: &TestApp, admin: &str) -> (String, String) {
    for name in ["bob", "carol"] {
        let body = json!({"name": name, "role": "admin", "password": format!("{name}-password")});
        let r = app.post("/v1/users", admin, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    (app.session("bob", "bob-password").await, app.session("carol", "carol-password").await)
}

async fn ask_reboot(app: &TestApp, token: &str) -> String {
    let r = app.post("/v1/authorize", token, json!({"operation": "reboot"})).await;
    assert_eq!(r.str("decision"), "approval_required", "{:?}", r.body);
    r.str("approval_id")
}

async fn approve(app: &TestApp, decider: &str, id: &str) -> Reply {
    app.post(&format!("/v1/approvals/{id}/approve"), decider, json!({})).await
}

fn message(r: &Reply) -> String {
    r.body["error"]["message"].as_str().unwrap_or_default().to_owned()
}

fn token_for(user: &str, scopes: &[&str]) -> Value {
    json!({"name": "for-someone-else", "type": "personal", "user_id": user, "scopes": scopes})
}

#[tokio::test]
async fn an_admin_never_approves_what_a_token_they_made_for_another_admin_asks() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let (bob, carol) = two_admins(&app, &admin).await;
    let made = app.create_token(&admin, token_for("bob", &["system:admin"])).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let id = ask_reboot(&app, &made.str("token")).await;

    let r = approve(&app, &admin, &id).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the issuer: {:?}", r.body);
    assert!(message(&r).contains("issued"), "names the rule: {:?}", r.body);
    let r = approve(&app, &bob, &id).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the requester: {:?}", r.body);
    let r = approve(&app, &carol, &id).await;
    assert_eq!(r.status, StatusCode::OK, "a third admin: {:?}", r.body);
}

#[tokio::test]
async fn an_admin_never_approves_what_a_token_made_with_their_token_asks() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let (_bob, carol) = two_admins(&app, &admin).await;
    // The admin makes bob a token that makes tokens; bob's next token asks.
    let maker = app.create_token(&admin, token_for("bob", &["ward:tokens", "system:admin"])).await;
    assert_eq!(maker.status, StatusCode::CREATED, "{:?}", maker.body);
    let asker = app.create_token(&maker.str("token"), json!({"name": "asker", "type": "personal"})).await;
    assert_eq!(asker.status, StatusCode::CREATED, "{:?}", asker.body);
    let id = ask_reboot(&app, &asker.str("token")).await;

    let r = approve(&app, &admin, &id).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the issuer up the line: {:?}", r.body);
    assert!(message(&r).contains("issued"), "names the rule: {:?}", r.body);
    let r = approve(&app, &carol, &id).await;
    assert_eq!(r.status, StatusCode::OK, "a third admin: {:?}", r.body);
}

#[tokio::test]
async fn an_admin_never_approves_what_the_successor_of_a_token_they_made_asks() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let (_bob, carol) = two_admins(&app, &admin).await;
    let made = app.create_token(&admin, token_for("bob", &["ward:tokens", "system:admin"])).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    // The token rotates itself: its successor takes its place, issuer and all.
    let rotated =
        app.post(&format!("/v1/tokens/{}/rotate", made.str("id")), &made.str("token"), json!({})).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{:?}", rotated.body);
    let successor = rotated.str("token");
    let id = ask_reboot(&app, &successor).await;

    let r = approve(&app, &admin, &id).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the issuer of the rotated token: {:?}", r.body);
    assert!(message(&r).contains("issued"), "names the rule: {:?}", r.body);
    let r = approve(&app, &carol, &id).await;
    assert_eq!(r.status, StatusCode::OK, "a third admin: {:?}", r.body);
}
