//! `--max-uses` is exact across nodes (issue 16): a token created with
//! `max_uses = 100` and verified by 64 concurrent verifiers spread over two
//! `ward server` nodes on one PostgreSQL database verifies exactly 100
//! times; every other verify answers `USAGE_EXCEEDED`.
//!
//! Needs `WARD_TEST_DATABASE_URL` (skipped without it, failing in CI); the
//! test makes a database of its own.

#[path = "common/nodes.rs"]
mod nodes;

use nodes::{fresh_database, node};
use reqwest::StatusCode;
use serde_json::{Value, json};
use ward_server::signing::MasterKey;

/// The servers' config.
const CONFIG: &str = "";

async fn post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = http.post(format!("{base}{path}")).json(&body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.expect("request");
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn max_uses_100_with_64_concurrent_verifiers_on_two_nodes_yields_exactly_100_valid() {
    let Ok(admin_url) = std::env::var("WARD_TEST_DATABASE_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set WARD_TEST_DATABASE_URL");
        eprintln!("skipped: set WARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run");
        return;
    };
    let url = fresh_database(&admin_url, "ward_max_uses");
    let master = MasterKey::random();
    let nodes = [node(&url, &master, CONFIG).await, node(&url, &master, CONFIG).await];
    let http = reqwest::Client::new();
    let login = json!({"username": "admin", "password": "admin-password-1"});
    let (_, session) = post(&http, &nodes[0].base, "/v1/login", None, login).await;
    let admin = session["token"].as_str().expect("session").to_owned();
    let body = json!({"name": "hundred", "type": "pipeline", "max_uses": 100});
    let (status, created) = post(&http, &nodes[0].base, "/v1/tokens", Some(&admin), body).await;
    assert_eq!(status, StatusCode::CREATED, "{created:?}");
    let token = created["token"].as_str().expect("token").to_owned();

    // 64 verifiers, half on each node, 3 verifies each: 192 attempts at 100 uses.
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (http, base, admin, token) =
            (http.clone(), nodes[i % 2].base.clone(), admin.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let mut codes = Vec::new();
            for _ in 0..3 {
                let (_, body) = post(&http, &base, "/v1/verify", Some(&admin), json!({"token": token})).await;
                codes.push(body["code"].as_str().unwrap_or("ERROR").to_owned());
            }
            codes
        }));
    }
    let mut codes = Vec::new();
    for task in tasks {
        codes.extend(task.await.expect("verifier"));
    }
    let valid = codes.iter().filter(|c| *c == "VALID").count();
    let exceeded = codes.iter().filter(|c| *c == "USAGE_EXCEEDED").count();
    assert_eq!((valid, exceeded), (100, 92), "every verify answered VALID or USAGE_EXCEEDED: {codes:?}");
}
