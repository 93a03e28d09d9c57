//! What every handler shares.

use crate::audit::AuditSink;
use crate::config::Settings;
use crate::throttle::LoginThrottle;
use crate::usage::UsageTracker;
use chrono::{DateTime, SubsecRound, Utc};
use std::sync::Arc;
use ward_store::Store;

/// Shared server state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    pub throttle: Arc<LoginThrottle>,
    pub usage: Arc<UsageTracker>,
    pub audit: Arc<AuditSink>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> Self {
        let throttle = Arc::new(LoginThrottle::new(settings.login.clone()));
        let usage = Arc::new(UsageTracker::new(store.clone()));
        Self { store, settings: Arc::new(settings), throttle, usage, audit: Arc::new(AuditSink::default()) }
    }

    /// The clock every decision reads, in whole milliseconds: the precision
    /// the store keeps, so a time read back equals the time written.
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now().trunc_subsecs(3)
    }
}
