//! Who may do what. Pure decisions over a [`Caller`]; the server asks these
//! functions and renders [`Denied`] as 403.
//!
//! - A principal's permissions come from its role (humans) or from the
//!   scopes it was given (service users).
//! - A token's effective scopes are its own scopes intersected with its
//!   owner's current permissions, so a token never holds more than its owner
//!   may, even after the owner loses a role.
//! - `ward:admin` in the effective scopes makes the caller an admin.

use crate::scope::{Scope, ScopeCatalog, ScopeSet};
use crate::token::TokenKind;
use crate::{TokenId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

pub const SCOPE_TOKENS: &str = "ward:tokens";
pub const SCOPE_ADMIN: &str = "ward:admin";
pub const SCOPE_INTROSPECT: &str = "ward:introspect";
pub const SCOPE_MINT: &str = "ward:mint";
pub const SCOPE_AUDIT: &str = "ward:audit";

/// The role of a human user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::User => "user",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "admin" => Ok(Role::Admin),
            "user" => Ok(Role::User),
            other => Err(format!("unknown role '{other}': use admin or user")),
        }
    }
}

/// A human with a role, or a service user with fixed scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalKind {
    Human(Role),
    Service(ScopeSet),
    /// An agent holding a signed token; it may do what its token says, as
    /// far as the user who minted it (`minted_by`) still may.
    Agent {
        minted_by: UserId,
    },
}

/// The owner of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: UserId,
    pub name: String,
    pub kind: PrincipalKind,
}

/// What the `user` role grants when the config does not say: every declared
/// scope below critical risk, plus creating one's own tokens and verifying.
pub fn default_user_permissions(catalog: &ScopeCatalog) -> ScopeSet {
    catalog
        .all()
        .into_iter()
        .filter(|s| {
            if s.is_builtin() {
                matches!(s.as_str(), SCOPE_TOKENS | SCOPE_INTROSPECT)
            } else {
                catalog.info(s).is_some_and(|i| i.risk < crate::Risk::Critical)
            }
        })
        .collect()
}

/// The permission sets of the two roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    pub admin: ScopeSet,
    pub user: ScopeSet,
}

impl Roles {
    /// Admins hold every scope; users hold `user` (see
    /// [`default_user_permissions`]).
    pub fn new(catalog: &ScopeCatalog, user: ScopeSet) -> Self {
        Self { admin: catalog.all(), user }
    }

    pub fn permissions(&self, principal: &Principal) -> ScopeSet {
        self.ceiling(principal).clone()
    }

    /// [`Roles::permissions`], borrowed: what the verify path intersects a
    /// token's scopes with on every request, without copying the set.
    pub fn ceiling<'a>(&'a self, principal: &'a Principal) -> &'a ScopeSet {
        static NONE: ScopeSet = ScopeSet::new();
        match &principal.kind {
            PrincipalKind::Human(Role::Admin) => &self.admin,
            PrincipalKind::Human(Role::User) => &self.user,
            PrincipalKind::Service(scopes) => scopes,
            // An agent's ceiling is its minter's; the server resolves the
            // minter and asks again with that principal.
            PrincipalKind::Agent { .. } => &NONE,
        }
    }
}

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub principal: Principal,
    pub token_id: TokenId,
    pub token_kind: TokenKind,
    /// Token scopes ∩ owner permissions.
    pub scopes: ScopeSet,
    /// When the calling token ends (`None`: it does not expire).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A refused action: 403 with this message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("this token lacks the scope {0}; create a token that has it")]
    MissingScope(String),
    #[error("Only admins can {0}")]
    AdminOnly(&'static str),
    #[error("a token cannot hold scopes its owner lacks: {}", .0.join(", "))]
    ExceedsOwner(Vec<String>),
    #[error("a token cannot grant scopes the calling token lacks: {}", .0.join(", "))]
    ExceedsCaller(Vec<String>),
    #[error(
        "a credential cannot outlive the token that obtains it, which ends {}: ask for an end no later than that, or obtain it from a login session",
        .0.to_rfc3339()
    )]
    OutlivesCaller(chrono::DateTime<chrono::Utc>),
    #[error("you cannot decide your own approval request: ask another admin")]
    OwnApproval,
    // Agents and approvals (`crate::agent_rules`).
    #[error(
        "an agent token mints only for its own agent '{0}': ask a user with ward:mint to mint for another agent"
    )]
    MintForOtherAgent(String),
    #[error(
        "approvals are decided only in an interactive session, not with an API token or key: \
         run `ward login` and decide from that session"
    )]
    ApprovalNeedsSession,
    #[error("you minted the agent that asked for this approval: ask another admin to decide it")]
    ApprovalByMinter,
    #[error("you created the service user that asked for this approval: ask another admin to decide it")]
    ApprovalByCreator,
    #[error(
        "you issued the token that asked for this approval, or a token it was made with: ask another admin to decide it"
    )]
    ApprovalByIssuer,
    #[error(
        "{0} tokens are not created by POST /v1/tokens: log in for a session, use `ward mint` for an agent"
    )]
    NotCreatable(TokenKind),
    #[error("to {0} you need a login session, not an API token: run `ward login` and try again with it")]
    SessionOnly(&'static str),
    #[error("the current password is wrong; try again (attempts are limited like logins)")]
    WrongPassword,
}

