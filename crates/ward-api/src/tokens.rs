use crate::kinds::{TokenKind, TokenStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateTokenRequest {
    #[schema(schema_with = crate::schema::token_name)]
    pub name: String,
    /// `personal`, `pipeline`, `service` or `registry`.
    #[serde(rename = "type", deserialize_with = "crate::kinds::parsed")]
    #[schema(schema_with = crate::schema::creatable_token_kind)]
    pub token_type: TokenKind,
    /// Scopes or meta-scopes. Omitted: a personal token gets its owner's
    /// permissions, other types get none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::opt_scopes)]
    pub scopes: Option<Vec<String>>,
    /// Lifetime in days, 1 to 36500; exclusive with `ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_whole")]
    #[schema(minimum = 1, maximum = 36500)]
    pub expires_in_days: Option<u32>,
    /// A duration such as `2h`, `30d` or `1h30m`; exclusive with `expires_in_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::opt_duration)]
    pub ttl: Option<String>,
    /// The owner, by id (`usr_…`) or name; admins only when not the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// How many times it may be used in all; the last use that verifies is
    /// this one. Absent: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_whole")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub max_uses: Option<u32>,
    /// At most this many uses per window (`10/s`, `100/min`, `5000/h`);
    /// beyond it a use is answered 429 with `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_name")]
    #[schema(schema_with = crate::schema::opt_rate)]
    pub rate: Option<String>,
}

/// A token just created: the only response that carries `token`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedToken {
    pub id: String,
    pub token: String,
    pub name: String,
    /// `personal`, `pipeline`, `service`, `registry` or `login`.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::token_kind)]
    pub token_type: TokenKind,
    /// The display start, e.g. `ward_p_Ab3x`.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for CreatedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedToken")
            .field("id", &self.id)
            .field("token", &"***")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A token's metadata. Never the token.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    /// `personal`, `pipeline`, `service`, `registry` or `login`.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::token_kind)]
    pub token_type: TokenKind,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub user_id: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    /// `active`, `expired` or `revoked`.
    #[schema(schema_with = crate::schema::token_status)]
    pub status: TokenStatus,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The token this one replaced by rotation.
    pub rotated_from: Option<String>,
    /// Whole seconds left until `expires_at` for an active token; null
    /// when it does not expire or has ended.
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// `--max-uses`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_uses: Option<u64>,
    /// The uses left of a `--max-uses` token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uses_left: Option<u64>,
    /// `--rate`, when it has one, e.g. `100/min`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<String>,
    /// The newest five distinct clients it was used from, newest first:
    /// on one token's page (`GET /v1/tokens/{id}`), not in listings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recent_clients: Option<Vec<ClientInfo>>,
}

/// A client a token was used from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClientInfo {
    /// The client address (a trusted proxy's `X-Forwarded-For`, else the peer).
    pub address: String,
    /// The `User-Agent` sent (cut to 200 characters); empty when none.
    pub user_agent: String,
    pub last_seen: DateTime<Utc>,
}

/// `POST /v1/tokens/identify`: a raw token to tell about. `Debug` hides it.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct IdentifyRequest {
    #[schema(schema_with = crate::schema::opaque_token)]
    pub token: String,
}

impl std::fmt::Debug for IdentifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdentifyRequest { token: *** }")
    }
}

/// `GET /v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenList {
    pub tokens: Vec<TokenInfo>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/tokens`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TokenQuery {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::kinds::opt_parsed")]
    #[param(rename = "type", schema_with = crate::schema::token_kind)]
    pub token_type: Option<TokenKind>,
    /// `active`, `expired` or `revoked`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::kinds::opt_parsed")]
    #[param(schema_with = crate::schema::token_status)]
    pub status: Option<TokenStatus>,
    /// Id or name; admins may name anyone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Page size: default 100; a value outside 1 to 1000 is taken as the nearer bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page: a token id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::token_id)]
    pub cursor: Option<String>,
    /// Only active tokens that expire within this duration, e.g. `7d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::opt_duration)]
    pub expiring: Option<String>,
    /// Only active tokens not used for this long, e.g. `90d` (a token never
    /// used counts from its creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::opt_duration)]
    pub unused_for: Option<String>,
}

/// Query of `GET /v1/idle-tokens` and body of `POST /v1/idle-tokens/revoke`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IdleRequest {
    /// How long unused makes a token idle, e.g. `90d`; default: the
    /// server's `lifecycle.revoke_unused_after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::opt_duration)]
    #[param(schema_with = crate::schema::opt_duration)]
    pub unused_for: Option<String>,
}

/// The idle tokens: which would be revoked (`applied` false), or which
/// were (`applied` true).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IdleTokens {
    /// The idle threshold applied, e.g. `90d`.
    #[schema(schema_with = crate::schema::duration)]
    pub unused_for: String,
    /// Tokens unused since this moment are idle.
    pub unused_since: DateTime<Utc>,
    pub applied: bool,
    pub tokens: Vec<TokenInfo>,
}

/// `POST /v1/tokens/{id}/rotate` and `…/rotate-key`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct RotateRequest {
    /// How long the old token keeps working, e.g. `1h`; default: it stops at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::opt_duration)]
    pub grace: Option<String>,
}

/// A rotation: the new token (shown once) and what became of the old one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rotated {
    #[serde(flatten)]
    pub token: CreatedToken,
    pub previous: TokenInfo,
}

/// `POST /v1/verify`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyRequest {
    pub token: String,
}

impl std::fmt::Debug for VerifyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VerifyRequest { token: *** }")
    }
}

/// The answer of `POST /v1/verify` (always HTTP 200).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VerifyResponse {
    pub valid: bool,
    /// `VALID`, `MALFORMED`, `NOT_FOUND`, `EXPIRED`, `REVOKED` or
    /// `USAGE_EXCEEDED` (a `max_uses` token whose uses are spent).
    pub code: String,
    pub token_id: Option<String>,
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::opt_token_kind)]
    pub token_type: Option<TokenKind>,
    /// The owner's name.
    pub user: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}
