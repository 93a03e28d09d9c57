//! OAuth 2.0 refresh (RFC 6749 section 6): an expired access token is
//! exchanged at the entry's token URL with `grant_type=refresh_token`.
//! [`crate::SecretStore::get_fresh`] calls this under the store lock after
//! re-reading the entry, and writes the answer (the new access token, its
//! expiry, and a rotated refresh token when the server sends one) before
//! it lets go, so concurrent commands refresh once and never lose a
//! rotation.
//!
//! The answer comes from a server ward does not control: it is checked
//! before anything is kept. No access token, an empty one or one with
//! control characters, or an `expires_in` that is not a number is an
//! error naming the URL (never quoting the answer); an `expires_in` out of
//! range is clamped to [`MAX_LIFETIME_SECS`], so expiry arithmetic cannot
//! overflow.

use crate::backend::Refresher;
use crate::entry::Entry;
use crate::error::{Error, Result};
use crate::http;
use crate::secret::SecretString;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::Value;

/// The longest an access token is taken to live (one year): a longer,
/// or absurd, `expires_in` is cut to it, and a negative one is 0.
pub const MAX_LIFETIME_SECS: i64 = 365 * 24 * 60 * 60;

/// `now + seconds`, with `seconds` clamped to `0..=MAX_LIFETIME_SECS`.
pub fn expiry(now: DateTime<Utc>, seconds: i64) -> DateTime<Utc> {
    now + Duration::seconds(seconds.clamp(0, MAX_LIFETIME_SECS))
}

/// `expires_in` as whole seconds: a JSON number (a float or one past
/// `i64` saturates) or a string of digits, as some servers send. `None`
/// when it is neither.
fn seconds(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_u64().map(|_| i64::MAX))
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A token a server sent: not empty, no control characters (it ends up in
/// headers, helper protocols and environment variables).
fn usable(token: &SecretString) -> bool {
    !token.expose().trim().is_empty() && !token.expose().chars().any(char::is_control)
}

/// Refreshes over HTTP: an agent per token URL, so that plain http never
/// goes through the environment's proxy (`http::agent_for`).
#[derive(Debug)]
pub struct HttpRefresher {
    /// `HTTP_PROXY`/`ALL_PROXY`…, read once; used for https token URLs only.
    env_proxy: Option<ureq::Proxy>,
}

impl Default for HttpRefresher {
    fn default() -> Self {
        Self { env_proxy: ureq::Proxy::try_from_env() }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: Option<SecretString>,
    #[serde(default)]
    expires_in: Option<Value>,
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
        http::check_url(url).map_err(|e| fail(e.to_string()))?;
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
        let mut response = http::agent_with(url, self.env_proxy.clone())
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
        // serde's message could quote the answer: name the URL only.
        let answer: TokenResponse = serde_json::from_str(&body)
            .map_err(|_| fail(format!("{url} did not answer with a JSON token response")))?;
        let access = answer
            .access_token
            .filter(usable)
            .ok_or_else(|| fail(format!("{url} answered no usable access_token")))?;
        let lifetime = match answer.expires_in.filter(|v| !v.is_null()) {
            None => None,
            Some(v) => Some(seconds(&v).ok_or_else(|| {
                fail(format!("{url} answered an expires_in that is not a number of seconds"))
            })?),
        };
        let rotated = answer.refresh_token.filter(|t| !t.is_empty());
        if rotated.as_ref().is_some_and(|t| !usable(t)) {
            return Err(fail(format!("{url} answered a refresh_token with control characters")));
        }
        let now = Utc::now();
        let mut next = entry.clone();
        next.secret.value = access;
        if let Some(rotated) = rotated {
            next.secret.refresh_token = Some(rotated);
        }
        next.meta.expires_at = lifetime.map(|s| expiry(now, s));
        next.meta.updated_at = now;
        Ok(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_clamps_absurd_and_negative_lifetimes() {
        let now = Utc::now();
        assert_eq!(expiry(now, 9_000_000_000_000_000), now + Duration::seconds(MAX_LIFETIME_SECS));
        assert_eq!(expiry(now, i64::MAX), now + Duration::seconds(MAX_LIFETIME_SECS));
        assert_eq!(expiry(now, -5), now);
        assert_eq!(expiry(now, 60), now + Duration::seconds(60));
    }

    #[test]
    fn expires_in_is_read_from_numbers_and_digit_strings_only() {
        let parse = |json: &str| seconds(&serde_json::from_str(json).expect("JSON"));
        assert_eq!(parse("3600"), Some(3600));
        assert_eq!(parse("\"3600\""), Some(3600));
        assert_eq!(parse("18446744073709551615"), Some(i64::MAX));
        assert_eq!(parse("1e300"), Some(i64::MAX));
        assert_eq!(parse("-1e300"), Some(i64::MIN));
        assert_eq!(parse("\"soon\""), None);
        assert_eq!(parse("[]"), None);
    }
}
