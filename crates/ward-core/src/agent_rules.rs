//! The rules of agents and approvals, as pure decisions over a [`Caller`].
//!
//! - An agent is a principal of its own: its name plus the user who minted
//!   it. An agent token mints only for its own name ([`may_mint`]).
//! - A minted token is a credential obtained from the caller like any other
//!   ([`crate::grant::derive`]): no scope the caller lacks, and no end after
//!   the caller's unless the caller is an interactive login session.
//! - `ward:mint` reaches only what its holder minted, unless the holder is
//!   an admin ([`MintedReach`]); an agent reaches only its own name's.
//! - Approvals need four eyes ([`may_decide`]): an admin, in a login
//!   session, who is neither the requester, nor the minter of the requesting
//!   agent, nor the creator of the requesting service user, nor the issuer
//!   of the requesting credential or of any credential it descends from.

use crate::UserId;
use crate::grant::{self, Granted, Wanted};
use crate::policy::{Caller, Denied, PrincipalKind};
use crate::token::TokenKind;
use chrono::{DateTime, Utc};

/// What `caller` may mint for `agent` when it asks for `wanted`, or why it
/// may not. (`ward:mint` is checked before; `wanted.scopes` are expanded.)
pub fn may_mint(caller: &Caller, agent: &str, wanted: Wanted, now: DateTime<Utc>) -> Result<Granted, Denied> {
    if matches!(caller.principal.kind, PrincipalKind::Agent { .. }) && caller.principal.name != agent {
        return Err(Denied::MintForOtherAgent(caller.principal.name.clone()));
    }
    grant::derive(caller, wanted, now)
}

/// Which minted tokens a `ward:mint` holder may list and revoke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MintedReach {
    /// Admins: every minted token.
    Everything,
    /// Only tokens `minter` minted, and, for an agent caller, only those of
    /// its own `agent` name.
    MintedBy { minter: UserId, agent: Option<String> },
}

/// The filter a listing or a revoke-by-agent runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MintedFilter<'a> {
    pub agent: Option<&'a str>,
    pub minted_by: Option<&'a UserId>,
}

impl MintedReach {
    /// The reach of `caller`.
    pub fn of(caller: &Caller) -> Self {
        if caller.is_admin() {
            return MintedReach::Everything;
        }
        let agent = match caller.principal.kind {
            PrincipalKind::Agent { .. } => Some(caller.principal.name.clone()),
            _ => None,
        };
        // An agent's principal id is its minter's (see `check`).
        MintedReach::MintedBy { minter: caller.principal.id.clone(), agent }
    }

    /// Whether a token `minted_by` for `agent` is within reach.
    pub fn covers(&self, minted_by: &UserId, agent: &str) -> bool {
        match self {
            MintedReach::Everything => true,
            MintedReach::MintedBy { minter, agent: own } => {
                minter == minted_by && own.as_deref().is_none_or(|own| own == agent)
            }
        }
    }

    /// The store filter for a request naming `agent` (or none); `None` when
    /// nothing within reach can match (an agent asking about another).
    pub fn filter<'a>(&'a self, agent: Option<&'a str>) -> Option<MintedFilter<'a>> {
        match self {
            MintedReach::Everything => Some(MintedFilter { agent, minted_by: None }),
            MintedReach::MintedBy { minter, agent: None } => {
                Some(MintedFilter { agent, minted_by: Some(minter) })
            }
            MintedReach::MintedBy { minter, agent: Some(own) } => match agent {
                Some(asked) if asked != own => None,
                _ => Some(MintedFilter { agent: Some(own), minted_by: Some(minter) }),
            },
        }
    }
}

/// Who stands behind an approval request, as far as deciding it goes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requester {
    /// The user behind the requesting token: its owner, or the minter of
    /// the agent that asked.
    pub user: Option<UserId>,
    /// The request came from an agent token (so `user` minted it).
    pub via_agent: bool,
    /// When `user` is a service user: who created it, and who created that
    /// one if it is a service user too, nearest first.
    pub creators: Vec<UserId>,
    /// Who issued the requesting credential, and each credential up its
    /// parent line, nearest first: an admin who made a token for another
    /// user (or made the token that made it) stands behind what it asks.
    pub issuers: Vec<UserId>,
}