impl Denied {
    /// The scope whose absence caused the refusal, for `WWW-Authenticate`.
    pub fn missing_scope(&self) -> Option<&str> {
        match self {
            Denied::MissingScope(s) => Some(s),
            Denied::AdminOnly(_) => Some(SCOPE_ADMIN),
            _ => None,
        }
    }
}

impl Caller {
    pub fn has(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s.as_str() == scope)
    }

    pub fn is_admin(&self) -> bool {
        self.has(SCOPE_ADMIN)
    }

    /// Requires one scope.
    pub fn require(&self, scope: &str) -> Result<(), Denied> {
        if self.has(scope) { Ok(()) } else { Err(Denied::MissingScope(scope.to_owned())) }
    }

    /// Requires `ward:admin`; `action` completes "Only admins can …".
    pub fn require_admin(&self, action: &'static str) -> Result<(), Denied> {
        if self.is_admin() { Ok(()) } else { Err(Denied::AdminOnly(action)) }
    }

    /// Requires an interactive login session. Setting a password (creating
    /// a person, resetting someone's password) makes a root credential that
    /// opens unbounded sessions, so no API token may do it, however much it
    /// holds: it would obtain what outranks and outlives it. `action`
    /// completes "to … you need a login session".
    pub fn require_session(&self, action: &'static str) -> Result<(), Denied> {
        if self.token_kind == TokenKind::Login { Ok(()) } else { Err(Denied::SessionOnly(action)) }
    }

    /// Whether `who` (a `usr_…` id or a name, as a request gives it) names
    /// the caller's own principal. Decided on the string alone, before any
    /// lookup, so that asking about someone else answers the same whether
    /// they exist or not.
    pub fn names_self(&self, who: &str) -> bool {
        who == self.principal.id.as_str() || who == self.principal.name
    }

    /// [`Caller::may_manage_tokens_of`] for a user named in a request, before
    /// it is looked up: a non-admin naming anyone but itself is refused
    /// whether that user exists or not.
    pub fn may_manage_tokens_of_named(&self, who: &str, action: &'static str) -> Result<(), Denied> {
        self.require(SCOPE_TOKENS)?;
        if self.names_self(who) { Ok(()) } else { self.require_admin(action) }
    }

    /// Requires `ward:tokens`, and admin rights when `owner` is someone else.
    pub fn may_manage_tokens_of(&self, owner: &UserId, action: &'static str) -> Result<(), Denied> {
        self.require(SCOPE_TOKENS)?;
        if owner == &self.principal.id { Ok(()) } else { self.require_admin(action) }
    }
}

/// Decides the scopes of a new token, or why it may not be created.
///
/// `requested` is already expanded; `None` means "not given". A personal
/// token without scopes gets what its owner may do (as far as the calling
/// token may grant); other kinds get no scopes unless given.
pub fn scopes_for_new_token(
    caller: &Caller,
    kind: TokenKind,
    requested: Option<ScopeSet>,
    owner_permissions: &ScopeSet,
) -> Result<ScopeSet, Denied> {
    if matches!(kind, TokenKind::Login | TokenKind::Agent) {
        return Err(Denied::NotCreatable(kind));
    }
    let wanted = match requested {
        Some(set) => set,
        None if kind == TokenKind::Personal => {
            owner_permissions.intersection(&caller.scopes).cloned().collect()
        }
        None => ScopeSet::new(),
    };
    let over_owner = names_outside(&wanted, owner_permissions);
    if !over_owner.is_empty() {
        return Err(Denied::ExceedsOwner(over_owner));
    }
    let over_caller = names_outside(&wanted, &caller.scopes);
    if !over_caller.is_empty() {
        return Err(Denied::ExceedsCaller(over_caller));
    }
    Ok(wanted)
}

fn names_outside(set: &ScopeSet, allowed: &ScopeSet) -> Vec<String> {
    set.difference(allowed).map(Scope::to_string).collect()
}

