//! The bodies of the standard endpoints: OAuth 2.0 token introspection
//! (RFC 7662) and revocation (RFC 7009) — form bodies in, JSON out — the
//! authorization server metadata (RFC 8414), and the refusal body of
//! `GET /v1/forward-auth`.

use crate::ErrorDetail;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /oauth/introspect` and `POST /oauth/revoke`, as
/// `application/x-www-form-urlencoded`. `Debug` hides the token.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenForm {
    /// The token to introspect or revoke (opaque or signed). Any string:
    /// one that is no ward token is inactive (introspect) or nothing to
    /// revoke (RFC 7009 answers 200 either way); the body limit bounds it.
    pub token: String,
    /// `access_token` or `refresh_token`; a hint only, ignored (ward finds
    /// the token whatever it says).
    #[serde(default)]
    pub token_type_hint: Option<String>,
}

impl std::fmt::Debug for TokenForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenForm")
            .field("token", &"***")
            .field("token_type_hint", &self.token_type_hint)
            .finish()
    }
}

/// The answer of `POST /oauth/introspect`: exactly `{"active":false}` for
/// any token that is not valid now; the other members only when active.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Introspection {
    pub active: bool,
    /// The effective scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The service user a service user's key belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The person a personal, pipeline, registry or login token belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Always `Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Seconds since the epoch; absent for a token that does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The owner's name, or the agent's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// A minted token's audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    /// The configured issuer (`[server] issuer`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// The token's id, `tok_…`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// ward's token type: `personal`, `pipeline`, `service`, `registry`,
    /// `login` or `agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward_token_type: Option<String>,
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    pub jwks_uri: String,
    pub introspection_endpoint: String,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint: String,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    /// Empty: ward issues tokens through its own API, not an OAuth
    /// authorization endpoint.
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub scopes_supported: Vec<String>,
}

/// A `403` of `GET /v1/forward-auth`: the decision was `deny` or
/// `approval_required`; the approval id is also in `X-Ward-Approval`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ForwardRefusal {
    /// `code` is `access_denied` or `approval_required`; `message` the reason.
    pub error: ErrorDetail,
    /// `deny` or `approval_required`; absent for a missing scope
    /// (`error.code` is then `insufficient_scope`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The operation the request mapped to (none for an unmapped path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}
