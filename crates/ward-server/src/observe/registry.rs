//! The server's Prometheus metrics, one registry per [`crate::AppState`].
//!
//! Each state builds its own `PrometheusRecorder` and never installs it as
//! the process's global recorder: tests run many servers in one process,
//! and each must count only its own requests (a test asserts that N
//! verifies raise the verify counter by exactly N). So nothing here uses
//! the `metrics::counter!` macros; the series are registered on this
//! recorder directly.
//!
//! What other parts own is counted there, with plain atomics, and read when
//! `/metrics` is scraped: verify-cache hits and misses
//! ([`crate::cache::VerifyCache::hits_and_misses`]), login throttling
//! ([`crate::throttle::LoginThrottle::counts`]), the database pool
//! ([`ward_store::Store::pool_use`]).
//!
//! Labels are closed sets: the route *template* (`/v1/tokens/{id}`, never
//! the path asked for; `unmatched` for every path no route serves), the
//! method (one of the standard ones, else `OTHER`), the status code, the
//! verify `code`. No token, hash, user name or path a client chose can
//! become a label.

use metrics::{Counter, Gauge, Histogram, Key, Label, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";

/// The verify codes, in the order of [`Metrics::verify`]'s counters.
const VERIFY_CODES: [&str; 5] = ["VALID", "MALFORMED", "NOT_FOUND", "EXPIRED", "REVOKED"];

const REQUESTS: &str = "ward_http_requests_total";
const DURATION: &str = "ward_http_request_duration_seconds";
const VERIFY: &str = "ward_verify_total";
const CACHE: &str = "ward_verify_cache_total";
const THROTTLE: &str = "ward_login_throttled_total";
const AUDIT_QUEUE: &str = "ward_audit_queue_depth";
const AUDIT_FLUSH: &str = "ward_audit_flush_duration_seconds";
const POOL_SIZE: &str = "ward_db_pool_connections";
const POOL_IDLE: &str = "ward_db_pool_idle_connections";
const REFUSED: &str = "ward_connections_refused_total";

/// Latency buckets, in seconds: a cached verify is well under a
/// millisecond, a login (argon2) a few hundred.
const BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

static METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The registry of one server and the series it always has.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// Whether `GET /metrics` answers (`[metrics] enabled`).
    enabled: bool,
    verify: [Counter; 5],
    cache_hits: Counter,
    cache_misses: Counter,
    throttle_refused: Counter,
    throttle_slowed: Counter,
    audit_queue: Gauge,
    audit_flush: Histogram,
    pool_size: Gauge,
    pool_idle: Gauge,
    /// Connections closed at accept: their address held its cap.
    refused_per_address: Counter,
    /// The request series registered so far, by route template, so that a
    /// request finds its two handles without building a key and looking it
    /// up in the registry (which showed in profiles of `/healthz`).
    requests: RwLock<HashMap<String, RouteSeries>>,
}

