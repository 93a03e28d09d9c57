//! The server's clock: the one place that reads the wall clock.
//!
//! Every decision that depends on time (is a token expired, did a lockout
//! pass, is a cache entry still fresh, when did an audit event happen) reads
//! [`Clock`], which [`crate::AppState`] holds and hands to the parts that
//! need it. `clippy.toml` bans `Utc::now` and `SystemTime::now` everywhere
//! else, so a new decision cannot read the wall clock by accident.
//!
//! In production it is the system clock. Tests build an adjustable one
//! ([`Clock::adjustable`]): the system clock plus an offset that only grows,
//! moved with [`ClockHand::advance`]. Time keeps flowing as it does in
//! production, so ids and times stay ordered from one request to the next,
//! and a test that needs an hour to pass moves the clock instead of sleeping.
//!
//! What stays on tokio's timers, because it schedules work rather than
//! judges time: the usage flush and audit writer intervals (they must fire
//! in real time for anything to be written), the audit writer's retry
//! backoff and shutdown grace (pauses between attempts on a failing
//! database), the login slow-down sleep (a real delay), and the webhook and
//! flush timeouts.

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// Where the server reads the time. Cheap to clone and to read.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// How far an adjustable clock was moved, in nanoseconds; `None` for
    /// the system clock.
    shift: Option<Arc<AtomicU64>>,
}

/// Moves an adjustable [`Clock`] (and every clone of it) forward.
#[derive(Debug, Clone)]
pub struct ClockHand {
    shift: Arc<AtomicU64>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self { shift: None }
    }

    /// A clock that reads the system clock plus an offset that
    /// [`ClockHand::advance`] grows: for tests.
    pub fn adjustable() -> (Self, ClockHand) {
        let shift = Arc::new(AtomicU64::new(0));
        (Self { shift: Some(shift.clone()) }, ClockHand { shift })
    }

    fn shift(&self) -> Duration {
        self.shift.as_ref().map_or(Duration::ZERO, |s| Duration::from_nanos(s.load(Ordering::Acquire)))
    }

    /// The time of day, in whole milliseconds: the precision the store
    /// keeps, so a time read back equals the time written.
    pub fn now(&self) -> DateTime<Utc> {
        #[expect(clippy::disallowed_methods, reason = "the one place that reads the wall clock")]
        let wall = Utc::now();
        let shifted = match self.shift() {
            Duration::ZERO => wall,
            shift => wall + TimeDelta::from_std(shift).unwrap_or(TimeDelta::MAX),
        };
        shifted.trunc_subsecs(3)
    }

    /// A monotonic reading, for ages and windows (cache freshness, login
    /// lockouts): moved by [`ClockHand::advance`] like [`Clock::now`], and
    /// by `tokio::time::advance` in tests that pause tokio's clock.
    pub fn instant(&self) -> Instant {
        Instant::now() + self.shift()
    }
}

impl ClockHand {
    /// Moves the clock forward by `by`: every later reading of [`Clock::now`]
    /// and [`Clock::instant`] is that much later.
    pub fn advance(&self, by: Duration) {
        let nanos = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        self.shift.fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| Some(s.saturating_add(nanos))).ok();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_reads_whole_milliseconds() {
        let now = Clock::system().now();
        assert_eq!(now, now.trunc_subsecs(3));
    }

    #[test]
    fn an_advanced_clock_is_later_by_the_step_and_its_clones_follow() {
        let (clock, hand) = Clock::adjustable();
        let copy = clock.clone();
        let (before, at) = (clock.now(), clock.instant());
        hand.advance(Duration::from_secs(3_600));
        let (after, later) = (copy.now(), copy.instant());
        assert!(after - before >= TimeDelta::hours(1), "{before} → {after}");
        assert!(after - before < TimeDelta::hours(1) + TimeDelta::seconds(5), "{before} → {after}");
        assert!(later - at >= Duration::from_secs(3_600));
        assert!(Clock::system().now() < after - TimeDelta::minutes(59), "the system clock did not move");
    }
}
