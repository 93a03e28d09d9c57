//! A fake ward for the Verifier's tests: `/v1/verify` from a table the test
//! fills, `/v1/authorize` with a set answer, the JWKS, the RFC 8414
//! metadata, and `/v1/events` streaming exactly the frames the test pushes
//! (each new subscription first gets `: subscribed`). It counts every call,
//! so a test can say "ward was not asked".

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use ward_api::{AuthorizeRequest, AuthorizeResponse, TokenKind, VerifyRequest, VerifyResponse};
use ward_client::{Client, Verifier, VerifierBuilder};

/// The Verifier's own credential at the fake.
pub const INTROSPECT: &str = "ward_s_introspecttokenintrospecttoken";

#[derive(Default)]
pub struct Ward {
    pub answers: Mutex<HashMap<String, VerifyResponse>>,
    pub verify_calls: AtomicU64,
    pub authorize_calls: AtomicU64,
    pub jwks_calls: AtomicU64,
    pub authorize_answer: Mutex<Option<AuthorizeResponse>>,
    pub authorize_seen: Mutex<Vec<AuthorizeRequest>>,
    pub jwks: Mutex<serde_json::Value>,
    pub issuer: Mutex<Option<String>>,
    /// Seen `Last-Event-ID` of each subscription, in order.
    pub subscriptions: Mutex<Vec<Option<String>>>,
    /// When set, `/v1/verify` waits for it (a test holds an answer back).
    pub hold_verify: Mutex<Option<Arc<Notify>>>,
    /// Notified when a `/v1/verify` call arrives.
    pub verify_arrived: Notify,
    frames: Mutex<Option<broadcast::Sender<String>>>,
}

/// A running fake and its URL.
pub struct Fake {
    pub ward: Arc<Ward>,
    pub url: String,
}

impl Fake {
    pub async fn start() -> Self {
        let (tx, _) = broadcast::channel(1024);
        let ward = Arc::new(Ward { frames: Mutex::new(Some(tx)), ..Ward::default() });
        *ward.jwks.lock().expect("lock") = serde_json::json!({"keys": []});
        let router = Router::new()
            .route("/v1/verify", post(verify))
            .route("/v1/authorize", post(authorize))
            .route("/v1/events", get(events))
            .route("/.well-known/jwks.json", get(jwks))
            .route("/.well-known/oauth-authorization-server", get(metadata))
            .with_state(ward.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { ward, url }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, Some(INTROSPECT.into())).expect("client")
    }

    pub fn builder(&self) -> VerifierBuilder {
        Verifier::builder(self.client())
    }

    /// Sends raw SSE text to every open subscription.
    pub fn push(&self, text: &str) {
        if let Some(tx) = self.ward.frames.lock().expect("lock").as_ref() {
            let _ = tx.send(text.to_owned());
        }
    }

    /// Sends one event as ward writes it.
    pub fn event(&self, id: &str, data: serde_json::Value) {
        let kind = data["kind"].as_str().unwrap_or_default().to_owned();
        self.push(&format!("id: {id}\nevent: {kind}\ndata: {data}\n\n"));
    }

    /// Ends every open subscription (the server goes away; it still answers new ones).
    pub fn drop_subscriptions(&self) {
        self.push("");
    }

    pub fn answer(&self, token: &str, answer: VerifyResponse) {
        self.ward.answers.lock().expect("lock").insert(token.to_owned(), answer);
    }

    pub fn verify_calls(&self) -> u64 {
        self.ward.verify_calls.load(Ordering::SeqCst)
    }
}

pub fn valid(token_id: &str, user: &str, scopes: &[&str]) -> VerifyResponse {
    VerifyResponse {
        valid: true,
        code: "VALID".into(),
        token_id: Some(token_id.into()),
        token_type: Some(TokenKind::Personal),
        user: Some(user.into()),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        expires_at: None,
    }
}

