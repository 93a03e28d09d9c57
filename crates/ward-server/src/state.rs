//! What every handler shares.

use crate::audit::AuditSink;
use crate::cache::{CachedStore, VerifyCache};
use crate::clock::Clock;
use crate::config::Settings;
use crate::observe::Metrics;
use crate::password::Hasher;
use crate::signing::{KeyRing, MasterKey};
use crate::throttle::LoginThrottle;
use crate::usage::UsageTracker;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use ward_core::audit::ChainKey;
use ward_store::{AgentStore, AuditLog, Backend, NoticeStore, Store};

/// Shared server state: one `Arc`, so the clone every request makes is one
/// reference count, not one per part. Reads through to [`Shared`].
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every handler shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    pub agents: Arc<dyn AgentStore>,
    /// Expiry-notice claims (`crate::lifecycle::notices`).
    pub notices: Arc<dyn NoticeStore>,
    pub keys: Arc<KeyRing>,
    /// The deployment's master key; derive purpose keys with
    /// [`MasterKey::derive`], never use it directly.
    pub master: MasterKey,
    pub settings: Arc<Settings>,
    pub throttle: Arc<LoginThrottle>,
    /// Password hashes for requests run under its bound.
    pub hasher: Arc<Hasher>,
    pub usage: Arc<UsageTracker>,
    pub audit: Arc<AuditSink>,
    pub cache: Arc<VerifyCache>,
    /// Where every decision reads the time ([`AppState::now`]).
    pub clock: Clock,
    /// This server's Prometheus registry (`crate::observe`).
    pub metrics: Arc<Metrics>,
    /// `POST /oauth/revoke` calls per client address (`[oauth]`).
    pub revoke_limit: Arc<crate::rate::RateLimit>,
    /// `POST /v1/leaks` reports per client address (`[leaks]`).
    pub leak_limit: Arc<crate::rate::RateLimit>,
    /// Per-token `--rate` windows (`crate::token_rate`).
    pub token_rates: Arc<crate::token_rate::TokenRates>,
    /// This node's revocation stream (`GET /v1/events`).
    pub events: Arc<crate::events::Hub>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

/// The parts of a database the server uses, which tests may wrap one by one.
#[derive(Clone)]
pub struct Stores {
    pub store: Arc<dyn Store>,
    pub agents: Arc<dyn AgentStore>,
    pub audit: Arc<dyn AuditLog>,
    pub notices: Arc<dyn NoticeStore>,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stores").finish_non_exhaustive()
    }
}

impl From<Arc<dyn Backend>> for Stores {
    fn from(backend: Arc<dyn Backend>) -> Self {
        Self { store: backend.clone(), agents: backend.clone(), notices: backend.clone(), audit: backend }
    }
}

impl AppState {
    /// State over one database, on the system clock. Signing keys are
    /// sealed with `master`.
    pub fn new(stores: impl Into<Stores>, settings: Settings, master: MasterKey) -> Self {
        Self::with_clock(stores, settings, master, Clock::system())
    }

    /// State whose every reading of the time comes from `clock` (tests pass
    /// an adjustable one, [`Clock::adjustable`]).
    pub fn with_clock(
        stores: impl Into<Stores>,
        settings: Settings,
        master: MasterKey,
        clock: Clock,
    ) -> Self {
        let Stores { store, agents, audit, notices } = stores.into();
        let cache = Arc::new(VerifyCache::new(settings.cache_capacity, settings.cache_ttl, clock.clone()));
        let store: Arc<dyn Store> = Arc::new(CachedStore::new(store, cache.clone()));
        let throttle = Arc::new(LoginThrottle::new(settings.login.clone(), clock.clone()));
        let hasher = Arc::new(Hasher::new(settings.login.hashing.clone()));
        let usage = Arc::new(UsageTracker::new(store.clone()));
        let keys = Arc::new(KeyRing::new(agents.clone(), master.clone(), clock.clone()));
        let chain_key = ChainKey::from(master.derive("audit-chain"));
        let audit = Arc::new(AuditSink::new(audit, chain_key, settings.usage_flush, clock.clone()));
        let metrics = Arc::new(Metrics::new(settings.metrics_enabled));
        let revoke_limit =
            Arc::new(crate::rate::RateLimit::new(settings.oauth.revoke_per_minute, clock.clone()));
        let leak_limit = Arc::new(crate::rate::RateLimit::new(settings.leaks.per_minute, clock.clone()));
        let token_rates = Arc::new(crate::token_rate::TokenRates::new(clock.clone()));
        let events = Arc::new(crate::events::Hub::new(
            settings.events.replay,
            settings.events.max_subscribers,
            &mut crate::entropy::OsEntropy,
        ));
        Self(Arc::new(Shared {
            store,
            agents,
            notices,
            keys,
            master,
            settings: Arc::new(settings),
            throttle,
            hasher,
            usage,
            audit,
            cache,
            clock,
            metrics,
            revoke_limit,
            leak_limit,
            token_rates,
            events,
        }))
    }

    /// The time every decision reads ([`Clock::now`]), in whole
    /// milliseconds: the precision the store keeps, so a time read back
    /// equals the time written.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}
