//! `/v1/authorize` over `examples/ops.toml`: the six classic cases, human
//! approvals end to end, and the approval webhook.

use crate::agents::{OPS, mint};
use crate::helpers::{Reply, TestApp};
use reqwest::StatusCode;
use serde_json::json;
use ward_server::authority::approvals::MAX_PENDING_PER_TOKEN as MAX_PENDING;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want {
    /// Allowed outright.
    Allow,
    /// Allowed with `auto_approve`, approval_required without.
    Auto,
    /// approval_required with an `apr_…` id, even with `auto_approve`.
    Human,
    /// 403 insufficient_scope.
    Forbidden,
}
use Want::*;

const OPERATIONS: [&str; 13] = [
    "get_system_info",
    "list_processes",
    "get_network_stats",
    "list_containers",
    "get_container_logs",
    "read_file",
    "ping",
    "traceroute",
    "restart_container",
    "remove_container",
    "docker_prune",
    "install_updates",
    "reboot",
];

/// The six cases of docs/agents.md: scopes, and what each operation gives.
const CASES: [(&str, &[&str], [Want; 13]); 6] = [
    (
        "read-only monitoring",
        &["readonly"],
        [
            Allow, Allow, Allow, Allow, Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            Forbidden, Forbidden,
        ],
    ),
    (
        "container management",
        &["container:read", "container:write"],
        [
            Forbidden, Forbidden, Forbidden, Allow, Allow, Forbidden, Forbidden, Forbidden, Auto, Forbidden,
            Forbidden, Forbidden, Forbidden,
        ],
    ),
    (
        "network diagnostics",
        &["network:read", "network:diag"],
        [
            Forbidden, Forbidden, Allow, Forbidden, Forbidden, Forbidden, Allow, Allow, Forbidden, Forbidden,
            Forbidden, Forbidden, Forbidden,
        ],
    ),
    (
        "CI automation",
        &["container:read", "container:write", "docker:admin"],
        [
            Forbidden, Forbidden, Forbidden, Allow, Allow, Forbidden, Forbidden, Forbidden, Auto, Forbidden,
            Human, Forbidden, Forbidden,
        ],
    ),
    (
        "break-glass admin",
        &["admin"],
        [Allow, Allow, Allow, Allow, Allow, Allow, Allow, Allow, Auto, Human, Human, Human, Human],
    ),
    (
        "system patching",
        &["system:read", "system:admin"],
        [
            Allow, Allow, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden, Forbidden,
            Forbidden, Forbidden, Human, Human,
        ],
    ),
];

async fn authorize(app: &TestApp, token: &str, body: serde_json::Value) -> Reply {
    app.post("/v1/authorize", token, body).await
}

#[tokio::test]
async fn each_classic_case_is_allowed_exactly_what_it_says() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    for (case, scopes, wants) in CASES {
        let token = mint(&app, &admin, "agent", scopes, "1h").await.str("token");
        for (op, want) in OPERATIONS.iter().zip(wants) {
            let plain = authorize(&app, &token, json!({"operation": op})).await;
            let auto = authorize(&app, &token, json!({"operation": op, "auto_approve": true})).await;
            let got =
                |r: &Reply| if r.status == StatusCode::OK { r.str("decision") } else { r.status.to_string() };
            let context = format!("{case} / {op}: plain {:?} auto {:?}", plain.body, auto.body);
            match want {
                Allow => {
                    assert_eq!((got(&plain).as_str(), got(&auto).as_str()), ("allow", "allow"), "{context}");
                }
                Auto => {
                    assert_eq!(
                        (got(&plain).as_str(), got(&auto).as_str()),
                        ("approval_required", "allow"),
                        "{context}"
                    );
                    assert!(plain.body.get("approval_id").is_none(), "{context}");
                }
                Human => {
                    assert_eq!(got(&plain), "approval_required", "{context}");
                    assert_eq!(got(&auto), "approval_required", "auto_approve must not bypass: {context}");
                    assert!(plain.str("approval_id").starts_with("apr_"), "{context}");
                    let risk = if *op == "remove_container" { "high" } else { "critical" };
                    assert_eq!(plain.str("risk"), risk, "{context}");
                }
                Forbidden => {
                    assert_eq!(plain.status, StatusCode::FORBIDDEN, "{context}");
                    assert_eq!(plain.body["error"]["code"], "insufficient_scope", "{context}");
                    assert!(
                        plain.header("www-authenticate").contains(r#"error="insufficient_scope""#),
                        "{context}"
                    );
                    assert!(plain.header("www-authenticate").contains("scope="), "{context}");
                }
            }
        }
    }
}

