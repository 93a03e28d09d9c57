use crate::kinds::{Role, UserRole};
use crate::tokens::{CreatedToken, TokenInfo};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/users`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    pub name: String,
    /// `admin` or `user` (default).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::kinds::opt_parsed")]
    #[schema(value_type = Option<String>)]
    pub role: Option<Role>,
    /// At least 8 characters.
    pub password: String,
}

impl std::fmt::Debug for CreateUserRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUserRequest")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &"***")
            .finish()
    }
}

/// A user or a service user.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: String,
    pub name: String,
    /// `admin`, `user` or `service`.
    #[schema(value_type = String)]
    pub role: UserRole,
    /// What the user may grant to its tokens.
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// `GET /v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct UserList {
    pub users: Vec<User>,
}

/// How many tokens a bulk revoke or a user deletion revoked.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RevokedCount {
    pub revoked: u64,
}

/// `POST /v1/service-users`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateServiceUserRequest {
    pub name: String,
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in_days: Option<u32>,
}

/// A new service user and its first API key, shown once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedServiceUser {
    pub user: User,
    pub key: CreatedToken,
}

/// A service user with its current key's metadata.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceUser {
    #[serde(flatten)]
    pub user: User,
    pub keys: Vec<TokenInfo>,
}

/// `GET /v1/service-users`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceUserList {
    pub service_users: Vec<ServiceUser>,
}
