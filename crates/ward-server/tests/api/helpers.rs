//! `TestApp`: one server per test, on port 0, with a fresh database, a
//! store that counts token lookups, and a clock the test moves
//! ([`TestApp::advance`]) instead of sleeping.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;
use ward_core::TokenHash;
use ward_server::authority::bootstrap::ensure_admin;
use ward_server::clock::{Clock, ClockHand};
use ward_server::signing::MasterKey;
use ward_server::state::Stores;
use ward_server::{AppState, Settings};
use ward_store::{AuditLog, SqliteStore, Store, StoreResult, TokenWithOwner};

pub const ADMIN_PASSWORD: &str = "admin-password-1";

/// A store that counts hash lookups, to prove which requests reach it.
pub struct CountingStore {
    inner: SqliteStore,
    /// Every hash looked up, in order.
    pub looked_up: std::sync::Mutex<Vec<TokenHash>>,
}

#[async_trait]
impl Store for CountingStore {
    fn inner(&self) -> Option<&dyn Store> {
        Some(&self.inner)
    }
    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
        self.looked_up.lock().expect("lock").push(*hash);
        self.inner.token_by_hash(hash).await
    }
}

/// The audit log, untouched: the counting is of token lookups only.
#[async_trait]
impl AuditLog for CountingStore {
    fn inner(&self) -> Option<&dyn AuditLog> {
        Some(&self.inner)
    }
}

/// A running server and what a test needs to talk to it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Arc<CountingStore>,
    pub db_path: PathBuf,
    /// The server's clock.
    pub clock: Clock,
    hand: ClockHand,
    /// The master key, which a second node on the same database shares.
    master: MasterKey,
    config: String,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    /// The database's directory; `None` for a second node, which uses
    /// the first one's.
    _dir: Option<tempfile::TempDir>,
}

/// A response: status, headers, JSON body (Null when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::with_config("").await
    }

    /// A server whose config file has `config` (TOML).
    pub async fn with_config(config: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("ward.db");
        let mut app = Self::node(config, db_path, MasterKey::random(), true).await;
        app._dir = Some(dir);
        app
    }

    /// A second server process's twin: another node on the same database
    /// with the same master key (and config), as behind a load balancer.
    pub async fn second_node(&self) -> Self {
        Self::node(&self.config, self.db_path.clone(), self.master.clone(), false).await
    }

    async fn node(config: &str, db_path: PathBuf, master: MasterKey, first: bool) -> Self {
        let inner = SqliteStore::open(db_path.to_str().expect("utf-8 path")).await.expect("open store");
        // One store, as the server runs: its writes share one write gate and
        // one invalidation feed (the revocation stream hears agent writes too).
        let agents = Arc::new(inner.clone());
        let store = Arc::new(CountingStore { inner, looked_up: Default::default() });
        if first {
            ensure_admin(store.as_ref(), Some(ADMIN_PASSWORD.into())).await.expect("bootstrap admin");
        }
        let settings = Settings::parse(config).expect("test config");
        let stores =
            Stores { store: store.clone(), agents: agents.clone(), audit: store.clone(), notices: agents };
        let (clock, hand) = Clock::adjustable();
        let state = AppState::with_clock(stores, settings, master.clone(), clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let served = tokio::spawn(ward_server::serve(state, listener, async {
            let _ = rx.await;
        }));
        Self {
            base,
            http: reqwest::Client::new(),
            store,
            db_path,
            clock,
            hand,
            master,
            config: config.to_owned(),
            shutdown: Some(tx),
            served: Some(served),
            _dir: None,
        }
    }

    /// Moves the server's clock forward by `by`: tokens, approvals, lockouts
    /// and cache entries age at once, with no sleep.
    pub fn advance(&self, by: std::time::Duration) {
        self.hand.advance(by);
    }

    /// The time on the server's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Stops the server the way SIGTERM does and waits for it.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            served.await.expect("server task").expect("server stopped cleanly");
        }
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str, token: &str) -> Reply {
        self.call(Method::GET, path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(token), Some(body)).await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Reply {
        self.call(Method::DELETE, path, Some(token), None).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Reply {
        self.call(Method::POST, "/v1/login", None, Some(json!({"username": username, "password": password})))
            .await
    }

    /// Logs in and returns the session token.
    pub async fn session(&self, username: &str, password: &str) -> String {
        let r = self.login(username, password).await;
        assert_eq!(r.status, StatusCode::OK, "login as {username}: {:?}", r.body);
        r.str("token")
    }

    pub async fn admin(&self) -> String {
        self.session("admin", ADMIN_PASSWORD).await
    }

    /// Creates a user (as admin) and returns a session for them.
    pub async fn user(&self, name: &str) -> String {
        let admin = self.admin().await;
        let password = format!("{name}-password");
        let r = self.post("/v1/users", &admin, json!({"name": name, "password": password})).await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
        self.session(name, &password).await
    }

    /// Creates a token with `body` and returns the response.
    pub async fn create_token(&self, caller: &str, body: Value) -> Reply {
        self.post("/v1/tokens", caller, body).await
    }

    pub async fn verify(&self, caller: &str, token: &str) -> Reply {
        let r = self.post("/v1/verify", caller, json!({"token": token})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        r
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
