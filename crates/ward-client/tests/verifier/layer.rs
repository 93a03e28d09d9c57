//! The tower layer and the route layers, in front of a small axum app.

use crate::fake::{Fake, refused, token, valid};
use axum::Router;
use axum::routing::{get, post};
use std::time::Duration;
use ward_api::{AuthorizeResponse, Risk};
use ward_client::layer::{RequireOperation, RequireScopes, VerifyLayer};
use ward_client::verifier::Clock;
use ward_client::{Principal, Verifier};

fn app(verifier: Verifier) -> Router {
    Router::new()
        .route("/whoami", get(|p: Principal| async move { format!("{} {}", p.subject(), p.token_id()) }))
        .merge(
            Router::new()
                .route("/stacks", get(|| async { "stacks" }))
                .route_layer(RequireScopes(["read:stacks"])),
        )
        .merge(
            Router::new()
                .route("/restart", post(|| async { "restarted" }))
                .route_layer(RequireOperation("restart_container")),
        )
        .layer(VerifyLayer::new(verifier))
        .route("/unlayered", get(|p: Principal| async move { p.subject().to_owned() }))
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}

struct Service {
    fake: Fake,
    url: String,
    http: reqwest::Client,
    hand: ward_client::verifier::ClockHand,
}

impl Service {
    async fn start() -> Self {
        let fake = Fake::start().await;
        let (clock, hand) = Clock::adjustable();
        let verifier = fake.builder().clock(clock).staleness(Duration::from_secs(30)).start();
        assert!(verifier.subscribed(Duration::from_secs(10)).await);
        let url = serve(app(verifier)).await;
        Self { fake, url, http: reqwest::Client::new(), hand }
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.http.get(format!("{}{path}", self.url));
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        request.send().await.expect("answer")
    }
}

fn decision(decision: &str, approval_id: Option<&str>) -> AuthorizeResponse {
    AuthorizeResponse {
        decision: decision.into(),
        reason: format!("policy says {decision}"),
        operation: "restart_container".into(),
        risk: Risk::High,
        subject: "alice".into(),
        token_id: "tok_1".into(),
        approval_id: approval_id.map(Into::into),
    }
}

fn challenge(response: &reqwest::Response) -> String {
    response.headers().get("www-authenticate").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_request_without_a_token_gets_a_bare_bearer_challenge() {
    let s = Service::start().await;
    let r = s.get("/whoami", None).await;
    assert_eq!(r.status(), 401);
    assert_eq!(challenge(&r), r#"Bearer realm="ward""#);
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "invalid_token");
}

#[tokio::test]
async fn a_good_token_reaches_the_handler_with_its_principal() {
    let s = Service::start().await;
    let t = token('w');
    s.fake.answer(&t, valid("tok_w", "alice", &["read:stacks"]));
    let r = s.get("/whoami", Some(&t)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "alice tok_w");
}

#[tokio::test]
async fn a_revoked_token_is_401_with_an_invalid_token_challenge() {
    let s = Service::start().await;
    let t = token('v');
    s.fake.answer(&t, refused("REVOKED", "tok_v"));
    let r = s.get("/whoami", Some(&t)).await;
    assert_eq!(r.status(), 401);
    let c = challenge(&r);
    assert!(c.starts_with(r#"Bearer realm="ward", error="invalid_token""#) && c.contains("revoked"), "{c}");
    assert!(!c.contains(&t) && !r.text().await.unwrap_or_default().contains(&t));
}

#[tokio::test]
async fn a_missing_scope_is_403_naming_the_scope() {
    let s = Service::start().await;
    let reader = token('x');
    let other = token('y');
    s.fake.answer(&reader, valid("tok_x", "alice", &["read:stacks"]));
    s.fake.answer(&other, valid("tok_y", "bob", &["read:scans"]));
    assert_eq!(s.get("/stacks", Some(&reader)).await.status(), 200);
    let r = s.get("/stacks", Some(&other)).await;
    assert_eq!(r.status(), 403);
    assert_eq!(challenge(&r), r#"Bearer realm="ward", error="insufficient_scope", scope="read:stacks""#);
}

#[tokio::test]
async fn a_stale_verifier_failing_closed_answers_503_with_retry_after() {
    let s = Service::start().await;
    let t = token('z');
    s.fake.answer(&t, valid("tok_z", "alice", &[]));
    assert_eq!(s.get("/whoami", Some(&t)).await.status(), 200);
    s.hand.advance(Duration::from_secs(31));
    let r = s.get("/whoami", Some(&t)).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("1"));
}

#[tokio::test]
async fn an_operation_is_decided_by_ward_with_the_presented_token_and_approval() {
    let s = Service::start().await;
    let t = token('o');
    s.fake.answer(&t, valid("tok_o", "alice", &[]));
    let post = |approval: Option<&str>| {
        let mut request =
            s.http.post(format!("{}/restart", s.url)).bearer_auth(&t).header("x-ward-auto-approve", "true");
        if let Some(id) = approval {
            request = request.header("x-ward-approval", id);
        }
        request.send()
    };
    *s.fake.ward.authorize_answer.lock().expect("lock") = Some(decision("allow", None));
    let r = post(None).await.expect("answer");
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.expect("body"), "restarted");

    *s.fake.ward.authorize_answer.lock().expect("lock") = Some(decision("approval_required", Some("apr_1")));
    let r = post(None).await.expect("answer");
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers().get("x-ward-approval").and_then(|v| v.to_str().ok()), Some("apr_1"));
    let body: serde_json::Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "approval_required");

    *s.fake.ward.authorize_answer.lock().expect("lock") = Some(decision("allow", None));
    assert_eq!(post(Some("apr_1")).await.expect("answer").status(), 200);
    *s.fake.ward.authorize_answer.lock().expect("lock") = Some(decision("deny", None));
    assert_eq!(post(None).await.expect("answer").status(), 403);

    let seen = s.fake.ward.authorize_seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 4, "every decision is ward's, none cached");
    assert!(
        seen.iter().all(|r| r.token.as_deref() == Some(t.as_str())
            && r.operation == "restart_container"
            && r.auto_approve),
        "{seen:?}"
    );
    assert_eq!(seen[2].approval_id.as_deref(), Some("apr_1"));
}

#[tokio::test]
async fn a_route_outside_the_layer_refuses_instead_of_serving_unauthenticated() {
    let s = Service::start().await;
    assert_eq!(s.get("/unlayered", None).await.status(), 500);
}
