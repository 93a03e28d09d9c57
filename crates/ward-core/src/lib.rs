//! ward's domain, with no I/O: the token format, public ids, token kinds,
//! scopes and meta-scopes, roles, the rules that decide who may do what, and
//! durations.
//!
//! Time and randomness are passed in (`now`, [`Entropy`]) so that every
//! function here is deterministic under test.

pub mod agent_rules;
pub mod audit;
pub mod base62;
pub mod duration;
pub mod grant;
pub mod id;
pub mod keyed;
pub mod leak;
pub mod lifetime;
pub mod limits;
pub mod names;
pub mod notice;
pub mod operation;
pub mod plain_http;
pub mod policy;
pub mod scope;
pub mod signed;
pub mod status;
pub mod token;

pub use duration::Ttl;
pub use id::{EventId, TokenId, UserId};
pub use names::{Password, TokenName, Username};
pub use policy::{Caller, Denied, Principal, PrincipalKind, Role};
pub use scope::{Risk, Scope, ScopeCatalog, ScopeSet, UnknownScopes};
pub use status::{ApprovalStatus, KeyStatus, TokenStatus};
pub use token::{Entropy, PlainToken, Prefix, TokenHash, TokenKind};
