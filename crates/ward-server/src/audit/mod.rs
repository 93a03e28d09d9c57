//! The audit trail: what happened, who did it, with which token, and what
//! was decided. Never a secret: events hold token *ids*, never tokens.
//!
//! Handlers and authority functions call [`AuditSink::emit`]; it returns at
//! once. The request id and client address come from the request context
//! set by [`context::layer`], so callers do not pass them around.
//!
//! - [`sink`]: `emit` gives the event an `evt_…` id and queues it on an
//!   unbounded channel: a request never waits for the audit log, and no
//!   event is dropped for want of room. `emit_use` counts token uses
//!   instead ([`uses`]): one event per distinct use per
//!   `usage.flush_interval`, not one per request.
//! - [`writer`]: one task per server, started and drained by
//!   [`crate::serve`], appends queued events in batches (up to 500, at
//!   least every 50 ms) in one transaction each, where the store chains
//!   them by hash; a failed batch is kept and retried.
//! - [`mirror`]: the optional JSON-lines copy (`ward server --audit-log`).
//! - [`read`]: `GET /v1/audit` and `GET /v1/audit/verify`.

pub mod context;
pub mod mirror;
pub mod read;
pub mod sink;
pub mod uses;
pub mod writer;

pub use sink::AuditSink;

use chrono::{DateTime, SubsecRound, Utc};
use ward_core::audit::AuditEntry;
use ward_core::{EventId, Risk};

/// One audit event, before it is written and chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub time: DateTime<Utc>,
    /// What happened, dotted: `login.success`, `token.create`, `authorize` …
    pub action: &'static str,
    /// Who: the user, service user or agent name the event is about.
    pub subject: Option<String>,
    pub token_id: Option<String>,
    pub scopes: Vec<String>,
    pub operation: Option<String>,
    /// `allow`, `deny`, `approval_required`, `approved`, `denied` …
    pub decision: Option<String>,
    pub risk_level: Option<Risk>,
    /// Why it failed, in words that never contain a secret.
    pub error: Option<String>,
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    /// How many uses this event stands for ([`uses`]); `None` for one.
    pub count: Option<u64>,
}

impl AuditEvent {
    pub fn new(action: &'static str) -> Self {
        Self {
            time: Utc::now(),
            action,
            subject: None,
            token_id: None,
            scopes: Vec::new(),
            operation: None,
            decision: None,
            risk_level: None,
            error: None,
            request_id: None,
            client_ip: None,
            count: None,
        }
    }

    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    pub fn token(mut self, id: impl ToString) -> Self {
        self.token_id = Some(id.to_string());
        self
    }

    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: ToString,
    {
        self.scopes = scopes.into_iter().map(|s| s.to_string()).collect();
        self
    }

    pub fn operation(mut self, operation: impl Into<String>) -> Self {
        self.operation = Some(operation.into());
        self
    }

    pub fn decision(mut self, decision: impl Into<String>) -> Self {
        self.decision = Some(decision.into());
        self
    }

    pub fn risk(mut self, risk: Risk) -> Self {
        self.risk_level = Some(risk);
        self
    }

    pub fn error(mut self, error: impl Into<String>) -> Self {
        self.error = Some(error.into());
        self
    }
}

impl AuditEvent {
    /// The event as the chain stores it, under the id `id`.
    pub fn into_entry(self, id: EventId) -> AuditEntry {
        AuditEntry {
            id: id.to_string(),
            time: self.time.trunc_subsecs(3),
            action: self.action.to_owned(),
            subject: self.subject,
            token_id: self.token_id,
            scopes: self.scopes,
            operation: self.operation,
            decision: self.decision,
            risk_level: self.risk_level.map(|r| r.as_str().to_owned()),
            error: self.error,
            request_id: self.request_id,
            client_ip: self.client_ip,
            count: self.count.filter(|n| *n > 1),
        }
    }
}
