//! What a credential obtained from another may hold.
//!
//! Every endpoint that hands out a credential on the strength of the
//! calling one — token create, rotate, mint, service-user create and
//! service-user key rotation — asks [`derive()`] (or, for rotation,
//! [`rotated_expiry`] first) and gets back the scopes and the end of the new
//! credential, or a [`Denied`]:
//!
//! - **Scopes**: never one the caller does not effectively hold
//!   ([`Denied::ExceedsCaller`] names them).
//! - **Lifetime**: an interactive login session (admin or user) is the root
//!   of authority and puts no cap on what it obtains. Any other caller with
//!   an end `E` obtains nothing that ends after `E`: a request that names no
//!   end gets `E`, one that names a later end is refused
//!   ([`Denied::OutlivesCaller`] names `E`).
//!
//! Every derived credential records its [`parent`]: ending that credential
//! ends it (the store cascades revocations down the line).
//!
//! [`rotatable`] decides whether a token may be rotated at all: only an
//! active token that has no successor yet. The store asks it inside the
//! rotating transaction, so two concurrent rotations cannot both succeed.

use crate::TokenId;
use crate::policy::{Caller, Denied};
use crate::scope::{Scope, ScopeSet};
use crate::token::TokenKind;
use chrono::{DateTime, Utc};

/// What a request asks the new credential to hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// Already expanded (meta-scopes resolved) and checked against the
    /// owner's permissions.
    pub scopes: ScopeSet,
    /// The end the request names; `None` when it names none.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What the new credential holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub scopes: ScopeSet,
    /// `None`: it does not expire.
    pub expires_at: Option<DateTime<Utc>>,
}

/// The latest end a credential obtained by `caller` may have: `None` when
/// there is no cap (a login session, or a caller that never expires).
pub fn ceiling(caller: &Caller) -> Option<DateTime<Utc>> {
    if caller.token_kind == TokenKind::Login { None } else { caller.expires_at }
}

/// The credential a new one obtained by `caller` descends from: the
/// calling token (or agent token's jti), or `None` for a login session,
/// the root of authority, whose end ends nothing it obtained.
pub fn parent(caller: &Caller) -> Option<TokenId> {
    (caller.token_kind != TokenKind::Login).then(|| caller.token_id.clone())
}

/// The parent of a rotated token's successor: [`parent`] of the caller,
/// except when the caller rotates itself, when the successor takes the old
/// token's place under the old token's own parent (`old_parent`) — the
/// grace that ends the old token must not end its successor.
pub fn successor_parent(caller: &Caller, old: &TokenId, old_parent: Option<&TokenId>) -> Option<TokenId> {
    if &caller.token_id == old { old_parent.cloned() } else { parent(caller) }
}

/// The scopes and end of a credential `caller` obtains for `wanted`, or why
/// it may not. See the module documentation for the rules.
pub fn derive(caller: &Caller, wanted: Wanted, now: DateTime<Utc>) -> Result<Granted, Denied> {
    let beyond: Vec<String> = wanted.scopes.difference(&caller.scopes).map(Scope::to_string).collect();
    if !beyond.is_empty() {
        return Err(Denied::ExceedsCaller(beyond));
    }
    let expires_at = match (ceiling(caller), wanted.expires_at) {
        (None, wanted) => wanted,
        // A caller whose end has come cannot hand out anything.
        (Some(end), _) if end <= now => return Err(Denied::OutlivesCaller(end)),
        (Some(end), None) => Some(end),
        (Some(end), Some(at)) if at > end => return Err(Denied::OutlivesCaller(end)),
        (Some(_), Some(at)) => Some(at),
    };
    Ok(Granted { scopes: wanted.scopes, expires_at })
}

/// The end of a rotated token's successor, which the request does not name:
/// the old token's lifetime again from `now` (no end if it had none), cut
/// to the caller's [`ceiling`]. Pass the result to [`derive()`] as
/// `Wanted::expires_at`; it is never refused for its lifetime.
pub fn rotated_expiry(
    caller: &Caller,
    old_created_at: DateTime<Utc>,
    old_expires_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let again = old_expires_at.map(|end| now + (end - old_created_at));
    match (again, ceiling(caller)) {
        (Some(at), Some(cap)) => Some(at.min(cap)),
        (None, cap) => cap,
        (at, None) => at,
    }
}

/// Why a token cannot be rotated (409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotRotatable {
    #[error("token {old} was already rotated: its successor is {successor}; rotate {successor} instead")]
    Superseded { old: TokenId, successor: TokenId },
    #[error("token {0} is revoked and cannot be rotated; create a new token")]
    Revoked(TokenId),
    #[error("token {0} has expired and cannot be rotated; create a new token")]
    Expired(TokenId),
}

