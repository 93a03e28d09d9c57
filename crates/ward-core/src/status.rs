//! Where a token, an approval or a signing key stands: one enum per concept, shared by the
//! store (which filters and stores them), the API (which shows them as
//! snake_case strings) and the CLI (which takes them as flags).
//!
//! Each reads back from its string through [`FromStr`](std::str::FromStr), whose error names
//! the valid values; serde goes through the same string, so an unknown value
//! in a request is refused with that message.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A string that names none of an enum's values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownValue {
    what: &'static str,
    given: String,
    valid: Vec<&'static str>,
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown {} '{}': use {}", self.what, self.given, self.valid.join(", "))
    }
}

impl std::error::Error for UnknownValue {}

/// The value of `all` whose name is `s`; the error names `what` and lists
/// every value of `all`. At most 40 characters of `s` are kept.
pub fn one_of<T: Copy>(
    what: &'static str,
    all: &[T],
    name: fn(T) -> &'static str,
    s: &str,
) -> Result<T, UnknownValue> {
    all.iter().copied().find(|v| name(*v) == s).ok_or_else(|| UnknownValue {
        what,
        given: s.chars().take(40).collect(),
        valid: all.iter().map(|v| name(*v)).collect(),
    })
}

/// Where a token stands at a moment; revoked beats expired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum TokenStatus {
    Active,
    Expired,
    Revoked,
}

impl TokenStatus {
    pub const ALL: [TokenStatus; 3] = [TokenStatus::Active, TokenStatus::Expired, TokenStatus::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Expired => "expired",
            TokenStatus::Revoked => "revoked",
        }
    }
}

/// Where an approval stands. The store keeps the first four; `expired` is
/// only shown, for a pending or approved request past its end, so listing
/// by it is refused ([`ApprovalStatus::LISTABLE`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    /// Approved and then spent by the request it allowed.
    Used,
    /// Shown, never stored: pending or approved, and past its end.
    Expired,
}

impl ApprovalStatus {
    pub const ALL: [ApprovalStatus; 5] = [
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        ApprovalStatus::Denied,
        ApprovalStatus::Used,
        ApprovalStatus::Expired,
    ];

    /// The statuses stored, and so the ones approvals can be listed by.
    pub const LISTABLE: [ApprovalStatus; 4] =
        [ApprovalStatus::Pending, ApprovalStatus::Approved, ApprovalStatus::Denied, ApprovalStatus::Used];

    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalStatus::Pending => "pending",
            ApprovalStatus::Approved => "approved",
            ApprovalStatus::Denied => "denied",
            ApprovalStatus::Used => "used",
            ApprovalStatus::Expired => "expired",
        }
    }
}

/// What a signing key does now: `active` signs new tokens, `verifying`
/// (an older key) still verifies what it signed, `retired` verifies nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum KeyStatus {
    Active,
    Verifying,
    Retired,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Verifying, KeyStatus::Retired];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Verifying => "verifying",
            KeyStatus::Retired => "retired",
        }
    }
}

/// `Display`, `FromStr` (an unknown value is refused with the list of
/// valid ones, [`one_of`]), `TryFrom<String>` (how serde reads it) and
/// `Into<&'static str>` (how serde writes it) for an enum with `ALL` and
/// `as_str`. Exported so ward-api's own enums get the same four.
#[macro_export]
macro_rules! string_enum {
    ($t:ty, $what:literal) => {
        impl ::std::fmt::Display for $t {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $t {
            type Err = $crate::status::UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::status::one_of($what, &<$t>::ALL, <$t>::as_str, s)
            }
        }

        impl TryFrom<String> for $t {
            type Error = $crate::status::UnknownValue;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$t> for &'static str {
            fn from(value: $t) -> Self {
                value.as_str()
            }
        }
    };
}

string_enum!(TokenStatus, "status");
string_enum!(ApprovalStatus, "approval status");
string_enum!(KeyStatus, "key status");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_from_its_string() {
        for s in TokenStatus::ALL {
            assert_eq!(s.as_str().parse::<TokenStatus>(), Ok(s));
        }
        for s in ApprovalStatus::ALL {
            assert_eq!(s.as_str().parse::<ApprovalStatus>(), Ok(s));
        }
    }

    #[test]
    fn an_unknown_status_is_refused_with_the_valid_ones() {
        let err = "sleeping".parse::<TokenStatus>().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown status 'sleeping': use active, expired, revoked"));
        let err = "later".parse::<ApprovalStatus>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown approval status 'later': use pending, approved, denied, used, expired")
        );
    }
}
