//! The credential a new one is issued via must still be live when the new
//! one is inserted: a token (or login session) not revoked and not
//! expired, or an agent token not revoked and not expired.
//!
//! Every write of the process holds the write gate (`commit.rs`), so an
//! insert guarded by [`live`] and a revocation never interleave: either the
//! revocation comes first and the insert is refused, or the insert comes
//! first and the revocation (or its cascade) finds the new token.

/// A condition that holds when the credential whose id is `via` (a
/// placeholder or column; NULL means nothing to check) is live at `now`
/// (milliseconds).
pub(super) fn live(via: &str, now: &str) -> String {
    format!(
        "({via} IS NULL
          OR EXISTS (SELECT 1 FROM tokens WHERE id = {via} AND revoked_at IS NULL
                         AND (expires_at IS NULL OR expires_at > {now}))
          OR EXISTS (SELECT 1 FROM minted_tokens WHERE jti = {via} AND revoked_at IS NULL
                         AND expires_at > {now}))"
    )
}
