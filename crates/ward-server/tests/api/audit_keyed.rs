//! The keyed chain over HTTP: someone with write access to the database
//! but not the master key edits an event and recomputes every hash after it
//! and the head the way ward once chained (plain SHA-256); `GET
//! /v1/audit/verify` still names the edited event.

use crate::helpers::TestApp;
use reqwest::StatusCode;
use serde_json::json;
use ward_core::audit::{EventHash, unkeyed_hash};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Edits the subject of the event at `seq` and rechains it and every later
/// event, and the head, with unkeyed SHA-256: SQL an attacker would run.
pub async fn forge_unkeyed(app: &TestApp, seq: u64) -> String {
    let chain = ward_store::AuditLog::audit_chain(app.store.as_ref(), None, 10_000).await.expect("chain");
    let mut sql = String::new();
    let mut prev: Option<EventHash> = None;
    for mut event in chain.into_iter().filter(|e| e.seq >= seq) {
        if event.seq == seq {
            event.entry.subject = Some("mallory".into());
            sql.push_str(&format!("UPDATE audit_events SET subject = 'mallory' WHERE seq = {seq};\n"));
        }
        let prev_hash = prev.unwrap_or(event.prev_hash);
        let hash = unkeyed_hash(&prev_hash, &event.entry.canonical());
        sql.push_str(&format!(
            "UPDATE audit_events SET prev_hash = X'{}', hash = X'{}' WHERE seq = {};\n\
             UPDATE audit_head SET seq = {}, hash = X'{}' WHERE id = 1;\n",
            hex(prev_hash.as_bytes()),
            hex(hash.as_bytes()),
            event.seq,
            event.seq,
            hex(hash.as_bytes())
        ));
        prev = Some(hash);
    }
    sql
}

async fn run_sql(db: &std::path::Path, sql: &str) {
    use sqlx::Connection;
    let mut conn =
        sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await.expect("open the file");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect("forge the chain");
    conn.close().await.expect("close");
}

#[tokio::test]
async fn an_edit_with_an_unkeyed_chain_and_head_recomputed_is_named_by_verify() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    for name in ["a", "b", "c"] {
        let r = app
            .create_token(&admin, json!({"name": name, "type": "pipeline", "scopes": ["ward:introspect"]}))
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    }
    let intact = app.get("/v1/audit/verify", &admin).await;
    assert_eq!(intact.body["ok"], json!(true), "{:?}", intact.body);
    assert_eq!(intact.body["unkeyed"], json!(0), "a new database is keyed from its first event");
    let seq = 2;

    let sql = forge_unkeyed(&app, seq).await;
    run_sql(&app.db_path, &sql).await;

    let broken = app.get("/v1/audit/verify", &admin).await;
    assert_eq!(broken.status, StatusCode::OK);
    assert_eq!(broken.body["ok"], json!(false), "a forged chain passed: {:?}", broken.body);
    assert_eq!(broken.body["first_bad"]["seq"], json!(seq), "{:?}", broken.body);
    assert_eq!(broken.body["first_bad"]["problem"], "changed");
}
