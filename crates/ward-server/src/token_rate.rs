//! Per-token rate limits (`ward token create --rate 100/min`): fixed windows
//! of the rate's length per token, counted in memory on each node and
//! measured on the server's [`Clock`] so tests move it instead of sleeping.
//!
//! A use beyond the rate is refused with how long until the window ends
//! (HTTP 429 with `Retry-After`, by verify, authorize, forward auth and
//! every endpoint the token is a bearer of). Only tokens that carry a rate
//! enter the map; an unlimited token costs nothing here. With several
//! nodes each counts its own share: a token behind a load balancer over N
//! nodes may see up to N times its rate (docs/lifecycle.md).

use crate::clock::Clock;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;
use ward_core::TokenId;
use ward_core::limits::UseRate;

/// Tokens kept before the stale windows are swept.
const SWEEP_AT: usize = 100_000;

#[derive(Debug)]
pub struct TokenRates {
    clock: Clock,
    windows: Mutex<HashMap<TokenId, (Instant, u32)>>,
}

impl TokenRates {
    pub fn new(clock: Clock) -> Self {
        Self { clock, windows: Mutex::new(HashMap::new()) }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TokenId, (Instant, u32)>> {
        self.windows.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a use of `token` under `rate`; `Err(retry_after)` when its
    /// window is used up (whole seconds, at least one).
    pub fn check(&self, token: &TokenId, rate: UseRate) -> Result<(), u64> {
        let now = self.clock.instant();
        let window = rate.window();
        let mut windows = self.lock();
        if windows.len() >= SWEEP_AT {
            // The longest window is a day: anything older is over.
            windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(86_400));
        }
        let (start, count) = match windows.get_mut(token) {
            Some(entry) => entry,
            None => windows.entry(token.clone()).or_insert((now, 0)),
        };
        if now.duration_since(*start) >= window {
            *start = now;
            *count = 0;
        }
        if *count >= rate.count {
            let left = window.saturating_sub(now.duration_since(*start));
            return Err((left.as_secs() + u64::from(left.subsec_nanos() > 0)).max(1));
        }
        *count += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> TokenId {
        TokenId::generate(chrono::DateTime::UNIX_EPOCH, &mut crate::entropy::OsEntropy)
    }

    #[tokio::test]
    async fn a_token_gets_its_rate_per_window_and_others_are_not_affected() {
        let (clock, hand) = Clock::adjustable();
        let rates = TokenRates::new(clock);
        let rate: UseRate = "3/min".parse().expect("rate");
        let (a, b) = (id(), id());
        for _ in 0..3 {
            assert_eq!(rates.check(&a, rate), Ok(()));
        }
        assert_eq!(rates.check(&a, rate), Err(60));
        hand.advance(Duration::from_millis(59_500));
        assert_eq!(rates.check(&a, rate), Err(1), "half a second left is one second to wait");
        assert_eq!(rates.check(&b, rate), Ok(()));
        hand.advance(Duration::from_millis(500));
        assert_eq!(rates.check(&a, rate), Ok(()));
    }
}
