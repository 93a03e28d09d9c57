//! The Verifier and the tower layer against a fake ward (`fake.rs`) whose
//! revocation stream sends exactly what each test pushes: caching,
//! eviction by every event kind, the race between a verify and an
//! eviction, the staleness bound (on a clock the tests move), reconnection
//! with `Last-Event-ID`, signed tokens and the JWKS, and the layer's
//! 401/403/503 answers. The same behaviour against real ward nodes on
//! PostgreSQL is `examples/resource-server/tests/e2e.rs`.

mod fake;
// `cargo test -p ward-client --features axum`
#[cfg(feature = "axum")]
mod layer;
mod opaque;
mod signed;
mod stale;
