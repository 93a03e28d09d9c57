//! How the API's enums and bounded strings appear in the OpenAPI document:
//! each a schema built from the values and bounds the server itself uses
//! (`TokenKind::ALL`, `Risk`'s names, `Username`'s rules …), so a client
//! generator or a fuzzer sees exactly what the server accepts. Use with
//! `#[schema(schema_with = crate::schema::risk)]`; the `opt_` forms also
//! allow `null`, as serde does for an `Option` field.

use utoipa::openapi::Ref;
use utoipa::openapi::schema::{Array, ArrayBuilder, Object, ObjectBuilder, SchemaType, Type};
use ward_core::{ApprovalStatus, KeyStatus, Risk, Role, TokenKind, TokenStatus};

use crate::kinds::UserRole;

/// Every token kind, as responses name it.
const KINDS: [TokenKind; 6] = TokenKind::EVERY;

/// The kinds `POST /v1/tokens` creates (login sessions come from
/// `/v1/login`, agent tokens from `/v1/mint`).
pub const CREATABLE: [TokenKind; 4] =
    [TokenKind::Personal, TokenKind::Pipeline, TokenKind::Service, TokenKind::Registry];

const RISKS: [Risk; 4] = [Risk::Low, Risk::Moderate, Risk::High, Risk::Critical];

fn string(nullable: bool) -> ObjectBuilder {
    if nullable {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::String, Type::Null]))
    } else {
        ObjectBuilder::new().schema_type(Type::String)
    }
}

fn enum_of<T: Copy>(values: &[T], name: fn(T) -> &'static str, nullable: bool) -> Object {
    let mut names: Vec<serde_json::Value> = values.iter().map(|v| name(*v).into()).collect();
    if nullable {
        names.push(serde_json::Value::Null);
    }
    string(nullable).enum_values(Some(names)).build()
}

pub fn token_kind() -> Object {
    enum_of(&KINDS, TokenKind::as_str, false)
}

pub fn opt_token_kind() -> Object {
    enum_of(&KINDS, TokenKind::as_str, true)
}

pub fn creatable_token_kind() -> Object {
    enum_of(&CREATABLE, TokenKind::as_str, false)
}

pub fn token_status() -> Object {
    enum_of(&TokenStatus::ALL, TokenStatus::as_str, false)
}

pub fn approval_status() -> Object {
    enum_of(&ApprovalStatus::ALL, ApprovalStatus::as_str, false)
}

/// `?status=` of `GET /v1/approvals`: the statuses it can filter by.
pub fn listable_approval_status() -> Object {
    enum_of(&ApprovalStatus::LISTABLE, ApprovalStatus::as_str, false)
}

pub fn key_status() -> Object {
    enum_of(&KeyStatus::ALL, KeyStatus::as_str, false)
}

pub fn risk() -> Object {
    enum_of(&RISKS, Risk::as_str, false)
}

/// The order of an audit search.
pub fn audit_order() -> Object {
    string(false).enum_values(Some(["newest", "oldest"])).build()
}

pub fn opt_risk() -> Object {
    enum_of(&RISKS, Risk::as_str, true)
}

pub fn opt_role() -> Object {
    enum_of(&[Role::Admin, Role::User], Role::as_str, true)
}

pub fn user_role() -> Object {
    enum_of(&UserRole::ALL, UserRole::as_str, false)
}

/// Scope names: each a `Scope`, a component whose served form lists the
/// scopes and meta-scopes of the server's config. Never empty.
pub fn scopes() -> Array {
    ArrayBuilder::new().items(Ref::from_schema_name("Scope")).min_items(Some(1)).build()
}

/// Scope names, or `null`/absent for the default.
pub fn opt_scopes() -> Array {
    ArrayBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Array, Type::Null]))
        .items(Ref::from_schema_name("Scope"))
        .build()
}

/// An operation name: an `Operation`, a component whose served form lists
/// the operations of the server's policy.
pub fn operation() -> Ref {
    Ref::from_schema_name("Operation")
}

/// A token id, `tok_` and 26 Crockford base32 characters: `cursor` of
/// `GET /v1/tokens`, `jti` of `POST /v1/mint/revoke`.
pub fn token_id() -> Object {
    string(false).pattern(Some("^tok_[0-9abcdefghjkmnpqrstvwxyz]{26}$")).build()
}

/// `cursor` of `GET /v1/audit`: an event's `seq`.
pub fn seq_cursor() -> Object {
    string(false).pattern(Some("^[0-9]{1,19}$")).build()
}

