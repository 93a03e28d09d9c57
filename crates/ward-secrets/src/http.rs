//! The blocking HTTP client shared by the Vault backend and OAuth refresh:
//! a timeout on every call, HTTP error statuses returned as responses so
//! callers can read the server's error body.

use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(15);

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(TIMEOUT)).http_status_as_error(false).build().into()
}
