//! `GET /v1/forward-auth` over `examples/ops.toml` and its `[[routes]]`:
//! 2xx only on allow, 401 for a bad token, 403 for a missing scope, a deny
//! and an approval still needed; nginx's and Traefik's headers; unmapped
//! and non-canonical paths denied.

use crate::agents::{OPS, mint};
use crate::helpers::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Asks forward auth about `method path` with nginx's headers and `extra`.
pub async fn ask(
    app: &TestApp,
    token: Option<&str>,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> Reply {
    let mut headers = vec![("X-Original-Method", method), ("X-Original-URI", path)];
    headers.extend_from_slice(extra);
    raw(app, token, &headers).await
}

/// `GET /v1/forward-auth` with exactly these headers.
pub async fn raw(app: &TestApp, token: Option<&str>, headers: &[(&str, &str)]) -> Reply {
    let mut req = app.http.get(format!("{}/v1/forward-auth", app.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("request reaches the server");
    let status = resp.status();
    let headers = resp.headers().clone();
    let text = resp.text().await.expect("body");
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON body") };
    Reply { status, headers, body }
}

async fn second_admin(app: &TestApp) -> String {
    let admin = app.admin().await;
    let body = json!({"name": "bob", "role": "admin", "password": "bob-password"});
    assert_eq!(app.post("/v1/users", &admin, body).await.status, StatusCode::CREATED);
    app.session("bob", "bob-password").await
}

#[tokio::test]
async fn an_allowed_request_is_200_with_who_is_calling_in_headers() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let m = mint(&app, &admin, "grafana", &["container:read"], "1h").await;
    let r = ask(&app, Some(&m.str("token")), "GET", "/containers?all=1", &[]).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.header("x-ward-subject"), "grafana");
    assert_eq!(r.header("x-ward-token-id"), m.str("jti"));
    assert_eq!(r.header("x-ward-scopes"), "container:read");
    assert_eq!(r.header("x-ward-operation"), "list_containers");
    assert_eq!(r.header("cache-control"), "no-store");

    // An opaque token, asked about with Traefik's and Caddy's headers.
    let t =
        app.create_token(&admin, json!({"name": "ops", "type": "pipeline", "scopes": ["readonly"]})).await;
    let headers = [("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/containers/c1/logs")];
    let r = raw(&app, Some(&t.str("token")), &headers).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.header("x-ward-subject"), "admin");
    assert_eq!(r.header("x-ward-token-id"), t.str("id"));
    assert_eq!(r.header("x-ward-operation"), "get_container_logs");
}

#[tokio::test]
async fn a_missing_scope_is_403_naming_it() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let token = mint(&app, &admin, "reader", &["readonly"], "1h").await.str("token");
    let r = ask(&app, Some(&token), "POST", "/containers/c1/restart", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["error"]["code"], "insufficient_scope");
    assert!(r.header("www-authenticate").contains(r#"scope="container:write""#), "{:?}", r.headers);
}

#[tokio::test]
async fn an_operation_that_needs_approval_is_403_never_200_until_approved_and_then_once() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let bob = second_admin(&app).await;
    let token = mint(&app, &admin, "patcher", &["system:read", "system:admin"], "1h").await.str("token");

    let asked = ask(&app, Some(&token), "POST", "/system/updates", &[("X-Ward-Auto-Approve", "true")]).await;
    assert_eq!(asked.status, StatusCode::FORBIDDEN, "{:?}", asked.body);
    assert_eq!(asked.body["decision"], "approval_required");
    assert_eq!(asked.body["error"]["code"], "approval_required");
    assert_eq!(asked.body["operation"], "install_updates");
    let id = asked.header("x-ward-approval");
    assert!(id.starts_with("apr_"), "{:?}", asked.headers);
    assert_eq!(asked.body["approval_id"], json!(id));
    let retried = ask(&app, Some(&token), "POST", "/system/updates", &[]).await;
    assert_eq!(retried.status, StatusCode::FORBIDDEN);
    assert_eq!(retried.header("x-ward-approval"), id, "a retry waits on the same request, it opens no other");

    let pending =
        ask(&app, Some(&token), "POST", "/system/updates", &[("X-Ward-Approval", id.as_str())]).await;
    assert_eq!(pending.status, StatusCode::FORBIDDEN, "still pending");
    assert_eq!(pending.body["decision"], "approval_required");

    let approved = app.post(&format!("/v1/approvals/{id}/approve"), &bob, json!({})).await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    let once = ask(&app, Some(&token), "POST", "/system/updates", &[("X-Ward-Approval", id.as_str())]).await;
    assert_eq!(once.status, StatusCode::OK, "{:?}", once.body);
    let twice = ask(&app, Some(&token), "POST", "/system/updates", &[("X-Ward-Approval", id.as_str())]).await;
    assert_eq!(twice.status, StatusCode::FORBIDDEN, "an approval is spent once");
    assert_eq!(twice.body["decision"], "deny");
    assert_eq!(twice.body["error"]["code"], "access_denied");
}

