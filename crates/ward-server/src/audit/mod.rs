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
    /// When it happened: `None` until the sink stamps it with the server's
    /// clock as it takes the event (counted uses keep their first time).
    pub time: Option<DateTime<Utc>>,
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
            time: None,
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

/// The longest text any stored field of an event holds, in characters;
/// longer text is cut and ends in `…`.
pub const MAX_FIELD_CHARS: usize = 200;
/// The most scopes an event lists; more end in one `…` entry.
pub const MAX_SCOPES: usize = 64;

/// `text` cut to [`MAX_FIELD_CHARS`] characters, ending in `…` when cut.
fn capped(text: String) -> String {
    match text.char_indices().nth(MAX_FIELD_CHARS - 1) {
        Some((end, _)) if text.chars().count() > MAX_FIELD_CHARS => format!("{}…", &text[..end]),
        _ => text,
    }
}

impl AuditEvent {
    /// The event as the chain stores it, under the id `id`, at its own time
    /// or else at `now`. This is the one
    /// place every field is capped ([`MAX_FIELD_CHARS`], [`MAX_SCOPES`]), so
    /// no request can put more than a bounded number of bytes into the
    /// chain per event, whatever text it managed to get into one.
    pub fn into_entry(self, id: EventId, now: DateTime<Utc>) -> AuditEntry {
        let cap = |text: Option<String>| text.map(capped);
        let mut scopes: Vec<String> = self.scopes.into_iter().take(MAX_SCOPES + 1).map(capped).collect();
        if scopes.len() > MAX_SCOPES {
            scopes.truncate(MAX_SCOPES);
            scopes.push("…".to_owned());
        }
        AuditEntry {
            id: id.to_string(),
            time: self.time.unwrap_or(now).trunc_subsecs(3),
            action: capped(self.action.to_owned()),
            subject: cap(self.subject),
            token_id: cap(self.token_id),
            scopes,
            operation: cap(self.operation),
            decision: cap(self.decision),
            risk_level: self.risk_level.map(|r| r.as_str().to_owned()),
            error: cap(self.error),
            request_id: cap(self.request_id),
            client_ip: cap(self.client_ip),
            count: self.count.filter(|n| *n > 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp_millis(1_800_000_000_123).unwrap_or_default()
    }

    #[test]
    fn every_stored_field_is_capped_with_an_ellipsis() {
        let long = "é".repeat(100_000);
        let mut event = AuditEvent::new("mint.revoke")
            .subject(long.clone())
            .token(long.clone())
            .operation(long.clone())
            .decision(long.clone())
            .error(long.clone())
            .scopes((0..1000).map(|n| format!("s{n}:{long}")));
        event.request_id = Some(long.clone());
        event.client_ip = Some(long.clone());
        let entry = event.into_entry(EventId::generate(at(), &mut crate::entropy::OsEntropy), at());
        let fields = [&entry.subject, &entry.token_id, &entry.operation, &entry.decision, &entry.error];
        for field in fields.into_iter().chain([&entry.request_id, &entry.client_ip]) {
            let text = field.as_deref().unwrap_or_default();
            assert_eq!(text.chars().count(), MAX_FIELD_CHARS);
            assert!(text.ends_with('…'));
        }
        assert_eq!(entry.scopes.len(), MAX_SCOPES + 1);
        assert_eq!(entry.scopes.last().map(String::as_str), Some("…"));
        assert!(entry.canonical().len() < 64 * 1024, "{}", entry.canonical().len());
    }

    #[test]
    fn short_fields_are_stored_as_given() {
        let entry = AuditEvent::new("token.create")
            .subject("alice")
            .scopes(["a:b"])
            .into_entry(EventId::generate(at(), &mut crate::entropy::OsEntropy), at());
        assert_eq!(entry.subject.as_deref(), Some("alice"));
        assert_eq!(entry.time, at(), "an unstamped event takes the time it is stored at");
        assert_eq!(entry.scopes, ["a:b"]);
        assert_eq!(capped("x".repeat(MAX_FIELD_CHARS)), "x".repeat(MAX_FIELD_CHARS));
    }
}
