//! `[lifecycle]`: how long tokens may live, when idle ones are revoked,
//! and the expiry notices (`docs/lifecycle.md`).
//!
//! ```toml
//! [lifecycle]
//! on_excess = "refuse"          # or "cap": cut a longer lifetime to the maximum
//! revoke_unused_after = "90d"   # the idle policy; off when left out
//! idle_sweep_interval = "1h"    # revoke idle tokens in the background; off when left out
//!
//! [lifecycle.lifetimes.pipeline]   # a token type: personal, pipeline, service, registry
//! default = "90d"
//! max = "365d"
//!
//! [lifecycle.lifetimes.critical]   # a risk level: tokens holding a scope this risky or more
//! max = "24h"
//!
//! [lifecycle.notices]
//! webhook_url = "https://hooks.example.com/ward"
//! points = ["7d", "1d"]         # before expiry; "1500ms" style is accepted too
//! interval = "1m"               # how often each node looks for due notices
//! webhook_timeout = "5s"
//! webhook_allow_http = false
//! ```

use super::ConfigError;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;
use ward_core::lifetime::{LifetimePolicy, Limit, OnExcess, RuleKey};
use ward_core::notice::NoticePoints;
use ward_core::{Risk, TokenKind, Ttl};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLifecycle {
    on_excess: Option<String>,
    revoke_unused_after: Option<String>,
    idle_sweep_interval: Option<String>,
    #[serde(default)]
    lifetimes: BTreeMap<String, RawLimit>,
    #[serde(default)]
    notices: RawNotices,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimit {
    default: Option<String>,
    max: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotices {
    webhook_url: Option<String>,
    points: Option<Vec<String>>,
    interval: Option<String>,
    webhook_timeout: Option<String>,
    #[serde(default)]
    webhook_allow_http: bool,
}

/// Everything `[lifecycle]` configures.
#[derive(Debug, Clone, Default)]
pub struct LifecycleSettings {
    /// Lifetime limits by type and risk (empty: none).
    pub lifetimes: LifetimePolicy,
    /// `revoke_unused_after`: tokens unused this long are idle (`None`: no policy).
    pub revoke_unused_after: Option<Ttl>,
    /// How often the idle policy runs by itself (`None`: only `ward token idle --apply`).
    pub idle_sweep_interval: Option<Duration>,
    pub notices: NoticeSettings,
}

/// `[lifecycle.notices]`.
#[derive(Debug, Clone)]
pub struct NoticeSettings {
    /// Where notices are posted; `None`: no notices are sent.
    pub webhook_url: Option<String>,
    pub points: NoticePoints,
    pub interval: Duration,
    pub webhook_timeout: Duration,
}

impl Default for NoticeSettings {
    fn default() -> Self {
        Self {
            webhook_url: None,
            points: NoticePoints::standard(),
            interval: Duration::from_secs(60),
            webhook_timeout: Duration::from_secs(5),
        }
    }
}

fn invalid(msg: String) -> ConfigError {
    ConfigError::Invalid(msg)
}

fn ttl(key: &str, value: &str) -> Result<Ttl, ConfigError> {
    Ttl::parse(value).map_err(|e| invalid(format!("{key}: {e}")))
}

/// A notice point: a duration, or whole milliseconds (`1500ms`).
fn point(value: &str) -> Result<chrono::Duration, ConfigError> {
    if let Some(ms) = value.trim().strip_suffix("ms") {
        return match ms.parse::<i64>() {
            Ok(n) if n > 0 => Ok(chrono::Duration::milliseconds(n)),
            _ => Err(invalid(format!(
                "lifecycle.notices.points: '{value}' is not a duration (use e.g. 7d, 1d, 12h or 1500ms)"
            ))),
        };
    }
    Ok(ttl("lifecycle.notices.points", value)?.as_duration())
}

fn std(t: Ttl) -> Duration {
    t.as_duration().to_std().unwrap_or(Duration::ZERO)
}

/// Which limit a `[lifecycle.lifetimes.<name>]` table sets.
fn rule_key(name: &str) -> Result<RuleKey, ConfigError> {
    if let Ok(risk) = name.parse::<Risk>() {
        return Ok(RuleKey::Risk(risk));
    }
    match name.parse::<TokenKind>() {
        Ok(kind) if !matches!(kind, TokenKind::Login | TokenKind::Agent) => Ok(RuleKey::Kind(kind)),
        _ => Err(invalid(format!(
            "lifecycle.lifetimes.{name}: not a token type or a risk level; use personal, pipeline, service, registry, low, moderate, high or critical (sessions take login.session_ttl, agent tokens mint.max_ttl)"
        ))),
    }
}

pub(super) fn parse(raw: RawLifecycle) -> Result<LifecycleSettings, ConfigError> {
    let on_excess = match raw.on_excess.as_deref() {
        None | Some("refuse") => OnExcess::Refuse,
        Some("cap") => OnExcess::Cap,
        Some(other) => {
            return Err(invalid(format!("lifecycle.on_excess: '{other}' is not refuse or cap")));
        }
    };
    let mut limits = Vec::with_capacity(raw.lifetimes.len());
    for (name, l) in raw.lifetimes {
        let key = rule_key(&name)?;
        let at = |field: &str, v: Option<String>| {
            v.map(|v| ttl(&format!("lifecycle.lifetimes.{name}.{field}"), &v)).transpose()
        };
        let limit = Limit { default: at("default", l.default)?, max: at("max", l.max)? };
        if let (Some(d), Some(m)) = (limit.default, limit.max)
            && d > m
        {
            return Err(invalid(format!(
                "lifecycle.lifetimes.{name}: default {d} is longer than max {m}; lower the default"
            )));
        }
        limits.push((key, limit));
    }
    let revoke_unused_after =
        raw.revoke_unused_after.map(|v| ttl("lifecycle.revoke_unused_after", &v)).transpose()?;
    let idle_sweep_interval =
        raw.idle_sweep_interval.map(|v| ttl("lifecycle.idle_sweep_interval", &v).map(std)).transpose()?;
    if idle_sweep_interval.is_some() && revoke_unused_after.is_none() {
        return Err(invalid(
            "lifecycle.idle_sweep_interval needs lifecycle.revoke_unused_after (how long unused makes a token idle)"
                .into(),
        ));
    }
    let n = raw.notices;
    let webhook_url = n.webhook_url.filter(|u| !u.is_empty());
    if let Some(url) = &webhook_url {
        super::webhook_url_allowed("lifecycle.notices.webhook_url", url, n.webhook_allow_http)?;
    }
    let points = match n.points {
        None => NoticePoints::standard(),
        Some(list) => {
            let parsed = list.iter().map(|p| point(p)).collect::<Result<Vec<_>, _>>()?;
            NoticePoints::new(parsed).ok_or_else(|| {
                invalid("lifecycle.notices.points: name at least one point, e.g. [\"7d\", \"1d\"]".into())
            })?
        }
    };
    let defaults = NoticeSettings::default();
    let notices = NoticeSettings {
        webhook_url,
        points,
        interval: n
            .interval
            .map(|v| ttl("lifecycle.notices.interval", &v).map(std))
            .transpose()?
            .unwrap_or(defaults.interval),
        webhook_timeout: n
            .webhook_timeout
            .map(|v| ttl("lifecycle.notices.webhook_timeout", &v).map(std))
            .transpose()?
            .unwrap_or(defaults.webhook_timeout),
    };
    Ok(LifecycleSettings {
        lifetimes: LifetimePolicy::new(limits, on_excess),
        revoke_unused_after,
        idle_sweep_interval,
        notices,
    })
}

#[cfg(test)]
mod tests {
    use crate::Settings;

    fn err(text: &str) -> String {
        Settings::parse(text).err().map(|e| e.to_string()).unwrap_or_default()
    }

    #[test]
    fn lifetimes_are_keyed_by_type_or_risk_and_anything_else_is_refused_by_name() {
        let s = Settings::parse(
            "[lifecycle]\non_excess = \"cap\"\n[lifecycle.lifetimes.pipeline]\nmax = \"365d\"\n[lifecycle.lifetimes.critical]\nmax = \"24h\"",
        )
        .unwrap_or_default();
        assert!(!s.lifecycle.lifetimes.is_empty());
        assert_eq!(s.lifecycle.lifetimes.on_excess, ward_core::lifetime::OnExcess::Cap);
        let e = err("[lifecycle.lifetimes.login]\nmax = \"1h\"");
        assert!(e.contains("lifecycle.lifetimes.login") && e.contains("login.session_ttl"), "{e}");
        let e = err("[lifecycle.lifetimes.high]\ndefault = \"30d\"\nmax = \"7d\"");
        assert!(e.contains("default 30d is longer than max 7d"), "{e}");
        assert!(err("[lifecycle]\non_excess = \"maybe\"").contains("refuse or cap"));
    }

    #[test]
    fn notices_default_to_7d_and_1d_and_accept_milliseconds() {
        let s = Settings::parse("").unwrap_or_default();
        assert_eq!(s.lifecycle.notices.points, ward_core::notice::NoticePoints::standard());
        assert!(s.lifecycle.notices.webhook_url.is_none());
        assert!(s.lifecycle.revoke_unused_after.is_none(), "the idle policy is off by default");
        let s = Settings::parse(
            "[lifecycle.notices]\nwebhook_url = \"http://127.0.0.1:9/n\"\npoints = [\"500ms\", \"1500ms\"]",
        )
        .unwrap_or_default();
        assert_eq!(
            s.lifecycle.notices.points.points(),
            &[chrono::Duration::milliseconds(1500), chrono::Duration::milliseconds(500)]
        );
        assert!(err("[lifecycle.notices]\npoints = [\"soon\"]").contains("lifecycle.notices.points"));
        assert!(
            err("[lifecycle.notices]\nwebhook_url = \"http://10.1.2.3/n\"").contains("webhook_allow_http")
        );
        assert!(err("[lifecycle]\nidle_sweep_interval = \"1h\"").contains("revoke_unused_after"));
    }
}
