//! ward's local credential store: where the people and machines that hold
//! tokens keep them.
//!
//! - [`entry`]: what is stored (`namespace/name`, type, provider, expiry,
//!   metadata, and the secret);
//! - [`backend`]: the [`SecretBackend`] trait, one module per backend (OS
//!   keyring, age-encrypted file, Vault/OpenBao KV v2), and [`SecretStore`], which
//!   adds the cross-process lock ([`lock`]) and OAuth refresh ([`oauth`]);
//! - [`config`] and [`open`]: profiles, and which backend a profile uses;
//! - [`template`]: `${TOKEN:namespace:name}` references;
//! - [`git`] and [`docker`]: the credential-helper protocols.
//!
//! Nothing here prints or logs a secret: secrets are [`SecretString`]s,
//! whose `Debug` is redacted and whose memory is zeroed on drop.

#![expect(
    clippy::disallowed_methods,
    reason = "the holder's machine has no server clock: expiry of stored entries and OAuth refresh read the wall clock"
)]

pub mod atomic;
pub mod backend;
pub mod config;
pub mod docker;
pub mod entry;
pub mod error;
pub mod git;
pub mod http;
pub mod lock;
pub mod oauth;
pub mod open;
pub mod secret;
pub mod template;

pub use backend::{BackendKind, Refresher, SecretBackend, SecretStore};
pub use entry::{Entry, EntryId, EntryMeta, Kind, SecretValue};
pub use error::{Error, Result};
pub use secret::SecretString;
