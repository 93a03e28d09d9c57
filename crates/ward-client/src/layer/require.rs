//! Route layers that run after [`super::VerifyLayer`]:
//! [`RequireScopes`] checks the verified principal's scopes in process;
//! [`RequireOperation`] asks ward's policy (`POST /v1/authorize` with the
//! presented token in the body), so risk levels and approvals apply.
//! Both refuse (500) on a route the VerifyLayer does not cover.

use super::{APPROVAL_HEADER, AUTO_APPROVE_HEADER, Authority, BoxFuture, bearer, reject};
use crate::{Error, Principal};
use axum::extract::Request;
use axum::response::Response;
use std::convert::Infallible;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// Refuses (403) a verified request whose token lacks any of these scopes:
/// `.route_layer(RequireScopes(["read:stacks"]))`.
#[derive(Debug, Clone, Copy)]
pub struct RequireScopes<const N: usize>(pub [&'static str; N]);

/// Asks ward whether the verified token may perform this operation:
/// `.route_layer(RequireOperation("restart_container"))`. `allow` passes;
/// `deny` and `approval_required` are 403 (the approval's id in
/// `X-Ward-Approval`, which the caller sends back once it is approved).
#[derive(Debug, Clone, Copy)]
pub struct RequireOperation(pub &'static str);

impl<S, const N: usize> Layer<S> for RequireScopes<N> {
    type Service = RequireScopesService<S, N>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopesService { inner, scopes: self.0 }
    }
}

impl<S> Layer<S> for RequireOperation {
    type Service = RequireOperationService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireOperationService { inner, operation: self.0 }
    }
}

/// The service of [`RequireScopes`].
#[derive(Debug, Clone)]
pub struct RequireScopesService<S, const N: usize> {
    inner: S,
    scopes: [&'static str; N],
}

/// The service of [`RequireOperation`].
#[derive(Debug, Clone)]
pub struct RequireOperationService<S> {
    inner: S,
    operation: &'static str,
}

impl<S, const N: usize> Service<Request> for RequireScopesService<S, N>
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

    fn call(&mut self, request: Request) -> Self::Future {
        let verdict = match request.extensions().get::<Principal>() {
            None => Err(reject::not_layered()),
            Some(p) if self.scopes.iter().all(|s| p.has_scope(s)) => Ok(()),
            Some(_) => Err(reject::insufficient_scope(&self.scopes)),
        };
        match verdict {
            Ok(()) => {
                let future = self.inner.call(request);
                Box::pin(future)
            }
            Err(refusal) => Box::pin(async move { Ok(refusal) }),
        }
    }
}

impl<S> Service<Request> for RequireOperationService<S>
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

    fn call(&mut self, request: Request) -> Self::Future {
        let ready = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, ready);
        // What ward is asked, taken from the request before any await: the
        // body is not `Sync`, so the future must not hold the request borrowed.
        let asked = question(&request, self.operation);
        Box::pin(async move {
            let refusal = match asked {
                Ok(question) => decide(question).await,
                Err(refusal) => Some(refusal.response()),
            };
            match refusal {
                None => inner.call(request).await,
                Some(refusal) => Ok(refusal),
            }
        })
    }
}

/// One question for `/v1/authorize`.
struct Question {
    verifier: crate::Verifier,
    token: zeroize::Zeroizing<String>,
    operation: &'static str,
    approval_id: Option<String>,
    auto_approve: bool,
}

/// The question this request asks, or why it cannot be asked.
fn question(request: &Request, operation: &'static str) -> Result<Question, reject::Early> {
    let Some(Authority(verifier)) = request.extensions().get::<Authority>() else {
        return Err(reject::Early::NotLayered);
    };
    let token = zeroize::Zeroizing::new(bearer(request.headers())?.to_owned());
    let headers = request.headers();
    let approval_id = headers.get(APPROVAL_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let auto_approve = headers
        .get(AUTO_APPROVE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    Ok(Question { verifier: verifier.clone(), token, operation, approval_id, auto_approve })
}

/// Asks ward; `None` when it allows, else the refusal to answer.
async fn decide(q: Question) -> Option<Response> {
    match q.verifier.authorize(&q.token, q.operation, q.approval_id, q.auto_approve).await {
        Ok(answer) if answer.decision == "allow" => None,
        Ok(answer) => {
            let code =
                if answer.decision == "approval_required" { "approval_required" } else { "access_denied" };
            Some(reject::denied(code, answer.reason, answer.approval_id.as_deref()))
        }
        Err(Error::Api { status: 401, message, .. }) => Some(reject::invalid(&message)),
        Err(Error::Api { status: 403, message, .. }) => {
            Some(reject::denied("insufficient_scope", message, None))
        }
        Err(other) => Some(reject::unavailable(&format!("cannot ask ward about the operation: {other}"))),
    }
}
