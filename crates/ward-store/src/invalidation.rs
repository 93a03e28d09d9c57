//! Changes that make cached verdicts stale, published by the node that made
//! them and heard by every node of a deployment (PostgreSQL LISTEN/NOTIFY).
//! A single-node SQLite deployment has no one else to tell.

use ward_core::{TokenId, UserId};

/// What a node must forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// One token was revoked, deleted or ended by rotation.
    Token(TokenId),
    /// Every token of a user changed (revoke-tokens, user deleted).
    User(UserId),
    /// Signing keys changed (rotated or retired).
    Keys,
    /// Notifications may have been missed (the listener reconnected): forget
    /// everything.
    Resync,
}

impl Invalidation {
    /// The NOTIFY payload.
    pub fn payload(&self) -> String {
        match self {
            Invalidation::Token(id) => format!("token:{id}"),
            Invalidation::User(id) => format!("user:{id}"),
            Invalidation::Keys => "keys".to_owned(),
            Invalidation::Resync => "resync".to_owned(),
        }
    }

    /// Parses a payload; anything unknown means "forget everything".
    pub fn parse(payload: &str) -> Self {
        if let Some(id) = payload.strip_prefix("token:").and_then(|s| TokenId::parse(s).ok()) {
            return Invalidation::Token(id);
        }
        if let Some(id) = payload.strip_prefix("user:").and_then(|s| UserId::parse(s).ok()) {
            return Invalidation::User(id);
        }
        if payload == "keys" { Invalidation::Keys } else { Invalidation::Resync }
    }
}
