//! `GET /v1/events`, the revocation stream (issue 15): each change that
//! ends credentials reaches a subscriber as one event, as it commits;
//! resuming replays exactly what was missed; anything that cannot be
//! resumed starts with `reset`; the stream is for `ward:introspect`
//! holders only, and ends when the credential that opened it ends.
//!
//! Waiting for a message is bounded (5 s) but never a sleep: a message that
//! is due arrives at once.

use crate::agents::mint;
use crate::helpers::TestApp;
use crate::sse::{DUE, Subscriber, said};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

async fn open(app: &TestApp, token: &str, last_event_id: Option<&str>) -> reqwest::Response {
    let mut req = app.http.get(format!("{}/v1/events", app.base)).bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    req.send().await.expect("the request reaches the server")
}

async fn subscribe(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Subscriber {
    let response = open(app, token, last_event_id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(kind, "text/event-stream");
    Subscriber::new(response)
}

/// A token of the admin's holding only `ward:introspect`: what a service
/// subscribes with.
async fn watcher_token(app: &TestApp, admin: &str) -> String {
    let r = app
        .create_token(admin, json!({"name": "watcher", "type": "service", "scopes": ["ward:introspect"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.str("token")
}

/// A subscriber that has read its opening.
async fn watching(app: &TestApp) -> (String, Subscriber) {
    let admin = app.admin().await;
    let watcher = watcher_token(app, &admin).await;
    let mut sub = subscribe(app, &watcher, None).await;
    sub.opening().await;
    (admin, sub)
}

fn pipeline(name: &str) -> Value {
    json!({"name": name, "type": "pipeline"})
}

#[tokio::test]
async fn a_new_subscriber_is_told_to_reset_then_hears_a_revocation_with_the_tokens_id() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let watcher = watcher_token(&app, &admin).await;
    let mut sub = subscribe(&app, &watcher, None).await;
    let opening = sub.opening().await;
    assert_eq!(opening.len(), 1, "{opening:?}");
    assert_eq!(opening[0].event.as_deref(), Some("reset"), "no cursor: nothing can be replayed");
    let start = opening[0].id.clone().expect("the reset carries the current cursor");

    let t = app.create_token(&admin, pipeline("ci")).await;
    let r = app.post(&format!("/v1/tokens/{}/revoke", t.str("id")), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let m = sub.event().await;
    assert_eq!(said(&m), ("token".to_owned(), json!({"kind": "token", "token_id": t.str("id")})));
    let (epoch, seq) = m.id.as_deref().and_then(|id| id.rsplit_once('-')).expect("a cursor <epoch>-<seq>");
    assert!(start.starts_with(&format!("{epoch}-")), "one epoch per node: {start} vs {epoch}");
    assert!(seq.parse::<u64>().is_ok(), "{seq}");
    let text = m.data.map(|d| d.to_string()).unwrap_or_default();
    assert!(!text.contains(&t.str("token")), "an event never carries a token");
}

#[tokio::test]
async fn deleting_and_rotating_a_token_are_announced() {
    let app = TestApp::spawn().await;
    let (admin, mut sub) = watching(&app).await;
    let doomed = app.create_token(&admin, pipeline("doomed")).await;
    assert_eq!(
        app.delete(&format!("/v1/tokens/{}", doomed.str("id")), &admin).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(said(&sub.event().await).1["token_id"], doomed.str("id"));

    let old = app.create_token(&admin, pipeline("rotated")).await;
    let r = app.post(&format!("/v1/tokens/{}/rotate", old.str("id")), &admin, json!({"grace": "1h"})).await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(
        said(&sub.event().await),
        ("token".to_owned(), json!({"kind": "token", "token_id": old.str("id")}))
    );
}

#[tokio::test]
async fn revoking_a_parent_announces_each_descendant_it_ends() {
    let app = TestApp::spawn().await;
    let (admin, mut sub) = watching(&app).await;
    let parent = app
        .create_token(&admin, json!({"name": "parent", "type": "pipeline", "scopes": ["ward:tokens", "ward:mint", "ward:introspect"]}))
        .await;
    let child = app.create_token(&parent.str("token"), pipeline("child")).await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.body);
    let agent = mint(&app, &parent.str("token"), "builder", &["ward:introspect"], "1h").await;
    assert_eq!(agent.status, StatusCode::CREATED, "{:?}", agent.body);

    let r = app.post(&format!("/v1/tokens/{}/revoke", parent.str("id")), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let mut heard: Vec<(String, Value)> = Vec::new();
    for _ in 0..3 {
        heard.push(said(&sub.event().await));
    }
    heard.sort_by_key(|(_, d)| d.to_string());
    let mut want = vec![
        ("token".to_owned(), json!({"kind": "token", "token_id": parent.str("id")})),
        ("token".to_owned(), json!({"kind": "token", "token_id": child.str("id")})),
        ("agent_token".to_owned(), json!({"kind": "agent_token", "jti": agent.str("jti")})),
    ];
    want.sort_by_key(|(_, d)| d.to_string());
    assert_eq!(heard, want);
}

#[tokio::test]
async fn ending_a_users_tokens_or_the_user_is_announced_with_their_id_and_name() {
    let app =
        TestApp::with_config("[roles]\nuser = [\"ward:tokens\", \"ward:introspect\", \"ward:mint\"]").await;
    let (admin, mut sub) = watching(&app).await;
    let alice = app.user("alice").await;
    let minted = mint(&app, &alice, "alices-bot", &["ward:introspect"], "1h").await;
    assert_eq!(minted.status, StatusCode::CREATED, "{:?}", minted.body);
    let users = app.get("/v1/users", &admin).await;
    let id = users.body["users"]
        .as_array()
        .and_then(|all| all.iter().find(|u| u["name"] == "alice"))
        .and_then(|u| u["id"].as_str())
        .expect("alice's id")
        .to_owned();

    assert!(app.post("/v1/users/alice/revoke-tokens", &admin, json!({})).await.status.is_success());
    let mut heard = vec![said(&sub.event().await), said(&sub.event().await)];
    heard.sort_by_key(|(kind, _)| kind.clone());
    assert_eq!(
        heard,
        vec![
            ("agent_token".to_owned(), json!({"kind": "agent_token", "jti": minted.str("jti")})),
            ("user".to_owned(), json!({"kind": "user", "user_id": id, "user": "alice"})),
        ]
    );

    assert!(app.delete("/v1/users/alice", &admin).await.status.is_success());
    assert_eq!(
        said(&sub.event().await),
        ("user".to_owned(), json!({"kind": "user", "user_id": id, "user": "alice"}))
    );
}

#[tokio::test]
async fn revoking_agent_tokens_by_jti_or_by_agent_and_retiring_a_key_are_announced() {
    let app = TestApp::spawn().await;
    let (admin, mut sub) = watching(&app).await;
    let one = mint(&app, &admin, "patcher", &["ward:introspect"], "1h").await;
    assert_eq!(one.status, StatusCode::CREATED, "{:?}", one.body);
    mint(&app, &admin, "patcher", &["ward:introspect"], "1h").await;

    assert!(app.post("/v1/mint/revoke", &admin, json!({"jti": one.str("jti")})).await.status.is_success());
    assert_eq!(
        said(&sub.event().await),
        ("agent_token".to_owned(), json!({"kind": "agent_token", "jti": one.str("jti")}))
    );
    assert!(app.post("/v1/mint/revoke", &admin, json!({"agent": "patcher"})).await.status.is_success());
    assert_eq!(said(&sub.event().await), ("agent".to_owned(), json!({"kind": "agent", "agent": "patcher"})));

    let r = app.call(Method::POST, &format!("/v1/keys/{}/retire", one.str("kid")), Some(&admin), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(said(&sub.event().await), ("key".to_owned(), json!({"kind": "key", "kid": one.str("kid")})));
}

#[tokio::test]
async fn resuming_with_last_event_id_replays_exactly_the_missed_events() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let watcher = watcher_token(&app, &admin).await;
    let mut sub = subscribe(&app, &watcher, None).await;
    sub.opening().await;
    let revoke = async |name: &str| {
        let t = app.create_token(&admin, pipeline(name)).await;
        app.post(&format!("/v1/tokens/{}/revoke", t.str("id")), &admin, json!({})).await;
        t.str("id")
    };
    revoke("seen").await;
    let seen = sub.event().await.id.expect("a cursor");
    drop(sub);

    let missed = [revoke("missed-1").await, revoke("missed-2").await];
    let mut sub = subscribe(&app, &watcher, Some(&seen)).await;
    let replayed: Vec<Value> = sub.opening().await.iter().map(|m| said(m).1["token_id"].clone()).collect();
    assert_eq!(
        replayed,
        missed.iter().map(|id| json!(id)).collect::<Vec<_>>(),
        "exactly the missed, in order"
    );

    let after = revoke("after").await;
    assert_eq!(said(&sub.event().await).1["token_id"], after, "then the live stream");
}

#[tokio::test]
async fn a_cursor_from_elsewhere_too_old_or_garbled_starts_with_reset() {
    let app = TestApp::with_config("[events]\nreplay = 2").await;
    let admin = app.admin().await;
    let watcher = watcher_token(&app, &admin).await;
    let mut sub = subscribe(&app, &watcher, None).await;
    sub.opening().await;
    for i in 0..4 {
        let t = app.create_token(&admin, pipeline(&format!("t{i}"))).await;
        app.post(&format!("/v1/tokens/{}/revoke", t.str("id")), &admin, json!({})).await;
    }
    let first = sub.event().await.id.expect("a cursor");
    for _ in 0..3 {
        sub.event().await;
    }
    drop(sub);

    let other = TestApp::spawn().await;
    let other_admin = other.admin().await;
    let mut elsewhere = subscribe(&other, &watcher_token(&other, &other_admin).await, None).await;
    let foreign = elsewhere.opening().await[0].id.clone().expect("the other node's cursor");

    for (cursor, why) in
        [(first.as_str(), "older than"), (foreign.as_str(), "another node"), ("garbage", "not a cursor")]
    {
        let mut sub = subscribe(&app, &watcher, Some(cursor)).await;
        let opening = sub.opening().await;
        assert_eq!(opening.len(), 1, "{cursor}: {opening:?}");
        let (kind, data) = said(&opening[0]);
        assert_eq!(kind, "reset", "{cursor}");
        assert!(data["reason"].as_str().unwrap_or_default().contains(why), "{cursor}: {data}");
    }
}

#[tokio::test]
async fn a_bad_token_is_401_and_a_token_without_introspect_is_403_before_any_stream() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let plain = app
        .create_token(&admin, json!({"name": "no-introspect", "type": "pipeline", "scopes": ["ward:tokens"]}))
        .await;
    for (token, status, code) in [
        ("ward_p_not-a-real-token", StatusCode::UNAUTHORIZED, "invalid_token"),
        (plain.str("token").as_str(), StatusCode::FORBIDDEN, "insufficient_scope"),
    ] {
        let r = open(&app, token, None).await;
        assert_eq!(r.status(), status);
        assert!(r.headers().get("www-authenticate").is_some());
        let kind =
            r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert_eq!(kind, "application/json");
        let body: Value = r.json().await.expect("an error body");
        assert_eq!(body["error"]["code"], code);
    }
    let r = app.http.get(format!("{}/v1/events", app.base)).send().await.expect("sent");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_stream_ends_when_the_subscribers_own_token_is_revoked() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let watcher = app
        .create_token(&admin, json!({"name": "w", "type": "service", "scopes": ["ward:introspect"]}))
        .await;
    let mut sub = subscribe(&app, &watcher.str("token"), None).await;
    sub.opening().await;
    let r = app.post(&format!("/v1/tokens/{}/revoke", watcher.str("id")), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    let last = sub.until_closed().await;
    assert_eq!(last.len(), 1, "the event that ended it, then the end: {last:?}");
    assert_eq!(said(&last[0]).1["token_id"], watcher.str("id"));
}

#[tokio::test]
async fn the_stream_ends_at_the_first_heartbeat_after_the_subscribers_token_expired() {
    let app = TestApp::with_config("[events]\nheartbeat = \"50ms\"").await;
    let admin = app.admin().await;
    let watcher = app
        .create_token(
            &admin,
            json!({"name": "w", "type": "service", "scopes": ["ward:introspect"], "ttl": "1h"}),
        )
        .await;
    assert_eq!(watcher.status, StatusCode::CREATED, "{:?}", watcher.body);
    let mut sub = subscribe(&app, &watcher.str("token"), None).await;
    sub.opening().await;
    let beat = sub.next().await.expect("a heartbeat while it is valid");
    assert_eq!(beat.comment.as_deref(), Some("heartbeat"));

    app.advance(Duration::from_secs(3601));
    assert!(sub.until_closed().await.is_empty(), "closed with no further event");
}

#[tokio::test]
async fn beyond_max_subscribers_a_node_answers_503_with_a_clear_error() {
    let app = TestApp::with_config("[events]\nmax_subscribers = 2").await;
    let (admin, _one) = watching(&app).await;
    let token = watcher_token(&app, &admin).await;
    let _two = subscribe(&app, &token, None).await;
    let r = open(&app, &token, None).await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = r.json().await.expect("an error body");
    assert_eq!(body["error"]["code"], "too_many_subscribers");
    assert!(body["error"]["message"].as_str().unwrap_or_default().contains("max_subscribers"), "{body}");
}

#[tokio::test]
async fn shutting_down_ends_open_streams() {
    let mut app = TestApp::spawn().await;
    let (_, mut sub) = watching(&app).await;
    tokio::time::timeout(DUE, app.stop()).await.expect("the server stops with a stream open");
    assert!(sub.until_closed().await.is_empty());
}
