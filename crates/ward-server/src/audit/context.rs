//! The request context (request id, client address) carried in a task-local
//! for the duration of each request, so audit events can be stamped without
//! threading them through every call.

use super::AuditEvent;
use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use std::net::SocketAddr;

/// What is known of the request being served.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub request_id: String,
    pub client_ip: Option<String>,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// The header that carries the request id in and out.
pub const REQUEST_ID: &str = "x-request-id";

/// Middleware: takes `x-request-id` from the request (if it is a short,
/// printable value) or makes one, runs the request inside the context, and
/// echoes the id on the response.
pub async fn layer(request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned);
    let request_id = given.unwrap_or_else(new_request_id);
    let client_ip =
        request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(a)| a.ip().to_string());
    let context = RequestContext { request_id: request_id.clone(), client_ip };
    let mut response = CONTEXT.scope(context, next.run(request)).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

fn new_request_id() -> String {
    let mut bytes = [0u8; 8];
    ward_core::Entropy::fill(&mut crate::entropy::OsEntropy, &mut bytes);
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("req_{hex}")
}

/// The current request's context, if any.
pub fn current() -> Option<RequestContext> {
    CONTEXT.try_with(Clone::clone).ok()
}

/// Fills in request id and client address from the current request.
pub fn stamp(mut event: AuditEvent) -> AuditEvent {
    if let Some(ctx) = current() {
        event.request_id = event.request_id.or(Some(ctx.request_id));
        event.client_ip = event.client_ip.or(ctx.client_ip);
    }
    event
}
