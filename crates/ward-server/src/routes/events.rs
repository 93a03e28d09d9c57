//! `GET /v1/events`: the revocation stream, as Server-Sent Events.

use crate::auth::{Auth, Presented};
use crate::authority::events;
use crate::error::ApiResult;
use crate::events::stream::Stream;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use ward_api::{ErrorBody, StreamEvent};

/// Subscribe to every change that ends credentials, on every node, as it
/// commits (Server-Sent Events; needs `ward:introspect`). Each message is
/// `id:` a cursor, `event:` its kind, `data:` the event as JSON; a comment
/// line comes every heartbeat (5 s by default). Send the last cursor seen
/// as `Last-Event-ID` to resume; when the missed events cannot be replayed
/// the stream opens with `reset`: drop every cached answer. The stream
/// ends when the credential that opened it ends.
#[utoipa::path(get, path = "/v1/events", operation_id = "events", tag = "tokens", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<String>, Header, description = "the `id:` of the last message received, to resume after it")),
    responses((status = 200, description = "a stream of Server-Sent Events; each `data:` is one StreamEvent", content_type = "text/event-stream", body = StreamEvent),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody, description = "insufficient_scope: ward:introspect"),
        (status = 503, body = ErrorBody, description = "the node serves [events] max_subscribers streams already, or the database is unavailable")))]
pub async fn events(
    State(state): State<AppState>,
    Auth(caller): Auth,
    Presented(presented): Presented,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let last_event_id = headers.get("last-event-id").and_then(|v| v.to_str().ok());
    let subscription = events::subscribe(&state, &caller, last_event_id)?;
    let body = Stream::new(state, presented, caller, subscription).into_body();
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    // A buffering proxy (nginx) would hold events back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}
