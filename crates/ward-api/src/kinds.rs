//! The enums the API speaks, one per concept, shared by the server (which
//! renders them), the client (which parses them) and the CLI (which takes
//! them as flags and prints them). On the wire each is a snake_case string;
//! the OpenAPI document shows them as strings.
//!
//! A token's kind, a user's role and a risk level are ward-core's own
//! enums, re-exported here (the risk fields of approvals, authorize
//! answers and audit records are still strings on the wire and in the
//! server); the statuses are the API's (the store keeps its own, and the
//! server maps between them in its views).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use ward_core::{Risk, Role, TokenKind};

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

/// Where an approval stands. `expired` is shown for a pending or approved
/// request past its end; the store does not keep it, so it filters nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Denied,
    /// Approved and then spent by the request it allowed.
    Used,
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

    /// The statuses approvals can be listed by: `expired` is shown, not kept.
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

/// What a user is, as the API shows it: a human's [`Role`] (`admin`,
/// `user`), or `service` for a service user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum UserRole {
    Human(Role),
    Service,
}

impl UserRole {
    pub const ALL: [UserRole; 3] =
        [UserRole::Human(Role::Admin), UserRole::Human(Role::User), UserRole::Service];

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Human(role) => role.as_str(),
            UserRole::Service => "service",
        }
    }
}

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

/// An optional query value parsed with [`FromStr`], whose error (which
/// lists the valid values) becomes the 422 message; serde's own "unknown
/// variant" message has its values hidden by the server, which never
/// echoes quoted input.
pub(crate) fn opt_parsed<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    Option::<String>::deserialize(deserializer)?
        .map(|s| s.parse().map_err(serde::de::Error::custom))
        .transpose()
}

/// `?status=` of `GET /v1/approvals`: one of [`ApprovalStatus::LISTABLE`].
pub(crate) fn opt_listable<'de, D>(deserializer: D) -> Result<Option<ApprovalStatus>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<String>::deserialize(deserializer)?
        .map(|s| {
            one_of("approval status", &ApprovalStatus::LISTABLE, ApprovalStatus::as_str, &s)
                .map_err(serde::de::Error::custom)
        })
        .transpose()
}

/// The value of `all` whose name is `s`.
fn one_of<T: Copy>(
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

macro_rules! string_enum {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                one_of($what, &<$t>::ALL, <$t>::as_str, s)
            }
        }

        /// Deserialized through [`FromStr`], so an unknown value is
        /// refused with the list of valid ones.
        impl TryFrom<String> for $t {
            type Error = UnknownValue;
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
string_enum!(KeyStatus, "key status");
string_enum!(ApprovalStatus, "approval status");
string_enum!(UserRole, "role");

#[cfg(test)]
mod tests {
    use super::*;

    fn json<T: Serialize>(value: T) -> String {
        serde_json::to_string(&value).unwrap_or_default()
    }

    #[test]
    fn each_value_is_the_snake_case_string_the_api_has_always_sent() {
        assert_eq!(json(TokenStatus::Revoked), "\"revoked\"");
        assert_eq!(json(KeyStatus::Verifying), "\"verifying\"");
        assert_eq!(json(UserRole::Service), "\"service\"");
        assert_eq!(json(UserRole::Human(Role::Admin)), "\"admin\"");
        assert_eq!(json(TokenKind::Pipeline), "\"pipeline\"");
    }

    #[test]
    fn every_value_reads_back_from_its_string() {
        for s in TokenStatus::ALL {
            assert_eq!(serde_json::from_str::<TokenStatus>(&json(s)).ok(), Some(s));
            assert_eq!(s.to_string().parse::<TokenStatus>(), Ok(s));
        }
        for s in KeyStatus::ALL {
            assert_eq!(serde_json::from_str::<KeyStatus>(&json(s)).ok(), Some(s));
        }
        for s in ApprovalStatus::ALL {
            assert_eq!(serde_json::from_str::<ApprovalStatus>(&json(s)).ok(), Some(s));
        }
        for r in UserRole::ALL {
            assert_eq!(serde_json::from_str::<UserRole>(&json(r)).ok(), Some(r));
        }
    }

    #[test]
    fn a_query_value_is_parsed_with_the_message_that_lists_the_valid_ones() {
        #[derive(Debug, Deserialize)]
        struct Q {
            #[serde(default, deserialize_with = "opt_parsed")]
            kind: Option<TokenKind>,
        }
        let q: Result<Q, _> = serde_json::from_str(r#"{"kind":"robot"}"#);
        let err = q.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("unknown token type 'robot': use personal"), "{err}");
        let q: Option<Q> = serde_json::from_str(r#"{"kind":"registry"}"#).ok();
        assert_eq!(q.and_then(|q| q.kind), Some(TokenKind::Registry));
        let q: Option<Q> = serde_json::from_str("{}").ok();
        assert!(q.is_some_and(|q| q.kind.is_none()));
    }

    #[test]
    fn an_unknown_string_is_refused_with_the_valid_ones() {
        let err = "sleeping".parse::<TokenStatus>().err().map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("unknown status 'sleeping': use active, expired, revoked"));
        let err = serde_json::from_str::<UserRole>("\"root\"").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("unknown role 'root': use admin, user, service")));
        assert!(serde_json::from_str::<KeyStatus>("\"asleep\"").is_err());
    }
}
