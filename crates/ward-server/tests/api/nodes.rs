//! Servers over a database the test names — a SQLite file kept across a
//! restart, or one PostgreSQL database shared by several nodes — each on
//! a clock the test moves, with the `AppState` in reach for the background
//! work a test runs by hand (the expiry-notice sweep).

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::Command;
use tokio::sync::oneshot;
use ward_server::authority::bootstrap::ensure_admin;
use ward_server::clock::{Clock, ClockHand};
use ward_server::signing::MasterKey;
use ward_server::{AppState, Settings};

use crate::helpers::ADMIN_PASSWORD;

/// One `ward server` on `url`.
pub struct Node {
    pub base: String,
    pub state: AppState,
    hand: ClockHand,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Node {
    /// Opens `url` (migrating it), makes sure the admin exists, serves.
    pub async fn start(url: &str, config: &str, master: &MasterKey) -> Self {
        let backend = ward_store::open(url).await.expect("open the database");
        ensure_admin(backend.as_ref(), Some(ADMIN_PASSWORD.into())).await.expect("admin");
        let settings = Settings::parse(config).expect("test config");
        let (clock, hand) = Clock::adjustable();
        let state = AppState::with_clock(backend, settings, master.clone(), clock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let served = tokio::spawn(ward_server::serve(state.clone(), listener, async {
            let _ = rx.await;
        }));
        Self { base, state, hand, stop: Some(tx), served: Some(served) }
    }

    /// Stops the server as SIGTERM does and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("server task").expect("server stopped cleanly");
        }
    }

    /// Moves this node's clock to `at`, if it is not past it already.
    pub fn advance_to(&self, at: chrono::DateTime<chrono::Utc>) {
        let now = self.state.now();
        if let Ok(by) = (at - now).to_std() {
            self.hand.advance(by);
        }
    }

    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req =
            reqwest::Client::new().request(method, format!("{}{path}", self.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request reaches the server");
        (r.status(), r.json().await.unwrap_or(Value::Null))
    }

    /// A fresh admin login session.
    pub async fn admin(&self) -> String {
        let r = reqwest::Client::new()
            .post(format!("{}/v1/login", self.base))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login");
        r.json::<Value>().await.expect("json")["token"].as_str().unwrap_or_default().to_owned()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A new, empty PostgreSQL database on `WARD_TEST_DATABASE_URL`, or `None`
/// (having said so) when that is unset; under `CI` it must be set.
pub fn postgres_database(label: &str) -> Option<String> {
    let Ok(admin_url) = std::env::var("WARD_TEST_DATABASE_URL") else {
        assert!(std::env::var_os("CI").is_none(), "CI must set WARD_TEST_DATABASE_URL");
        eprintln!("skipped: set WARD_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres to run");
        return None;
    };
    let name = format!("ward_{label}_{}", std::process::id());
    let psql =
        |sql: &str| Command::new("psql").args([admin_url.as_str(), "-qc", sql]).status().map(|s| s.success());
    let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert_eq!(psql(&format!("CREATE DATABASE {name}")).ok(), Some(true), "psql can create a database");
    let base = admin_url.rsplit_once('/').map_or(admin_url.as_str(), |(b, _)| b);
    Some(format!("{base}/{name}"))
}