/// `since` / `until` of `GET /v1/audit`: an RFC 3339 time, or a duration
/// meaning that long ago. The pattern's dates and times are in range (days
/// up to 28, so every month has them).
pub fn time_bound() -> Object {
    let time = "[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])";
    let duration = DURATION.trim_start_matches('^').trim_end_matches('$');
    string(false)
        .pattern(Some(format!("^({time}|{duration})$")))
        .description(Some("an RFC 3339 time, or a duration such as 24h meaning that long ago"))
        .build()
}

/// A user, service-user or agent name: what `Username::parse` accepts.
pub fn username() -> Object {
    string(false).pattern(Some(USERNAME)).min_length(Some(1)).max_length(Some(64)).build()
}

/// `[a-z0-9][a-z0-9._-]{0,63}`, as `ward_core::Username`.
pub const USERNAME: &str = "^[a-z0-9][a-z0-9._-]{0,63}$";

/// A token's label: 1-100 characters, no control characters, not blank
/// (`ward_core::TokenName`).
pub fn token_name() -> Object {
    string(false).pattern(Some(TOKEN_NAME)).min_length(Some(1)).max_length(Some(100)).build()
}

const TOKEN_NAME: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// A duration such as `90s`, `15m`, `2h`, `30d`, `1w` or `1h30m`: longer
/// than zero and at most 100 years (`ward_core::Ttl`). The pattern bounds
/// each part's digits so that anything it matches is in range.
pub fn duration() -> Object {
    duration_builder(false).build()
}

pub fn opt_duration() -> Object {
    duration_builder(true).build()
}

fn duration_builder(nullable: bool) -> ObjectBuilder {
    string(nullable).pattern(Some(DURATION)).description(Some(
        "a duration: a number and a unit (s, m, h, d, w), e.g. 90s, 15m, 2h, 30d, 1w or 1h30m; at most 100 years",
    ))
}

/// A raw opaque token, `{prefix}_{kind}_{32 secret}{6 checksum}` (the
/// shape of `ward_core::leak::RULE_REGEX`): `token` of `POST
/// /v1/tokens/identify`. The checksum is no JSON Schema constraint: a
/// string of this shape whose checksum fails is refused with 422.
pub fn opaque_token() -> Object {
    string(false)
        .pattern(Some("^[a-z0-9]{2,8}_[upsrl]_[0-9A-Za-z]{38}$"))
        .description(Some("a ward token as shown at creation; its last 6 characters are a checksum"))
        .build()
}

/// A usage rate such as `10/s` or `100/min` (`ward_core::limits::UseRate`).
pub fn opt_rate() -> Object {
    string(true)
        .pattern(Some(RATE))
        .description(Some(
            "uses per window: COUNT/UNIT, COUNT 1 to 999999, UNIT s, min, h or d; e.g. 10/s, 100/min",
        ))
        .build()
}

const RATE: &str = "^[1-9][0-9]{0,5}/(s|sec|second|m|min|minute|h|hour|d|day)$";

const DURATION: &str = "^([1-9][0-9]{0,3}[smhd]|[1-9][0-9]{0,2}w)([0-9]{1,3}[smhdw]){0,3}$";

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{TokenName, Ttl, Username};

    #[test]
    fn the_enums_list_exactly_the_values_the_api_reads() {
        let json = serde_json::to_value(creatable_token_kind()).unwrap_or_default();
        assert_eq!(json["enum"], serde_json::json!(["personal", "pipeline", "service", "registry"]));
        for kind in KINDS {
            assert_eq!(kind.as_str().parse::<TokenKind>().ok(), Some(kind));
        }
        let json = serde_json::to_value(opt_risk()).unwrap_or_default();
        assert_eq!(json["enum"], serde_json::json!(["low", "moderate", "high", "critical", null]));
    }

    #[test]
    fn samples_that_the_patterns_take_are_taken_by_the_parsers() {
        for d in ["1s", "90m", "2h", "30d", "1w", "1h30m", "9999d", "999w999d999h999m"] {
            assert!(Ttl::parse(d).is_ok(), "{d}");
        }
        for name in ["a", "svc.backup_1-x", &"a".repeat(64)] {
            assert!(Username::parse(name).is_ok(), "{name}");
        }
        for rate in ["1/s", "999999/day", "100/min", "5/h"] {
            assert!(rate.parse::<ward_core::limits::UseRate>().is_ok(), "{rate}");
        }
        for name in ["ci", " ci ", "déploiement nocturne", &"n".repeat(100)] {
            assert!(TokenName::parse(name).is_ok(), "{name}");
        }
    }
}
