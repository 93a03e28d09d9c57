//! The audit writer end to end: events emitted just before shutdown are
//! stored before `serve` returns, and the mirror file holds the same events,
//! one JSON object per line, with the hashes the database holds.

use crate::helpers::ADMIN_PASSWORD;
use serde_json::{Value, json};
use std::sync::Arc;
use ward_server::audit::mirror::Mirror;
use ward_server::authority::bootstrap::ensure_admin;
use ward_server::signing::MasterKey;
use ward_server::{AppState, Settings};
use ward_store::{AuditLog, SqliteStore};

#[tokio::test]
async fn shutdown_stores_every_event_and_the_mirror_matches_the_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("ward.db");
    let mirror_path = dir.path().join("audit.jsonl");
    let store = Arc::new(SqliteStore::open(db.to_str().expect("utf-8 path")).await.expect("open"));
    ensure_admin(store.as_ref(), Some(ADMIN_PASSWORD.into())).await.expect("bootstrap");
    let backend: Arc<dyn ward_store::Backend> = store.clone();
    let master = MasterKey::random();
    let key = ward_core::audit::ChainKey::from(master.derive("audit-chain"));
    let state = AppState::new(backend, Settings::default(), master);
    state.audit.mirror_to(Mirror::open(&mirror_path).expect("open mirror"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(ward_server::serve(state, listener, async {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for _ in 0..20 {
        let r = http
            .post(format!("{base}/v1/login"))
            .json(&json!({"username": "admin", "password": ADMIN_PASSWORD}))
            .send()
            .await
            .expect("login");
        let body: Value = r.json().await.expect("json");
        tokens.push(body["token"].as_str().unwrap_or_default().to_owned());
    }
    let _ = stop.send(());
    served.await.expect("server task").expect("served");

    let chain = store.audit_chain(None, 1000).await.expect("chain");
    assert_eq!(chain.iter().filter(|e| e.entry.action == "login.success").count(), 20);
    let verdict = ward_store::verify_chain(store.as_ref(), &key).await.expect("verify");
    assert!(verdict.ok(), "{verdict:?}");

    let text = std::fs::read_to_string(&mirror_path).expect("read the mirror");
    let lines: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).expect("each line is a JSON object")).collect();
    assert_eq!(lines.len(), chain.len());
    for (line, stored) in lines.iter().zip(&chain) {
        assert_eq!(line["seq"], stored.seq);
        assert_eq!(line["hash"], stored.hash.to_hex());
        assert_eq!(line["action"], stored.entry.action);
    }
    assert_eq!(text.matches(r#""subject": "admin""#).count(), 20, "greppable as \"subject\": \"admin\"");
    for token in &tokens {
        assert!(token.len() > 11 && !text.contains(&token[11..]), "a token is in the mirror");
    }
}
