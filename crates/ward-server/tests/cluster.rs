//! Several `ward server` nodes on one PostgreSQL database: a revocation on
//! one reaches the others' caches at once; after PostgreSQL restarts both
//! recover by themselves; while it is down, nodes refuse what they have not
//! already verified (503), and recover when it is back.
//!
//! Needs `WARD_TEST_DATABASE_URL` (skipped without it, failing in CI) and,
//! for the restart part, `pg_ctlcluster` (Debian's PostgreSQL) run as root.
//! Everything is one test so that stopping PostgreSQL cannot disturb
//! another test of this binary.

#[path = "common/nodes.rs"]
mod nodes;

use nodes::{Node, fresh_database, node};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;
use std::time::{Duration, Instant};
use ward_server::signing::MasterKey;

/// The servers' config.
const CONFIG: &str = "[cache]\nttl = \"60s\"\n";

async fn call(node: &Node, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", node.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await;
    match r {
        Ok(r) => (r.status(), r.json().await.unwrap_or(Value::Null)),
        Err(_) => (StatusCode::BAD_GATEWAY, Value::Null),
    }
}

async fn code(node: &Node, caller: &str, token: &str) -> String {
    let (_, body) = call(node, "/v1/verify", caller, json!({"token": token})).await;
    body["code"].as_str().unwrap_or("ERROR").to_owned()
}

fn pg_ctl(action: &str) -> bool {
    let Ok(versions) = std::fs::read_dir("/etc/postgresql") else { return false };
    let Some(version) = versions.filter_map(Result::ok).map(|e| e.file_name()).next() else { return false };
    Command::new("pg_ctlcluster")
        .args(["--skip-systemctl-redirect", &version.to_string_lossy(), "main", action])
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Starts PostgreSQL again even if the test fails half-way.
struct Restart;
impl Drop for Restart {
    fn drop(&mut self) {
        pg_ctl("start");
    }
}

async fn until(secs: u64, what: &str, mut check: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    start.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_share_revocations_survive_a_restart_and_fail_closed_while_down() {
    let Ok(admin_url) = std::env::var("WARD_TEST_DATABASE_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set WARD_TEST_DATABASE_URL");
        eprintln!("skipped: set WARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run");
        return;
    };
    let url = fresh_database(&admin_url, "ward_cluster");
    let master = MasterKey::random();
    let a = node(&url, &master, CONFIG).await;
    let b = node(&url, &master, CONFIG).await;
    let login = |n: &Node| {
        let base = n.base.clone();
        async move {
            let r = reqwest::Client::new()
                .post(format!("{base}/v1/login"))
                .json(&json!({"username": "admin", "password": "admin-password-1"}))
                .send()
                .await
                .expect("login");
            r.json::<Value>().await.expect("json")["token"].as_str().unwrap_or_default().to_owned()
        }
    };
    let (on_a, on_b) = (login(&a).await, login(&b).await);

    // A revocation on A reaches B's warm cache at once.
    let mut delays = Vec::new();
    for i in 0..20 {
        let (_, t) =
            call(&a, "/v1/tokens", &on_a, json!({"name": format!("t{i}"), "type": "pipeline"})).await;
        let token = t["token"].as_str().expect("token").to_owned();
        assert_eq!(code(&b, &on_b, &token).await, "VALID");
        assert!(!b.state.cache.is_empty(), "B answers from its cache");
        let (status, _) = call(
            &a,
            &format!("/v1/tokens/{}/revoke", t["id"].as_str().unwrap_or_default()),
            &on_a,
            json!({}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        delays.push(
            until(2, "B sees the revocation", async || code(&b, &on_b, &token).await == "REVOKED").await,
        );
    }
    delays.sort();
    eprintln!("propagation A->B over 20 revocations: p50 {:?}, max {:?}", delays[10], delays[19]);

    // Ending a user on A ends, on B at once, their sessions (evicted by
    // NOTIFY) and the agent tokens they minted (never cached).
    let bob = json!({"name": "bob", "role": "admin", "password": "bob-password-1"});
    assert_eq!(call(&a, "/v1/users", &on_a, bob).await.0, StatusCode::CREATED);
    let (_, session) =
        call(&b, "/v1/login", "", json!({"username": "bob", "password": "bob-password-1"})).await;
    let session = session["token"].as_str().expect("bob's session").to_owned();
    let minted = json!({"agent": "backup", "scopes": ["ward:introspect"], "ttl": "1h"});
    let (_, agent) = call(&b, "/v1/mint", &session, minted).await;
    let agent = agent["token"].as_str().expect("an agent token").to_owned();
    for t in [&session, &agent] {
        assert_eq!(code(&b, &on_b, t).await, "VALID");
    }
    let (status, _) = call(&a, "/v1/users/bob/revoke-tokens", &on_a, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    until(2, "B sees bob's session and agent ended", async || {
        code(&b, &on_b, &session).await == "REVOKED" && code(&b, &on_b, &agent).await == "REVOKED"
    })
    .await;

    // PostgreSQL restarts: both nodes recover, and propagation resumes.
    if !pg_ctl("status") {
        assert!(std::env::var_os("CI").is_none(), "CI must be able to run pg_ctlcluster");
        eprintln!("skipped the restart part: pg_ctlcluster is not usable here");
        return;
    }
    let _guard = Restart;
    assert!(pg_ctl("restart"), "PostgreSQL restarts");
    let (_, t) = {
        let mut created = (StatusCode::SERVICE_UNAVAILABLE, Value::Null);
        until(30, "A can write again", async || {
            created = call(&a, "/v1/tokens", &on_a, json!({"name": "after", "type": "pipeline"})).await;
            created.0 == StatusCode::CREATED
        })
        .await;
        created
    };
    let token = t["token"].as_str().expect("token").to_owned();
    until(30, "B verifies again", async || code(&b, &on_b, &token).await == "VALID").await;
    call(&a, &format!("/v1/tokens/{}/revoke", t["id"].as_str().unwrap_or_default()), &on_a, json!({})).await;
    until(10, "B's listener reconnected and hears revocations", async || {
        code(&b, &on_b, &token).await == "REVOKED"
    })
    .await;

    // PostgreSQL down: unknown tokens are refused (503), writes too.
    let (_, fresh) = call(&a, "/v1/tokens", &on_a, json!({"name": "never-seen", "type": "pipeline"})).await;
    let unseen = fresh["token"].as_str().expect("token").to_owned();
    assert!(pg_ctl("stop"), "PostgreSQL stops");
    for n in [&a, &b] {
        let caller = if std::ptr::eq(n, &a) { &on_a } else { &on_b };
        let (status, body) = call(n, "/v1/verify", caller, json!({"token": unseen})).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "unavailable");
        let (status, _) = call(n, "/v1/tokens", caller, json!({"name": "x", "type": "pipeline"})).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    }
    assert!(pg_ctl("start"), "PostgreSQL starts again");
    until(30, "A answers again", async || code(&a, &on_a, &unseen).await == "VALID").await;
    until(30, "B answers again", async || code(&b, &on_b, &unseen).await == "VALID").await;
}
