//! `[leaks]`: how `POST /v1/leaks` is limited and whom it tells.
//!
//! ```toml
//! [leaks]
//! per_minute = 30                               # reports per client address
//! webhook_url = "https://hooks.example.com/ward" # told of each leaked token
//! webhook_allow_http = false
//! webhook_timeout = "5s"
//! ```
//!
//! The notice is a JSON POST, sent off the request path and retried three
//! times (1 s, 2 s, 4 s apart): `{"event":"token.leaked","token_id","owner",
//! "display","type","location","outcome","reported_at"}` — never the token.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::time::Duration;

/// `[leaks]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLeaks {
    per_minute: Option<u32>,
    webhook_url: Option<String>,
    #[serde(default)]
    webhook_allow_http: bool,
    webhook_timeout: Option<String>,
}

/// `[leaks]`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeakSettings {
    /// Tokens one client address may report per minute.
    pub per_minute: u32,
    pub webhook_url: Option<String>,
    pub webhook_timeout: Duration,
}

impl Default for LeakSettings {
    fn default() -> Self {
        Self { per_minute: 30, webhook_url: None, webhook_timeout: Duration::from_secs(5) }
    }
}

/// A `[leaks]` value that cannot be used; the message names the key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidLeaks(String);

pub(crate) fn settings(raw: RawLeaks) -> Result<LeakSettings, InvalidLeaks> {
    let defaults = LeakSettings::default();
    let per_minute = raw.per_minute.unwrap_or(defaults.per_minute);
    if per_minute == 0 {
        return Err(InvalidLeaks("leaks.per_minute must be at least 1 (leave it out for 30)".into()));
    }
    let webhook_url = raw.webhook_url.filter(|u| !u.is_empty());
    if let Some(url) = &webhook_url {
        let shown: String = url.chars().take(200).collect();
        let parsed = reqwest::Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| {
                InvalidLeaks(format!("leaks.webhook_url must be an http(s) URL, not '{shown}'"))
            })?;
        ward_core::plain_http::check(parsed.scheme(), parsed.host_str().unwrap_or_default(), raw.webhook_allow_http)
            .map_err(|e| {
                InvalidLeaks(format!(
                    "leaks.webhook_url: {e}; or set leaks.webhook_allow_http = true if the network in between is trusted"
                ))
            })?;
    }
    let webhook_timeout = match raw.webhook_timeout {
        None => defaults.webhook_timeout,
        Some(text) => ward_core::Ttl::parse(&text)
            .ok()
            .and_then(|t| t.as_duration().to_std().ok())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                InvalidLeaks(format!("leaks.webhook_timeout: '{text}' is not a duration such as 5s"))
            })?,
    };
    Ok(LeakSettings { per_minute, webhook_url, webhook_timeout })
}

/// What the owner's webhook is told of one leaked token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeakNotice {
    pub event: &'static str,
    pub token_id: String,
    pub owner: String,
    pub display: String,
    #[serde(rename = "type")]
    pub token_type: String,
    pub location: Option<String>,
    /// `revoked` or `already_ended`.
    pub outcome: &'static str,
    pub reported_at: DateTime<Utc>,
}

/// Sends `notice` to `url` (`[leaks] webhook_url`), if set, in a task of its own:
/// up to four attempts, 1, 2 and 4 seconds apart (real time: the receiver's
/// pace, not a decision of ward's). Failures are logged once, with no secret.
pub fn notify(url: Option<&str>, timeout: Duration, notice: LeakNotice) {
    let Some(url) = url.map(str::to_owned) else { return };
    let mut builder = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if url.starts_with("http://") {
        builder = builder.no_proxy();
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "leak webhook client could not be built");
            return;
        }
    };
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        for attempt in 1..=4 {
            match client.post(&url).json(&notice).send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => tracing::debug!(http.status = r.status().as_u16(), attempt, "leak webhook refused"),
                Err(e) => tracing::debug!(error = %e, attempt, "leak webhook unreachable"),
            }
            if attempt < 4 {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        tracing::warn!(token.id = %notice.token_id, "leak webhook failed four times; the audit trail has the event");
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_name_the_key() {
        let d = settings(RawLeaks::default()).expect("defaults");
        assert_eq!(d, LeakSettings::default());
        let zero = RawLeaks { per_minute: Some(0), ..RawLeaks::default() };
        assert!(settings(zero).err().map(|e| e.to_string()).unwrap_or_default().contains("leaks.per_minute"));
        let plain = RawLeaks { webhook_url: Some("http://10.1.2.3/hook".into()), ..RawLeaks::default() };
        assert!(
            settings(plain).err().map(|e| e.to_string()).unwrap_or_default().contains("webhook_allow_http")
        );
        let local = RawLeaks { webhook_url: Some("http://127.0.0.1:9/hook".into()), ..RawLeaks::default() };
        assert!(settings(local).is_ok());
    }
}
