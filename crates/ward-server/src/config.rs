//! The server config file (TOML) and the settings derived from it.
//!
//! Every key is optional: with no file at all ward runs with its built-in
//! `ward:*` scopes, the `ward` prefix and the defaults below.
//!
//! ```toml
//! prefix = "ward"
//!
//! [[scopes]]
//! name = "read:stacks"
//! description = "List stacks"
//! risk = "low"
//!
//! [meta_scopes]
//! readonly = ["read:stacks"]
//!
//! [roles]
//! user = ["read:stacks", "ward:tokens", "ward:introspect"]
//!
//! [login]
//! session_ttl = "12h"
//! max_failures = 5
//! window = "15m"
//! lockout = "5m"
//! max_concurrent_hashes = 2   # default: one per core
//! hash_queue = 8              # default: four per concurrent hash
//! hash_wait = "2s"
//!
//! [server]
//! trusted_proxies = ["127.0.0.1/32"]   # whose X-Forwarded-For names the client
//! header_timeout = "10s"    # a request's headers (and a TLS handshake) must arrive within this
//! body_timeout = "30s"      # a request's body must arrive within this of its headers
//! idle_timeout = "60s"      # a kept-alive connection with no new request is closed after this
//! max_connections = 1024    # more connections wait in the listen backlog until one closes
//! max_connections_per_address = 128  # one client address (IPv6: one /64); more are closed at once
//! issuer = "https://ward.example.com"   # see crate::interop, with [forward_auth] and [oauth]
//!
//! [usage]
//! flush_interval = "5s"
//!
//! [metrics]
//! enabled = true      # GET /metrics, open like /healthz; false: 404
//!
//! [events]            # GET /v1/events, see crate::events::settings
//! heartbeat = "5s"
//! ```

mod leaks;
mod lifecycle;

pub use leaks::LeakSettings;
pub use lifecycle::{LifecycleSettings, NoticeSettings};

use crate::client::Cidr;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;
use ward_core::operation::{ApprovalRule, OperationSpec, Policy, Route};
use ward_core::policy::{Roles, default_user_permissions};
use ward_core::scope::CatalogError;
use ward_core::token::Prefix;
use ward_core::{Risk, ScopeCatalog, Ttl};

/// The longest `cache.ttl` allowed: the worst case for a revoked token to
/// stay valid on another node whose invalidation notice was lost
/// (`docs/multi-node.md`).
pub const MAX_CACHE_TTL: Duration = Duration::from_secs(60);