/// The stored state of a token about to be rotated.
#[derive(Debug, Clone, Copy)]
pub struct RotationState<'a> {
    pub id: &'a TokenId,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// A token whose `rotated_from` is this one, if any.
    pub successor: Option<&'a TokenId>,
}

/// Only an active token that has not been superseded may be rotated. A
/// superseded token is named first, whatever its state, so a retried
/// rotation learns which token to use.
pub fn rotatable(token: RotationState<'_>, now: DateTime<Utc>) -> Result<(), NotRotatable> {
    if let Some(successor) = token.successor {
        return Err(NotRotatable::Superseded { old: token.id.clone(), successor: successor.clone() });
    }
    if token.revoked_at.is_some_and(|t| t <= now) {
        return Err(NotRotatable::Revoked(token.id.clone()));
    }
    if token.expires_at.is_some_and(|t| t <= now) {
        return Err(NotRotatable::Expired(token.id.clone()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::UserId;
    use crate::policy::{Principal, PrincipalKind, Role};
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    struct Fill(u8);
    impl crate::Entropy for Fill {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    const ALL: [&str; 5] = ["read:stacks", "write:stacks", "ward:tokens", "ward:admin", "ward:mint"];

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).single().unwrap_or_default()
    }

    fn set(names: &[&str]) -> ScopeSet {
        names.iter().filter_map(|n| Scope::parse(n).ok()).collect()
    }

    fn id(n: u8) -> TokenId {
        TokenId::generate(now(), &mut Fill(n))
    }

    fn caller(kind: TokenKind, scopes: &[&str], expires_at: Option<DateTime<Utc>>) -> Caller {
        Caller {
            principal: Principal {
                id: UserId::generate(now(), &mut Fill(1)),
                name: "alice".into(),
                kind: PrincipalKind::Human(Role::Admin),
            },
            token_id: id(1),
            token_kind: kind,
            scopes: set(scopes),
            expires_at,
        }
    }

    fn wanted(scopes: &[&str], expires_at: Option<DateTime<Utc>>) -> Wanted {
        Wanted { scopes: set(scopes), expires_at }
    }

    #[test]
    fn a_login_session_is_no_ones_parent_and_any_other_caller_is() {
        assert_eq!(parent(&caller(TokenKind::Login, &[], None)), None);
        assert_eq!(parent(&caller(TokenKind::Pipeline, &[], None)), Some(id(1)));
        assert_eq!(parent(&caller(TokenKind::Agent, &[], None)), Some(id(1)));
    }

    #[test]
    fn a_token_rotating_itself_hands_its_own_parent_to_the_successor() {
        let c = caller(TokenKind::Pipeline, &[], None);
        assert_eq!(successor_parent(&c, &id(1), Some(&id(7))), Some(id(7)));
        assert_eq!(successor_parent(&c, &id(1), None), None);
        assert_eq!(successor_parent(&c, &id(2), Some(&id(7))), Some(id(1)), "another caller is the parent");
        let session = caller(TokenKind::Login, &[], None);
        assert_eq!(successor_parent(&session, &id(2), Some(&id(7))), None);
    }

    #[test]
    fn scopes_beyond_the_caller_are_refused_by_name() {
        let c = caller(TokenKind::Login, &["ward:tokens", "read:stacks"], None);
        let got = derive(&c, wanted(&["read:stacks", "ward:admin"], None), now());
        assert_eq!(got, Err(Denied::ExceedsCaller(vec!["ward:admin".into()])));
    }

    #[test]
    fn a_login_session_puts_no_cap_on_lifetime() {
        let c = caller(TokenKind::Login, &["ward:tokens"], Some(now() + Duration::hours(12)));
        let got = derive(&c, wanted(&["ward:tokens"], None), now());
        assert_eq!(got.map(|g| g.expires_at), Ok(None));
        let year = Some(now() + Duration::days(365));
        assert_eq!(derive(&c, wanted(&[], year), now()).map(|g| g.expires_at), Ok(year));
    }

    #[test]
    fn an_expiring_token_gives_its_end_when_none_is_asked() {
        let end = now() + Duration::hours(1);
        let c = caller(TokenKind::Pipeline, &["ward:tokens"], Some(end));
        assert_eq!(derive(&c, wanted(&[], None), now()).map(|g| g.expires_at), Ok(Some(end)));
    }

    #[test]
    fn an_expiring_token_cannot_obtain_a_later_end() {
        let end = now() + Duration::hours(1);
        let c = caller(TokenKind::Agent, &["ward:tokens"], Some(end));
        let got = derive(&c, wanted(&[], Some(end + Duration::seconds(1))), now());
        assert_eq!(got, Err(Denied::OutlivesCaller(end)));
        let msg = Denied::OutlivesCaller(end).to_string();
        assert!(msg.contains(&end.to_rfc3339()), "{msg}");
        let sooner = Some(end - Duration::minutes(1));
        assert_eq!(derive(&c, wanted(&[], sooner), now()).map(|g| g.expires_at), Ok(sooner));
    }

    #[test]
    fn a_non_expiring_non_session_token_is_not_capped() {
        let c = caller(TokenKind::Personal, &["ward:tokens"], None);
        assert_eq!(derive(&c, wanted(&[], None), now()).map(|g| g.expires_at), Ok(None));
    }

    #[test]
    fn rotation_keeps_the_lifetime_within_the_callers_end() {
        let created = now() - Duration::days(10);
        let old_end = Some(created + Duration::days(30));
        let session = caller(TokenKind::Login, &[], Some(now() + Duration::hours(8)));
        assert_eq!(rotated_expiry(&session, created, old_end, now()), Some(now() + Duration::days(30)));
        let end = now() + Duration::hours(1);
        let agent = caller(TokenKind::Agent, &[], Some(end));
        assert_eq!(rotated_expiry(&agent, created, old_end, now()), Some(end));
        assert_eq!(rotated_expiry(&agent, created, None, now()), Some(end));
        assert_eq!(rotated_expiry(&session, created, None, now()), None);
        let short = Some(created + Duration::minutes(30));
        assert_eq!(rotated_expiry(&agent, created, short, now()), Some(now() + Duration::minutes(30)));
    }

    #[test]
    fn only_an_active_unsuperseded_token_is_rotatable() {
        let (old, next) = (id(2), id(3));
        let state =
            |expires_at, revoked_at, successor| RotationState { id: &old, expires_at, revoked_at, successor };
        assert_eq!(rotatable(state(None, None, None), now()), Ok(()));
        let grace = Some(now() + Duration::minutes(5));
        let got = rotatable(state(grace, None, Some(&next)), now());
        assert_eq!(got, Err(NotRotatable::Superseded { old: old.clone(), successor: next.clone() }));
        assert!(got.err().map(|e| e.to_string()).unwrap_or_default().contains(next.as_str()));
        let past = Some(now() - Duration::seconds(1));
        assert_eq!(rotatable(state(None, past, None), now()), Err(NotRotatable::Revoked(old.clone())));
        assert_eq!(rotatable(state(past, None, None), now()), Err(NotRotatable::Expired(old.clone())));
    }

    fn scope_subset() -> impl Strategy<Value = Vec<&'static str>> {
        proptest::sample::subsequence(ALL.to_vec(), 0..=ALL.len())
    }

    fn kind() -> impl Strategy<Value = TokenKind> {
        proptest::sample::select(TokenKind::EVERY.to_vec())
    }

    fn offset() -> impl Strategy<Value = Option<DateTime<Utc>>> {
        proptest::option::of((-3_600i64..86_400 * 400).prop_map(|s| now() + Duration::seconds(s)))
    }

    proptest! {
        #[test]
        fn derived_credentials_never_outrank_or_outlive_their_caller(
            kind in kind(),
            held in scope_subset(),
            asked in scope_subset(),
            caller_end in offset(),
            asked_end in offset(),
        ) {
            let c = caller(kind, &held, caller_end);
            if let Ok(g) = derive(&c, wanted(&asked, asked_end), now()) {
                prop_assert!(g.scopes.is_subset(&c.scopes));
                if let (Some(end), false) = (caller_end, kind == TokenKind::Login) {
                    prop_assert!(g.expires_at.is_some_and(|at| at <= end));
                }
            } else {
                let within = set(&asked).is_subset(&c.scopes);
                let late = kind != TokenKind::Login
                    && caller_end.is_some_and(|end| end <= now() || asked_end.is_some_and(|at| at > end));
                prop_assert!(!within || late);
            }
        }

        #[test]
        fn a_rotated_successor_never_outlives_a_non_session_caller(
            kind in kind(),
            caller_end in offset(),
            old_end in offset(),
        ) {
            let c = caller(kind, &[], caller_end);
            let created = now() - Duration::days(1);
            let old_end = old_end.map(|e| e.max(created));
            let got = rotated_expiry(&c, created, old_end, now());
            if let (Some(cap), false) = (caller_end, kind == TokenKind::Login) {
                prop_assert!(got.is_some_and(|at| at <= cap));
            }
            if let (Some(end), Some(at)) = (old_end, got) {
                prop_assert!(at <= now() + (end - created));
            }
        }
    }
}
