//! Passwords: `POST /v1/password` (one's own), `POST /v1/users/{id}/password`
//! (an admin resets another user's).

use crate::{Client, Error};
use reqwest::Method;
use ward_api::{ChangePasswordRequest, PasswordChanged, ResetPasswordRequest};

impl Client {
    /// `POST /v1/password`: changes the password of the session this client
    /// sends (a login session); the user's other sessions end.
    pub async fn change_password(&self, request: &ChangePasswordRequest) -> Result<PasswordChanged, Error> {
        self.fetch(self.request(Method::POST, &["v1", "password"]).json(request)).await
    }

    /// `POST /v1/users/{id_or_name}/password` (admins): sets another user's
    /// password; all their sessions end.
    pub async fn reset_password(
        &self,
        user: &str,
        request: &ResetPasswordRequest,
    ) -> Result<PasswordChanged, Error> {
        self.fetch(self.request(Method::POST, &["v1", "users", user, "password"]).json(request)).await
    }
}