/// A config file that cannot be used; the message names the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: String, message: String },
    #[error("config: {0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    prefix: Option<String>,
    #[serde(default)]
    scopes: Vec<RawScope>,
    #[serde(default)]
    meta_scopes: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    roles: RawRoles,
    #[serde(default)]
    login: RawLogin,
    #[serde(default)]
    usage: RawUsage,
    #[serde(default)]
    operations: BTreeMap<String, RawOperation>,
    #[serde(default)]
    routes: Vec<RawRoute>,
    #[serde(default)]
    approval: RawApproval,
    #[serde(default)]
    mint: RawMint,
    #[serde(default)]
    cache: RawCache,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    metrics: RawMetrics,
    // --- issue 13: proxies and OAuth (crate::interop) ---
    #[serde(default)]
    forward_auth: crate::interop::RawForwardAuth,
    #[serde(default)]
    oauth: crate::interop::RawOAuth,
    // --- issue 16: leaked tokens (config/leaks.rs) ---
    #[serde(default)]
    leaks: leaks::RawLeaks,
    // --- issue 15: the revocation stream (crate::events) ---
    #[serde(default)]
    events: crate::events::settings::RawEvents,
    // --- issue 16: lifetimes, idle tokens, expiry notices (config/lifecycle.rs) ---
    #[serde(default)]
    lifecycle: lifecycle::RawLifecycle,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMetrics {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    #[serde(default)]
    trusted_proxies: Vec<String>,
    header_timeout: Option<String>,
    body_timeout: Option<String>,
    idle_timeout: Option<String>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
    /// `crate::interop::Issuer`.
    issuer: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    ttl: Option<String>,
    capacity: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOperation {
    #[serde(default)]
    description: String,
    scopes: Vec<String>,
    risk: String,
    approval: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    method: String,
    path: String,
    operation: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApproval {
    ttl: Option<String>,
    webhook_url: Option<String>,
    webhook_timeout: Option<String>,
    #[serde(default)]
    webhook_allow_http: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMint {
    max_ttl: Option<String>,
    issuer: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    name: String,
    #[serde(default)]
    description: String,
    risk: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoles {
    user: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    session_ttl: Option<String>,
    max_failures: Option<u32>,
    window: Option<String>,
    lockout: Option<String>,
    max_concurrent_hashes: Option<usize>,
    hash_queue: Option<usize>,
    hash_wait: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUsage {
    flush_interval: Option<String>,
}

/// Login limits: after `max_failures` failures within `window` for one
/// username from one client address (or four times that from one address),
/// logins are refused for `lockout`; see `crate::throttle`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginLimits {
    pub session_ttl: Ttl,
    pub max_failures: u32,
    pub window: Duration,
    pub lockout: Duration,
    pub hashing: HashLimits,
}

/// How many password hashes run at once, how many wait, and how long a
/// waiting one waits before it is answered 503; see `crate::password`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashLimits {
    pub concurrent: usize,
    pub queue: usize,
    pub wait: Duration,
}

/// How approvals work: how long one stays usable, and an optional webhook
/// that decides instead of a human.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalSettings {
    pub ttl: Ttl,
    pub webhook_url: Option<String>,
    pub webhook_timeout: Duration,
}

/// What a connection may take: see `crate::listen`. A client that has not
/// sent a request's headers within `header_timeout` (from its first byte,
/// or from the start of the TLS handshake), or its body within
/// `body_timeout` of the headers, is disconnected; a connection with no
/// request for `idle_timeout` is closed; at most `max_connections` are
/// open at once, and the next ones wait in the listen backlog; at most
/// `max_connections_per_address` of them from one client address (default
/// 64 or `max_connections / 8`, whichever is more, at most
/// `max_connections`), and one more is closed at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportLimits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
    pub max_connections: usize,
    pub max_connections_per_address: usize,
}

/// Signed agent tokens: the longest TTL `ward mint` accepts, and `iss`
/// (`[server] issuer`, else [`crate::interop::DEFAULT_ISS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintSettings {
    pub max_ttl: Ttl,
    pub issuer: String,
}

/// Everything the server needs from its config, parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    pub prefix: Prefix,
    pub catalog: ScopeCatalog,
    pub roles: Roles,
    pub login: LoginLimits,
    pub usage_flush: Duration,
    pub policy: Policy,
    pub approval: ApprovalSettings,
    pub mint: MintSettings,
    /// How long a verified token may be answered from memory (at most
    /// [`MAX_CACHE_TTL`]), and how many are kept (0 turns the cache off).
    pub cache_ttl: Duration,
    pub cache_capacity: usize,
    /// Proxies whose `X-Forwarded-For` names the client; see `crate::client`.
    pub trusted_proxies: Vec<Cidr>,
    /// Whether `GET /metrics` answers (`[metrics] enabled`, default true).
    pub metrics_enabled: bool,
    /// Timeouts and the connection bound (`[server]`).
    pub transport: TransportLimits,
    // --- issue 13: proxies and OAuth (crate::interop) ---
    /// `[server] issuer`: `iss` of minted tokens and the RFC 8414 issuer.
    pub issuer: Option<crate::interop::Issuer>,
    pub forward_auth: crate::interop::ForwardAuthSettings,
    pub oauth: crate::interop::OAuthSettings,
    // --- issue 16: leaked tokens (config/leaks.rs) ---
    pub leaks: LeakSettings,
    /// `[events]`: the revocation stream (`crate::events`).
    pub events: crate::events::EventSettings,
    // --- issue 16 ---
    /// `[lifecycle]`: lifetime limits, the idle policy, expiry notices.
    pub lifecycle: LifecycleSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self::from_raw(RawConfig::default()).expect("the empty config is valid (tested)")
    }
}

