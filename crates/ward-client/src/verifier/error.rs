//! Why the Verifier did not vouch for a token.
//!
//! Two families: the token is no good (a 401 with `error="invalid_token"`
//! to the caller), or the Verifier cannot answer safely right now (a 503:
//! its stream has been quiet past the staleness bound under
//! [`crate::OnStale::FailClosed`], or ward could not be asked). Messages
//! never carry the token.

use std::time::Duration;

/// Why a token was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a ward token: bad shape, checksum or signature.
    #[error("the token is malformed (bad shape, checksum or signature)")]
    Malformed,
    /// ward does not know it (or its signing key).
    #[error("the token is not known to ward")]
    NotFound,
    /// Past its end.
    #[error("the token has expired")]
    Expired,
    /// Revoked, deleted, its owner ended, or its signing key retired.
    #[error("the token has been revoked")]
    Revoked,
    /// A signed token used before its `nbf`.
    #[error("the token is not valid yet (nbf)")]
    NotYetValid,
    /// A signed token from another issuer.
    #[error("the token was issued by another issuer")]
    WrongIssuer,
    /// A signed token meant for another audience (or for one, when this
    /// service accepts only tokens minted without an audience).
    #[error("the token is meant for another audience")]
    WrongAudience,
    /// The revocation stream has been quiet longer than the staleness
    /// bound and the Verifier fails closed: try again shortly.
    #[error("cannot vouch for tokens: ward's revocation stream has been silent for {}s (staleness bound passed)", .quiet_for.as_secs())]
    Stale {
        /// How long since the stream last spoke (`None` if it never did).
        quiet_for: Duration,
    },
    /// ward had to be asked and could not answer (unreachable, or it
    /// refused the Verifier's own credential).
    #[error("cannot ask ward about the token: {reason}")]
    Unavailable {
        /// What went wrong; never the token.
        reason: String,
    },
}

impl VerifyError {
    /// Whether the token itself is at fault (answer 401), rather than the
    /// Verifier being unable to judge it (answer 503).
    pub fn is_invalid_token(&self) -> bool {
        !matches!(self, Self::Stale { .. } | Self::Unavailable { .. })
    }

    /// The refusal for one of `/v1/verify`'s codes (`None` for `VALID`).
    pub(crate) fn from_code(code: &str) -> Option<Self> {
        match code {
            "VALID" => None,
            "MALFORMED" => Some(Self::Malformed),
            "EXPIRED" => Some(Self::Expired),
            "REVOKED" => Some(Self::Revoked),
            _ => Some(Self::NotFound),
        }
    }
}
