//! The revocation stream across nodes (issue 15): two `ward server` nodes
//! on one PostgreSQL database; a subscriber of node B hears, as one event
//! each, what is revoked on node A — tokens, a user's tokens, agent tokens
//! — and a subscriber of node A hears its own node's changes exactly once
//! (through the same NOTIFY, not twice). Cursors are per node: B's cursor
//! given to A starts with `reset`.
//!
//! Needs `WARD_TEST_DATABASE_URL` (skipped without it, failing in CI).
//! A test binary of its own, so that `cluster.rs` stopping PostgreSQL
//! cannot disturb it.

#[path = "common/sse.rs"]
mod sse;

#[path = "common/nodes.rs"]
mod nodes;

use nodes::{Node, fresh_database, node};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sse::{Subscriber, said};
use std::time::{Duration, Instant};
use ward_server::signing::MasterKey;

/// The servers' config.
const CONFIG: &str = "";

async fn post(node: &Node, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", node.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("the node answers");
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

async fn subscribe(node: &Node, token: &str, last_event_id: Option<&str>) -> (Subscriber, Vec<sse::Message>) {
    let mut req = reqwest::Client::new().get(format!("{}/v1/events", node.base)).bearer_auth(token);
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    let response = req.send().await.expect("the node answers");
    assert_eq!(response.status(), StatusCode::OK);
    let mut sub = Subscriber::new(response);
    let opening = sub.opening().await;
    (sub, opening)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_on_one_node_reaches_the_subscribers_of_every_node_once() {
    let Ok(admin_url) = std::env::var("WARD_TEST_DATABASE_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set WARD_TEST_DATABASE_URL");
        eprintln!("skipped: set WARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run");
        return;
    };
    let url = fresh_database(&admin_url, "ward_events");
    let master = MasterKey::random();
    let a = node(&url, &master, CONFIG).await;
    let b = node(&url, &master, CONFIG).await;
    let (_, login) =
        post(&a, "/v1/login", "", json!({"username": "admin", "password": "admin-password-1"})).await;
    let admin = login["token"].as_str().expect("a session").to_owned();
    let (_, watcher) = post(
        &a,
        "/v1/tokens",
        &admin,
        json!({"name": "watcher", "type": "service", "scopes": ["ward:introspect"]}),
    )
    .await;
    let watcher = watcher["token"].as_str().expect("a watcher token").to_owned();
    let (mut on_b, _) = subscribe(&b, &watcher, None).await;
    let (mut on_a, _) = subscribe(&a, &watcher, None).await;

    // Token revocations on A, heard on B (and on A, once each).
    let mut delays = Vec::new();
    let mut cursor_b = String::new();
    for i in 0..20 {
        let (_, t) =
            post(&a, "/v1/tokens", &admin, json!({"name": format!("t{i}"), "type": "pipeline"})).await;
        let id = t["id"].as_str().expect("an id").to_owned();
        let start = Instant::now();
        let (status, _) = post(&a, &format!("/v1/tokens/{id}/revoke"), &admin, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let heard = on_b.event().await;
        delays.push(start.elapsed());
        assert_eq!(said(&heard), ("token".to_owned(), json!({"kind": "token", "token_id": id})));
        cursor_b = heard.id.expect("a cursor");
        assert_eq!(said(&on_a.event().await).1["token_id"], id, "the writing node hears it once, in order");
    }
    delays.sort();
    eprintln!(
        "revoke sent to A -> event read on B, 20 revocations: p50 {:?}, max {:?}",
        delays[10], delays[19]
    );
    assert!(delays[19] < Duration::from_secs(2), "{delays:?}");

    // Ending a user on A: B hears the user (by id and name) and each agent
    // token they minted.
    let bob = json!({"name": "bob", "role": "admin", "password": "bob-password-1"});
    let (status, created) = post(&a, "/v1/users", &admin, bob).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, session) =
        post(&b, "/v1/login", "", json!({"username": "bob", "password": "bob-password-1"})).await;
    let session = session["token"].as_str().expect("bob's session").to_owned();
    let (_, minted) = post(
        &b,
        "/v1/mint",
        &session,
        json!({"agent": "backup", "scopes": ["ward:introspect"], "ttl": "1h"}),
    )
    .await;
    let jti = minted["jti"].as_str().expect("a jti").to_owned();
    let (status, _) = post(&a, "/v1/users/bob/revoke-tokens", &admin, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let mut heard = vec![said(&on_b.event().await), said(&on_b.event().await)];
    heard.sort_by_key(|(kind, _)| kind.clone());
    assert_eq!(
        heard,
        vec![
            ("agent_token".to_owned(), json!({"kind": "agent_token", "jti": jti})),
            ("user".to_owned(), json!({"kind": "user", "user_id": created["id"], "user": "bob"})),
        ]
    );

    // A cursor is its node's: B's cursor on A starts with a reset.
    let (_, opening) = subscribe(&a, &watcher, Some(&cursor_b)).await;
    assert_eq!(opening.len(), 1, "{opening:?}");
    assert_eq!(said(&opening[0]).0, "reset");
}
