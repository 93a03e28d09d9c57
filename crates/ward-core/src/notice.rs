//! When an expiry notice is due: the points before a token's end at which
//! its owner is told (7 days and 1 day by default, like GitLab).
//!
//! Each point `p` owns a window: from `expires_at - p` until the next
//! (smaller) point's start, or until the token ends. A notice for `p` is
//! due while `now` is inside that window, and only when the token existed
//! at the window's start (a token created with two days to live gets the
//! 1-day notice, not the 7-day one). A window missed entirely (the server
//! was down through it) is not sent late: the next point speaks instead.
//! The store's due-notice query states the same rule in SQL with the
//! bounds [`NoticePoints::windows`] gives.

use chrono::{DateTime, Duration, Utc};

/// The points before expiry, longest first, without repeats. Never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePoints(Vec<Duration>);

/// One point and the start of the next (zero for the last).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub point: Duration,
    pub next: Duration,
}

impl NoticePoints {
    /// Points sorted longest first; `None` when none is positive.
    pub fn new(points: impl IntoIterator<Item = Duration>) -> Option<Self> {
        let mut points: Vec<Duration> = points.into_iter().filter(|p| *p > Duration::zero()).collect();
        points.sort_by(|a, b| b.cmp(a));
        points.dedup();
        (!points.is_empty()).then_some(Self(points))
    }

    /// 7 days and 1 day.
    pub fn standard() -> Self {
        Self(vec![Duration::days(7), Duration::days(1)])
    }

    pub fn points(&self) -> &[Duration] {
        &self.0
    }

    /// Each point with the next one's start.
    pub fn windows(&self) -> impl Iterator<Item = Window> + '_ {
        self.0.iter().enumerate().map(|(i, p)| Window {
            point: *p,
            next: self.0.get(i + 1).copied().unwrap_or_else(Duration::zero),
        })
    }

    /// The point whose notice is due at `now` for a token created at
    /// `created_at` that ends at `expires_at`, if any.
    pub fn due(
        &self,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Duration> {
        self.windows().find(|w| w.contains(created_at, expires_at, now)).map(|w| w.point)
    }
}

impl Window {
    /// Whether a notice for this point is due at `now`.
    pub fn contains(&self, created_at: DateTime<Utc>, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        let start = expires_at - self.point;
        created_at <= start && start <= now && now < expires_at - self.next
    }
}

/// How long a notice whose send failed waits before its `attempt + 1`-th
/// try: 10 s, doubling, at most an hour.
pub fn retry_delay(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(9);
    (Duration::seconds(10) * (1_i32 << doublings)).min(Duration::hours(1))
}

/// A point as the config writes it: `7d`, `1d12h`, or `1500ms` when it is
/// not whole seconds.
pub fn point_text(point: Duration) -> String {
    if point.num_milliseconds() % 1000 == 0 {
        crate::Ttl::seconds(point.num_seconds())
            .map_or_else(|_| format!("{}ms", point.num_milliseconds()), |t| t.to_string())
    } else {
        format!("{}ms", point.num_milliseconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap_or_default()
    }

    #[test]
    fn points_are_sorted_longest_first_without_repeats_or_zero() {
        let p =
            NoticePoints::new([Duration::days(1), Duration::days(7), Duration::days(1), Duration::zero()]);
        assert_eq!(p.map(|p| p.points().to_vec()), Some(vec![Duration::days(7), Duration::days(1)]));
        assert_eq!(NoticePoints::new([Duration::zero()]), None);
    }

    #[test]
    fn each_point_is_due_only_inside_its_window() {
        let p = NoticePoints::new([Duration::milliseconds(1500), Duration::milliseconds(500)])
            .unwrap_or_else(NoticePoints::standard);
        let (created, end) = (t0(), t0() + Duration::seconds(2));
        let at = |ms| p.due(created, end, t0() + Duration::milliseconds(ms));
        assert_eq!(at(0), None);
        assert_eq!(at(499), None);
        assert_eq!(at(500), Some(Duration::milliseconds(1500)));
        assert_eq!(at(1499), Some(Duration::milliseconds(1500)));
        assert_eq!(at(1500), Some(Duration::milliseconds(500)));
        assert_eq!(at(1999), Some(Duration::milliseconds(500)));
        assert_eq!(at(2000), None, "an ended token gets no notice");
    }

    #[test]
    fn retries_back_off_from_ten_seconds_to_an_hour() {
        assert_eq!(retry_delay(1), Duration::seconds(10));
        assert_eq!(retry_delay(2), Duration::seconds(20));
        assert_eq!(retry_delay(4), Duration::seconds(80));
        assert_eq!(retry_delay(40), Duration::hours(1));
        assert_eq!(point_text(Duration::days(7)), "7d");
        assert_eq!(point_text(Duration::milliseconds(1500)), "1500ms");
    }

    #[test]
    fn a_token_younger_than_a_point_skips_it() {
        let p = NoticePoints::standard();
        let created = t0();
        let end = created + Duration::days(2);
        assert_eq!(p.due(created, end, created), None);
        assert_eq!(p.due(created, end, created + Duration::days(1)), Some(Duration::days(1)));
    }
}
