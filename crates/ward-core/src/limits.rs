//! Usage limits a token can carry (issue 16, in the style of Unkey's
//! `remaining` and `ratelimit`): a number of uses after which it stops
//! verifying ([`MaxUses`]), and a rate of uses ([`UseRate`], `10/s`,
//! `100/min`) beyond which a use is refused for a while (HTTP 429).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// The most uses a token may be given (`--max-uses`).
pub const MAX_USES_LIMIT: u64 = 1_000_000_000;

/// How many times a token may be used in all: the N-th use is the last
/// that verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MaxUses(u64);

/// A use count out of range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("max uses must be between 1 and {MAX_USES_LIMIT}, not {0}")]
pub struct InvalidMaxUses(u64);

impl MaxUses {
    pub fn new(n: u64) -> Result<Self, InvalidMaxUses> {
        if (1..=MAX_USES_LIMIT).contains(&n) { Ok(Self(n)) } else { Err(InvalidMaxUses(n)) }
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

/// The unit of a [`UseRate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Per {
    Second,
    Minute,
    Hour,
    Day,
}

impl Per {
    pub fn window(self) -> Duration {
        Duration::from_secs(match self {
            Per::Second => 1,
            Per::Minute => 60,
            Per::Hour => 3600,
            Per::Day => 86_400,
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Per::Second => "s",
            Per::Minute => "min",
            Per::Hour => "h",
            Per::Day => "d",
        }
    }
}

/// At most `count` uses per window: `10/s`, `100/min`, `5000/h`, `1/d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UseRate {
    pub count: u32,
    pub per: Per,
}

/// A rate that cannot be read; the message shows the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid rate '{0}': write COUNT/UNIT with COUNT from 1 to 1000000 and UNIT s, min, h or d (e.g. 100/min)"
)]
pub struct InvalidRate(String);

impl UseRate {
    pub fn window(self) -> Duration {
        self.per.window()
    }
}

impl FromStr for UseRate {
    type Err = InvalidRate;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidRate(s.chars().take(40).collect());
        let (count, unit) = s.trim().split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().ok().filter(|c| (1..=1_000_000).contains(c)).ok_or_else(bad)?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Per::Second,
            "m" | "min" | "minute" => Per::Minute,
            "h" | "hour" => Per::Hour,
            "d" | "day" => Per::Day,
            _ => return Err(bad()),
        };
        Ok(Self { count, per })
    }
}

impl fmt::Display for UseRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.count, self.per.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_read_in_each_unit_and_print_canonically() {
        for (text, shown, window) in [
            ("10/s", "10/s", 1),
            ("100/min", "100/min", 60),
            ("100/m", "100/min", 60),
            ("5/hour", "5/h", 3600),
            ("1/d", "1/d", 86_400),
        ] {
            let rate: UseRate = text.parse().expect(text);
            assert_eq!(rate.to_string(), shown);
            assert_eq!(rate.window(), Duration::from_secs(window));
        }
    }

    #[test]
    fn bad_rates_say_what_is_expected() {
        for bad in ["", "10", "0/s", "-1/s", "10/week", "x/s", "2000000/s"] {
            let e = bad.parse::<UseRate>().expect_err(bad).to_string();
            assert!(e.contains("COUNT/UNIT"), "{e}");
        }
    }

    #[test]
    fn max_uses_is_at_least_one() {
        assert!(MaxUses::new(0).is_err());
        assert_eq!(MaxUses::new(100).map(MaxUses::get), Ok(100));
        assert!(MaxUses::new(MAX_USES_LIMIT + 1).is_err());
    }
}
