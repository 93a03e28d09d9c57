//! The request context (request id, client address) carried in a task-local
//! for the duration of each request, so audit events can be stamped without
//! threading them through every call.
//!
//! The client address is decided here, once (`crate::client::resolve`:
//! `X-Forwarded-For` only from a trusted proxy), and handed to handlers as
//! [`ClientAddr`], so the login throttle and the audit trail see the same one.

use super::AuditEvent;
use crate::client::Cidr;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};

/// What is known of the request being served.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub client_ip: Option<String>,
    /// The trace id of a valid W3C `traceparent`, for the log; never the
    /// request id (`crate::observe::trace`).
    pub trace_id: Option<String>,
    /// The `User-Agent` header as sent (a cheap clone of the header), for
    /// the clients a token remembers (`crate::clients`).
    pub user_agent: Option<HeaderValue>,
}

/// The client's address as [`layer`] decided it (`None` when the server
/// runs without connection info, as in router-only tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<ClientAddr>().copied().unwrap_or(ClientAddr(None)))
    }
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The header that carries the request id in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// The header that answers a valid `traceparent`: its trace id, ward's span.
pub const TRACE_RESPONSE: &str = "traceresponse";

/// Middleware: takes the request id from `x-request-id` when a trusted
/// proxy sent it (a short, printable value), else makes one; notes the trace id of a valid W3C
/// `traceparent` beside it (never as the request id, so two requests that
/// send one trace still get two ids); decides the client address, runs the
/// request inside the context, and echoes the id (and `traceresponse`) on
/// the response.
pub async fn layer(
    State(trusted_proxies): State<std::sync::Arc<[Cidr]>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip());
    // Only a trusted proxy may name the request: anyone else could pick an
    // id that another request (or another client's) already has.
    let from_proxy = peer.is_some_and(|ip| trusted_proxies.iter().any(|block| block.contains(ip)));
    let given = request
        .headers()
        .get(REQUEST_ID)
        .filter(|_| from_proxy)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    let own = next_id();
    let request_id = given.unwrap_or_else(|| format!("req_{own:016x}"));
    let traced = crate::observe::trace::TraceParent::from_headers(request.headers());
    let trace_id = traced.map(|t| t.trace_id().to_owned());
    let trace_response = traced.map(|t| t.response(own));
    let client = peer.map(|ip| crate::client::resolve(ip, request.headers(), &trusted_proxies));
    request.extensions_mut().insert(ClientAddr(client));
    let user_agent = request.headers().get(axum::http::header::USER_AGENT).cloned();
    let context = RequestContext {
        request_id: request_id.clone(),
        client_ip: client.map(|c| c.to_string()),
        trace_id,
        user_agent,
    };
    let mut response = CONTEXT.scope(context, next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if let Some(value) = trace_response.and_then(|t| HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert(TRACE_RESPONSE, value);
    }
    response
}

/// 64 bits for a request id (`req_` and 16 hex digits) and ward's span id in
/// `traceresponse`. A request id only has to be unlikely to repeat, not
/// unpredictable, so it comes from a per-thread generator seeded once from
/// the OS (a system call per request showed in profiles) instead of the CSPRNG.
fn next_id() -> u64 {
    thread_local! {
        static STATE: std::cell::Cell<u64> = std::cell::Cell::new({
            let mut seed = [0u8; 8];
            ward_core::Entropy::fill(&mut crate::entropy::OsEntropy, &mut seed);
            u64::from_le_bytes(seed)
        });
    }
    STATE.with(|state| {
        // wyrand: a 64-bit step and a 128-bit multiply-fold.
        let s = state.get().wrapping_add(0xa076_1d64_78bd_642f);
        state.set(s);
        let wide = u128::from(s) * u128::from(s ^ 0xe703_7ed1_a0b4_28db);
        (wide as u64) ^ ((wide >> 64) as u64)
    })
}

/// The current request's context, if any.
pub fn current() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// Runs `f` on the current request's client address and user agent (empty
/// when not sent or not text), without copying them; `None` outside a
/// request or when the address is unknown.
pub fn with_client<R>(f: impl FnOnce(&str, &str) -> R) -> Option<R> {
    CONTEXT
        .try_with(|ctx| {
            let address = ctx.client_ip.as_deref()?;
            let agent = ctx.user_agent.as_ref().and_then(|v| v.to_str().ok()).unwrap_or("");
            Some(f(address, agent))
        })
        .ok()
        .flatten()
}

/// Fills in request id and client address from the current request.
pub fn stamp(mut event: AuditEvent) -> AuditEvent {
    // Borrowed, not cloned whole: every counted use of every request comes here.
    let _outside_a_request = CONTEXT.try_with(|ctx| {
        if event.request_id.is_none() {
            event.request_id = Some(ctx.request_id.clone());
        }
        if event.client_ip.is_none() {
            event.client_ip.clone_from(&ctx.client_ip);
        }
    });
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_prefixed_hex_and_do_not_repeat() {
        let ids: std::collections::HashSet<String> =
            (0..10_000).map(|_| format!("req_{:016x}", next_id())).collect();
        assert_eq!(ids.len(), 10_000);
        assert!(ids.iter().all(|id| id.len() == 20
            && id.starts_with("req_")
            && id[4..].bytes().all(|b| b.is_ascii_hexdigit())));
    }
}
