//! Human durations: `30d`, `2h`, `1h30m`, `90s`, `1w`.

use chrono::Duration;
use std::fmt;

/// A positive duration parsed from a string such as `2h` or `1d12h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ttl(Duration);

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration '{input}': {reason} (use a number and a unit, e.g. 90s, 15m, 2h, 30d, 1w or 1h30m)"
)]
pub struct InvalidDuration {
    input: String,
    reason: &'static str,
}

impl Ttl {
    /// The longest duration accepted anywhere: 100 years.
    const MAX_SECONDS: i64 = 100 * 365 * 24 * 3600;

    /// Parses `2h`, `30d`, `1h30m`. Units: `s`, `m`, `h`, `d`, `w`.
    pub fn parse(input: &str) -> Result<Self, InvalidDuration> {
        let fail = |reason| InvalidDuration { input: input.chars().take(40).collect(), reason };
        let text = input.trim();
        if text.is_empty() {
            return Err(fail("it is empty"));
        }
        let mut total: i64 = 0;
        let mut number: Option<i64> = None;
        for c in text.chars() {
            if let Some(d) = c.to_digit(10) {
                let n = number.unwrap_or(0);
                number = Some(
                    n.checked_mul(10)
                        .and_then(|n| n.checked_add(i64::from(d)))
                        .ok_or_else(|| fail("it is too large"))?,
                );
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 604_800,
                _ => return Err(fail("unknown unit")),
            };
            let n = number.take().ok_or_else(|| fail("a unit needs a number before it"))?;
            total = n
                .checked_mul(unit)
                .and_then(|s| total.checked_add(s))
                .ok_or_else(|| fail("it is too large"))?;
        }
        if number.is_some() {
            return Err(fail("the last number has no unit"));
        }
        if total == 0 {
            return Err(fail("it must be longer than zero"));
        }
        if total > Self::MAX_SECONDS {
            return Err(fail("it is longer than 100 years"));
        }
        Ok(Self(Duration::seconds(total)))
    }

    /// A whole number of days, as `--expires-in DAYS` gives.
    pub fn days(days: u32) -> Result<Self, InvalidDuration> {
        Self::parse(&format!("{days}d"))
    }

    /// A duration of whole seconds; zero or less is refused.
    pub fn seconds(seconds: i64) -> Result<Self, InvalidDuration> {
        Self::parse(&format!("{seconds}s"))
    }

    pub fn as_duration(self) -> Duration {
        self.0
    }
}

impl fmt::Display for Ttl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0.num_seconds();
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_single_and_combined_units() {
        assert_eq!(Ttl::parse("2h").map(Ttl::as_duration), Ok(Duration::hours(2)));
        assert_eq!(Ttl::parse("30d").map(Ttl::as_duration), Ok(Duration::days(30)));
        assert_eq!(Ttl::parse("1h30m").map(Ttl::as_duration), Ok(Duration::minutes(90)));
        assert_eq!(Ttl::parse("1w").map(Ttl::as_duration), Ok(Duration::days(7)));
    }

    #[test]
    fn refuses_zero_missing_units_and_unknown_units() {
        for bad in ["", "0s", "10", "h", "3y", "-1h", "1.5h"] {
            assert!(Ttl::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn error_names_the_input_and_the_fix() {
        let err = Ttl::parse("3y").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("'3y'") && err.contains("e.g. 90s"), "{err}");
    }

    #[test]
    fn displays_in_largest_units() {
        assert_eq!(Ttl::parse("90m").map(|t| t.to_string()), Ok("1h30m".into()));
    }
}
