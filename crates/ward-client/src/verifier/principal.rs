//! [`Principal`]: who a verified token speaks for, as the Verifier hands it
//! to the service (and the tower layer puts it in request extensions).

use chrono::{DateTime, Utc};
use std::fmt;
use std::sync::Arc;
use ward_api::TokenKind;

/// The verified caller: subject, token id, effective scopes. Cheap to
/// clone (one reference count); never holds the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal(Arc<Inner>);

#[derive(PartialEq, Eq)]
struct Inner {
    subject: String,
    token_id: String,
    kind: Option<TokenKind>,
    scopes: Vec<String>,
    expires_at: Option<DateTime<Utc>>,
}

impl Principal {
    pub(crate) fn new(
        subject: String,
        token_id: String,
        kind: Option<TokenKind>,
        scopes: Vec<String>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self(Arc::new(Inner { subject, token_id, kind, scopes, expires_at }))
    }

    /// The owner's name, or the agent's for a signed agent token.
    pub fn subject(&self) -> &str {
        &self.0.subject
    }

    /// The token's public id, `tok_…` (a signed token's `jti`).
    pub fn token_id(&self) -> &str {
        &self.0.token_id
    }

    /// What kind of token it is (`agent` for a signed one), when ward said.
    pub fn kind(&self) -> Option<TokenKind> {
        self.0.kind
    }

    /// The token's effective scopes, as ward computed them (meta-scopes
    /// expanded, cut to what its owner may hold).
    pub fn scopes(&self) -> &[String] {
        &self.0.scopes
    }

    /// Whether the token holds `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.0.scopes.iter().any(|s| s == scope)
    }

    /// When the token ends, if it does.
    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("subject", &self.0.subject)
            .field("token_id", &self.0.token_id)
            .field("scopes", &self.0.scopes)
            .finish_non_exhaustive()
    }
}
