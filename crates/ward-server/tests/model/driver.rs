//! Runs steps against a real in-process server over HTTP: the server (on
//! port 0, over a copy of the template database, see `template.rs`), one
//! HTTP call per step, and `POST /v1/verify` for the invariants.

use crate::model::{Model, names};
use crate::ops::Step;
use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;
use ward_server::authority::bootstrap::ensure_admin;
use ward_server::clock::{Clock, ClockHand};
use ward_server::signing::MasterKey;
use ward_server::{AppState, Settings};
use ward_store::{Backend, SqliteStore};

/// A small catalogue, a `user` role that may mint, and one operation that
/// needs a human approval.
pub const CONFIG: &str = r#"
[[scopes]]
name = "app:read"
risk = "low"

[[scopes]]
name = "app:write"
risk = "high"

[[scopes]]
name = "ops:admin"
risk = "critical"

[roles]
user = ["app:read", "app:write", "ward:tokens", "ward:mint", "ward:introspect"]

[login]
session_ttl = "12h"

[mint]
max_ttl = "30d"

[approval]
ttl = "15m"

[operations.deploy]
scopes = ["app:write"]
risk = "critical"
approval = "human"

[operations.read]
scopes = ["app:read"]
risk = "low"

[[routes]]
method = "GET"
path = "/app/items"
operation = "read"
"#;

const MASTER_KEY: &str = "bW9kZWwtdGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzISE=";
pub const ADMIN_PASSWORD: &str = "admin-password-1";

fn master() -> MasterKey {
    MasterKey::load(Some(MASTER_KEY), Path::new("/nonexistent")).expect("test master key")
}

/// A response: status and JSON body (Null when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
    /// `Cache-Control: no-store` was sent.
    pub no_store: bool,
}

impl Reply {
    pub fn str(&self, key: &str) -> String {
        self.body[key].as_str().unwrap_or_default().to_owned()
    }
}

fn no_store(resp: &reqwest::Response) -> bool {
    resp.headers()
        .get_all(reqwest::header::CACHE_CONTROL)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|d| d.trim() == "no-store")))
}

/// A running server.
pub struct Server {
    pub base: String,
    pub http: reqwest::Client,
    clock: Clock,
    hand: ClockHand,
    shutdown: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    /// A server over a copy of `template` (or a fresh database).
    pub async fn start(template: Option<&Path>) -> (Self, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("ward.db");
        if let Some(t) = template {
            std::fs::copy(t, &db).expect("copy template database");
        }
        let store = SqliteStore::open(db.to_str().expect("utf-8 path")).await.expect("open store");
        if template.is_none() {
            ensure_admin(&store, Some(ADMIN_PASSWORD.into())).await.expect("bootstrap admin");
        }
        let backend: Arc<dyn Backend> = Arc::new(store);
        let (clock, hand) = Clock::adjustable();
        let settings = Settings::parse(CONFIG).expect("test config");
        let state = AppState::with_clock(backend, settings, master(), clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let served = tokio::spawn(ward_server::serve(state, listener, async {
            let _ = rx.await;
        }));
        let server = Self {
            base,
            http: reqwest::Client::new(),
            clock,
            hand,
            shutdown: Some(tx),
            served: Some(served),
            _dir: dir,
        };
        (server, db)
    }

    /// The time on the server's clock (whole milliseconds, as it keeps them).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Moves the server's clock forward by `by`.
    pub fn advance(&self, by: std::time::Duration) {
        self.hand.advance(by);
    }

    /// Stops the server the way SIGTERM does and waits for it.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(served) = self.served.take() {
            let _ = served.await;
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
        self.send(req).await
    }