pub fn refused(code: &str, token_id: &str) -> VerifyResponse {
    VerifyResponse {
        valid: false,
        code: code.into(),
        token_id: Some(token_id.into()),
        token_type: None,
        user: None,
        scopes: Vec::new(),
        expires_at: None,
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {INTROSPECT}"))
}

async fn verify(
    State(ward): State<Arc<Ward>>,
    headers: HeaderMap,
    Json(body): Json<VerifyRequest>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ward.verify_calls.fetch_add(1, Ordering::SeqCst);
    ward.verify_arrived.notify_one();
    let hold = ward.hold_verify.lock().expect("lock").clone();
    if let Some(hold) = hold {
        hold.notified().await;
    }
    let answer = ward.answers.lock().expect("lock").get(&body.token).cloned();
    Json(answer.unwrap_or_else(|| refused("NOT_FOUND", "tok_unknown"))).into_response()
}

async fn authorize(
    State(ward): State<Arc<Ward>>,
    headers: HeaderMap,
    Json(body): Json<AuthorizeRequest>,
) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    ward.authorize_calls.fetch_add(1, Ordering::SeqCst);
    ward.authorize_seen.lock().expect("lock").push(body);
    match ward.authorize_answer.lock().expect("lock").clone() {
        Some(answer) => Json(answer).into_response(),
        None => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn jwks(State(ward): State<Arc<Ward>>) -> Json<serde_json::Value> {
    ward.jwks_calls.fetch_add(1, Ordering::SeqCst);
    Json(ward.jwks.lock().expect("lock").clone())
}

async fn metadata(State(ward): State<Arc<Ward>>) -> Response {
    match ward.issuer.lock().expect("lock").clone() {
        Some(issuer) => Json(serde_json::json!({
            "issuer": issuer,
            "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
            "introspection_endpoint": "",
            "introspection_endpoint_auth_methods_supported": [],
            "revocation_endpoint": "",
            "revocation_endpoint_auth_methods_supported": [],
            "response_types_supported": [],
            "grant_types_supported": [],
            "scopes_supported": [],
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({"error": {"code": "not_configured", "message": "no issuer"}})),
        )
            .into_response(),
    }
}

async fn events(State(ward): State<Arc<Ward>>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let last = headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_owned);
    ward.subscriptions.lock().expect("lock").push(last);
    let Some(rx) = ward.frames.lock().expect("lock").as_ref().map(broadcast::Sender::subscribe) else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let first = futures_util::stream::once(async { Ok::<_, Infallible>(": subscribed\n\n".to_owned()) });
    let rest = futures_util::stream::unfold(rx, |mut rx| async move {
        match rx.recv().await {
            Ok(text) if !text.is_empty() => Some((Ok::<_, Infallible>(text), rx)),
            _ => None,
        }
    });
    let body = Body::from_stream(futures_util::StreamExt::chain(first, rest));
    ([("content-type", "text/event-stream")], body).into_response()
}

/// Waits (at most 10 s) until the Verifier's stream status satisfies `done`.
pub async fn until(verifier: &Verifier, done: impl Fn(&ward_client::StreamStatus) -> bool) {
    let mut status = verifier.stream_status();
    let got = matches!(
        tokio::time::timeout(Duration::from_secs(10), status.wait_for(|s| done(s))).await,
        Ok(Ok(_))
    );
    assert!(got, "the stream never got there: {:?}", verifier.stream_status().borrow().clone());
}

/// A well-formed opaque token (good checksum, so it reaches the fake),
/// different for each seed.
pub fn token(seed: char) -> String {
    struct Seeded(u64);
    impl ward_core::Entropy for Seeded {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                // splitmix64
                self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
                let mut z = self.0;
                z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                *b = (z ^ (z >> 31)).to_le_bytes()[0];
            }
        }
    }
    let prefix = ward_core::Prefix::parse("ward").expect("prefix");
    let mut entropy = Seeded(u64::from(seed));
    ward_core::PlainToken::generate(&prefix, TokenKind::Personal, &mut entropy).expose().to_owned()
}