#[tokio::test]
async fn an_auto_approve_operation_passes_only_when_the_request_says_so() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let token = mint(&app, &admin, "ops", &["container:read", "container:write"], "1h").await.str("token");
    let r = ask(&app, Some(&token), "POST", "/containers/c1/restart", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["decision"], "approval_required");
    assert!(r.headers.get("x-ward-approval").is_none());
    let r =
        ask(&app, Some(&token), "POST", "/containers/c1/restart", &[("X-Ward-Auto-Approve", "true")]).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

#[tokio::test]
async fn a_missing_revoked_expired_or_garbage_token_is_401_with_www_authenticate() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let r = ask(&app, None, "GET", "/containers", &[]).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.header("www-authenticate"), r#"Bearer realm="ward""#);

    let m = mint(&app, &admin, "gone", &["readonly"], "1h").await;
    app.post("/v1/mint/revoke", &admin, json!({"jti": m.str("jti")})).await;
    let t = app.create_token(&admin, json!({"name": "t", "type": "pipeline", "scopes": ["readonly"]})).await;
    app.post(&format!("/v1/tokens/{}/revoke", t.str("id")), &admin, json!({})).await;
    let short = app
        .create_token(&admin, json!({"name": "s", "type": "pipeline", "scopes": ["readonly"], "ttl": "1h"}))
        .await;
    app.advance(std::time::Duration::from_secs(2 * 3600));
    for token in [m.str("token"), t.str("token"), short.str("token"), "ward_p_garbage".to_owned()] {
        let r = ask(&app, Some(&token), "GET", "/containers", &[]).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{:?}", r.body);
        assert!(r.header("www-authenticate").contains(r#"error="invalid_token""#), "{:?}", r.headers);
    }
}

#[tokio::test]
async fn a_path_no_route_maps_is_denied_unless_the_config_allows_it() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let r = ask(&app, Some(&admin), "GET", "/secrets", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.body["decision"], "deny");
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("no route"), "{:?}", r.body);
    // A method the route does not name is unmapped too.
    assert_eq!(ask(&app, Some(&admin), "DELETE", "/containers", &[]).await.status, StatusCode::FORBIDDEN);

    let open = TestApp::with_config(&format!("{OPS}\n[forward_auth]\nunmatched = \"allow\"\n")).await;
    let admin = open.admin().await;
    let r = ask(&open, Some(&admin), "GET", "/secrets", &[]).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("x-ward-subject"), "admin");
    assert!(r.headers.get("x-ward-operation").is_none());
    // Mapped paths are still decided.
    let reader = mint(&open, &admin, "reader", &["readonly"], "1h").await.str("token");
    assert_eq!(ask(&open, Some(&reader), "POST", "/system/reboot", &[]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(ask(&open, None, "GET", "/secrets", &[]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_path_another_parser_could_read_differently_is_denied() {
    let app = TestApp::with_config(&format!("{OPS}\n[forward_auth]\nunmatched = \"allow\"\n")).await;
    let admin = app.admin().await;
    let reader = mint(&app, &admin, "reader", &["readonly"], "1h").await.str("token");
    for path in
        ["/containers/../system/reboot", "/containers/%2e%2e/system/reboot", "/containers//x", "/a%2Fb"]
    {
        let r = ask(&app, Some(&reader), "GET", path, &[]).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path}: {:?}", r.body);
        assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("canonical"), "{path}");
    }
}

#[tokio::test]
async fn original_request_headers_that_are_missing_or_disagree_are_refused() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let r = raw(&app, Some(&admin), &[]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("X-Original-URI"));
    // A client behind Caddy sends nginx's pair to pass as another request.
    let smuggled = [
        ("X-Original-Method", "GET"),
        ("X-Original-URI", "/containers"),
        ("X-Forwarded-Method", "POST"),
        ("X-Forwarded-Uri", "/system/reboot"),
    ];
    let r = raw(&app, Some(&admin), &smuggled).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{:?}", r.body);
}

#[tokio::test]
async fn each_decision_is_in_the_audit_trail_and_routine_allows_are_counted() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let token = mint(&app, &admin, "auditee", &["container:read"], "1h").await.str("token");
    for _ in 0..5 {
        assert_eq!(ask(&app, Some(&token), "GET", "/containers", &[]).await.status, StatusCode::OK);
    }
    assert_eq!(ask(&app, Some(&token), "GET", "/nowhere", &[]).await.status, StatusCode::FORBIDDEN);
    let r = app.get("/v1/audit?action=authorize&subject=auditee", &admin).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let events = r.body["events"].as_array().cloned().unwrap_or_default();
    let has =
        |decision: &str, op: &str| events.iter().any(|e| e["decision"] == decision && e["operation"] == op);
    assert!(has("allow", "list_containers"), "{events:?}");
    // Routine allows are counted, not written one row per request.
    let allows: Vec<&Value> =
        events.iter().filter(|e| e["decision"] == "allow" && e["operation"] == "list_containers").collect();
    assert_eq!(allows.len(), 1, "{allows:?}");
    assert_eq!(allows[0]["count"], 5, "{allows:?}");
    assert!(has("deny", "(unrouted)"), "{events:?}");
}
