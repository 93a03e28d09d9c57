//! The blocking HTTP client shared by the Vault backend and OAuth refresh:
//! a timeout on every call, HTTP error statuses returned as responses so
//! callers can read the server's error body, and the plain-http rule
//! ([`check_url`]): secrets go over `http://` only to this machine unless
//! the process allowed it ([`allow_plain_http`], the CLI's `--allow-http`).

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(15);

static PLAIN_HTTP_ALLOWED: AtomicBool = AtomicBool::new(false);

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        // A redirect's target was never judged by the plain-http rule.
        .max_redirects(0)
        .build()
        .into()
}

/// Allows (or forbids again) plain `http://` to hosts that are not this
/// machine, for every Vault and OAuth call this process makes.
pub fn allow_plain_http(allowed: bool) {
    PLAIN_HTTP_ALLOWED.store(allowed, Ordering::Relaxed);
}

/// Checks `url` before anything is sent to it: it must parse, and plain
/// `http://` must go to a loopback host unless [`allow_plain_http`] was
/// called. The host is the one ureq's own parser finds.
pub fn check_url(url: &str) -> Result<()> {
    let shown: String = url.chars().take(200).collect();
    let uri: ureq::http::Uri = url.parse().map_err(|_| Error::Invalid(format!("'{shown}' is not a URL")))?;
    let scheme = uri.scheme_str().unwrap_or_default();
    let host = uri.host().unwrap_or_default();
    ward_core::plain_http::check(scheme, host, PLAIN_HTTP_ALLOWED.load(Ordering::Relaxed)).map_err(|e| {
        Error::Invalid(format!(
            "{e} (the URL was {shown}); pass --allow-http if the network in between is trusted"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_goes_only_to_this_machine() {
        let err =
            check_url("http://10.1.2.3:8200/v1/secret").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("10.1.2.3") && err.contains("--allow-http"), "{err}");
        for fine in ["http://127.0.0.1:8200", "http://localhost/token", "https://vault.example.com"] {
            assert!(check_url(fine).is_ok(), "{fine}");
        }
    }
}
