//! Protecting an axum service (feature `axum`): [`VerifyLayer`]
//! authenticates every request with a [`Verifier`] and puts the
//! [`Principal`] in the request's extensions; [`RequireScopes`] and
//! [`RequireOperation`] are route layers that then demand scopes or ask
//! ward's policy; [`Principal`] is also an extractor for handlers.
//!
//! Refusals follow RFC 6750 and ward's own API: 401 with
//! `WWW-Authenticate: Bearer realm="ward", error="invalid_token", …` for
//! a missing or bad token, 403 with `error="insufficient_scope"` (and the
//! scopes needed) for a missing scope or a `deny` / `approval_required`
//! decision (the approval's id in `X-Ward-Approval`), 503 with
//! `Retry-After` when the Verifier cannot judge (stale stream under
//! fail-closed, ward unreachable), each with `{"error":{"code","message"}}`.
//!
//! ```
//! use axum::{Router, routing::{get, post}};
//! use ward_client::Principal;
//! use ward_client::layer::{RequireOperation, RequireScopes, VerifyLayer};
//!
//! fn app(verifier: ward_client::Verifier) -> Router {
//!     Router::new()
//!         .route("/stacks", get(|p: Principal| async move { format!("stacks of {}", p.subject()) }))
//!         .route_layer(RequireScopes(["read:stacks"]))
//!         .merge(
//!             Router::new()
//!                 .route("/containers/{id}/restart", post(|| async { "restarting" }))
//!                 .route_layer(RequireOperation("restart_container")),
//!         )
//!         .layer(VerifyLayer::new(verifier))
//! }
//! ```

mod extract;
mod reject;
mod require;

pub use require::{RequireOperation, RequireOperationService, RequireScopes, RequireScopesService};

use crate::{Principal, Verifier};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, header};
use axum::response::Response;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// In: an approval to spend for a [`RequireOperation`] route. Out: the
/// approval ward opened when it answered `approval_required`.
pub const APPROVAL_HEADER: HeaderName = HeaderName::from_static("x-ward-approval");
/// In: `true` confirms an `auto_approve` operation.
pub const AUTO_APPROVE_HEADER: HeaderName = HeaderName::from_static("x-ward-auto-approve");

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

/// Authenticates every request with a [`Verifier`]: 401 unless it carries a
/// good bearer token; otherwise the [`Principal`] is in its extensions.
#[derive(Debug, Clone)]
pub struct VerifyLayer {
    verifier: Verifier,
}

impl VerifyLayer {
    pub fn new(verifier: Verifier) -> Self {
        Self { verifier }
    }
}

impl<S> Layer<S> for VerifyLayer {
    type Service = VerifyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        VerifyService { inner, verifier: self.verifier.clone() }
    }
}

/// The service [`VerifyLayer`] wraps around a route or router.
#[derive(Debug, Clone)]
pub struct VerifyService<S> {
    inner: S,
    verifier: Verifier,
}

/// The Verifier, in the extensions of a verified request, for
/// [`RequireOperation`] (which asks ward with it).
#[derive(Clone)]
pub(crate) struct Authority(pub(crate) Verifier);

impl<S> Service<Request> for VerifyService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        let verifier = self.verifier.clone();
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        Box::pin(async move {
            let verdict = match bearer(request.headers()) {
                Ok(token) => verifier.verify(token).await,
                Err(refusal) => return Ok(refusal.response()),
            };
            match verdict {
                Ok(principal) => {
                    request.extensions_mut().insert::<Principal>(principal);
                    request.extensions_mut().insert(Authority(verifier));
                    inner.call(request).await
                }
                Err(err) => Ok(reject::refused(&err)),
            }
        })
    }
}

/// The one bearer token of `Authorization`, or the answer that refuses the
/// request.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<&str, reject::Early> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(if headers.contains_key(header::AUTHORIZATION) {
            reject::Early::BadRequest("send one Authorization header")
        } else {
            reject::Early::Missing
        });
    };
    let text =
        value.to_str().map_err(|_| reject::Early::BadRequest("the Authorization header is not ASCII"))?;
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(reject::Early::Missing);
    }
    Ok(token)
}