#[tokio::test]
async fn bad_tokens_are_401_and_unknown_operations_are_named() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let m = mint(&app, &admin, "agent", &["readonly"], "1h").await;
    app.post("/v1/mint/revoke", &admin, json!({"jti": m.str("jti")})).await;
    let r = authorize(&app, &m.str("token"), json!({"operation": "list_containers"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.header("www-authenticate").contains(r#"error="invalid_token""#));
    let r = authorize(&app, "ward_u_nonsense", json!({"operation": "list_containers"})).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = authorize(&app, &admin, json!({"operation": "launch_missiles"})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body["error"]["message"].as_str().unwrap_or_default().contains("list_containers"));
}

#[tokio::test]
async fn a_resource_server_checks_a_token_on_its_bearers_behalf() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let agent = mint(&app, &admin, "grafana", &["readonly"], "1h").await.str("token");
    let rs = app
        .post("/v1/service-users", &admin, json!({"name": "ops-api", "scopes": ["ward:introspect"]}))
        .await;
    let rs = rs.body["key"]["token"].as_str().unwrap_or_default().to_owned();
    let r = authorize(&app, &rs, json!({"token": agent, "operation": "list_containers"})).await;
    assert_eq!(r.str("decision"), "allow", "{:?}", r.body);
    assert_eq!(r.str("subject"), "grafana");
    let r = authorize(&app, &rs, json!({"token": agent, "operation": "reboot"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "the checked token lacks system:admin");
    // Without ward:introspect one cannot check others' tokens.
    let r = authorize(&app, &agent, json!({"token": rs, "operation": "list_containers"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn second_admin(app: &TestApp) -> String {
    let admin = app.admin().await;
    let r = app
        .post("/v1/users", &admin, json!({"name": "bob", "role": "admin", "password": "bob-password"}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.session("bob", "bob-password").await
}

#[tokio::test]
async fn a_human_approval_allows_the_retried_request_once() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let bob = second_admin(&app).await;
    let token = mint(&app, &admin, "patcher", &["system:read", "system:admin"], "1h").await.str("token");
    let asked = authorize(&app, &token, json!({"operation": "install_updates"})).await;
    assert_eq!(asked.str("decision"), "approval_required");
    let id = asked.str("approval_id");

    let pending = authorize(&app, &token, json!({"operation": "install_updates", "approval_id": id})).await;
    assert_eq!(pending.str("decision"), "approval_required", "still pending");
    for bad in ["expired", "sleeping"] {
        let refused = app.get(&format!("/v1/approvals?status={bad}"), &admin).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        let message = refused.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.trim_end().ends_with("use pending, approved, denied, used"), "{message}");
    }
    let listed = app.get("/v1/approvals?status=pending", &bob).await;
    assert!(listed.body["approvals"].as_array().is_some_and(|a| a.iter().any(|x| x["id"] == json!(id))));

    let own = app.post(&format!("/v1/approvals/{id}/approve"), &admin, json!({})).await;
    assert_eq!(own.status, StatusCode::FORBIDDEN, "the minter cannot approve its agent's request");
    let other = app.user("carol").await;
    assert_eq!(
        app.post(&format!("/v1/approvals/{id}/approve"), &other, json!({})).await.status,
        StatusCode::FORBIDDEN
    );
    let ok = app.post(&format!("/v1/approvals/{id}/approve"), &bob, json!({})).await;
    assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    assert_eq!(ok.str("status"), "approved");

    // Bound to the operation: it does not open `reboot`.
    let wrong = authorize(&app, &token, json!({"operation": "reboot", "approval_id": id})).await;
    assert_eq!(wrong.str("decision"), "deny");
    let first = authorize(&app, &token, json!({"operation": "install_updates", "approval_id": id})).await;
    assert_eq!(first.str("decision"), "allow", "{:?}", first.body);
    let second = authorize(&app, &token, json!({"operation": "install_updates", "approval_id": id})).await;
    assert_eq!(second.str("decision"), "deny", "single use");
    // Bound to the token: another token of the same agent cannot use it.
    let twin = mint(&app, &admin, "patcher", &["system:admin"], "1h").await.str("token");
    let asked = authorize(&app, &token, json!({"operation": "reboot"})).await.str("approval_id");
    app.post(&format!("/v1/approvals/{asked}/approve"), &bob, json!({})).await;
    let r = authorize(&app, &twin, json!({"operation": "reboot", "approval_id": asked})).await;
    assert_eq!(r.str("decision"), "deny");
}

#[tokio::test]
async fn denied_and_expired_approvals_deny() {
    let app = TestApp::with_config(OPS).await;
    let admin = app.admin().await;
    let bob = second_admin(&app).await;
    let token = mint(&app, &admin, "patcher", &["system:admin"], "1h").await.str("token");
    let id = authorize(&app, &token, json!({"operation": "reboot"})).await.str("approval_id");
    let denied = app
        .post(&format!("/v1/approvals/{id}/deny"), &bob, json!({"reason": "not during business hours"}))
        .await;
    assert_eq!(denied.str("status"), "denied");
    let r = authorize(&app, &token, json!({"operation": "reboot", "approval_id": id})).await;
    assert_eq!(r.str("decision"), "deny");
    assert_eq!(
        app.post(&format!("/v1/approvals/{id}/approve"), &bob, json!({})).await.status,
        StatusCode::CONFLICT
    );

    let id = authorize(&app, &token, json!({"operation": "reboot"})).await.str("approval_id");
    app.advance(std::time::Duration::from_secs(15 * 60));
    let late = app.post(&format!("/v1/approvals/{id}/approve"), &bob, json!({})).await;
    assert_eq!(late.status, StatusCode::CONFLICT, "an expired approval cannot be approved: {:?}", late.body);
    let r = authorize(&app, &token, json!({"operation": "reboot", "approval_id": id})).await;
    assert_eq!(r.str("decision"), "deny");
    assert!(r.str("reason").contains("expired"), "{:?}", r.body);
}

#[tokio::test]
async fn asking_again_waits_on_the_same_request_and_one_token_cannot_flood_the_queue() {
    // ops.toml plus enough operations that need a human to fill a token's queue.
    let extra: String = (0..=MAX_PENDING)
        .map(|n| format!("\n[operations.chore{n}]\nscopes = [\"system:admin\"]\nrisk = \"high\"\napproval = \"human\"\n"))
        .collect();
    let app = TestApp::with_config(&format!("{OPS}{extra}")).await;
    let admin = app.admin().await;
    let token = mint(&app, &admin, "patcher", &["system:admin"], "1h").await.str("token");
    let twin = mint(&app, &admin, "patcher", &["system:admin"], "1h").await.str("token");

    let first = authorize(&app, &token, json!({"operation": "reboot"})).await.str("approval_id");
    let again = authorize(&app, &token, json!({"operation": "reboot"})).await;
    assert_eq!(again.str("decision"), "approval_required");
    assert_eq!(again.str("approval_id"), first, "a retry waits on the request already open");
    let other = authorize(&app, &twin, json!({"operation": "reboot"})).await.str("approval_id");
    assert_ne!(other, first, "another token's request is its own");

    for n in 1..MAX_PENDING {
        let r = authorize(&app, &token, json!({"operation": format!("chore{n}")})).await;
        assert_eq!(r.str("decision"), "approval_required", "request {n}: {:?}", r.body);
    }
    let full = authorize(&app, &token, json!({"operation": format!("chore{MAX_PENDING}")})).await;
    assert_eq!(full.status, StatusCode::OK);
    assert_eq!(full.str("decision"), "deny", "{:?}", full.body);
    assert!(
        full.str("reason").contains(&format!("already waits on {MAX_PENDING} approval requests")),
        "{:?}",
        full.body
    );
    assert!(full.body.get("approval_id").is_none_or(serde_json::Value::is_null), "{:?}", full.body);
    let listed = app.get("/v1/approvals?status=pending", &admin).await;
    let pending = listed.body["approvals"].as_array().map_or(0, Vec::len);
    assert_eq!(
        pending,
        MAX_PENDING as usize + 1,
        "the token's {MAX_PENDING} and its twin's one: {:?}",
        listed.body
    );
    // Asking again for one that waits still finds it when the queue is full.
    let r = authorize(&app, &token, json!({"operation": "reboot"})).await;
    assert_eq!(r.str("approval_id"), first);
}

/// A webhook receiver on port 0 that answers with `answer` after `delay`.
async fn webhook(answer: serde_json::Value, delay_ms: u64) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/approve", listener.local_addr().expect("addr"));
    let app = axum::Router::new().route(
        "/approve",
        axum::routing::post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let answer = answer.clone();
            async move {
                assert!(body["approval_id"].as_str().is_some_and(|s| s.starts_with("apr_")));
                assert!(!body.to_string().contains("ward_"), "the webhook never sees a token");
                tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
                axum::Json(answer)
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn with_webhook(url: &str) -> (TestApp, String) {
    let config = format!("{OPS}\n").replace(
        "[approval]\nttl = \"15m\"",
        &format!("[approval]\nttl = \"15m\"\nwebhook_url = \"{url}\"\nwebhook_timeout = \"1s\""),
    );
    let app = TestApp::with_config(&config).await;
    let admin = app.admin().await;
    let token = mint(&app, &admin, "patcher", &["system:admin"], "1h").await.str("token");
    (app, token)
}

#[tokio::test]
async fn the_webhook_decides_and_a_dead_or_slow_webhook_denies() {
    let (app, token) =
        with_webhook(&webhook(json!({"decision": "approve", "reason": "change ticket OK"}), 0).await).await;
    let r = authorize(&app, &token, json!({"operation": "reboot"})).await;
    assert_eq!(r.str("decision"), "allow", "{:?}", r.body);
    assert!(r.str("approval_id").starts_with("apr_"));

    let (app, token) = with_webhook(&webhook(json!({"decision": "deny"}), 0).await).await;
    assert_eq!(authorize(&app, &token, json!({"operation": "reboot"})).await.str("decision"), "deny");

    let (app, token) = with_webhook("http://127.0.0.1:9/approve").await;
    let r = authorize(&app, &token, json!({"operation": "reboot"})).await;
    assert_eq!(r.str("decision"), "deny", "a dead webhook denies: {:?}", r.body);

    let (app, token) = with_webhook(&webhook(json!({"decision": "approve"}), 3_000).await).await;
    let r = authorize(&app, &token, json!({"operation": "reboot"})).await;
    assert_eq!(r.str("decision"), "deny", "a slow webhook denies: {:?}", r.body);
    assert!(r.str("reason").contains("timed out"), "{:?}", r.body);
}
