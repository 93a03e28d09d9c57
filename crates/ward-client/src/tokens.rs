//! Tokens: `/v1/tokens…`, `/v1/idle-tokens…` and `/v1/verify`.

use crate::{Client, Error};
use reqwest::Method;
use ward_api::{
    CreateTokenRequest, CreatedToken, IdentifyRequest, IdleRequest, IdleTokens, LeakReport, LeakResults,
    RotateRequest, Rotated, TokenInfo, TokenList, TokenQuery, VerifyRequest, VerifyResponse,
};

/// A guard against a server that hands out the same cursor forever.
const MAX_PAGES: usize = 10_000;

impl Client {
    /// `POST /v1/tokens`: a new token, shown this once.
    pub async fn create_token(&self, request: &CreateTokenRequest) -> Result<CreatedToken, Error> {
        self.fetch(self.request(Method::POST, &["v1", "tokens"]).json(request)).await
    }

    /// `GET /v1/tokens`: one page.
    pub async fn list_tokens(&self, query: &TokenQuery) -> Result<TokenList, Error> {
        self.fetch(self.request(Method::GET, &["v1", "tokens"]).query(query)).await
    }

    /// `GET /v1/tokens`, following `next_cursor` until the last page.
    pub async fn list_all_tokens(&self, query: &TokenQuery) -> Result<Vec<TokenInfo>, Error> {
        collect_pages(|cursor| {
            let query = TokenQuery { cursor, ..query.clone() };
            async move { self.list_tokens(&query).await }
        })
        .await
    }

    /// `GET /v1/tokens/{id}`.
    pub async fn get_token(&self, id: &str) -> Result<TokenInfo, Error> {
        self.fetch(self.request(Method::GET, &["v1", "tokens", id])).await
    }

    /// `POST /v1/tokens/{id}/revoke`.
    pub async fn revoke_token(&self, id: &str) -> Result<TokenInfo, Error> {
        self.fetch(self.request(Method::POST, &["v1", "tokens", id, "revoke"])).await
    }

    /// `DELETE /v1/tokens/{id}` (admins).
    pub async fn delete_token(&self, id: &str) -> Result<(), Error> {
        self.fetch_empty(self.request(Method::DELETE, &["v1", "tokens", id])).await
    }

    /// `POST /v1/tokens/{id}/rotate`: the new token, shown this once.
    pub async fn rotate_token(&self, id: &str, request: &RotateRequest) -> Result<Rotated, Error> {
        let path = ["v1", "tokens", id, "rotate"];
        self.fetch(self.request(Method::POST, &path).json(request)).await
    }

    /// `GET /v1/idle-tokens` (admins): what the idle policy would revoke.
    pub async fn idle_tokens(&self, request: &IdleRequest) -> Result<IdleTokens, Error> {
        self.fetch(self.request(Method::GET, &["v1", "idle-tokens"]).query(request)).await
    }

    /// `POST /v1/idle-tokens/revoke` (admins): revokes the idle tokens.
    pub async fn revoke_idle_tokens(&self, request: &IdleRequest) -> Result<IdleTokens, Error> {
        self.fetch(self.request(Method::POST, &["v1", "idle-tokens", "revoke"]).json(request)).await
    }

    /// `POST /v1/tokens/identify`: what a raw token is (its owner or an
    /// admin), without using it.
    pub async fn identify_token(&self, request: &IdentifyRequest) -> Result<TokenInfo, Error> {
        self.fetch(self.request(Method::POST, &["v1", "tokens", "identify"]).json(request)).await
    }

    /// `POST /v1/leaks`: report leaked tokens so the server ends them (no
    /// credential needed: holding a token is the authority to end it).
    pub async fn report_leaks(&self, report: &LeakReport) -> Result<LeakResults, Error> {
        self.fetch(self.request(Method::POST, &["v1", "leaks"]).json(report)).await
    }

    /// `POST /v1/verify`: always answers 200 with `valid` and a `code`.
    pub async fn verify(&self, request: &VerifyRequest) -> Result<VerifyResponse, Error> {
        self.fetch(self.request(Method::POST, &["v1", "verify"]).json(request)).await
    }
}

/// Fetches pages with `page(cursor)` until one has no `next_cursor`.
pub(crate) async fn collect_pages<F, Fut>(mut page: F) -> Result<Vec<TokenInfo>, Error>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<TokenList, Error>>,
{
    let mut tokens = Vec::new();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let list = page(cursor.clone()).await?;
        tokens.extend(list.tokens);
        match list.next_cursor {
            Some(next) if Some(&next) != cursor.as_ref() => cursor = Some(next),
            _ => break,
        }
    }
    Ok(tokens)
}
