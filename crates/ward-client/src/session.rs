//! Login sessions and health: `/v1/login`, `/v1/logout`, `/v1/whoami`,
//! `/healthz`.

use crate::{Client, Error};
use reqwest::Method;
use ward_api::{Health, LoginRequest, LoginResponse, LogoutResponse, WhoAmI};

impl Client {
    /// `GET /healthz`.
    pub async fn health(&self) -> Result<Health, Error> {
        self.fetch(self.request(Method::GET, &["healthz"])).await
    }

    /// `POST /v1/login`: a new session token, shown this once.
    pub async fn login(&self, request: &LoginRequest) -> Result<LoginResponse, Error> {
        self.fetch(self.request(Method::POST, &["v1", "login"]).json(request)).await
    }

    /// `POST /v1/logout`: revokes the token this client sends.
    pub async fn logout(&self) -> Result<LogoutResponse, Error> {
        self.fetch(self.request(Method::POST, &["v1", "logout"])).await
    }

    /// `GET /v1/whoami`.
    pub async fn whoami(&self) -> Result<WhoAmI, Error> {
        self.fetch(self.request(Method::GET, &["v1", "whoami"])).await
    }
}
