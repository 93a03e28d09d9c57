//! `[leaks]`: how `POST /v1/leaks` is limited and whom it tells
//! (`docs/lifecycle.md`).
//!
//! ```toml
//! [leaks]
//! per_minute = 30                               # reports per client address
//! webhook_url = "https://hooks.example.com/ward" # told of each leaked token;
//!                                               # unset: [lifecycle.notices] webhook_url
//! webhook_allow_http = false
//! webhook_timeout = "5s"
//! ```

use super::ConfigError;
use serde::Deserialize;
use std::time::Duration;

/// `[leaks]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLeaks {
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

/// `[leaks]` parsed; a bad value is an error that names its key.
pub(super) fn parse(raw: RawLeaks) -> Result<LeakSettings, ConfigError> {
    let defaults = LeakSettings::default();
    let per_minute = raw.per_minute.unwrap_or(defaults.per_minute);
    if per_minute == 0 {
        return Err(ConfigError::Invalid("leaks.per_minute must be at least 1 (leave it out for 30)".into()));
    }
    let webhook_url = raw.webhook_url.filter(|u| !u.is_empty());
    if let Some(url) = &webhook_url {
        super::webhook_url_allowed("leaks.webhook_url", url, raw.webhook_allow_http)?;
    }
    let webhook_timeout = match raw.webhook_timeout {
        None => defaults.webhook_timeout,
        Some(text) => ward_core::Ttl::parse(&text)
            .ok()
            .and_then(|t| t.as_duration().to_std().ok())
            .filter(|d| !d.is_zero())
            .ok_or_else(|| {
                ConfigError::Invalid(format!("leaks.webhook_timeout: '{text}' is not a duration such as 5s"))
            })?,
    };
    Ok(LeakSettings { per_minute, webhook_url, webhook_timeout })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_bad_values_name_the_key() {
        let d = parse(RawLeaks::default()).expect("defaults");
        assert_eq!(d, LeakSettings::default());
        let zero = RawLeaks { per_minute: Some(0), ..RawLeaks::default() };
        assert!(parse(zero).err().map(|e| e.to_string()).unwrap_or_default().contains("leaks.per_minute"));
        let plain = RawLeaks { webhook_url: Some("http://10.1.2.3/hook".into()), ..RawLeaks::default() };
        assert!(parse(plain).err().map(|e| e.to_string()).unwrap_or_default().contains("webhook_allow_http"));
        let local = RawLeaks { webhook_url: Some("http://127.0.0.1:9/hook".into()), ..RawLeaks::default() };
        assert!(parse(local).is_ok());
    }
}