    /// Sends a request built by the caller (headers, forms).
    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let no_store = no_store(&resp);
        let text = resp.text().await.expect("body");
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply { status, body, no_store }
    }

    /// Opens a stream: a refusal is read whole; an open stream is read up
    /// to its first `: subscribed` comment (the body is Null), then closed.
    pub async fn open_stream(&self, req: reqwest::RequestBuilder) -> Reply {
        let mut resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let no_store = no_store(&resp);
        if !status.is_success() {
            let text = resp.text().await.expect("body");
            return Reply { status, body: serde_json::from_str(&text).unwrap_or(Value::Null), no_store };
        }
        let mut read = String::new();
        while !read.contains(": subscribed") {
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), resp.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => read.push_str(&String::from_utf8_lossy(&bytes)),
                other => panic!("the stream opens within 5 s, read {read:?}, then {other:?}"),
            }
        }
        Reply { status, body: Value::Null, no_store }
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The password a step sets.
pub fn new_password(n: usize) -> String {
    format!("model-password-{n}-changed")
}

fn grace(g: bool) -> Value {
    if g { json!({"grace": "1h"}) } else { json!({}) }
}

/// Sends `step` (step number `n`, for names) and returns the answer.
pub async fn run(s: &Server, m: &Model, step: &Step, n: usize) -> Reply {
    let tok = |c: usize| Some(m.creds[c].token.as_str());
    let uid = |u: usize| m.users[u].id.clone();
    match *step {
        Step::Login { user } => {
            let u = &m.users[user];
            s.post("/v1/login", None, json!({"username": u.name, "password": u.password})).await
        }
        Step::Create { by, kind, scopes, ttl, for_user } => {
            let mut body = json!({"name": format!("t-{n}"), "type": kind.wire()});
            if let Some(sc) = scopes {
                body["scopes"] = json!(names(sc));
            }
            if let Some(t) = ttl {
                body["ttl"] = json!(t.wire());
            }
            if let Some(u) = for_user {
                body["user_id"] = json!(uid(u));
            }
            s.post("/v1/tokens", tok(by), body).await
        }
        Step::Rotate { by, target, grace: g } => {
            s.post(&format!("/v1/tokens/{}/rotate", m.creds[target].id), tok(by), grace(g)).await
        }
        Step::Revoke { by, target } => {
            s.post(&format!("/v1/tokens/{}/revoke", m.creds[target].id), tok(by), json!({})).await
        }
        Step::Delete { by, target } => {
            s.call(Method::DELETE, &format!("/v1/tokens/{}", m.creds[target].id), tok(by), None).await
        }
        Step::Mint { by, agent, scopes, ttl } => {
            s.post("/v1/mint", tok(by), json!({"agent": agent, "scopes": names(scopes), "ttl": ttl.wire()}))
                .await
        }
        Step::MintRevokeJti { by, target } => {
            s.post("/v1/mint/revoke", tok(by), json!({"jti": m.creds[target].id})).await
        }
        Step::MintRevokeAgent { by, agent } => {
            s.post("/v1/mint/revoke", tok(by), json!({"agent": agent})).await
        }
        Step::SvcCreate { by, scopes, days } => {
            let mut body = json!({"name": format!("svc-{n}"), "scopes": names(scopes)});
            if let Some(d) = days {
                body["expires_in_days"] = json!(d);
            }
            s.post("/v1/service-users", tok(by), body).await
        }
        Step::SvcRotate { by, svc, grace: g } => {
            s.post(&format!("/v1/service-users/{}/rotate-key", uid(svc)), tok(by), grace(g)).await
        }
        Step::SvcDelete { by, svc } => {
            s.call(Method::DELETE, &format!("/v1/service-users/{}", uid(svc)), tok(by), None).await
        }
        Step::UserRevokeTokens { by, user } => {
            s.post(&format!("/v1/users/{}/revoke-tokens", uid(user)), tok(by), json!({})).await
        }
        Step::UserDelete { by, user } => {
            s.call(Method::DELETE, &format!("/v1/users/{}", uid(user)), tok(by), None).await
        }
        Step::Authorize { by } => s.post("/v1/authorize", tok(by), json!({"operation": "deploy"})).await,
        Step::Decide { by, approval, approve } => {
            let verb = if approve { "approve" } else { "deny" };
            let path = format!("/v1/approvals/{}/{verb}", m.approvals[approval].id);
            s.post(&path, tok(by), json!({"reason": "model test"})).await
        }
        Step::UseApproval { approval } => {
            let a = &m.approvals[approval];
            s.post("/v1/authorize", tok(a.cred), json!({"operation": "deploy", "approval_id": a.id})).await
        }
        Step::PasswordChange { by } => {
            let current = &m.users[m.creds[by].owner].password;
            let body = json!({"current_password": current, "new_password": new_password(n)});
            s.post("/v1/password", tok(by), body).await
        }
        Step::PasswordReset { by, user } => {
            let path = format!("/v1/users/{}/password", uid(user));
            s.post(&path, tok(by), json!({"new_password": new_password(n)})).await
        }
        Step::ListUserTokens { by, user } => {
            s.call(Method::GET, &format!("/v1/users/{}/tokens", uid(user)), tok(by), None).await
        }
        Step::ListTokens { by } => s.call(Method::GET, "/v1/tokens?limit=1000", tok(by), None).await,
        Step::ListMinted { by } => s.call(Method::GET, "/v1/mint?limit=1000", tok(by), None).await,
        Step::IdleList { by } => s.call(Method::GET, "/v1/idle-tokens?unused_for=3650d", tok(by), None).await,
        Step::IdleRevoke { by } => {
            s.post("/v1/idle-tokens/revoke", tok(by), json!({"unused_for": "3650d"})).await
        }
        Step::Whoami { by } => s.call(Method::GET, "/v1/whoami", tok(by), None).await,
        Step::Logout { by } => s.post("/v1/logout", tok(by), json!({})).await,
        Step::KeyRotate { by } => s.post("/v1/keys/rotate", tok(by), json!({})).await,
        Step::KeyRetire { by, key } => {
            s.post(&format!("/v1/keys/{}/retire", m.keys[key].0), tok(by), json!({})).await
        }
        Step::Verify { by, target } => {
            s.post("/v1/verify", tok(by), json!({"token": m.creds[target].token})).await
        }
        Step::Ui { by, page, user } => crate::ui::open(s, &m.creds[by].token, &page.path(&uid(user))).await,
        Step::ForwardAuth { by } => {
            let req = s.http.get(format!("{}/v1/forward-auth", s.base)).bearer_auth(&m.creds[by].token);
            s.send(req.header("X-Original-Method", "GET").header("X-Original-URI", "/app/items")).await
        }
        Step::Introspect { by, target } => {
            let req = s.http.post(format!("{}/oauth/introspect", s.base)).bearer_auth(&m.creds[by].token);
            s.send(req.form(&[("token", m.creds[target].token.as_str())])).await
        }
        Step::OAuthRevoke { target } => {
            let req = s.http.post(format!("{}/oauth/revoke", s.base));
            s.send(req.form(&[("token", m.creds[target].token.as_str())])).await
        }
        Step::ReportLeak { target } => {
            let req = s.http.post(format!("{}/v1/leaks", s.base));
            s.send(req.json(&json!({"leaks": [{"token": m.creds[target].token, "location": "model"}]}))).await
        }
        Step::Identify { by, target } => {
            s.post("/v1/tokens/identify", tok(by), json!({"token": m.creds[target].token})).await
        }
        Step::Subscribe { by } => {
            let req = s.http.get(format!("{}/v1/events", s.base)).bearer_auth(&m.creds[by].token);
            s.open_stream(req).await
        }
    }
}

/// `POST /v1/verify` of one token, as the observer.
pub async fn verify(http: &reqwest::Client, base: &str, observer: &str, token: &str) -> Reply {
    let resp = http
        .post(format!("{base}/v1/verify"))
        .bearer_auth(observer)
        .json(&json!({"token": token}))
        .send()
        .await
        .expect("verify reaches the server");
    let status = resp.status();
    let no_store = no_store(&resp);
    let body = resp.json().await.unwrap_or(Value::Null);
    Reply { status, body, no_store }
}
