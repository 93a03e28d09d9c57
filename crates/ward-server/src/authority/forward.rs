//! `GET /v1/forward-auth`: the decision of `/v1/authorize` for a request a
//! reverse proxy (nginx `auth_request`, Traefik `forwardAuth`, Caddy
//! `forward_auth`) is about to pass on, with the operation found through
//! the config's `[[routes]]`.
//!
//! It fails closed. A proxy reads only the status, so everything that is
//! not an allow is a non-2xx: the bearer is checked by the `Auth` extractor
//! (401), a missing scope is a 403 naming it, `deny` and
//! `approval_required` are 403s. A path that no route maps is denied
//! unless `[forward_auth] unmatched = "allow"`; a path that is not in
//! canonical form (a `.` or `..` segment, an empty segment, an encoded
//! `/`, `\` or `.`) is denied whatever the routes say, since the service
//! behind the proxy may read it as another path than the one matched here.

use super::authorize::{self, Authorized};
use super::input::Authorize;
use crate::audit::AuditEvent;
use crate::error::ApiResult;
use crate::interop::Unmatched;
use crate::state::AppState;
use ward_core::Caller;
use ward_core::operation::Decision;

/// The request the proxy asks about, from its headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Original {
    /// Upper-case, as `[[routes]]` keeps it.
    pub method: String,
    /// The path only: the query is cut off.
    pub path: String,
    /// `X-Ward-Approval`: an approval to spend (human approval rule).
    pub approval_id: Option<String>,
    /// `X-Ward-Auto-Approve: true`: the request confirms an `auto_approve`
    /// operation.
    pub auto_approve: bool,
}

/// Why the original request cannot be judged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OriginalError {
    #[error(
        "no original request: the proxy must send X-Original-Method and X-Original-URI (nginx) or X-Forwarded-Method and X-Forwarded-Uri (Traefik, Caddy)"
    )]
    Missing,
    #[error("the original request headers disagree or repeat; the proxy must set them, once")]
    Ambiguous,
    #[error("the original method is not an HTTP method")]
    BadMethod,
    #[error("the original URI must be an absolute path (/…)")]
    BadUri,
    #[error("X-Ward-Approval is too long to be an approval id")]
    BadApproval,
}

impl Original {
    /// `method` and `uri` as the proxy sent them.
    pub fn parse(
        method: &str,
        uri: &str,
        approval_id: Option<String>,
        auto_approve: bool,
    ) -> Result<Self, OriginalError> {
        if method.is_empty() || method.len() > 16 || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(OriginalError::BadMethod);
        }
        if !uri.starts_with('/') || uri.len() > 8192 {
            return Err(OriginalError::BadUri);
        }
        let path = uri.split(['?', '#']).next().unwrap_or_default();
        Ok(Self { method: method.to_ascii_uppercase(), path: path.to_owned(), approval_id, auto_approve })
    }

    /// Whether the path reads the same to every parser: no dot segments, no
    /// empty segments, nothing encoded that could become a separator or a
    /// dot, no backslash.
    pub fn is_canonical(&self) -> bool {
        let lower = self.path.to_ascii_lowercase();
        if lower.contains('\\') || ["%2f", "%5c", "%2e", "%00"].iter().any(|e| lower.contains(e)) {
            return false;
        }
        let inner = self.path.strip_prefix('/').unwrap_or(&self.path);
        let inner = inner.strip_suffix('/').unwrap_or(inner);
        inner.is_empty() || inner.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
    }
}

/// The answer to the proxy.
#[derive(Debug)]
pub enum Forwarded {
    /// Pass the request on; `operation` is `None` for an unmatched path
    /// let through by `unmatched = "allow"`.
    Allow { subject: Caller, operation: Option<String> },
    /// Do not: `deny` or `approval_required`, with the reason and the
    /// approval that was opened (or is still pending).
    Refuse { decision: Decision, operation: Option<String>, approval_id: Option<String> },
}

/// Decides `original` for `caller` (already authenticated).
pub async fn forward(state: &AppState, caller: Caller, original: Original) -> ApiResult<Forwarded> {
    if !original.is_canonical() {
        return Ok(refuse_unrouted(state, &caller, "the path is not in canonical form".to_owned()));
    }
    let Some(op) = state.settings.policy.route(&original.method, &original.path) else {
        return Ok(match state.settings.forward_auth.unmatched {
            Unmatched::Allow => Forwarded::Allow { subject: caller, operation: None },
            Unmatched::Deny => refuse_unrouted(
                state,
                &caller,
                format!("no route maps {} {}; the path is denied", original.method, original.path),
            ),
        });
    };
    let req = Authorize {
        token: None,
        operation: op.clone(),
        auto_approve: original.auto_approve,
        approval_id: original.approval_id,
    };
    let Authorized { decision, operation, subject, approval_id } =
        authorize::authorize(state, caller, req).await?;
    Ok(match decision {
        Decision::Allow(_) => Forwarded::Allow { subject, operation: Some(operation.name) },
        refused => Forwarded::Refuse { decision: refused, operation: Some(operation.name), approval_id },
    })
}

/// A deny with no operation, counted like authorize's refusals for a
/// missing scope.
fn refuse_unrouted(state: &AppState, caller: &Caller, reason: String) -> Forwarded {
    let event = AuditEvent::new("authorize")
        .subject(&caller.principal.name)
        .token(&caller.token_id)
        .scopes(&caller.scopes)
        .operation("(unrouted)")
        .decision("deny")
        .error(reason.clone());
    state.audit.emit_use(event);
    Forwarded::Refuse { decision: Decision::Deny(reason), operation: None, approval_id: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> Original {
        Original::parse("get", p, None, false).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    #[test]
    fn the_query_is_cut_and_the_method_upper_cased() {
        let o = path("/containers?all=1#x");
        assert_eq!((o.method.as_str(), o.path.as_str()), ("GET", "/containers"));
        assert_eq!(Original::parse("GET", "containers", None, false), Err(OriginalError::BadUri));
        assert_eq!(Original::parse("G ET", "/", None, false), Err(OriginalError::BadMethod));
    }

    #[test]
    fn only_canonical_paths_are_judged() {
        for fine in ["/", "/containers", "/containers/", "/containers/abc/restart", "/a.b/c..d"] {
            assert!(path(fine).is_canonical(), "{fine}");
        }
        for bad in [
            "/containers/../reboot",
            "/containers/./x",
            "//containers",
            "/containers//x",
            "/containers/%2e%2e/reboot",
            "/containers%2Fx",
            "/containers/x\\..\\y",
            "/a/%00",
        ] {
            assert!(!path(bad).is_canonical(), "{bad}");
        }
    }
}
