//! Operations: the named actions of the services ward protects, each with
//! the scopes it needs, a risk level and an approval rule; HTTP routes that
//! map to operations; and the decision `/v1/authorize` renders.
//!
//! Rules, decided here and nowhere else:
//! - a token lacking any required scope is refused (the server answers 403
//!   naming the scope) before any approval question is asked;
//! - `none`: allowed;
//! - `auto_approve`: allowed only when the request says `auto_approve`;
//! - `human`: allowed only with an approval that an admin (or the webhook)
//!   approved for this token and this operation, once;
//! - a `critical` operation always needs approval: a config that says
//!   `approval = "none"` for one is refused.

use crate::scope::{Risk, Scope, ScopeCatalog, ScopeSet};
use std::collections::BTreeMap;
use std::str::FromStr;

/// How an operation is approved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalRule {
    None,
    AutoApprove,
    Human,
}

impl FromStr for ApprovalRule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(ApprovalRule::None),
            "auto_approve" => Ok(ApprovalRule::AutoApprove),
            "human" => Ok(ApprovalRule::Human),
            other => Err(format!("unknown approval rule '{other}': use none, auto_approve or human")),
        }
    }
}

impl ApprovalRule {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalRule::None => "none",
            ApprovalRule::AutoApprove => "auto_approve",
            ApprovalRule::Human => "human",
        }
    }
}

/// One operation of a protected service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    pub name: String,
    pub description: String,
    /// Every one of these is required.
    pub scopes: ScopeSet,
    pub risk: Risk,
    pub approval: ApprovalRule,
}

/// An HTTP route that maps to an operation. `path` segments may be `{name}`
/// (any one segment) or a final `*` (any rest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub method: String,
    pub path: String,
    pub operation: String,
}

/// A policy that cannot be built; the message names the entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("operation {operation}: {message}")]
    Operation { operation: String, message: String },
    #[error("route {method} {path}: {message}")]
    Route { method: String, path: String, message: String },
}

/// Every operation and route of a deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    operations: BTreeMap<String, Operation>,
    routes: Vec<Route>,
}

/// A raw operation entry, as the config file has it.
#[derive(Debug, Clone)]
pub struct OperationSpec {
    pub name: String,
    pub description: String,
    pub scopes: Vec<String>,
    pub risk: Risk,
    /// `None`: `human` for critical operations, `none` otherwise.
    pub approval: Option<ApprovalRule>,
}

impl Policy {
    pub fn new(
        catalog: &ScopeCatalog,
        specs: Vec<OperationSpec>,
        routes: Vec<Route>,
    ) -> Result<Self, PolicyError> {
        let mut operations = BTreeMap::new();
        for spec in specs {
            let fail = |message: String| PolicyError::Operation { operation: spec.name.clone(), message };
            let scopes = catalog.expand(&spec.scopes).map_err(|e| fail(e.to_string()))?;
            if scopes.is_empty() {
                return Err(fail("needs at least one scope".into()));
            }
            let default = if spec.risk == Risk::Critical { ApprovalRule::Human } else { ApprovalRule::None };
            let approval = spec.approval.unwrap_or(default);
            if spec.risk == Risk::Critical && approval == ApprovalRule::None {
                return Err(fail("a critical operation needs approval: use auto_approve or human".into()));
            }
            let op = Operation {
                name: spec.name.clone(),
                description: spec.description,
                scopes,
                risk: spec.risk,
                approval,
            };
            operations.insert(spec.name, op);
        }
        for route in &routes {
            if !operations.contains_key(&route.operation) {
                return Err(PolicyError::Route {
                    method: route.method.clone(),
                    path: route.path.clone(),
                    message: format!("unknown operation '{}'", route.operation),
                });
            }
        }
        Ok(Self { operations, routes })
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.operations.keys().map(String::as_str).collect()
    }

    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.operations.values()
    }

    /// The operation an HTTP request maps to, first matching route wins.
    pub fn route(&self, method: &str, path: &str) -> Option<&Operation> {
        self.routes
            .iter()
            .find(|r| r.method.eq_ignore_ascii_case(method) && path_matches(&r.path, path))
            .and_then(|r| self.operations.get(&r.operation))
    }
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let mut want = pattern.trim_matches('/').split('/');
    let mut got = path.trim_matches('/').split('/');
    loop {
        match (want.next(), got.next()) {
            (Some("*"), _) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') && !g.is_empty() => {}
            (Some(w), Some(g)) if w == g => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// What is known of an approval the request refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalState {
    /// Approved and just spent by this request.
    Granted,
    Pending,
    Denied,
    Expired,
    /// Already spent, or for another token or operation.
    Unusable,
}

/// The answer of `/v1/authorize`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(String),
    /// `human`: a new approval must be requested (none was given).
    NeedsApproval(String),
    /// Waiting: the given approval is still pending, or `auto_approve` was
    /// not said.
    ApprovalRequired(String),
    Deny(String),
}

impl Decision {
    pub fn as_str(&self) -> &'static str {
        match self {
            Decision::Allow(_) => "allow",
            Decision::NeedsApproval(_) | Decision::ApprovalRequired(_) => "approval_required",
            Decision::Deny(_) => "deny",
        }
    }

    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow(r)
            | Decision::NeedsApproval(r)
            | Decision::ApprovalRequired(r)
            | Decision::Deny(r) => r,
        }
    }
}