impl Settings {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: shown.clone(), source })?;
        Self::parse(&text).map_err(|e| match e {
            ConfigError::Parse { message, .. } => ConfigError::Parse { path: shown, message },
            other => other,
        })
    }

    /// Parses config text.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text)
            .map_err(|e| ConfigError::Parse { path: "<text>".into(), message: e.message().to_owned() })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Self, ConfigError> {
        let invalid = |msg: String| ConfigError::Invalid(msg);
        let prefix = match raw.prefix {
            Some(p) => Prefix::parse(&p).map_err(|e| invalid(e.to_string()))?,
            None => Prefix::default(),
        };
        let mut declared = Vec::with_capacity(raw.scopes.len());
        for s in &raw.scopes {
            let risk: Risk = s.risk.parse().map_err(|e| invalid(format!("scope {}: {e}", s.name)))?;
            if s.name.starts_with("ward:") {
                return Err(invalid(format!(
                    "scope {}: the ward: namespace is reserved for ward's own API",
                    s.name
                )));
            }
            declared.push((s.name.as_str(), s.description.as_str(), risk));
        }
        let meta = raw.meta_scopes.iter().map(|(k, v)| (k.as_str(), v.clone()));
        let catalog = ScopeCatalog::new(declared, meta).map_err(|e: CatalogError| invalid(e.to_string()))?;
        let user = match raw.roles.user {
            Some(names) => catalog.expand(&names).map_err(|e| invalid(format!("roles.user: {e}")))?,
            None => default_user_permissions(&catalog),
        };
        let roles = Roles::new(&catalog, user);
        let duration = |key: &str, value: Option<String>, default: &str| -> Result<Ttl, ConfigError> {
            Ttl::parse(value.as_deref().unwrap_or(default)).map_err(|e| invalid(format!("{key}: {e}")))
        };
        let std = |t: Ttl| t.as_duration().to_std().unwrap_or(Duration::ZERO);
        let hash_wait = std(duration("login.hash_wait", raw.login.hash_wait.clone(), "2s")?);
        let hashing = hash_limits(&raw.login, hash_wait)?;
        let login = LoginLimits {
            session_ttl: duration("login.session_ttl", raw.login.session_ttl, "12h")?,
            max_failures: raw.login.max_failures.unwrap_or(5).max(1),
            window: std(duration("login.window", raw.login.window, "15m")?),
            lockout: std(duration("login.lockout", raw.login.lockout, "5m")?),
            hashing,
        };
        let trusted_proxies = raw
            .server
            .trusted_proxies
            .iter()
            .map(|c| Cidr::parse(c).map_err(|e| invalid(format!("server.trusted_proxies: {e}"))))
            .collect::<Result<Vec<_>, _>>()?;
        let mut transport = TransportLimits {
            header_timeout: std(duration("server.header_timeout", raw.server.header_timeout, "10s")?),
            body_timeout: std(duration("server.body_timeout", raw.server.body_timeout, "30s")?),
            idle_timeout: std(duration("server.idle_timeout", raw.server.idle_timeout, "60s")?),
            max_connections: raw.server.max_connections.unwrap_or(1024),
            max_connections_per_address: 0,
        };
        if transport.max_connections == 0 {
            return Err(invalid("server.max_connections must be at least 1 (leave it out for 1024)".into()));
        }
        // Per-address cap (issue 12): by default 64 or an eighth of the
        // global cap, whichever is more, never above the global cap.
        let max = transport.max_connections;
        transport.max_connections_per_address =
            raw.server.max_connections_per_address.unwrap_or(max.min(64.max(max / 8)));
        if transport.max_connections_per_address == 0 {
            return Err(invalid(
                "server.max_connections_per_address must be at least 1 (leave it out for the default: 64 or max_connections / 8, whichever is more)".into(),
            ));
        }
        let usage_flush = std(duration("usage.flush_interval", raw.usage.flush_interval, "5s")?);
        let mut specs = Vec::with_capacity(raw.operations.len());
        for (name, op) in raw.operations {
            let risk: Risk = op.risk.parse().map_err(|e| invalid(format!("operations.{name}: {e}")))?;
            let approval = match op.approval.as_deref() {
                Some(a) => {
                    Some(a.parse::<ApprovalRule>().map_err(|e| invalid(format!("operations.{name}: {e}")))?)
                }
                None => None,
            };
            specs.push(OperationSpec {
                name,
                description: op.description,
                scopes: op.scopes,
                risk,
                approval,
            });
        }
        let routes = raw
            .routes
            .into_iter()
            .map(|r| Route { method: r.method.to_ascii_uppercase(), path: r.path, operation: r.operation })
            .collect();
        let policy = Policy::new(&catalog, specs, routes).map_err(|e| invalid(e.to_string()))?;
        let webhook_url = raw.approval.webhook_url.filter(|u| !u.is_empty());
        if let Some(url) = &webhook_url {
            webhook_url_allowed("approval.webhook_url", url, raw.approval.webhook_allow_http)?;
        }
        let approval = ApprovalSettings {
            ttl: duration("approval.ttl", raw.approval.ttl, "15m")?,
            webhook_url,
            webhook_timeout: std(duration("approval.webhook_timeout", raw.approval.webhook_timeout, "5s")?),
        };
        let issuer =
            crate::interop::issuer(raw.server.issuer, raw.mint.issuer).map_err(|e| invalid(e.to_string()))?;
        let mint = MintSettings {
            max_ttl: duration("mint.max_ttl", raw.mint.max_ttl, "30d")?,
            issuer: issuer.as_ref().map_or(crate::interop::DEFAULT_ISS, |i| i.as_str()).to_owned(),
        };
        let cache_ttl = std(duration("cache.ttl", raw.cache.ttl, "10s")?);
        if cache_ttl > MAX_CACHE_TTL {
            return Err(invalid(format!(
                "cache.ttl is {}s, above the cap of {}s: a revoked token may stay valid on another node for as long as cache.ttl when a notification is lost; set cache.ttl to 60s or less",
                cache_ttl.as_secs(),
                MAX_CACHE_TTL.as_secs()
            )));
        }
        let cache_capacity = raw.cache.capacity.unwrap_or(200_000);
        Ok(Self {
            prefix,
            catalog,
            roles,
            login,
            usage_flush,
            policy,
            approval,
            mint,
            cache_ttl,
            cache_capacity,
            trusted_proxies,
            metrics_enabled: raw.metrics.enabled.unwrap_or(true),
            transport,
            issuer,
            forward_auth: crate::interop::forward_auth(raw.forward_auth)
                .map_err(|e| invalid(e.to_string()))?,
            oauth: crate::interop::oauth(raw.oauth).map_err(|e| invalid(e.to_string()))?,
            leaks: leaks::parse(raw.leaks)?,
            events: crate::events::settings::parse(raw.events).map_err(invalid)?,
            lifecycle: lifecycle::parse(raw.lifecycle)?,
        })
    }
}

