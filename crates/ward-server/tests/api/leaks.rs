//! `POST /v1/leaks` (issue 16): a reported token is revoked through the
//! normal path (what it obtained with it), where it was found is in the
//! audit trail, its owner's webhook is told; anyone holding a token may
//! report it, at a bounded rate per address.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

/// A webhook receiver on port 0; what it receives comes out of the channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<Value>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/leaked", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::unbounded_channel();
    let tx = Arc::new(Mutex::new(tx));
    let app = axum::Router::new().route(
        "/leaked",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let tx = tx.clone();
            async move {
                let _ = tx.lock().expect("lock").send(body);
                "ok"
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, rx)
}

async fn report(app: &TestApp, leaks: Value) -> crate::helpers::Reply {
    app.call(Method::POST, "/v1/leaks", None, Some(json!({ "leaks": leaks }))).await
}

#[tokio::test]
async fn a_reported_token_is_revoked_with_what_it_obtained_and_its_owner_is_told() {
    let (url, mut told) = receiver().await;
    let app = TestApp::with_config(&format!("[leaks]\nwebhook_url = \"{url}\"")).await;
    let admin = app.admin().await;
    let parent = app
        .create_token(
            &admin,
            json!({"name": "ci", "type": "pipeline", "scopes": ["ward:tokens", "ward:introspect"]}),
        )
        .await;
    let leaked = parent.str("token");
    let child = app.create_token(&leaked, json!({"name": "child", "type": "pipeline"})).await;
    assert_eq!(child.status, StatusCode::CREATED, "{:?}", child.body);
    assert_eq!(app.verify(&admin, &leaked).await.str("code"), "VALID"); // now cached

    let r = report(&app, json!([{"token": leaked, "location": "deploy.sh:3 (commit 1a2b3c4)"}])).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["results"][0]["outcome"], "revoked");
    assert_eq!(r.body["results"][0]["display"], parent.str("prefix"));
    assert!(!r.body.to_string().contains(&leaked[12..]), "the answer never repeats the token");
    assert_eq!(app.verify(&admin, &leaked).await.str("code"), "REVOKED", "evicted from the cache");
    assert_eq!(
        app.verify(&admin, &child.str("token")).await.str("code"),
        "REVOKED",
        "what it obtained ends too"
    );

    let notice = tokio::time::timeout(std::time::Duration::from_secs(10), told.recv()).await.ok().flatten();
    let notice = notice.expect("the owner's webhook was called");
    assert_eq!(notice["event"], "token.leaked");
    assert_eq!(notice["token_id"], parent.str("id"));
    assert_eq!(notice["owner"], "admin");
    assert_eq!(notice["location"], "deploy.sh:3 (commit 1a2b3c4)");
    assert_eq!(notice["outcome"], "revoked");
    assert!(!notice.to_string().contains(&leaked[12..]), "the webhook never sees the token");

    // The audit trail says where it was found.
    let events =
        app.get(&format!("/v1/audit?action=token.leaked&token_id={}", parent.str("id")), &admin).await;
    let found = events.body["events"].as_array().cloned().unwrap_or_default();
    assert!(
        found
            .iter()
            .any(|e| e["decision"].as_str().is_some_and(|d| d.contains("revoked; found in deploy.sh:3"))),
        "{found:?}"
    );

    // Again: already ended. Not ours, or not a token: unknown. Nothing else changes.
    let mut foreign = leaked.clone();
    foreign.replace_range(..4, "acme");
    let r = report(&app, json!([{"token": leaked}, {"token": "ward_p_notatoken"}, {"token": foreign}])).await;
    let outcomes: Vec<&str> =
        r.body["results"].as_array().into_iter().flatten().filter_map(|x| x["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["already_ended", "unknown", "unknown"], "{:?}", r.body);
}

#[tokio::test]
async fn without_a_leaks_webhook_the_owner_is_told_through_the_expiry_notice_webhook() {
    let (url, mut told) = receiver().await;
    let app = TestApp::with_config(&format!("[lifecycle.notices]\nwebhook_url = \"{url}\"")).await;
    let admin = app.admin().await;
    let created = app.create_token(&admin, json!({"name": "ci", "type": "pipeline"})).await;
    let r = report(&app, json!([{"token": created.str("token"), "location": "ci.yml:7"}])).await;
    assert_eq!(r.body["results"][0]["outcome"], "revoked", "{:?}", r.body);

    let leaked = async {
        while let Some(notice) = told.recv().await {
            if notice["event"] == "token.leaked" {
                return Some(notice);
            }
        }
        None
    };
    let notice = tokio::time::timeout(std::time::Duration::from_secs(10), leaked).await.ok().flatten();
    let notice = notice.expect("the [lifecycle.notices] webhook was called");
    assert_eq!(notice["token_id"], created.str("id"));
    assert_eq!(notice["location"], "ci.yml:7");
}

#[tokio::test]
async fn reports_are_limited_per_address_and_bounded_in_size() {
    let app = TestApp::with_config("[leaks]\nper_minute = 2").await;
    let junk = json!({"token": "ward_p_notatoken"});
    let r = report(&app, json!([junk, junk, junk])).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{:?}", r.body);
    assert!(r.header("retry-after").parse::<u64>().is_ok_and(|s| (1..=60).contains(&s)));
    app.advance(std::time::Duration::from_secs(60));
    assert_eq!(report(&app, json!([junk])).await.status, StatusCode::OK);
    assert_eq!(report(&app, json!([])).await.status, StatusCode::UNPROCESSABLE_ENTITY);
}
