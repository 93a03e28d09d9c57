//! The Verifier's clock: the one place it reads the time.
//!
//! Two readings: the time of day (a token's `exp`, `nbf` and `expires_at`
//! are judged on it) and a monotonic count (how long ago the stream last
//! spoke, which must not jump when the wall clock is set). In production
//! both come from the system; tests build an adjustable clock
//! ([`Clock::adjustable`]) and move both forward with
//! [`ClockHand::advance`] instead of sleeping.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Where a [`crate::Verifier`] reads the time. Cheap to clone and to read.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Instant,
    /// How far an adjustable clock was moved, in nanoseconds.
    shift: Option<Arc<AtomicU64>>,
}

/// Moves an adjustable [`Clock`] (and every clone of it) forward.
#[derive(Debug, Clone)]
pub struct ClockHand {
    shift: Arc<AtomicU64>,
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { start: Instant::now(), shift: None }
    }

    /// The system clock plus an offset that [`ClockHand::advance`] grows:
    /// for tests that need the stream to go quiet for longer than the
    /// staleness bound, or a token to reach its end, without waiting.
    pub fn adjustable() -> (Self, ClockHand) {
        let shift = Arc::new(AtomicU64::new(0));
        (Self { start: Instant::now(), shift: Some(shift.clone()) }, ClockHand { shift })
    }

    fn shift(&self) -> Duration {
        self.shift.as_ref().map_or(Duration::ZERO, |s| Duration::from_nanos(s.load(Ordering::Acquire)))
    }

    /// The time of day.
    pub fn now(&self) -> DateTime<Utc> {
        #[expect(
            clippy::disallowed_methods,
            reason = "the Verifier's one clock: it judges tokens' exp and expires_at by the wall clock"
        )]
        let now = Utc::now();
        now + TimeDelta::from_std(self.shift()).unwrap_or(TimeDelta::zero())
    }

    /// The time of day in milliseconds since the epoch (the cache's unit).
    pub(crate) fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Monotonic milliseconds since this clock was made (never goes back).
    pub(crate) fn ticks_ms(&self) -> u64 {
        let elapsed = self.start.elapsed() + self.shift();
        u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX)
    }
}

impl ClockHand {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.shift.fetch_add(nanos, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_both_readings_of_every_clone() {
        let (clock, hand) = Clock::adjustable();
        let other = clock.clone();
        let (wall, ticks) = (clock.now(), clock.ticks_ms());
        hand.advance(Duration::from_secs(60));
        assert!(other.now() - wall >= TimeDelta::seconds(60));
        assert!(other.ticks_ms() - ticks >= 60_000);
    }
}
