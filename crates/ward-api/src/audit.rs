//! `GET /v1/audit` and `GET /v1/audit/verify`. [`AuditRecord`] is also the
//! shape of each line of the JSON-lines mirror (`ward server --audit-log`).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};

/// One stored audit event. Never a secret: tokens appear by id only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditRecord {
    /// Position in the chain: 1, 2, 3 … in the order events were written.
    pub seq: u64,
    /// `evt_…`.
    pub id: String,
    /// RFC 3339 UTC with milliseconds.
    #[serde(serialize_with = "millis")]
    pub time: DateTime<Utc>,
    /// `login.success`, `login.failure`, `logout`, `token.create`, `token.revoke`,
    /// `token.delete`, `token.rotate`, `token.use`, `token.verify`, `user.*`,
    /// `service_user.*`, `mint.*`, `key.*`, `approval.*`, `authorize` …
    pub action: String,
    /// The user, service user or agent the event is about.
    pub subject: Option<String>,
    pub token_id: Option<String>,
    pub scopes: Vec<String>,
    pub operation: Option<String>,
    /// `allow`, `deny`, `approval_required`, a verify verdict …
    pub decision: Option<String>,
    /// `low`, `moderate`, `high` or `critical`.
    #[schema(schema_with = crate::schema::opt_risk)]
    pub risk_level: Option<String>,
    pub error: Option<String>,
    /// The first use's request when `count` is above 1.
    pub request_id: Option<String>,
    pub client_ip: Option<String>,
    /// How many uses this event stands for: 1, or more for `token.use` and
    /// `token.verify`, which are counted per token, operation, verdict and
    /// client over `usage.flush_interval` (then `time` is the first use's).
    #[serde(default = "one")]
    pub count: u64,
    /// The hash this event is chained after (hex; 64 zeros for the first).
    pub prev_hash: String,
    /// `sha256(prev_hash || canonical event)`, hex.
    pub hash: String,
}

fn one() -> u64 {
    1
}

fn millis<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// `GET /v1/audit`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditList {
    /// Newest first.
    pub events: Vec<AuditRecord>,
    /// Pass as `cursor` to get the next page (older, or newer when
    /// `order=oldest`); absent on the last.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Query of `GET /v1/audit`. Every filter is an exact match.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// `low`, `moderate`, `high` or `critical`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::risk)]
    pub risk: Option<String>,
    /// RFC 3339, or a duration such as `24h` meaning that long ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::time_bound)]
    pub since: Option<String>,
    /// RFC 3339, or a duration such as `1h` meaning that long ago.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::time_bound)]
    pub until: Option<String>,
    /// 1 to 1000, default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// `newest` (the default) or `oldest` first; a `cursor` continues in
    /// the order it was given for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::audit_order)]
    pub order: Option<String>,
    /// The `next_cursor` of the previous page: an event's `seq`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[param(schema_with = crate::schema::seq_cursor)]
    pub cursor: Option<String>,
}

/// `GET /v1/audit/verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditVerifyResponse {
    /// True when every stored event is intact and in place.
    pub ok: bool,
    /// How many stored events were read.
    pub checked: u64,
    /// How many of them were chained before the audit chain was keyed
    /// (plain SHA-256): intact as far as a chain anyone can recompute
    /// shows, but not forgery-proof. 0 for a chain keyed from its start.
    #[serde(default)]
    pub unkeyed: u64,
    /// The first event that fails; absent when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<AuditBadEvent>,
}

/// The first event of the chain that was changed, removed or reordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AuditBadEvent {
    /// The event's `seq` (for a removed event, the `seq` it had).
    pub seq: u64,
    /// The event's id; absent for a removed event.
    pub id: Option<String>,
    /// `changed`, `removed` or `reordered`.
    pub problem: String,
    pub detail: String,
}
