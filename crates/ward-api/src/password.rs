//! Password changes: `POST /v1/password` (one's own) and
//! `POST /v1/users/{id}/password` (an admin resets another user's).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `POST /v1/password`: change the caller's own password (login sessions
/// only). The caller's other login sessions end.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    /// At least 8 characters, at most 1024 bytes.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

impl std::fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChangePasswordRequest { current_password: ***, new_password: *** }")
    }
}

/// `POST /v1/users/{id}/password` (admins): set another user's password.
/// Every login session of that user ends.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ResetPasswordRequest {
    /// At least 8 characters, at most 1024 bytes.
    #[schema(min_length = 8, max_length = 1024)]
    pub new_password: String,
}

impl std::fmt::Debug for ResetPasswordRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetPasswordRequest { new_password: *** }")
    }
}

/// The answer to a password change or reset.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasswordChanged {
    pub user_id: String,
    pub username: String,
    /// How many login sessions were ended (for a change: the caller's
    /// others; for a reset: all of the user's).
    pub sessions_ended: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_a_password() {
        let change = ChangePasswordRequest {
            current_password: "old-secret".into(),
            new_password: "new-secret".into(),
        };
        let reset = ResetPasswordRequest { new_password: "new-secret".into() };
        let shown = format!("{change:?} {reset:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
