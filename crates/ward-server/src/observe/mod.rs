//! What an operator watches: Prometheus metrics at `GET /metrics`
//! ([`registry`]), one access-log line per request, the request's log
//! context, and W3C `traceparent` ([`trace`]).
//!
//! [`layer`] wraps the router inside the request context
//! (`crate::audit::context`), so the request id and client address it logs
//! are the ones the audit trail records. Every request runs in a `request`
//! span carrying its `request_id` (and `trace_id` when the client sent a
//! valid `traceparent`), so every line logged while serving it names it.
//! When the response is ready, one line at INFO on the `ward::access`
//! target: method, route template, status, latency, request id, client.
//! Nothing else of the request is logged: no header (so never the
//! `Authorization` bearer), no body (so never a verified token), no raw
//! path (a path may carry what a client typed).
//!
//! `/metrics` is open on the listener like `/healthz` (Prometheus scrapes
//! without credentials): what it shows are counts by closed labels, never a
//! name, token or path. `[metrics] enabled = false` turns it off (404).

pub mod registry;
pub mod trace;

pub use registry::{AuditMetrics, Metrics, UNMATCHED};

use crate::error::ApiError;
use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderValue;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicBool, Ordering};
use tracing::Instrument;

/// The log target of the access log: `WARD_LOG=info,ward::access=off`
/// silences it.
pub const ACCESS_TARGET: &str = "ward::access";

/// Wraps `router` (already bound to its state) with the access log,
/// request metrics and the request span. Apply it *before* (inside) the
/// request-context layer.
pub fn layer(router: Router, state: &AppState) -> Router {
    router.layer(axum::middleware::from_fn_with_state(state.clone(), observe))
}

async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    // A matched path is shared (`Arc<str>`): cloned, not copied.
    let route = request.extensions().get::<MatchedPath>().cloned();
    let context = crate::audit::context::current().map(|c| (c.request_id, c.client_ip, c.trace_id));
    let (request_id, client, trace_id) = context.unwrap_or_default();
    let client = client.unwrap_or_default();
    let span = tracing::info_span!("request", request_id = %request_id, trace_id = tracing::field::Empty);
    if let Some(trace_id) = &trace_id {
        span.record("trace_id", trace_id.as_str());
    }
    let response = next.run(request).instrument(span).await;
    let took = started.elapsed();
    let route = route.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
    let status = response.status().as_u16();
    state.metrics.request(&method, route, status, took);
    tracing::info!(
        target: ACCESS_TARGET,
        method = %method,
        route,
        status,
        latency_ms = took.as_secs_f64() * 1000.0,
        request_id = %request_id,
        client = %client,
        trace_id = trace_id.as_deref(),
        "request"
    );
    response
}

/// Prometheus metrics of this server (text format 0.0.4).
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "meta",
    responses(
        (status = 200, description = "Prometheus text exposition of this server's metrics", content_type = "text/plain"),
        (status = 404, body = ward_api::ErrorBody, description = "metrics are turned off (`[metrics] enabled = false`)")
    )
)]
pub async fn metrics_text(State(state): State<AppState>) -> Response {
    if !state.metrics.enabled() {
        return ApiError::NotFound("route").into_response();
    }
    let mut response = state
        .metrics
        .render(state.cache.hits_and_misses(), state.throttle.counts(), state.store.pool_use())
        .into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

/// How `ward server` writes its log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// Human-readable lines (coloured only on a terminal without `NO_COLOR`).
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            other => Err(format!("unknown log format '{other}': use text or json")),
        }
    }
}

static JSON_ANNOUNCEMENTS: AtomicBool = AtomicBool::new(false);

/// Makes [`announce`] write JSON lines (what `--log-format json` sets, so
/// that every line on stderr is one JSON object).
pub fn announce_as(format: LogFormat) {
    JSON_ANNOUNCEMENTS.store(format == LogFormat::Json, Ordering::Relaxed);
}

/// A line for the operator on stderr (the listening address, the first
/// admin's password), whatever the log filter: plain text, or under
/// `--log-format json` a JSON object shaped like the log's.
pub fn announce(line: &str) {
    if JSON_ANNOUNCEMENTS.load(Ordering::Relaxed) {
        #[expect(clippy::disallowed_methods, reason = "a log line's timestamp is the wall clock")]
        let now = chrono::Utc::now();
        let object = serde_json::json!({
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "level": "INFO",
            "message": line,
            "target": "ward",
        });
        eprintln!("{object}");
    } else {
        eprintln!("{line}");
    }
}