/// Scopes an operation needs that the token lacks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("operation {operation} needs scope {}", .missing.join(", "))]
pub struct MissingScopes {
    pub operation: String,
    pub missing: Vec<String>,
}

/// Decides whether a token holding `held` may run `op` now.
pub fn decide(
    op: &Operation,
    held: &ScopeSet,
    auto_approve: bool,
    approval: Option<ApprovalState>,
) -> Result<Decision, MissingScopes> {
    let missing: Vec<String> = op.scopes.difference(held).map(Scope::to_string).collect();
    if !missing.is_empty() {
        return Err(MissingScopes { operation: op.name.clone(), missing });
    }
    let name = &op.name;
    Ok(match op.approval {
        ApprovalRule::None => Decision::Allow(format!("the token holds every scope {name} needs")),
        ApprovalRule::AutoApprove if auto_approve => {
            Decision::Allow(format!("{name} is auto-approved when the request asks, and it did"))
        }
        ApprovalRule::AutoApprove => Decision::ApprovalRequired(format!(
            "{name} ({} risk) must be confirmed: retry with auto_approve",
            op.risk.as_str()
        )),
        ApprovalRule::Human => match approval {
            Some(ApprovalState::Granted) => Decision::Allow(format!("{name} was approved for this token")),
            Some(ApprovalState::Pending) => {
                Decision::ApprovalRequired(format!("the approval for {name} is still pending"))
            }
            Some(ApprovalState::Denied) => Decision::Deny(format!("the approval for {name} was denied")),
            Some(ApprovalState::Expired) => {
                Decision::Deny(format!("the approval for {name} has expired; request a new one"))
            }
            Some(ApprovalState::Unusable) => Decision::Deny(format!(
                "that approval was already used or is for another token or operation; request a new one for {name}"
            )),
            None => Decision::NeedsApproval(format!(
                "{name} ({} risk) needs a human approval{}",
                op.risk.as_str(),
                if auto_approve { "; auto_approve is not allowed for it" } else { "" }
            )),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ScopeCatalog {
        let declared = [
            ("container:read", "", Risk::Low),
            ("container:write", "", Risk::High),
            ("system:admin", "", Risk::Critical),
        ];
        ScopeCatalog::new(declared, []).unwrap_or_default()
    }

    fn spec(name: &str, scopes: &[&str], risk: Risk, approval: Option<ApprovalRule>) -> OperationSpec {
        OperationSpec {
            name: name.into(),
            description: String::new(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            risk,
            approval,
        }
    }

    fn policy() -> Policy {
        let specs = vec![
            spec("list_containers", &["container:read"], Risk::Low, None),
            spec("restart_container", &["container:write"], Risk::High, Some(ApprovalRule::AutoApprove)),
            spec("patch_system", &["system:admin"], Risk::Critical, None),
        ];
        let routes = vec![Route {
            method: "GET".into(),
            path: "/containers/{id}".into(),
            operation: "list_containers".into(),
        }];
        Policy::new(&catalog(), specs, routes).expect("valid policy")
    }

    fn held(names: &[&str]) -> ScopeSet {
        names.iter().filter_map(|n| Scope::parse(n).ok()).collect()
    }

    #[test]
    fn a_missing_scope_is_refused_before_any_approval_question() {
        let p = policy();
        let op = p.operation("patch_system").expect("op");
        let err = decide(op, &held(&["container:read"]), true, Some(ApprovalState::Granted));
        assert_eq!(err.map_err(|e| e.missing), Err(vec!["system:admin".to_owned()]));
    }

    #[test]
    fn auto_approve_allows_only_when_asked() {
        let p = policy();
        let op = p.operation("restart_container").expect("op");
        let h = held(&["container:write"]);
        assert_eq!(decide(op, &h, true, None).map(|d| d.as_str()), Ok("allow"));
        assert_eq!(decide(op, &h, false, None).map(|d| d.as_str()), Ok("approval_required"));
    }

    #[test]
    fn critical_operations_default_to_human_approval_and_ignore_auto_approve() {
        let p = policy();
        let op = p.operation("patch_system").expect("op");
        assert_eq!(op.approval, ApprovalRule::Human);
        let h = held(&["system:admin"]);
        assert!(matches!(decide(op, &h, true, None), Ok(Decision::NeedsApproval(_))));
        assert_eq!(decide(op, &h, false, Some(ApprovalState::Granted)).map(|d| d.as_str()), Ok("allow"));
        for (state, want) in [
            (ApprovalState::Pending, "approval_required"),
            (ApprovalState::Denied, "deny"),
            (ApprovalState::Expired, "deny"),
            (ApprovalState::Unusable, "deny"),
        ] {
            assert_eq!(decide(op, &h, false, Some(state)).map(|d| d.as_str()), Ok(want), "{state:?}");
        }
    }

    #[test]
    fn a_critical_operation_without_approval_is_a_config_error() {
        let r = Policy::new(
            &catalog(),
            vec![spec("yolo", &["system:admin"], Risk::Critical, Some(ApprovalRule::None))],
            vec![],
        );
        assert!(matches!(r, Err(PolicyError::Operation { .. })));
    }

    #[test]
    fn routes_map_paths_with_parameters_to_operations() {
        let p = policy();
        assert_eq!(p.route("get", "/containers/abc").map(|o| o.name.as_str()), Some("list_containers"));
        assert!(p.route("POST", "/containers/abc").is_none());
        assert!(p.route("GET", "/containers").is_none());
    }
}
