//! `GET /v1/events`: who may open the revocation stream, and where it
//! starts (`crate::events`).

use crate::error::{ApiError, ApiResult};
use crate::events::hub::Subscription;
use crate::state::AppState;
use ward_core::Caller;
use ward_core::policy::SCOPE_INTROSPECT;

/// Opens a subscription for `caller`: `ward:introspect` first (what the
/// stream tells is what `/v1/verify` would), then one of the node's
/// `[events] max_subscribers` slots (503 beyond it), resuming after
/// `last_event_id` when this node can.
pub fn subscribe(state: &AppState, caller: &Caller, last_event_id: Option<&str>) -> ApiResult<Subscription> {
    caller.require(SCOPE_INTROSPECT)?;
    state
        .events
        .subscribe(last_event_id)
        .ok_or(ApiError::TooManySubscribers { max: state.settings.events.max_subscribers })
}
