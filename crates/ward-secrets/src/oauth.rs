//! OAuth 2.0 refresh (RFC 6749 section 6): an expired access token is
//! exchanged at the entry's token URL with `grant_type=refresh_token`.
//! [`crate::Store::get_fresh`] calls this under the store lock after
//! re-reading the entry, so concurrent commands refresh once.

use crate::backend::Refresher;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::http;
use crate::secret::SecretString;
use chrono::{Duration, Utc};
use serde::Deserialize;

/// Refreshes over HTTP.
#[derive(Debug)]
pub struct HttpRefresher {
    agent: ureq::Agent,
}

impl Default for HttpRefresher {
    fn default() -> Self {
        Self { agent: http::agent() }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: SecretString,
    #[serde(default)]
    expires_in: Option<i64>,
    #[serde(default)]
    refresh_token: Option<SecretString>,
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl Refresher for HttpRefresher {
    fn refresh(&self, entry: &Entry) -> Result<Entry> {
        let id = entry.id().to_string();
        let fail = |reason: String| Error::Refresh { id: id.clone(), reason };
        let url = entry.meta.token_url.as_deref().ok_or_else(|| fail("the entry has no token URL".into()))?;
        let refresh_token = entry
            .secret
            .refresh_token
            .as_ref()
            .ok_or_else(|| fail("the entry has no refresh token".into()))?;
        let mut form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token.expose())];
        if let Some(client_id) = &entry.meta.client_id {
            form.push(("client_id", client_id));
        }
        if let Some(secret) = &entry.secret.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let mut response = self
            .agent
            .post(url)
            .header("Accept", "application/json")
            .send_form(form)
            .map_err(|e| fail(format!("cannot reach {url} ({e})")))?;
        let status = response.status().as_u16();
        let body =
            response.body_mut().read_to_string().map_err(|e| fail(format!("reading the answer: {e}")))?;
        if !(200..300).contains(&status) {
            let reason = match serde_json::from_str::<ErrorResponse>(&body) {
                Ok(e) => format!(
                    "{url} answered {status} {}{}",
                    e.error,
                    e.error_description.map(|d| format!(" ({d})")).unwrap_or_default()
                ),
                Err(_) => format!("{url} answered {status}"),
            };
            return Err(fail(reason));
        }
        let answer: TokenResponse = serde_json::from_str(&body)
            .map_err(|_| fail(format!("{url} did not answer with an access_token")))?;
        let now = Utc::now();
        let mut next = entry.clone();
        next.secret.value = answer.access_token;
        if let Some(rotated) = answer.refresh_token {
            next.secret.refresh_token = Some(rotated);
        }
        next.meta.expires_at = answer.expires_in.map(|s| now + Duration::seconds(s));
        next.meta.updated_at = now;
        Ok(next)
    }
}