/// The handles of one route template's series.
#[derive(Default)]
struct RouteSeries {
    /// `ward_http_requests_total` by method and status.
    answered: Vec<(&'static str, u16, Counter)>,
    /// `ward_http_request_duration_seconds` by method.
    took: Vec<(&'static str, Histogram)>,
}

impl RouteSeries {
    fn handles(&self, method: &str, status: u16) -> Option<(&Counter, &Histogram)> {
        let answered = self.answered.iter().find(|(m, s, _)| *m == method && *s == status)?;
        let took = self.took.iter().find(|(m, _)| *m == method)?;
        Some((&answered.2, &took.1))
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").field("enabled", &self.enabled).finish_non_exhaustive()
    }
}

/// What the audit writer reports: how many events wait, how long a write
/// of them took.
#[derive(Debug, Clone)]
pub struct AuditMetrics {
    pub queue: Gauge,
    pub flush: Histogram,
}

impl Metrics {
    /// A fresh registry; `/metrics` answers only when `enabled`.
    pub fn new(enabled: bool) -> Self {
        let builder = PrometheusBuilder::new();
        let builder = [DURATION, AUDIT_FLUSH]
            .into_iter()
            .try_fold(builder, |b, name| b.set_buckets_for_metric(Matcher::Full(name.into()), BUCKETS));
        // Only an empty bucket list fails, and BUCKETS is not empty.
        let recorder = builder.unwrap_or_else(|_| PrometheusBuilder::new()).build_recorder();
        let handle = recorder.handle();
        describe(&recorder);
        let counter = |name: &'static str, labels: Vec<Label>| {
            recorder.register_counter(&Key::from_parts(name, labels), &METADATA)
        };
        let verify = VERIFY_CODES.map(|code| counter(VERIFY, vec![Label::new("code", code)]));
        let cache_hits = counter(CACHE, vec![Label::new("result", "hit")]);
        let cache_misses = counter(CACHE, vec![Label::new("result", "miss")]);
        let throttle_refused = counter(THROTTLE, vec![Label::new("outcome", "refused")]);
        let throttle_slowed = counter(THROTTLE, vec![Label::new("outcome", "slowed")]);
        let gauge = |name: &'static str| recorder.register_gauge(&Key::from_name(name), &METADATA);
        let audit_queue = gauge(AUDIT_QUEUE);
        let pool_size = gauge(POOL_SIZE);
        let pool_idle = gauge(POOL_IDLE);
        let audit_flush = recorder.register_histogram(&Key::from_name(AUDIT_FLUSH), &METADATA);
        let refused_per_address = counter(REFUSED, vec![Label::new("reason", "per_address")]);
        Self {
            recorder,
            handle,
            enabled,
            verify,
            cache_hits,
            cache_misses,
            throttle_refused,
            throttle_slowed,
            audit_queue,
            audit_flush,
            pool_size,
            pool_idle,
            refused_per_address,
            requests: RwLock::default(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// Counts one answered request and its latency. `route` must be a
    /// route template or [`UNMATCHED`].
    pub fn request(&self, method: &axum::http::Method, route: &str, status: u16, took: Duration) {
        let method = method_label(method);
        {
            let known = self.requests.read().unwrap_or_else(|p| p.into_inner());
            if let Some((answered, duration)) = known.get(route).and_then(|s| s.handles(method, status)) {
                answered.increment(1);
                duration.record(took.as_secs_f64());
                return;
            }
        }
        let (answered, duration) = self.register(method, route, status);
        answered.increment(1);
        duration.record(took.as_secs_f64());
    }

    /// Registers the series of a request not seen before and keeps their
    /// handles. The labels are closed sets, so the map stays small.
    fn register(&self, method: &'static str, route: &str, status: u16) -> (Counter, Histogram) {
        let labels = vec![
            Label::new("method", method),
            Label::new("route", route.to_owned()),
            Label::new("status", status.to_string()),
        ];
        let answered = self.recorder.register_counter(&Key::from_parts(REQUESTS, labels), &METADATA);
        let labels = vec![Label::new("method", method), Label::new("route", route.to_owned())];
        let duration = self.recorder.register_histogram(&Key::from_parts(DURATION, labels), &METADATA);
        let mut known = self.requests.write().unwrap_or_else(|p| p.into_inner());
        let series = known.entry(route.to_owned()).or_default();
        if !series.answered.iter().any(|(m, s, _)| *m == method && *s == status) {
            series.answered.push((method, status, answered.clone()));
        }
        if !series.took.iter().any(|(m, _)| *m == method) {
            series.took.push((method, duration.clone()));
        }
        (answered, duration)
    }

    /// Counts one answer of `POST /v1/verify` by its `code`.
    pub fn verify(&self, code: &str) {
        if let Some(i) = VERIFY_CODES.iter().position(|c| *c == code) {
            self.verify[i].increment(1);
        }
    }

    /// What the accept loop counts a connection refused under
    /// `server.max_connections_per_address` on (`crate::listen`).
    pub fn connections_refused(&self) -> Counter {
        self.refused_per_address.clone()
    }

    /// The handles the audit writer reports through.
    pub fn audit(&self) -> AuditMetrics {
        AuditMetrics { queue: self.audit_queue.clone(), flush: self.audit_flush.clone() }
    }

    /// The exposition text, after taking the counts other parts keep: the
    /// verify cache's `(hits, misses)`, the login throttle's, the pool's.
    pub fn render(
        &self,
        (hits, misses): (u64, u64),
        throttled: crate::throttle::Throttled,
        pool: Option<ward_store::PoolUse>,
    ) -> String {
        self.cache_hits.absolute(hits);
        self.cache_misses.absolute(misses);
        self.throttle_refused.absolute(throttled.refused);
        self.throttle_slowed.absolute(throttled.slowed);
        if let Some(pool) = pool {
            self.pool_size.set(pool.size as f64);
            self.pool_idle.set(pool.idle as f64);
        }
        self.handle.render()
    }
}

/// `method` when it is a standard one, else `OTHER`: a client may send any
/// token as a method.
fn method_label(method: &axum::http::Method) -> &'static str {
    match method.as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "HEAD" => "HEAD",
        "OPTIONS" => "OPTIONS",
        _ => "OTHER",
    }
}

fn describe(recorder: &PrometheusRecorder) {
    let counters = [
        (REQUESTS, "HTTP requests answered, by method, route template and status"),
        (VERIFY, "POST /v1/verify answers, by code"),
        (CACHE, "verify-cache lookups, by result (hit or miss)"),
        (THROTTLE, "login attempts refused (locked out) or slowed down by the throttle"),
        (
            REFUSED,
            "connections closed as soon as accepted, by reason (per_address: the client address held server.max_connections_per_address)",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(name.into(), None, help.into());
    }
    let gauges = [
        (AUDIT_QUEUE, "audit events waiting to be written"),
        (POOL_SIZE, "database connections open in the pool"),
        (POOL_IDLE, "database connections open and idle"),
    ];
    for (name, help) in gauges {
        recorder.describe_gauge(name.into(), None, help.into());
    }
    recorder.describe_histogram(
        DURATION.into(),
        Some(Unit::Seconds),
        "time to answer a request, by method and route template".into(),
    );
    recorder.describe_histogram(
        AUDIT_FLUSH.into(),
        Some(Unit::Seconds),
        "time to write one batch of audit events".into(),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_requests_count_on_one_series_per_method_route_and_status() {
        let metrics = Metrics::new(true);
        let get = axum::http::Method::GET;
        for status in [200, 200, 200, 404] {
            metrics.request(&get, "/healthz", status, Duration::from_millis(1));
        }
        metrics.request(&axum::http::Method::POST, "/healthz", 200, Duration::from_millis(1));
        let text = metrics.render((0, 0), crate::throttle::Throttled { refused: 0, slowed: 0 }, None);
        let line = |m: &str, s: &str| {
            format!(r#"ward_http_requests_total{{method="{m}",route="/healthz",status="{s}"}}"#)
        };
        assert!(text.contains(&format!("{} 3", line("GET", "200"))), "{text}");
        assert!(text.contains(&format!("{} 1", line("GET", "404"))), "{text}");
        assert!(text.contains(&format!("{} 1", line("POST", "200"))), "{text}");
        let took = r#"ward_http_request_duration_seconds_count{method="GET",route="/healthz"} 4"#;
        assert!(text.contains(took), "{text}");
    }

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&axum::http::Method::GET), "GET");
        let odd = axum::http::Method::from_bytes(b"WARD_P_SECRET").unwrap_or_default();
        assert_eq!(method_label(&odd), "OTHER");
    }
}
