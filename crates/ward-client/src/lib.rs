//! A typed async client for ward's HTTP API.
//!
//! One method per endpoint, each returning the `ward-api` wire types. Errors
//! keep what the server said (`status`, `code`, `message`) so callers can
//! match on them, and say which URL could not be reached when there was no
//! answer at all.
//!
//! Secrets policy: the bearer token lives in a zeroized buffer, is sent in a
//! header marked sensitive, and never appears in `Debug` output or in any
//! [`Error`]. Bodies that carry secrets (login, verify, created tokens) are
//! never quoted back in errors either.
//!
//! ```no_run
//! # async fn demo() -> Result<(), ward_client::Error> {
//! let client = ward_client::Client::new("http://127.0.0.1:8420", Some("ward_u_…".into()))?;
//! let me = client.whoami().await?;
//! println!("{}", me.username);
//! # Ok(()) }
//! ```

mod agents;
mod audit;
mod client;
mod error;
mod password;
mod session;
mod tokens;
mod users;

pub use client::{Client, DEFAULT_SERVER, Transport};
pub use error::Error;
