//! The rotate-once rule (`ward_core::grant::rotatable`) as each backend asks
//! it inside its rotating transaction, on the columns it has just read under
//! lock: only an active token with no successor is rotated, so of two
//! concurrent rotations of one token the second answers `Conflict` naming
//! the successor the first created.

use crate::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use ward_core::TokenId;
use ward_core::grant::{RotationState, rotatable};

/// `Ok` when `old` may be rotated at `now`; otherwise `Conflict` with the
/// message the API shows. Times are the stored milliseconds.
pub(crate) fn check(
    old: &TokenId,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    successor: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let successor = successor
        .map(|s| {
            TokenId::parse(s).map_err(|_| StoreError::Corrupt(format!("token id '{s}' in rotated_from")))
        })
        .transpose()?;
    let state = RotationState {
        id: old,
        expires_at: expires_at.map(|ms| time(old, ms)).transpose()?,
        revoked_at: revoked_at.map(|ms| time(old, ms)).transpose()?,
        successor: successor.as_ref(),
    };
    rotatable(state, now).map_err(|refused| StoreError::Conflict(refused.to_string()))
}

fn time(id: &TokenId, ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("time {ms} of token {id}")))
}
