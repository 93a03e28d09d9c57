//! A per-address request limit for endpoints that take no credential of
//! the caller (`POST /oauth/revoke`: possession of the token is enough, so
//! guessing is limited here instead). Fixed one-minute windows per client
//! address, measured on the server's [`Clock`] so tests move it.
//!
//! The login throttle (`crate::throttle`) is another thing: it counts
//! failures per username and address and locks out; this counts every
//! call and only slows an address down to its rate.

use crate::clock::Clock;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// The window a rate is counted over.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses kept before the stale ones are swept.
const SWEEP_AT: usize = 10_000;

/// Calls per address per [`WINDOW`].
#[derive(Debug)]
pub struct RateLimit {
    per_window: u32,
    clock: Clock,
    windows: Mutex<HashMap<Option<IpAddr>, (Instant, u32)>>,
}

impl RateLimit {
    pub fn new(per_window: u32, clock: Clock) -> Self {
        Self { per_window, clock, windows: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Option<IpAddr>, (Instant, u32)>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a call from `client`; `Err(retry_after)` when the address has
    /// used up its window. Calls with no known address share one window.
    pub fn check(&self, client: Option<IpAddr>) -> Result<(), Duration> {
        let now = self.clock.instant();
        let mut windows = self.lock();
        if windows.len() >= SWEEP_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
        }
        let (start, count) = windows.entry(client).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        if *count >= self.per_window {
            return Err(WINDOW.saturating_sub(now.duration_since(*start)).max(Duration::from_secs(1)));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_address_gets_its_rate_per_window_and_others_are_not_affected() {
        let (clock, hand) = Clock::adjustable();
        let limit = RateLimit::new(2, clock);
        let a = Some(IpAddr::from([192, 0, 2, 1]));
        let b = Some(IpAddr::from([192, 0, 2, 2]));
        assert!(limit.check(a).is_ok() && limit.check(a).is_ok());
        let retry = limit.check(a).err();
        assert!(retry.is_some_and(|r| r <= WINDOW && r >= Duration::from_secs(1)), "{retry:?}");
        assert!(limit.check(b).is_ok());
        hand.advance(WINDOW);
        assert!(limit.check(a).is_ok());
    }
}
