use crate::kinds::{Role, UserRole};
use crate::tokens::{CreatedToken, TokenInfo};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/users`.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    #[schema(schema_with = crate::schema::username)]
    pub name: String,
    /// `admin` or `user` (default).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::kinds::opt_parsed")]
    #[schema(schema_with = crate::schema::opt_role)]
    pub role: Option<Role>,
    /// At least 8 characters, at most 1024 bytes.
    #[schema(min_length = 8, max_length = 1024)]
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
    #[schema(schema_with = crate::schema::user_role)]
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
    #[schema(schema_with = crate::schema::username)]
    pub name: String,
    /// Scopes or meta-scopes of its keys; at least one.
    #[schema(schema_with = crate::schema::scopes)]
    pub scopes: Vec<String>,
    /// The first key's lifetime in days, 1 to 36500; exclusive with `ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "crate::bounds::opt_whole")]
    #[schema(minimum = 1, maximum = 36500)]
    pub expires_in_days: Option<u32>,
    /// The first key's lifetime as a duration such as `12h` or `30d`;
    /// exclusive with `expires_in_days`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(schema_with = crate::schema::opt_duration)]
    pub ttl: Option<String>,
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
