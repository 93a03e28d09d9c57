//! The enums the API speaks, one per concept, shared by the server (which
//! renders them), the client (which parses them) and the CLI (which takes
//! them as flags and prints them). On the wire each is a snake_case string;
//! the OpenAPI document shows them as strings.
//!
//! A token's kind, a user's role, a risk level and the statuses of tokens,
//! approvals and signing keys are ward-core's own enums, re-exported here
//! (the store and the server use the same ones); only a user's role as the
//! API shows it ([`UserRole`], which adds `service` and `agent`) is the API's.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub use ward_core::status::UnknownValue;
use ward_core::status::one_of;
pub use ward_core::{ApprovalStatus, KeyStatus, Risk, Role, TokenKind, TokenStatus};

/// What a user is, as the API shows it: a human's [`Role`] (`admin`,
/// `user`), `service` for a service user, or — only in `whoami`, whose
/// caller may be one — `agent` for a signed agent token's agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum UserRole {
    Human(Role),
    Service,
    Agent,
}

impl UserRole {
    pub const ALL: [UserRole; 4] =
        [UserRole::Human(Role::Admin), UserRole::Human(Role::User), UserRole::Service, UserRole::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Human(role) => role.as_str(),
            UserRole::Service => "service",
            UserRole::Agent => "agent",
        }
    }
}

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

/// A required value parsed with [`FromStr`], as [`opt_parsed`].
pub(crate) fn parsed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: FromStr,
    T::Err: fmt::Display,
{
    String::deserialize(deserializer)?.parse().map_err(serde::de::Error::custom)
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

ward_core::string_enum!(UserRole, "role");

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
