//! Agents and policy: `/v1/authorize`, `/v1/approvals…`, `/v1/mint…`,
//! `/v1/keys…` and `/.well-known/jwks.json`. Signed agent tokens verify
//! through [`Client::verify`] like opaque ones.

use crate::{Client, Error};
use reqwest::Method;
use ward_api::{
    Approval, ApprovalList, ApprovalQuery, AuthorizeRequest, AuthorizeResponse, DecideRequest, MintRequest,
    MintRevokeRequest, Minted, MintedList, MintedQuery, RevokedCount, ServerMetadata, SigningKeyInfo,
    SigningKeyList,
};

impl Client {
    /// `POST /v1/authorize`: `allow`, `deny` or `approval_required` for an
    /// operation; 401 for a bad checked token, 403 for a missing scope.
    pub async fn authorize(&self, request: &AuthorizeRequest) -> Result<AuthorizeResponse, Error> {
        self.fetch(self.request(Method::POST, &["v1", "authorize"]).json(request)).await
    }

    /// `GET /v1/approvals` (admins), optionally only those with `status`.
    pub async fn list_approvals(&self, query: &ApprovalQuery) -> Result<ApprovalList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "approvals"]).query(query)).await
    }

    /// `POST /v1/approvals/{id}/approve` (admins; not one's own request).
    pub async fn approve(&self, id: &str) -> Result<Approval, Error> {
        self.fetch(self.request(Method::POST, &["v1", "approvals", id, "approve"])).await
    }

    /// `POST /v1/approvals/{id}/deny` (admins; not one's own request).
    pub async fn deny(&self, id: &str, request: &DecideRequest) -> Result<Approval, Error> {
        let path = ["v1", "approvals", id, "deny"];
        self.fetch(self.request(Method::POST, &path).json(request)).await
    }

    /// `POST /v1/mint`: a signed agent token, shown this once.
    pub async fn mint(&self, request: &MintRequest) -> Result<Minted, Error> {
        self.fetch(self.request(Method::POST, &["v1", "mint"]).json(request)).await
    }

    /// `GET /v1/mint`: minted tokens' metadata, newest first.
    pub async fn list_minted(&self, query: &MintedQuery) -> Result<MintedList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "mint"]).query(query)).await
    }

    /// `POST /v1/mint/revoke`: one token by `jti`, or every token of an agent
    /// issued so far.
    pub async fn revoke_minted(&self, request: &MintRevokeRequest) -> Result<RevokedCount, Error> {
        self.fetch(self.request(Method::POST, &["v1", "mint", "revoke"]).json(request)).await
    }

    /// `GET /v1/keys`: the signing keys.
    pub async fn list_keys(&self) -> Result<SigningKeyList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "keys"])).await
    }

    /// `POST /v1/keys/rotate` (admins): a new signing key; older ones keep
    /// verifying.
    pub async fn rotate_key(&self) -> Result<SigningKeyInfo, Error> {
        self.fetch(self.request(Method::POST, &["v1", "keys", "rotate"])).await
    }

    /// `POST /v1/keys/{kid}/retire` (admins): every token the key signed
    /// stops verifying.
    pub async fn retire_key(&self, kid: &str) -> Result<SigningKeyInfo, Error> {
        self.fetch(self.request(Method::POST, &["v1", "keys", kid, "retire"])).await
    }

    /// `GET /.well-known/jwks.json`: the public keys (RFC 7517) that verify
    /// agent tokens offline.
    pub async fn jwks(&self) -> Result<serde_json::Value, Error> {
        self.fetch(self.request(Method::GET, &[".well-known", "jwks.json"])).await
    }

    /// `GET /.well-known/oauth-authorization-server` (RFC 8414): the issuer
    /// and where its endpoints are; 404 when no `[server] issuer` is set.
    pub async fn oauth_metadata(&self) -> Result<ServerMetadata, Error> {
        self.fetch(self.request(Method::GET, &[".well-known", "oauth-authorization-server"])).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client() -> Client {
        Client::new("https://example.com/ward", Some("ward_u_secret".into())).expect("valid client")
    }

    #[test]
    fn ids_cannot_change_the_path() {
        let c = client();
        let request =
            c.request(Method::POST, &["v1", "keys", "key_1/../../x", "retire"]).build().expect("builds");
        assert_eq!(request.url().as_str(), "https://example.com/ward/v1/keys/key_1%2F..%2F..%2Fx/retire");
    }

    #[test]
    fn the_jwks_lives_under_well_known() {
        let request = client().request(Method::GET, &[".well-known", "jwks.json"]).build().expect("builds");
        assert_eq!(request.url().as_str(), "https://example.com/ward/.well-known/jwks.json");
    }

    #[test]
    fn an_empty_query_adds_nothing_to_the_url() {
        let request = client()
            .request(Method::GET, &["v1", "mint"])
            .query(&MintedQuery::default())
            .build()
            .expect("builds");
        assert_eq!(request.url().as_str(), "https://example.com/ward/v1/mint");
        let query = MintedQuery { agent: Some("ci bot".into()), limit: Some(5) };
        let request = client().request(Method::GET, &["v1", "mint"]).query(&query).build().expect("builds");
        assert_eq!(request.url().query(), Some("agent=ci+bot&limit=5"));
    }
}