/// A webhook URL (`approval.webhook_url`, `lifecycle.notices.webhook_url`):
/// an http(s) URL, and plain `http://` only to this machine unless the
/// section's `webhook_allow_http` (the rule of `ward_core::plain_http`,
/// with the host reqwest will connect to).
fn webhook_url_allowed(key: &str, url: &str, allow_http: bool) -> Result<(), ConfigError> {
    let shown: String = url.chars().take(200).collect();
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| ConfigError::Invalid(format!("{key} must be an http(s) URL, not '{shown}'")))?;
    ward_core::plain_http::check(parsed.scheme(), parsed.host_str().unwrap_or_default(), allow_http).map_err(|e| {
        ConfigError::Invalid(format!(
            "{key}: {e}; or set webhook_allow_http = true in its section if the network in between is trusted"
        ))
    })
}

/// `[login]` hashing bounds: by default one hash per core and a queue of
/// four per hash.
fn hash_limits(raw: &RawLogin, wait: Duration) -> Result<HashLimits, ConfigError> {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let concurrent = raw.max_concurrent_hashes.unwrap_or(cores);
    if concurrent == 0 {
        return Err(ConfigError::Invalid(
            "login.max_concurrent_hashes must be at least 1 (leave it out for one per core)".into(),
        ));
    }
    let queue = raw.hash_queue.unwrap_or(concurrent.saturating_mul(4));
    Ok(HashLimits { concurrent, queue, wait })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_valid() {
        let s = Settings::parse("");
        assert!(s.is_ok());
        let s = s.unwrap_or_default();
        assert_eq!(s.prefix.as_str(), "ward");
        assert_eq!(s.login.max_failures, 5);
    }

    #[test]
    fn unknown_keys_and_bad_risks_are_refused_with_the_key() {
        let err = Settings::parse("prefx = \"x\"").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("prefx"), "{err}");
        let err = Settings::parse("[[scopes]]\nname = \"a:b\"\nrisk = \"huge\"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("a:b") && err.contains("unknown risk level"), "{err}");
    }

    #[test]
    fn trusted_proxies_are_address_blocks_and_a_bad_one_names_the_key() {
        let s = Settings::parse("[server]\ntrusted_proxies = [\"127.0.0.1/32\", \"10.0.0.0/8\"]")
            .unwrap_or_default();
        assert_eq!(s.trusted_proxies.len(), 2);
        let err = Settings::parse("[server]\ntrusted_proxies = [\"10.0.0.0/40\"]")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("server.trusted_proxies") && err.contains("10.0.0.0/40"), "{err}");
        assert!(Settings::parse("").unwrap_or_default().trusted_proxies.is_empty());
    }

    #[test]
    fn a_plain_http_webhook_to_another_host_is_refused_unless_allowed() {
        let err = Settings::parse("[approval]\nwebhook_url = \"http://10.1.2.3/hook\"")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("10.1.2.3") && err.contains("webhook_allow_http"), "{err}");
        for fine in [
            "[approval]\nwebhook_url = \"http://127.0.0.1:9/hook\"",
            "[approval]\nwebhook_url = \"https://hooks.example.com/x\"",
            "[approval]\nwebhook_url = \"http://10.1.2.3/hook\"\nwebhook_allow_http = true",
        ] {
            assert!(Settings::parse(fine).is_ok(), "{fine}");
        }
        assert!(Settings::parse("[approval]\nwebhook_url = \"ftp://h/x\"").is_err());
    }

    #[test]
    fn transport_limits_have_defaults_and_keys() {
        let s = Settings::parse("").unwrap_or_default();
        assert_eq!(s.transport.header_timeout, Duration::from_secs(10));
        assert_eq!(s.transport.max_connections, 1024);
        let s = Settings::parse("[server]\nbody_timeout = \"1s\"\nmax_connections = 8").unwrap_or_default();
        assert_eq!(s.transport.body_timeout, Duration::from_secs(1));
        assert_eq!(s.transport.max_connections, 8);
        assert!(Settings::parse("[server]\nmax_connections = 0").is_err());
    }

    #[test]
    fn the_per_address_connection_cap_defaults_to_an_eighth_or_64_within_the_global_cap() {
        let cap = |text: &str| Settings::parse(text).map(|s| s.transport.max_connections_per_address).ok();
        assert_eq!(cap(""), Some(128));
        assert_eq!(cap("[server]\nmax_connections = 200"), Some(64));
        assert_eq!(cap("[server]\nmax_connections = 8"), Some(8));
        assert_eq!(cap("[server]\nmax_connections = 8000"), Some(1000));
        assert_eq!(cap("[server]\nmax_connections_per_address = 500"), Some(500));
        assert_eq!(cap("[server]\nmax_connections_per_address = 0"), None);
    }

    #[test]
    fn the_server_issuer_is_the_iss_of_minted_tokens_and_without_it_iss_stays_ward() {
        let s = Settings::parse("[server]\nissuer = \"https://ward.example.com/\"").unwrap_or_default();
        assert_eq!(s.issuer.as_ref().map(|i| i.as_str()), Some("https://ward.example.com"));
        assert_eq!(s.mint.issuer, "https://ward.example.com");
        let s = Settings::parse("").unwrap_or_default();
        assert!(s.issuer.is_none());
        assert_eq!(s.mint.issuer, crate::interop::DEFAULT_ISS);
        let err =
            Settings::parse("[mint]\nissuer = \"ward\"").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("server.issuer"), "{err}");
        assert!(Settings::parse("[forward_auth]\nunmatched = \"maybe\"").is_err());
        assert!(Settings::parse("[oauth]\nrevoke_per_minute = 0").is_err());
    }

    #[test]
    fn declared_scopes_feed_the_catalog_and_roles() {
        let s = Settings::parse(
            "[[scopes]]\nname = \"read:stacks\"\nrisk = \"low\"\n[roles]\nuser = [\"read:stacks\"]",
        )
        .unwrap_or_default();
        assert!(s.catalog.expand(["read:stacks", "readonly"]).is_ok());
        assert_eq!(s.roles.user.len(), 1);
    }
}
