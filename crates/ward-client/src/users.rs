//! Users and service users: `/v1/users…` and `/v1/service-users…`.
//! `{id_or_name}` accepts a `usr_…` id or a user name.

use crate::tokens::collect_pages;
use crate::{Client, Error};
use reqwest::Method;
use ward_api::{
    CreateServiceUserRequest, CreateUserRequest, CreatedServiceUser, RevokedCount, RotateRequest, Rotated,
    ServiceUserList, TokenInfo, TokenList, User, UserList,
};

impl Client {
    /// `POST /v1/users`.
    pub async fn create_user(&self, request: &CreateUserRequest) -> Result<User, Error> {
        self.fetch(self.request(Method::POST, &["v1", "users"]).json(request)).await
    }

    /// `GET /v1/users`.
    pub async fn list_users(&self) -> Result<UserList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "users"])).await
    }

    /// `GET /v1/users/{id_or_name}/tokens`: one page (`cursor` from the last).
    pub async fn user_tokens(&self, user: &str, cursor: Option<&str>) -> Result<TokenList, Error> {
        let request = self.request(Method::GET, &["v1", "users", user, "tokens"]);
        let request = match cursor {
            Some(cursor) => request.query(&[("cursor", cursor)]),
            None => request,
        };
        self.fetch(request).await
    }

    /// `GET /v1/users/{id_or_name}/tokens`, following `next_cursor`.
    pub async fn all_user_tokens(&self, user: &str) -> Result<Vec<TokenInfo>, Error> {
        collect_pages(|cursor| async move { self.user_tokens(user, cursor.as_deref()).await }).await
    }

    /// `POST /v1/users/{id_or_name}/revoke-tokens`.
    pub async fn revoke_user_tokens(&self, user: &str) -> Result<RevokedCount, Error> {
        let path = ["v1", "users", user, "revoke-tokens"];
        self.fetch(self.request(Method::POST, &path)).await
    }

    /// `DELETE /v1/users/{id_or_name}`: deletes the user, revoking every token.
    pub async fn delete_user(&self, user: &str) -> Result<RevokedCount, Error> {
        self.fetch(self.request(Method::DELETE, &["v1", "users", user])).await
    }

    /// `POST /v1/service-users`: the service user and its first key, shown once.
    pub async fn create_service_user(
        &self,
        request: &CreateServiceUserRequest,
    ) -> Result<CreatedServiceUser, Error> {
        self.fetch(self.request(Method::POST, &["v1", "service-users"]).json(request)).await
    }

    /// `GET /v1/service-users`.
    pub async fn list_service_users(&self) -> Result<ServiceUserList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "service-users"])).await
    }

    /// `POST /v1/service-users/{id_or_name}/rotate-key`: the new key, shown once.
    pub async fn rotate_service_user_key(
        &self,
        user: &str,
        request: &RotateRequest,
    ) -> Result<Rotated, Error> {
        let path = ["v1", "service-users", user, "rotate-key"];
        self.fetch(self.request(Method::POST, &path).json(request)).await
    }

    /// `DELETE /v1/service-users/{id_or_name}`: deletes it, revoking its keys.
    pub async fn delete_service_user(&self, user: &str) -> Result<RevokedCount, Error> {
        self.fetch(self.request(Method::DELETE, &["v1", "service-users", user])).await
    }
}
