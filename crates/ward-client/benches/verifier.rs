//! `cargo bench -p ward-client`: the in-process verify, cache hit, opaque
//! and signed (target: p50 ≤ 300 ns each), against a baseline measured in
//! the same run — the SHA-256 the cache key needs (the opaque token; a
//! signed token's signature segment), the least a hit must do.
//!
//! A tiny fake ward on a loopback port answers the first verify of each
//! token and keeps the revocation stream alive, so the Verifier is fresh
//! and every timed call is a hit. Calls are timed in batches of 64 (one
//! clock read per batch); p50/p99 are of the per-call mean of each batch.

use axum::routing::{get, post};
use axum::{Json, Router};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use std::convert::Infallible;
use std::hint::black_box;
use std::time::{Duration, Instant};
use ward_client::{Client, Verifier};

const BATCH: u32 = 64;
const BATCHES: usize = 20_000;

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let key = SigningKey::from_bytes(&[5; 32]);
    let url = fake(ward_core::signed::jwk("key_bench", &key.verifying_key())).await;
    let client = Client::new(&url, Some("ward_s_bench".into())).expect("client");
    let verifier = Verifier::builder(client).issuer("ward").start();
    assert!(verifier.subscribed(Duration::from_secs(10)).await, "the fake stream answers");

    let opaque = opaque_token();
    #[expect(clippy::disallowed_methods, reason = "the bench mints a token valid for an hour from now")]
    let now = chrono::Utc::now().timestamp();
    let claims = ward_core::signed::Claims {
        iss: "ward".into(),
        sub: "bench-agent".into(),
        scope: "system:read container:read".into(),
        exp: now + 3600,
        iat: now,
        jti: "tok_bench".into(),
        aud: None,
    };
    let signed = ward_core::signed::encode("key_bench", &claims, &key);
    verifier.verify(&opaque).await.expect("the fake vouches for it");
    verifier.verify(&signed).await.expect("the fake vouches for it");
    let calls = verifier.stats().verify_calls;

    let base_opaque = measure(|| async { black_box(Sha256::digest(black_box(opaque.as_bytes()))) }).await;
    // A signed token is keyed by SHA-256 of its signature segment (86 B).
    let signature = signed.rsplit('.').next().unwrap_or_default();
    let base_signed = measure(|| async { black_box(Sha256::digest(black_box(signature.as_bytes()))) }).await;
    let hit_opaque = measure(|| async { black_box(verifier.verify(black_box(&opaque)).await.is_ok()) }).await;
    let hit_signed = measure(|| async { black_box(verifier.verify(black_box(&signed)).await.is_ok()) }).await;
    assert_eq!(verifier.stats().verify_calls, calls, "every timed call was a cache hit");

    println!("in-process verify, cache hit ({} calls each, batches of {BATCH})", BATCHES * BATCH as usize);
    println!("| case | p50 ns | p99 ns | baseline SHA-256 p50 ns | ratio p50/baseline | target |");
    println!("|---|---|---|---|---|---|");
    row("opaque (ward_p_…, 45 B)", hit_opaque, base_opaque);
    row(
        &format!("signed (JWT, {} B; key: its {} B signature)", signed.len(), signature.len()),
        hit_signed,
        base_signed,
    );
}

fn row(name: &str, hit: (f64, f64), base: (f64, f64)) {
    let verdict = if hit.0 <= 300.0 { "≤ 300 ns: met" } else { "≤ 300 ns: MISSED" };
    println!("| {name} | {:.0} | {:.0} | {:.0} | {:.2} | {verdict} |", hit.0, hit.1, base.0, hit.0 / base.0);
}

/// (p50, p99) nanoseconds per call.
async fn measure<F, Fut, T>(mut f: F) -> (f64, f64)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    for _ in 0..10_000 {
        black_box(f().await);
    }
    let mut per_call = Vec::with_capacity(BATCHES);
    for _ in 0..BATCHES {
        let start = Instant::now();
        for _ in 0..BATCH {
            black_box(f().await);
        }
        per_call.push(start.elapsed().as_secs_f64() * 1e9 / f64::from(BATCH));
    }
    per_call.sort_by(f64::total_cmp);
    (per_call[per_call.len() / 2], per_call[per_call.len() * 99 / 100])
}

/// A well-formed pipeline token (its checksum is right).
fn opaque_token() -> String {
    struct Fixed;
    impl ward_core::Entropy for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            for (i, b) in buf.iter_mut().enumerate() {
                *b = u8::try_from(i % 62).unwrap_or(0);
            }
        }
    }
    let prefix = ward_core::Prefix::parse("ward").expect("prefix");
    ward_core::PlainToken::generate(&prefix, ward_core::TokenKind::Pipeline, &mut Fixed).expose().to_owned()
}

/// A fake ward: every token is VALID, the JWKS holds `jwk`, and the stream
/// sends a heartbeat every second.
async fn fake(jwk: serde_json::Value) -> String {
    let router = Router::new()
        .route(
            "/v1/verify",
            post(|Json(body): Json<serde_json::Value>| async move {
                // One id per token: a signed token's is its jti.
                let signed = body["token"].as_str().is_some_and(ward_core::signed::looks_like_jwt);
                let id = if signed { "tok_bench" } else { "tok_bench_opaque" };
                Json(serde_json::json!({
                    "valid": true, "code": "VALID", "token_id": id, "type": "pipeline",
                    "user": "bench", "scopes": ["read:stacks"], "expires_at": null
                }))
            }),
        )
        .route("/.well-known/jwks.json", get(move || async move { Json(serde_json::json!({"keys": [jwk]})) }))
        .route(
            "/v1/events",
            get(|| async {
                let beats = futures_util::stream::unfold(true, |first| async move {
                    if !first {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    Some((Ok::<_, Infallible>(": heartbeat\n\n"), false))
                });
                ([("content-type", "text/event-stream")], axum::body::Body::from_stream(beats))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, router).await });
    url
}
