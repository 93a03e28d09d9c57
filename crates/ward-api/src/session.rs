use crate::kinds::{TokenKind, UserRole};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/login`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest").field("username", &self.username).field("password", &"***").finish()
    }
}

/// A new login session; `token` is shown this once.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub token_id: String,
    pub user_id: String,
    pub username: String,
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LoginResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginResponse")
            .field("token", &"***")
            .field("token_id", &self.token_id)
            .field("username", &self.username)
            .finish()
    }
}

/// `GET /v1/whoami`: the caller and the token it used.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WhoAmI {
    pub user_id: String,
    pub username: String,
    /// `admin` or `user`; `service` for a service user; `agent` for an agent token.
    #[schema(schema_with = crate::schema::user_role)]
    pub role: UserRole,
    pub token_id: String,
    /// `personal`, `pipeline`, `service`, `registry`, `login` or `agent`.
    #[serde(rename = "type")]
    #[schema(schema_with = crate::schema::token_kind)]
    pub token_type: TokenKind,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// `POST /v1/logout`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogoutResponse {
    pub revoked: bool,
    pub token_id: String,
}