/// A token's effective scopes: its own, limited to what its owner may do.
pub fn effective_scopes(token: &ScopeSet, owner_permissions: &ScopeSet) -> ScopeSet {
    token.intersection(owner_permissions).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Risk;
    use chrono::{DateTime, Utc};

    /// Ids need a time; what is decided here does not depend on it.
    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    struct Fill(u8);
    impl crate::Entropy for Fill {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    fn catalog() -> ScopeCatalog {
        let declared = [
            ("read:stacks", "read stacks", Risk::Low),
            ("write:stacks", "change stacks", Risk::High),
            ("admin:org", "run the org", Risk::Critical),
        ];
        ScopeCatalog::new(declared, []).unwrap_or_default()
    }

    fn set(names: &[&str]) -> ScopeSet {
        names.iter().filter_map(|n| Scope::parse(n).ok()).collect()
    }

    fn caller(role: Role, kind: TokenKind, scopes: &[&str]) -> Caller {
        Caller {
            principal: Principal {
                id: UserId::generate(at(), &mut Fill(1)),
                name: "alice".into(),
                kind: PrincipalKind::Human(role),
            },
            token_id: TokenId::generate(at(), &mut Fill(1)),
            token_kind: kind,
            scopes: set(scopes),
            expires_at: None,
        }
    }

    #[test]
    fn user_role_holds_everything_below_critical_plus_own_tokens() {
        let perms = default_user_permissions(&catalog());
        assert_eq!(perms, set(&["read:stacks", "ward:introspect", "ward:tokens", "write:stacks"]));
    }

    #[test]
    fn personal_token_without_scopes_inherits_what_the_caller_may_grant() {
        let owner = set(&["read:stacks", "write:stacks", "ward:tokens"]);
        let c = caller(Role::User, TokenKind::Login, &["read:stacks", "write:stacks", "ward:tokens"]);
        let got = scopes_for_new_token(&c, TokenKind::Personal, None, &owner);
        assert_eq!(got, Ok(owner));
    }

    #[test]
    fn pipeline_token_without_scopes_gets_none() {
        let owner = set(&["read:stacks", "ward:tokens"]);
        let c = caller(Role::User, TokenKind::Login, &["read:stacks", "ward:tokens"]);
        assert_eq!(scopes_for_new_token(&c, TokenKind::Pipeline, None, &owner), Ok(ScopeSet::new()));
    }

    #[test]
    fn a_token_cannot_exceed_its_owner() {
        let owner = set(&["read:stacks", "ward:tokens"]);
        let c =
            caller(Role::Admin, TokenKind::Login, &["read:stacks", "admin:org", "ward:tokens", "ward:admin"]);
        let got = scopes_for_new_token(&c, TokenKind::Pipeline, Some(set(&["admin:org"])), &owner);
        assert_eq!(got, Err(Denied::ExceedsOwner(vec!["admin:org".into()])));
    }

    #[test]
    fn a_narrow_token_cannot_mint_a_broader_one() {
        let owner = set(&["read:stacks", "write:stacks", "ward:tokens"]);
        let c = caller(Role::User, TokenKind::Pipeline, &["read:stacks", "ward:tokens"]);
        let got = scopes_for_new_token(&c, TokenKind::Pipeline, Some(set(&["write:stacks"])), &owner);
        assert_eq!(got, Err(Denied::ExceedsCaller(vec!["write:stacks".into()])));
    }

    #[test]
    fn only_admins_manage_other_users_tokens() {
        let c = caller(Role::User, TokenKind::Login, &["ward:tokens"]);
        let other = UserId::generate(at(), &mut Fill(2));
        let err = c.may_manage_tokens_of(&other, "revoke other users' tokens").err();
        assert_eq!(err.map(|e| e.to_string()).as_deref(), Some("Only admins can revoke other users' tokens"));
        assert!(c.may_manage_tokens_of(&c.principal.id, "x").is_ok());
    }

    #[test]
    fn naming_another_user_is_refused_before_any_lookup_unless_admin() {
        let c = caller(Role::User, TokenKind::Login, &["ward:tokens"]);
        assert!(c.may_manage_tokens_of_named("alice", "x").is_ok());
        assert!(c.may_manage_tokens_of_named(c.principal.id.as_str(), "x").is_ok());
        let there = c.may_manage_tokens_of_named("bob", "list other users' tokens");
        let missing = c.may_manage_tokens_of_named("nobody", "list other users' tokens");
        assert_eq!(there, Err(Denied::AdminOnly("list other users' tokens")));
        assert_eq!(there, missing);
        let admin = caller(Role::Admin, TokenKind::Login, &["ward:tokens", "ward:admin"]);
        assert!(admin.may_manage_tokens_of_named("bob", "x").is_ok());
    }

    #[test]
    fn only_a_login_session_may_set_passwords() {
        let session = caller(Role::Admin, TokenKind::Login, &["ward:admin"]);
        assert_eq!(session.require_session("create users"), Ok(()));
        for kind in [TokenKind::Pipeline, TokenKind::Personal, TokenKind::Service, TokenKind::Agent] {
            let token = caller(Role::Admin, kind, &["ward:admin"]);
            assert_eq!(token.require_session("create users"), Err(Denied::SessionOnly("create users")));
        }
    }

    #[test]
    fn effective_scopes_shrink_when_the_owner_loses_permissions() {
        let token = set(&["read:stacks", "admin:org"]);
        let owner_now = set(&["read:stacks"]);
        assert_eq!(effective_scopes(&token, &owner_now), set(&["read:stacks"]));
    }
}
