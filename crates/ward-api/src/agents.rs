use crate::kinds::{ApprovalStatus, KeyStatus, Risk, TokenStatus};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/mint`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MintRequest {
    /// The agent the token is for (its `sub`).
    #[serde(deserialize_with = "crate::bounds::name")]
    #[schema(schema_with = crate::schema::username)]
    pub agent: String,
    /// Scopes or meta-scopes; expanded in the answer.
    #[schema(schema_with = crate::schema::scopes)]
    pub scopes: Vec<String>,
    /// `30d`, `7d`, `1d`, `2h`, `1h` … up to the server's `mint.max_ttl`.
    #[schema(schema_with = crate::schema::duration)]
    pub ttl: String,
    /// The token's `aud` claim: who it is meant for (e.g. an API's URL).
    #[serde(default, deserialize_with = "crate::bounds::opt_text", skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

/// A minted token, shown once.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct Minted {
    pub token: String,
    pub jti: String,
    pub agent: String,
    pub kid: String,
    pub scopes: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Minted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Minted").field("jti", &self.jti).field("agent", &self.agent).finish_non_exhaustive()
    }
}

/// A minted token's metadata.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MintedInfo {
    pub jti: String,
    pub agent: String,
    pub kid: String,
    pub scopes: Vec<String>,
    pub minted_by: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// `active`, `expired` or `revoked`.
    #[schema(schema_with = crate::schema::token_status)]
    pub status: TokenStatus,
}

/// `GET /v1/mint`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MintedList {
    pub tokens: Vec<MintedInfo>,
}

/// Query of `GET /v1/mint`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MintedQuery {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_name")]
    #[param(max_length = 128)]
    pub agent: Option<String>,
    /// At most this many, default 100; a value outside 1 to 1000 is taken as the nearer bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(value_type = Option<u64>, maximum = 4294967295_u64)]
    pub limit: Option<u32>,
}

/// `POST /v1/mint/revoke`: exactly one of `jti` or `agent` (each a
/// string when given, never `null`), and nothing else.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(min_properties = 1, max_properties = 1)]
pub struct MintRevokeRequest {
    /// A minted token's id, `tok_…`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::some_name")]
    #[schema(schema_with = crate::schema::token_id)]
    pub jti: Option<String>,
    /// Every token of this agent issued so far.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::some_name")]
    #[schema(schema_with = crate::schema::username)]
    pub agent: Option<String>,
}

/// A signing key.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub created_at: DateTime<Utc>,
    pub retired_at: Option<DateTime<Utc>>,
    /// `active` (signs new tokens), `verifying` (older, still verifies) or `retired`.
    #[schema(schema_with = crate::schema::key_status)]
    pub status: KeyStatus,
}

/// `GET /v1/keys`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyList {
    pub keys: Vec<SigningKeyInfo>,
}

/// `POST /v1/authorize`.
#[derive(Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct AuthorizeRequest {
    /// The token to check; omitted: the bearer token itself. Checking
    /// someone else's token needs `ward:introspect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(deserialize_with = "crate::bounds::name")]
    #[schema(schema_with = crate::schema::operation)]
    pub operation: String,
    #[serde(default)]
    pub auto_approve: bool,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_name")]
    #[schema(max_length = 128)]
    pub approval_id: Option<String>,
}

impl std::fmt::Debug for AuthorizeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizeRequest")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("operation", &self.operation)
            .field("auto_approve", &self.auto_approve)
            .field("approval_id", &self.approval_id)
            .finish()
    }
}

/// The answer of `/v1/authorize`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuthorizeResponse {
    /// `allow`, `deny` or `approval_required`.
    pub decision: String,
    pub reason: String,
    pub operation: String,
    /// `low`, `moderate`, `high` or `critical`.
    #[schema(schema_with = crate::schema::risk)]
    pub risk: Risk,
    pub subject: String,
    pub token_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// An approval.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Approval {
    pub id: String,
    pub token_id: String,
    pub subject: String,
    pub operation: String,
    /// `low`, `moderate`, `high` or `critical`.
    #[schema(schema_with = crate::schema::risk)]
    pub risk: Risk,
    /// `pending`, `approved`, `denied`, `used` or `expired`.
    #[schema(schema_with = crate::schema::approval_status)]
    pub status: ApprovalStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
}

/// `GET /v1/approvals`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ApprovalList {
    pub approvals: Vec<Approval>,
}

/// Query of `GET /v1/approvals`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    /// `pending`, `approved`, `denied` or `used`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(deserialize_with = "crate::kinds::opt_listable")]
    #[param(schema_with = crate::schema::listable_approval_status)]
    pub status: Option<ApprovalStatus>,
}

/// `POST /v1/approvals/{id}/deny`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DecideRequest {
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_text")]
    #[schema(max_length = 1024)]
    pub reason: Option<String>,
}
