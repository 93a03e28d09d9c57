//! The Rust SDK for ward: a typed HTTP client for its API, and a
//! [`Verifier`] that checks ward tokens inside your service.
//!
//! - [`Client`]: one async method per endpoint, returning the `ward-api`
//!   wire types. Errors keep what the server said (`status`, `code`,
//!   `message`) and say which URL could not be reached when there was no
//!   answer at all.
//! - [`Verifier`]: opaque tokens verified through ward once and then
//!   answered from a bounded in-process cache; signed (JWT) tokens checked
//!   offline against the cached JWKS; both evicted the moment ward's
//!   revocation stream (`GET /v1/events`) says they ended, and not trusted
//!   at all once that stream has been silent longer than a bound you
//!   choose ([`OnStale`]). See [`verifier`].
//! - With the `axum` feature, `ward_client::layer`: a tower layer that
//!   authenticates every request, route layers `RequireScopes` and
//!   `RequireOperation`, and [`Principal`] as an extractor.
//!
//! Secrets policy: the bearer token lives in a zeroized buffer, is sent in a
//! header marked sensitive, and never appears in `Debug` output or in any
//! [`Error`]. Bodies that carry secrets (login, verify, created tokens) are
//! never quoted back in errors either. The Verifier keys its cache by
//! SHA-256 of each token and never stores a token.
//!
//! ```no_run
//! use std::time::Duration;
//! use ward_client::{Client, OnStale, Verifier};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // The service's own credential: a token that holds `ward:introspect`.
//! let client = Client::new("http://127.0.0.1:8420", Some(std::env::var("WARD_TOKEN")?))?;
//! let verifier = Verifier::builder(client)
//!     .staleness(Duration::from_secs(15))
//!     .on_stale(OnStale::FailClosed)
//!     .start();
//! verifier.subscribed(Duration::from_secs(5)).await;
//!
//! let presented = "ward_p_…"; // from the request's Authorization header
//! match verifier.verify(presented).await {
//!     Ok(principal) => println!("{} may read stacks: {}", principal.subject(), principal.has_scope("read:stacks")),
//!     Err(refused) if refused.is_invalid_token() => println!("401: {refused}"),
//!     Err(unavailable) => println!("503: {unavailable}"),
//! }
//! # Ok(()) }
//! ```

mod agents;
mod audit;
mod client;
mod error;
#[cfg(feature = "axum")]
pub mod layer;
mod password;
mod session;
mod tokens;
mod users;
pub mod verifier;

pub use client::{Client, DEFAULT_SERVER, Transport};
pub use error::Error;
pub use verifier::{OnStale, Principal, Stats, StreamStatus, Verifier, VerifierBuilder, VerifyError};
