//! Expiry notices (issue 16): one webhook call per token per point,
//! across a restart (SQLite) and across two nodes (PostgreSQL), retried
//! with backoff, each with a `token.expiry_notice` audit event, and never
//! carrying the token.

use crate::nodes::{Node, postgres_database};
use chrono::{DateTime, Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use ward_server::lifecycle::notices::sweep;
use ward_server::signing::MasterKey;

/// A webhook receiver that counts calls, keeps their bodies, and answers
/// 500 to the first `fail_first` of them.
#[derive(Clone, Default)]
struct Receiver {
    bodies: Arc<Mutex<Vec<Value>>>,
    fail_first: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(fail_first: usize) -> (Self, String) {
        let me = Self { fail_first: Arc::new(AtomicUsize::new(fail_first)), ..Self::default() };
        let shared = me.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
                let shared = shared.clone();
                async move {
                    shared.bodies.lock().expect("lock").push(body);
                    let failing = shared
                        .fail_first
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if failing { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::OK }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (me, url)
    }

    fn calls(&self) -> Vec<Value> {
        self.bodies.lock().expect("lock").clone()
    }
}

fn config(url: &str, points: &str) -> String {
    // The background sweep would wait an hour: the test sweeps by hand.
    format!("[lifecycle.notices]\nwebhook_url = \"{url}\"\npoints = {points}\ninterval = \"1h\"\n")
}

/// Creates a pipeline token on `node` with `ttl`: (id, token, expires_at).
async fn token(node: &Node, admin: &str, name: &str, ttl: &str) -> (String, String, DateTime<Utc>) {
    let (status, body) = node
        .call(Method::POST, "/v1/tokens", admin, Some(json!({"name": name, "type": "pipeline", "ttl": ttl})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body:?}");
    let end = serde_json::from_value(body["expires_at"].clone()).expect("expires_at");
    (
        body["id"].as_str().unwrap_or_default().to_owned(),
        body["token"].as_str().unwrap_or_default().to_owned(),
        end,
    )
}

async fn notice_events(node: &Node, admin: &str) -> Vec<Value> {
    let (status, body) = node.call(Method::GET, "/v1/audit?action=token.expiry_notice", admin, None).await;
    assert_eq!(status, StatusCode::OK, "{body:?}");
    body["events"].as_array().cloned().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_expiring_in_2s_with_points_at_1500ms_and_500ms_gets_exactly_two_calls_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("ward.db").display());
    let (hook, hook_url) = Receiver::start(0).await;
    let config = config(&hook_url, "[\"1500ms\", \"500ms\"]");
    let master = MasterKey::random();
    let first = Node::start(&url, &config, &master).await;
    let admin = first.admin().await;
    let (id, plain, end) = token(&first, &admin, "deploy", "2s").await;
    // A token far from its end is not due meanwhile. (Whether the 2 s one is
    // before its first point cannot be asserted: the server's clock flows in
    // real time, and a loaded machine may spend 0.5 s between two steps.
    // `ward_core::notice` and the store contract test the window starts.)
    let (far, _, _) = token(&first, &admin, "far", "30d").await;

    // Inside the 1.5 s window: one call, and sweeping again sends no other.
    first.advance_to(end - Duration::milliseconds(1400));
    assert_eq!(sweep(&first.state).await.expect("sweep").sent, 1);
    assert_eq!(sweep(&first.state).await.expect("sweep").sent, 0);
    assert_eq!(hook.calls().len(), 1);
    first.stop().await;

    // A restarted server knows the 1.5 s notice went out.
    let second = Node::start(&url, &config, &master).await;
    second.advance_to(end - Duration::milliseconds(1400));
    assert_eq!(sweep(&second.state).await.expect("sweep").sent, 0);
    second.advance_to(end - Duration::milliseconds(400));
    assert_eq!(sweep(&second.state).await.expect("sweep").sent, 1);
    assert_eq!(sweep(&second.state).await.expect("sweep").sent, 0);
    second.advance_to(end + Duration::milliseconds(100));
    assert_eq!(sweep(&second.state).await.expect("sweep").sent, 0, "an ended token gets no notice");

    let calls = hook.calls();
    assert_eq!(calls.len(), 2, "{calls:?}");
    assert!(calls.iter().all(|c| c["token"]["id"] != far.as_str()));
    let points: Vec<&str> = calls.iter().filter_map(|c| c["notice_before"].as_str()).collect();
    assert_eq!(points, vec!["1500ms", "500ms"]);
    for call in &calls {
        assert_eq!(call["event"], "token.expiry_notice");
        assert_eq!(call["token"]["id"], id.as_str());
        assert_eq!(
            (call["token"]["name"].as_str(), call["token"]["owner"].as_str()),
            (Some("deploy"), Some("admin"))
        );
        let expires_at: DateTime<Utc> =
            serde_json::from_value(call["token"]["expires_at"].clone()).expect("time");
        assert_eq!(expires_at, end);
        let text = call.to_string();
        assert!(!text.contains(&plain) && !text.contains("hash"), "the token never leaves: {text}");
    }
    let admin = second.admin().await;
    let events = notice_events(&second, &admin).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e["token_id"] == id.as_str() && e["subject"] == "admin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_notice_is_retried_after_its_backoff_and_sent_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("ward.db").display());
    let (hook, hook_url) = Receiver::start(1).await;
    let node = Node::start(&url, &config(&hook_url, "[\"30m\"]"), &MasterKey::random()).await;
    let admin = node.admin().await;
    let (_, _, end) = token(&node, &admin, "ci", "1h").await;
    node.advance_to(end - Duration::minutes(29));
    let first = sweep(&node.state).await.expect("sweep");
    assert_eq!((first.sent, first.failed), (0, 1));
    // Within the backoff (10 s after a first failure) nobody retries.
    assert_eq!(sweep(&node.state).await.expect("sweep"), Default::default());
    assert_eq!(hook.calls().len(), 1);
    node.advance_to(node.state.now() + Duration::seconds(11));
    assert_eq!(sweep(&node.state).await.expect("sweep").sent, 1);
    assert_eq!(sweep(&node.state).await.expect("sweep").sent, 0);
    assert_eq!(hook.calls().len(), 2);
    let admin = node.admin().await;
    assert_eq!(notice_events(&node, &admin).await.len(), 1, "one event, for the delivered notice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_postgres_nodes_sweeping_together_send_each_notice_exactly_once() {
    let Some(url) = postgres_database("notices") else { return };
    let (hook, hook_url) = Receiver::start(0).await;
    let config = config(&hook_url, "[\"1500ms\", \"500ms\"]");
    let master = MasterKey::random();
    let a = Node::start(&url, &config, &master).await;
    let b = Node::start(&url, &config, &master).await;
    let admin = a.admin().await;
    let made = tokio::join!(
        token(&a, &admin, "t0", "2s"),
        token(&a, &admin, "t1", "2s"),
        token(&a, &admin, "t2", "2s"),
        token(&a, &admin, "t3", "2s"),
        token(&a, &admin, "t4", "2s"),
    );
    let ends = [made.0.2, made.1.2, made.2.2, made.3.2, made.4.2];
    let (first, last) = (ends.iter().min().copied(), ends.iter().max().copied());
    let (Some(first), Some(last)) = (first, last) else { panic!("no tokens") };
    // One moment inside every token's window needs them made within 400 ms.
    assert!(
        last - first < Duration::milliseconds(400),
        "tokens made {} ms apart",
        (last - first).num_milliseconds()
    );
    for at in [last - Duration::milliseconds(1400), last - Duration::milliseconds(400)] {
        a.advance_to(at);
        b.advance_to(at);
        // Both nodes sweep at once, twice over.
        for _ in 0..2 {
            let (x, y) = tokio::join!(sweep(&a.state), sweep(&b.state));
            x.expect("sweep on a");
            y.expect("sweep on b");
        }
    }
    let calls = hook.calls();
    assert_eq!(calls.len(), 10, "5 tokens × 2 points: {calls:#?}");
    let mut seen: Vec<(String, String)> = calls
        .iter()
        .map(|c| {
            (
                c["token"]["id"].as_str().unwrap_or_default().to_owned(),
                c["notice_before"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 10, "no (token, point) twice");
}
