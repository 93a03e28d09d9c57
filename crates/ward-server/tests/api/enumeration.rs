//! Issue 9, finding 10: a non-admin naming another user learns nothing about
//! whether that user exists — the answer for an existing user and for a
//! missing one is the same, byte for byte.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Status, `WWW-Authenticate` and the raw body of one request.
async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String, String) {
    let mut req = app.http.request(method, format!("{}{path}", app.base)).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status().as_u16();
    let challenge =
        resp.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    (status, challenge, resp.text().await.expect("body"))
}

async fn user_id(app: &TestApp, admin: &str, name: &str) -> String {
    let users = app.get("/v1/users", admin).await;
    users.body["users"]
        .as_array()
        .and_then(|a| a.iter().find(|u| u["name"] == json!(name)))
        .and_then(|u| u["id"].as_str())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_non_admin_gets_the_same_403_for_existing_and_missing_users() {
    let app = TestApp::spawn().await;
    let alice = app.user("alice").await;
    app.user("bob").await;
    app.user("carol").await;
    let admin = app.admin().await;
    let bob_id = user_id(&app, &admin, "bob").await;
    let carol_id = user_id(&app, &admin, "carol").await;
    assert_eq!(app.delete("/v1/users/carol", &admin).await.status, StatusCode::OK);

    // (existing, missing) pairs, by name and by id.
    let pairs = [("bob", "nobody"), (bob_id.as_str(), carol_id.as_str())];
    for (there, missing) in pairs {
        let requests = |who: &str| {
            vec![
                (Method::GET, format!("/v1/users/{who}/tokens"), None),
                (Method::POST, format!("/v1/users/{who}/revoke-tokens"), Some(json!({}))),
                (Method::GET, format!("/v1/tokens?user_id={who}"), None),
                (
                    Method::POST,
                    "/v1/tokens".to_owned(),
                    Some(json!({"name": "x", "type": "pipeline", "user_id": who})),
                ),
            ]
        };
        for ((method, a, body_a), (_, b, body_b)) in requests(there).into_iter().zip(requests(missing)) {
            let existing = raw(&app, method.clone(), &a, &alice, body_a).await;
            let absent = raw(&app, method.clone(), &b, &alice, body_b).await;
            assert_eq!(existing.0, 403, "{method} {a}: {existing:?}");
            assert_eq!(existing, absent, "{method} {a} vs {b}");
        }
    }
    // Asking about oneself still works.
    assert_eq!(app.get("/v1/users/alice/tokens", &alice).await.status, StatusCode::OK);
}
