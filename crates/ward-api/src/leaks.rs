//! `POST /v1/leaks`: tokens found where they should not be (`ward scan
//! --revoke`), reported by whoever holds them. `Debug` never shows a token.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The most tokens one report may carry.
pub const MAX_LEAKS: usize = 100;

/// A report of leaked tokens.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeakReport {
    /// 1 to 100 tokens.
    #[schema(min_items = 1, max_items = 100)]
    pub leaks: Vec<Leak>,
}

/// One leaked token and where it was found.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Leak {
    pub token: String,
    /// Where it was found, e.g. `src/config.rs:12 (commit 1a2b3c4)`; kept in
    /// the audit trail (at most 1024 bytes).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_text")]
    #[schema(max_length = 1024)]
    pub location: Option<String>,
}

impl std::fmt::Debug for Leak {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leak").field("token", &"***").field("location", &self.location).finish()
    }
}

/// What became of each reported token, in the order reported.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LeakResults {
    pub results: Vec<LeakResult>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeakResult {
    /// The display start of the token, e.g. `ward_p_Ab3x`; absent for a
    /// string that is not a well-formed token.
    pub display: Option<String>,
    pub outcome: LeakOutcome,
}

/// `revoked` (now), `already_ended` (revoked or expired before), or
/// `unknown` (not a token of this server, or not a token at all).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeakOutcome {
    Revoked,
    AlreadyEnded,
    Unknown,
}
