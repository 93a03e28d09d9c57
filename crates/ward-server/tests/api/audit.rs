//! The audit trail over HTTP: what each action records, who may read it,
//! and what `GET /v1/audit/verify` says after the SQLite file is edited
//! behind the server's back.

use crate::helpers::{ADMIN_PASSWORD, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::Path;

/// The events a search returns, newest first.
async fn events(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let r = app.get(&format!("/v1/audit?{query}"), token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["events"].as_array().cloned().unwrap_or_default()
}

/// The newest event of `action`.
async fn newest(app: &TestApp, token: &str, action: &str) -> Value {
    let found = events(app, token, &format!("action={action}&limit=1")).await;
    found.into_iter().next().unwrap_or_else(|| panic!("no {action} event"))
}

async fn verify(app: &TestApp, token: &str) -> Value {
    let r = app.get("/v1/audit/verify", token).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

/// Runs `sql` on the server's database file through a connection of its own.
async fn tamper(db: &Path, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .expect("open the database file directly");
    sqlx::raw_sql(sql).execute(&mut conn).await.expect("tamper with the audit table");
    conn.close().await.expect("close");
}

/// Creates a pipeline token as `caller` and returns `(id, token)`.
async fn pipeline_token(app: &TestApp, caller: &str, name: &str) -> (String, String) {
    let r = app
        .create_token(caller, json!({"name": name, "type": "pipeline", "scopes": ["ward:introspect"]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    (r.str("id"), r.str("token"))
}

#[tokio::test]
async fn a_request_id_sent_by_a_client_that_is_not_a_trusted_proxy_is_replaced_by_the_servers_own() {
    let app = TestApp::spawn().await;
    let sent = app
        .http
        .post(format!("{}/v1/login", app.base))
        .header("x-request-id", "chosen-by-the-client")
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .expect("login request");
    let answered = sent.headers()["x-request-id"].to_str().unwrap_or_default().to_owned();
    assert!(answered.starts_with("req_"), "{answered}");
    let admin = app.admin().await;
    let failure = newest(&app, &admin, "login.failure").await;
    assert_eq!(
        failure["request_id"],
        answered.as_str(),
        "the audit trail has the server's id, not the client's"
    );
}

#[tokio::test]
async fn logins_that_fail_and_succeed_are_recorded_with_request_id_and_client_address() {
    // The request id of a trusted proxy (here: the test client on loopback) is kept.
    let app = TestApp::with_config("[server]\ntrusted_proxies = [\"127.0.0.1/32\"]\n").await;
    let sent = app
        .http
        .post(format!("{}/v1/login", app.base))
        .header("x-request-id", "req-from-client-1")
        .json(&json!({"username": "admin", "password": "wrong-password"}))
        .send()
        .await
        .expect("login request");
    assert_eq!(sent.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(sent.headers()["x-request-id"], "req-from-client-1");
    let admin = app.admin().await;

    let failure = newest(&app, &admin, "login.failure").await;
    assert_eq!(failure["subject"], "admin");
    assert_eq!(failure["request_id"], "req-from-client-1");
    assert_eq!(failure["client_ip"], "127.0.0.1");
    assert_eq!(failure["error"], "invalid username or password");
    assert!(failure["token_id"].is_null());

    let success = newest(&app, &admin, "login.success").await;
    assert_eq!(success["subject"], "admin");
    assert!(success["token_id"].as_str().is_some_and(|t| t.starts_with("tok_")), "{success}");
    assert!(success["scopes"].as_array().is_some_and(|s| s.contains(&json!("ward:audit"))), "{success}");
    assert!(success["request_id"].as_str().is_some_and(|r| r.starts_with("req_")), "{success}");
    assert!(success["id"].as_str().is_some_and(|r| r.starts_with("evt_")), "{success}");
    assert_eq!(success["hash"].as_str().map(str::len), Some(64));
}

#[tokio::test]
async fn the_token_lifecycle_is_recorded_with_token_id_scopes_and_risk() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, _) = pipeline_token(&app, &admin, "ci").await;
    let created = newest(&app, &admin, "token.create").await;
    assert_eq!(
        (&created["subject"], &created["token_id"], &created["scopes"], &created["risk_level"]),
        (&json!("admin"), &json!(id), &json!(["ward:introspect"]), &json!("low"))
    );

    let rotated = app.post(&format!("/v1/tokens/{id}/rotate"), &admin, json!({})).await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{:?}", rotated.body);
    let new_id = rotated.str("id");
    let rotate = newest(&app, &admin, "token.rotate").await;
    assert_eq!(rotate["token_id"], json!(new_id));
    assert!(rotate["decision"].as_str().is_some_and(|d| d.contains(&id)), "{rotate}");

    let r = app.post(&format!("/v1/tokens/{new_id}/revoke"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(newest(&app, &admin, "token.revoke").await["token_id"], json!(new_id));

    assert_eq!(app.delete(&format!("/v1/tokens/{id}"), &admin).await.status, StatusCode::NO_CONTENT);
    let deleted = newest(&app, &admin, "token.delete").await;
    assert_eq!((&deleted["token_id"], &deleted["subject"]), (&json!(id), &json!("admin")));

    let by_token = events(&app, &admin, &format!("token_id={id}")).await;
    let actions: Vec<&str> = by_token.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(actions, ["token.delete", "token.create"], "newest first, this token only");
}

#[tokio::test]
async fn token_use_and_verify_are_recorded_with_their_verdicts() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = pipeline_token(&app, &admin, "probe").await;
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    let used = events(&app, &admin, &format!("action=token.use&token_id={id}")).await;
    assert_eq!(used.len(), 1, "{used:?}");
    assert_eq!((&used[0]["subject"], &used[0]["operation"]), (&json!("admin"), &json!("GET /v1/whoami")));

    app.verify(&admin, &token).await;
    let verified = newest(&app, &admin, "token.verify").await;
    assert_eq!((&verified["token_id"], &verified["decision"]), (&json!(id), &json!("VALID")));
    app.verify(&admin, "not-a-token").await;
    let malformed = newest(&app, &admin, "token.verify").await;
    assert_eq!((&malformed["token_id"], &malformed["decision"]), (&Value::Null, &json!("MALFORMED")));

    let r = app.post(&format!("/v1/tokens/{id}/revoke"), &admin, json!({})).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::UNAUTHORIZED);
    let refused = events(&app, &admin, &format!("action=token.use&token_id={id}&limit=1")).await;
    assert_eq!(refused[0]["decision"], "REVOKED", "{refused:?}");
}

/// The `token.use`/`token.verify` events of `id` as stored, without asking
/// the server to flush: `(action, decision, count)`, oldest first.
async fn stored_uses(app: &TestApp, id: &str) -> Vec<(String, String, Option<u64>)> {
    let filter = ward_store::AuditFilter { token_id: Some(id.to_owned()), ..Default::default() };
    let mut found: Vec<_> = ward_store::AuditLog::query_audit(app.store.as_ref(), &filter)
        .await
        .expect("query the store")
        .into_iter()
        .filter(|e| e.entry.action == "token.use" || e.entry.action == "token.verify")
        .map(|e| (e.entry.action, e.entry.decision.unwrap_or_default(), e.entry.count))
        .collect();
    found.reverse();
    found
}

#[tokio::test]
async fn uses_of_a_token_are_counted_into_one_event_per_operation_and_verdict() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let (id, token) = pipeline_token(&app, &admin, "busy").await;
    for _ in 0..5 {
        assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    }
    for _ in 0..3 {
        assert_eq!(app.verify(&admin, &token).await.body["valid"], json!(true));
    }
    let used = events(&app, &admin, &format!("action=token.use&token_id={id}")).await;
    assert_eq!(used.len(), 1, "five uses, one event: {used:?}");
    assert_eq!((&used[0]["count"], &used[0]["operation"]), (&json!(5), &json!("GET /v1/whoami")));
    assert!(used[0]["request_id"].as_str().is_some_and(|r| r.starts_with("req_")), "{used:?}");
    let verified = events(&app, &admin, &format!("action=token.verify&token_id={id}")).await;
    assert_eq!(verified.len(), 1, "{verified:?}");
    assert_eq!((&verified[0]["count"], &verified[0]["decision"]), (&json!(3), &json!("VALID")));

    // After the hand-over the count starts again; one use is one plain event.
    assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    let used = events(&app, &admin, &format!("action=token.use&token_id={id}")).await;
    let counts: Vec<&Value> = used.iter().map(|e| &e["count"]).collect();
    assert_eq!(counts, [&json!(1), &json!(5)], "newest first");
    assert_eq!(verify(&app, &admin).await["ok"], json!(true), "counted events chain like any other");
}

#[tokio::test]
async fn counted_uses_reach_the_store_within_the_flush_interval_and_at_shutdown() {
    let app = TestApp::with_config("[usage]\nflush_interval = \"1h\"\n").await;
    let admin = app.admin().await;
    let (id, token) = pipeline_token(&app, &admin, "ticker").await;
    for _ in 0..3 {
        assert_eq!(app.get("/v1/whoami", &token).await.status, StatusCode::OK);
    }
    assert!(stored_uses(&app, &id).await.is_empty(), "counted, not yet written");
    // The interval passes on the server's clock; the writer, which checks
    // it every 50 ms, is what the loop waits for.
    app.advance(std::time::Duration::from_secs(3_600));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let expected = vec![("token.use".to_owned(), "VALID".to_owned(), Some(3))];
    while stored_uses(&app, &id).await != expected {
        assert!(std::time::Instant::now() < deadline, "not written: {:?}", stored_uses(&app, &id).await);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut app2 = TestApp::with_config("[usage]\nflush_interval = \"1h\"\n").await;
    let admin2 = app2.admin().await;
    let (id2, token2) = pipeline_token(&app2, &admin2, "stopping").await;
    for _ in 0..2 {
        assert_eq!(app2.get("/v1/whoami", &token2).await.status, StatusCode::OK);
    }
    assert!(stored_uses(&app2, &id2).await.is_empty(), "an hour-long interval has not passed");
    app2.stop().await;
    assert_eq!(stored_uses(&app2, &id2).await, [("token.use".to_owned(), "VALID".to_owned(), Some(2))]);
}

#[tokio::test]
async fn reading_the_trail_needs_the_audit_scope() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    for path in ["/v1/audit", "/v1/audit/verify"] {
        let r = app.get(path, &alice).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {:?}", r.body);
        assert!(
            r.body["error"]["message"].as_str().is_some_and(|m| m.contains("ward:audit")),
            "{:?}",
            r.body
        );
        assert_eq!(app.call(reqwest::Method::GET, path, None, None).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn searches_filter_by_subject_time_and_risk_and_refuse_bad_values() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let _alice = app.user("alice").await;
    let alices = events(&app, &admin, "subject=alice").await;
    assert!(!alices.is_empty() && alices.iter().all(|e| e["subject"] == "alice"), "{alices:?}");
    assert!(!events(&app, &admin, "subject=alice&since=1h").await.is_empty());
    assert!(events(&app, &admin, "until=2001-01-01T00:00:00Z").await.is_empty());
    assert_eq!(events(&app, &admin, "limit=2").await.len(), 2);
    for bad in ["risk=severe", "since=yesterday", "limit=0", "limit=5000"] {
        let r = app.get(&format!("/v1/audit?{bad}"), &admin).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {:?}", r.body);
    }
}

#[tokio::test]
async fn an_edited_row_fails_verification_and_is_named_as_changed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    pipeline_token(&app, &admin, "ci").await;
    let intact = verify(&app, &admin).await;
    assert_eq!(intact["ok"], true, "{intact}");
    assert!(intact["checked"].as_u64().is_some_and(|n| n >= 2), "{intact}");
    assert!(intact.get("first_bad").is_none());

    let created = newest(&app, &admin, "token.create").await;
    let seq = created["seq"].as_u64().expect("seq");
    tamper(&app.db_path, &format!("UPDATE audit_events SET subject = 'mallory' WHERE seq = {seq}")).await;
    let broken = verify(&app, &admin).await;
    assert_eq!(broken["ok"], false);
    assert_eq!(broken["first_bad"]["seq"], seq, "{broken}");
    assert_eq!(broken["first_bad"]["id"], created["id"]);
    assert_eq!(broken["first_bad"]["problem"], "changed");
}

#[tokio::test]
async fn a_deleted_row_fails_verification_and_is_named_as_removed() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    pipeline_token(&app, &admin, "ci").await;
    let login = newest(&app, &admin, "login.success").await;
    let seq = login["seq"].as_u64().expect("seq");
    tamper(&app.db_path, &format!("DELETE FROM audit_events WHERE seq = {seq}")).await;
    let broken = verify(&app, &admin).await;
    assert_eq!(broken["ok"], false);
    assert_eq!(
        (&broken["first_bad"]["seq"], &broken["first_bad"]["problem"]),
        (&json!(seq), &json!("removed"))
    );
    assert!(
        broken["first_bad"]["detail"].as_str().is_some_and(|d| d.contains(&format!("seq {seq}"))),
        "{broken}"
    );
}

#[tokio::test]
async fn swapped_rows_fail_verification_and_are_named_as_reordered() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    pipeline_token(&app, &admin, "one").await;
    pipeline_token(&app, &admin, "two").await;
    let creates = events(&app, &admin, "action=token.create").await;
    let (later, earlier) = (&creates[0], &creates[1]);
    let (a, b) = (earlier["seq"].as_u64().expect("seq"), later["seq"].as_u64().expect("seq"));
    tamper(
        &app.db_path,
        &format!(
            "UPDATE audit_events SET seq = -seq WHERE seq IN ({a}, {b});
             UPDATE audit_events SET seq = {a} WHERE seq = -{b};
             UPDATE audit_events SET seq = {b} WHERE seq = -{a};"
        ),
    )
    .await;
    let broken = verify(&app, &admin).await;
    assert_eq!(broken["ok"], false);
    let bad = &broken["first_bad"];
    assert_eq!(
        (&bad["seq"], &bad["problem"], &bad["id"]),
        (&json!(a), &json!("reordered"), &later["id"]),
        "{broken}"
    );
}

#[tokio::test]
async fn no_issued_token_appears_in_the_audit_table_or_its_answers() {
    let mut app = TestApp::spawn().await;
    let login = app.login("admin", ADMIN_PASSWORD).await;
    let admin = login.str("token");
    let (id, pipeline) = pipeline_token(&app, &admin, "ci").await;
    app.verify(&admin, &pipeline).await;
    let rotated = app.post(&format!("/v1/tokens/{id}/rotate"), &admin, json!({})).await;
    let successor = rotated.str("token");
    let answers = app.get("/v1/audit?limit=1000", &admin).await.body.to_string();
    app.stop().await;

    let mut stored = std::fs::read(&app.db_path).expect("read the database");
    stored.extend(std::fs::read(app.db_path.with_extension("db-wal")).unwrap_or_default());
    for token in [&admin, &pipeline, &successor] {
        assert!(!token.is_empty());
        let secret = &token[11..];
        assert!(!answers.contains(secret), "a token is in GET /v1/audit");
        assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()), "a token is in the database");
    }
}

#[tokio::test]
async fn events_are_stamped_with_the_servers_clock() {
    let app = TestApp::spawn().await;
    app.advance(std::time::Duration::from_secs(30 * 24 * 3_600));
    let admin = app.admin().await;
    let wall = ward_server::clock::Clock::system().now();
    assert!(app.now() - wall > chrono::Duration::days(29), "the server's clock was moved");
    let (before, after) = {
        let before = app.now();
        pipeline_token(&app, &admin, "later").await;
        assert_eq!(app.login("admin", "wrong password").await.status, StatusCode::UNAUTHORIZED);
        (before, app.now())
    };
    for action in ["token.create", "login.failure"] {
        let event = newest(&app, &admin, action).await;
        let time: chrono::DateTime<chrono::Utc> =
            event["time"].as_str().and_then(|t| t.parse().ok()).unwrap_or_default();
        assert!(before <= time && time <= after, "{action} at {time}, not in [{before}, {after}]");
    }
}