/// May `decider` approve or deny a request from `requester`?
pub fn may_decide(decider: &Caller, requester: &Requester) -> Result<(), Denied> {
    decider.require_admin("decide approvals")?;
    if decider.token_kind != TokenKind::Login {
        return Err(Denied::ApprovalNeedsSession);
    }
    let me = &decider.principal.id;
    if requester.user.as_ref() == Some(me) {
        return Err(if requester.via_agent { Denied::ApprovalByMinter } else { Denied::OwnApproval });
    }
    if requester.creators.contains(me) {
        return Err(Denied::ApprovalByCreator);
    }
    if requester.issuers.contains(me) {
        return Err(Denied::ApprovalByIssuer);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenId;
    use crate::policy::{Principal, Role};
    use crate::scope::{Scope, ScopeSet};
    use crate::token::Entropy;
    use chrono::Duration;

    struct Counter(u8);
    impl Entropy for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            self.0 = self.0.wrapping_add(1);
            buf.fill(self.0);
        }
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time")
    }

    fn id(n: u8) -> UserId {
        UserId::generate(now(), &mut Counter(n))
    }

    fn scopes(names: &[&str]) -> ScopeSet {
        names.iter().map(|s| Scope::parse(s).expect("a valid scope")).collect()
    }

    fn caller(kind: PrincipalKind, token_kind: TokenKind, scope: &[&str], ends: Option<i64>) -> Caller {
        Caller {
            principal: Principal { id: id(1), name: "builder".into(), kind },
            token_id: TokenId::generate(now(), &mut Counter(9)),
            token_kind,
            scopes: scopes(scope),
            expires_at: ends.map(|h| now() + Duration::hours(h)),
        }
    }

    fn agent(ends_in_hours: i64) -> Caller {
        caller(
            PrincipalKind::Agent { minted_by: id(1) },
            TokenKind::Agent,
            &["ward:mint", "system:read"],
            Some(ends_in_hours),
        )
    }

    fn admin_session() -> Caller {
        caller(PrincipalKind::Human(Role::Admin), TokenKind::Login, &["ward:admin", "system:read"], Some(8))
    }

    /// `may_mint` for `system:read` until `ends`.
    fn mint(c: &Caller, agent: &str, ends: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, Denied> {
        let wanted = Wanted { scopes: scopes(&["system:read"]), expires_at: Some(ends) };
        may_mint(c, agent, wanted, now()).map(|g| g.expires_at)
    }

    #[test]
    fn an_agent_mints_only_for_its_own_name() {
        let a = agent(1);
        let ends = now() + Duration::minutes(30);
        assert_eq!(mint(&a, "builder", ends), Ok(Some(ends)));
        assert_eq!(mint(&a, "deployer", ends), Err(Denied::MintForOtherAgent("builder".into())));
    }

    #[test]
    fn a_caller_that_is_not_a_session_never_mints_beyond_its_own_end() {
        let a = agent(1);
        let end = now() + Duration::hours(1);
        assert_eq!(mint(&a, "builder", end), Ok(Some(end)), "ending with the caller is fine");
        assert_eq!(mint(&a, "builder", end + Duration::seconds(1)), Err(Denied::OutlivesCaller(end)));
        let pipeline =
            caller(PrincipalKind::Human(Role::User), TokenKind::Pipeline, &["system:read"], Some(1));
        assert_eq!(mint(&pipeline, "ci", now() + Duration::days(1)), Err(Denied::OutlivesCaller(end)));
        let forever = caller(PrincipalKind::Human(Role::User), TokenKind::Pipeline, &["system:read"], None);
        let month = now() + Duration::days(30);
        assert_eq!(mint(&forever, "ci", month), Ok(Some(month)));
    }

    #[test]
    fn a_minted_token_holds_no_scope_its_minter_lacks() {
        let wanted =
            Wanted { scopes: scopes(&["system:admin"]), expires_at: Some(now() + Duration::minutes(5)) };
        assert_eq!(
            may_mint(&agent(1), "builder", wanted, now()),
            Err(Denied::ExceedsCaller(vec!["system:admin".into()]))
        );
    }

    #[test]
    fn a_login_session_is_the_root_and_has_no_cap() {
        let ends = now() + Duration::days(30);
        assert_eq!(mint(&admin_session(), "anyone", ends), Ok(Some(ends)));
    }

    #[test]
    fn an_admin_reaches_every_minted_token() {
        let reach = MintedReach::of(&admin_session());
        assert_eq!(reach, MintedReach::Everything);
        assert!(reach.covers(&id(7), "x"));
        assert_eq!(reach.filter(Some("x")), Some(MintedFilter { agent: Some("x"), minted_by: None }));
    }

    #[test]
    fn a_minting_user_reaches_only_what_they_minted() {
        let svc =
            caller(PrincipalKind::Service(scopes(&["ward:mint"])), TokenKind::Service, &["ward:mint"], None);
        let reach = MintedReach::of(&svc);
        assert!(reach.covers(&id(1), "anything"));
        assert!(!reach.covers(&id(7), "anything"));
        assert_eq!(reach.filter(Some("x")), Some(MintedFilter { agent: Some("x"), minted_by: Some(&id(1)) }));
        assert_eq!(reach.filter(None), Some(MintedFilter { agent: None, minted_by: Some(&id(1)) }));
    }

    #[test]
    fn an_agent_reaches_only_its_own_names_tokens_of_its_minter() {
        let reach = MintedReach::of(&agent(1));
        assert!(reach.covers(&id(1), "builder"));
        assert!(!reach.covers(&id(1), "sibling"), "same minter, another agent");
        assert!(!reach.covers(&id(7), "builder"), "same name, another minter");
        assert_eq!(reach.filter(Some("sibling")), None);
        let own = Some(MintedFilter { agent: Some("builder"), minted_by: Some(&id(1)) });
        assert_eq!(reach.filter(None), own);
        assert_eq!(reach.filter(Some("builder")), own);
    }

    fn requester(user: u8) -> Requester {
        Requester { user: Some(id(user)), via_agent: false, creators: vec![], issuers: vec![] }
    }

    #[test]
    fn another_admin_in_a_session_decides() {
        assert_eq!(may_decide(&admin_session(), &requester(2)), Ok(()));
        assert_eq!(may_decide(&admin_session(), &Requester::default()), Ok(()), "an unknown requester");
    }

    #[test]
    fn an_admin_api_token_or_key_cannot_decide() {
        for kind in [TokenKind::Personal, TokenKind::Service, TokenKind::Pipeline, TokenKind::Agent] {
            let c = caller(PrincipalKind::Human(Role::Admin), kind, &["ward:admin"], None);
            assert_eq!(may_decide(&c, &requester(2)), Err(Denied::ApprovalNeedsSession), "{kind}");
        }
    }

    #[test]
    fn a_non_admin_session_cannot_decide() {
        let user = caller(PrincipalKind::Human(Role::User), TokenKind::Login, &["ward:tokens"], None);
        assert_eq!(may_decide(&user, &requester(2)), Err(Denied::AdminOnly("decide approvals")));
    }

    #[test]
    fn the_requester_the_minter_and_the_creator_cannot_decide() {
        let me = admin_session();
        assert_eq!(may_decide(&me, &requester(1)), Err(Denied::OwnApproval));
        let minted = Requester { via_agent: true, ..requester(1) };
        assert_eq!(may_decide(&me, &minted), Err(Denied::ApprovalByMinter));
        let made = Requester { creators: vec![id(3), id(1)], ..requester(2) };
        assert_eq!(may_decide(&me, &made), Err(Denied::ApprovalByCreator), "also further up the chain");
    }

    #[test]
    fn whoever_issued_the_asking_credential_or_its_ancestors_cannot_decide() {
        let me = admin_session();
        let issued = Requester { issuers: vec![id(2), id(1)], ..requester(2) };
        assert_eq!(may_decide(&me, &issued), Err(Denied::ApprovalByIssuer));
        let others = Requester { issuers: vec![id(2), id(3)], ..requester(2) };
        assert_eq!(may_decide(&me, &others), Ok(()));
    }
}
