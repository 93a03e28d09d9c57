//! How long a new token may live: the lifetime policy by token type and by
//! the risk of the scopes it holds.
//!
//! The server config names limits (`[lifecycle.lifetimes.<type or risk>]`,
//! each an optional `default` and `max`). The limits that apply to a token
//! are its type's and those of every risk level up to the highest risk of
//! its scopes (a token with a critical scope is bound by the `high`,
//! `moderate` and `low` limits too, so a riskier token never lives longer
//! than a safer one). Then [`LifetimePolicy::decide`]:
//!
//! - the **strictest** applicable `max` wins; a lifetime beyond it is
//!   refused ([`TooLong`] names the limit and the rule), or cut to it when
//!   the policy says [`OnExcess::Cap`];
//! - with no lifetime asked, the strictest applicable `default` applies,
//!   else the strictest `max`, never more than that `max`; with neither,
//!   the token does not expire.
//!
//! Pure: the server passes the kind, the risk and the asked lifetime, and
//! computes the end from its own clock.

use crate::duration::Ttl;
use crate::scope::Risk;
use crate::token::TokenKind;
use std::collections::BTreeMap;
use std::fmt;

/// One limit: a default lifetime and a maximum, each optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limit {
    pub default: Option<Ttl>,
    pub max: Option<Ttl>,
}

/// Whom a limit is for: a token type, or tokens holding a scope of a risk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RuleKey {
    Kind(TokenKind),
    Risk(Risk),
}

impl fmt::Display for RuleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuleKey::Kind(k) => write!(f, "lifecycle.lifetimes.{}", k.as_str()),
            RuleKey::Risk(r) => write!(f, "lifecycle.lifetimes.{}", r.as_str()),
        }
    }
}

/// What happens to a request for a lifetime beyond the maximum.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnExcess {
    /// Refused (422) with the limit named.
    #[default]
    Refuse,
    /// Cut to the maximum.
    Cap,
}

/// The lifetime limits of a deployment. Empty by default: no limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifetimePolicy {
    limits: BTreeMap<RuleKey, Limit>,
    pub on_excess: OnExcess,
}

/// A lifetime beyond the strictest applicable maximum, refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "a lifetime of {asked} is longer than this server allows for this token ({max}, set by {rule}.max): ask for {max} or less"
)]
pub struct TooLong {
    pub asked: Ttl,
    pub max: Ttl,
    pub rule: RuleKey,
}

/// A lifetime to ask for: none means "no lifetime was named".
pub type Asked = Option<Ttl>;

/// The lifetime a token gets: `None` for no expiry; `capped` when a longer
/// one was asked and cut to `max` under [`OnExcess::Cap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decided {
    pub lifetime: Option<Ttl>,
    pub capped: bool,
}

impl LifetimePolicy {
    /// A policy with these limits.
    pub fn new(limits: impl IntoIterator<Item = (RuleKey, Limit)>, on_excess: OnExcess) -> Self {
        Self { limits: limits.into_iter().collect(), on_excess }
    }

    /// Whether any limit is configured.
    pub fn is_empty(&self) -> bool {
        self.limits.values().all(|l| l.default.is_none() && l.max.is_none())
    }

    /// The limits that apply to a token of `kind` whose scopes reach `risk`.
    pub fn applicable(&self, kind: TokenKind, risk: Risk) -> impl Iterator<Item = (RuleKey, Limit)> + '_ {
        self.limits
            .iter()
            .filter(move |(key, _)| match key {
                RuleKey::Kind(k) => *k == kind,
                RuleKey::Risk(r) => *r <= risk,
            })
            .map(|(k, l)| (*k, *l))
    }

    /// The strictest applicable maximum and the rule that sets it.
    pub fn max(&self, kind: TokenKind, risk: Risk) -> Option<(Ttl, RuleKey)> {
        self.applicable(kind, risk).filter_map(|(key, l)| l.max.map(|m| (m, key))).min()
    }

    /// The lifetime a token of `kind` whose scopes reach `risk` gets when
    /// `asked` is requested. See the module documentation.
    pub fn decide(&self, kind: TokenKind, risk: Risk, asked: Asked) -> Result<Decided, TooLong> {
        let max = self.max(kind, risk);
        let Some(asked) = asked else {
            let default = self.applicable(kind, risk).filter_map(|(_, l)| l.default).min();
            let lifetime = match (default, max) {
                (Some(d), Some((m, _))) => Some(d.min(m)),
                (Some(d), None) => Some(d),
                (None, m) => m.map(|(m, _)| m),
            };
            return Ok(Decided { lifetime, capped: false });
        };
        match max {
            Some((max, rule)) if asked > max => match self.on_excess {
                OnExcess::Refuse => Err(TooLong { asked, max, rule }),
                OnExcess::Cap => Ok(Decided { lifetime: Some(max), capped: true }),
            },
            _ => Ok(Decided { lifetime: Some(asked), capped: false }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ttl(s: &str) -> Ttl {
        Ttl::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    fn limit(default: Option<&str>, max: Option<&str>) -> Limit {
        Limit { default: default.map(ttl), max: max.map(ttl) }
    }

    fn sample(on_excess: OnExcess) -> LifetimePolicy {
        LifetimePolicy::new(
            [
                (RuleKey::Kind(TokenKind::Pipeline), limit(Some("90d"), Some("365d"))),
                (RuleKey::Risk(Risk::High), limit(None, Some("7d"))),
                (RuleKey::Risk(Risk::Critical), limit(None, Some("24h"))),
            ],
            on_excess,
        )
    }

    #[test]
    fn the_strictest_applicable_maximum_wins_and_is_named_when_refused() {
        let p = sample(OnExcess::Refuse);
        let got = p.decide(TokenKind::Pipeline, Risk::Critical, Some(ttl("2d")));
        let err = got.err().unwrap_or_else(|| panic!("a 2d critical token must be refused"));
        assert_eq!((err.max, err.rule), (ttl("24h"), RuleKey::Risk(Risk::Critical)));
        let msg = err.to_string();
        assert!(msg.contains("1d") && msg.contains("lifecycle.lifetimes.critical.max"), "{msg}");
        let err = p.decide(TokenKind::Pipeline, Risk::Low, Some(ttl("400d"))).err();
        assert_eq!(err.map(|e| e.rule), Some(RuleKey::Kind(TokenKind::Pipeline)));
    }

    #[test]
    fn a_riskier_token_is_bound_by_the_limits_of_every_lower_level() {
        let p = LifetimePolicy::new([(RuleKey::Risk(Risk::High), limit(None, Some("7d")))], OnExcess::Refuse);
        assert!(p.decide(TokenKind::Personal, Risk::Critical, Some(ttl("8d"))).is_err());
        assert!(p.decide(TokenKind::Personal, Risk::Moderate, Some(ttl("8d"))).is_ok());
    }

    #[test]
    fn cap_cuts_an_excessive_lifetime_to_the_maximum() {
        let p = sample(OnExcess::Cap);
        let got = p.decide(TokenKind::Personal, Risk::High, Some(ttl("30d")));
        assert_eq!(got, Ok(Decided { lifetime: Some(ttl("7d")), capped: true }));
        let got = p.decide(TokenKind::Personal, Risk::High, Some(ttl("1d")));
        assert_eq!(got, Ok(Decided { lifetime: Some(ttl("1d")), capped: false }));
    }

    #[test]
    fn with_no_lifetime_asked_the_default_applies_within_the_maximum() {
        let p = sample(OnExcess::Refuse);
        let got = |kind, risk| p.decide(kind, risk, None).map(|d| d.lifetime);
        assert_eq!(got(TokenKind::Pipeline, Risk::Low), Ok(Some(ttl("90d"))));
        assert_eq!(got(TokenKind::Pipeline, Risk::High), Ok(Some(ttl("7d"))), "default cut to the max");
        assert_eq!(got(TokenKind::Personal, Risk::Critical), Ok(Some(ttl("24h"))), "no default: the max");
        assert_eq!(got(TokenKind::Personal, Risk::Low), Ok(None), "no limit: no expiry");
    }

    #[test]
    fn an_empty_policy_changes_nothing() {
        let p = LifetimePolicy::default();
        assert!(p.is_empty());
        assert_eq!(
            p.decide(TokenKind::Service, Risk::Critical, Some(ttl("3650d"))),
            Ok(Decided { lifetime: Some(ttl("3650d")), capped: false })
        );
    }

    fn some_ttl() -> impl Strategy<Value = Option<Ttl>> {
        proptest::option::of(
            (1i64..86_400 * 800).prop_map(|s| Ttl::seconds(s).unwrap_or_else(|e| panic!("{e}"))),
        )
    }

    fn key() -> impl Strategy<Value = RuleKey> {
        prop_oneof![
            proptest::sample::select(TokenKind::EVERY.to_vec()).prop_map(RuleKey::Kind),
            proptest::sample::select(vec![Risk::Low, Risk::Moderate, Risk::High, Risk::Critical])
                .prop_map(RuleKey::Risk),
        ]
    }

    fn risk() -> impl Strategy<Value = Risk> {
        proptest::sample::select(vec![Risk::Low, Risk::Moderate, Risk::High, Risk::Critical])
    }

    proptest! {
        #[test]
        fn the_granted_lifetime_never_exceeds_any_applicable_maximum(
            rules in proptest::collection::vec((key(), some_ttl(), some_ttl()), 0..6),
            cap in any::<bool>(),
            kind in proptest::sample::select(TokenKind::EVERY.to_vec()),
            risk in risk(),
            asked in some_ttl(),
        ) {
            let on_excess = if cap { OnExcess::Cap } else { OnExcess::Refuse };
            let policy = LifetimePolicy::new(
                rules.into_iter().map(|(k, default, max)| (k, Limit { default, max })),
                on_excess,
            );
            let maxima: Vec<Ttl> = policy.applicable(kind, risk).filter_map(|(_, l)| l.max).collect();
            match policy.decide(kind, risk, asked) {
                Ok(decided) => {
                    for max in &maxima {
                        prop_assert!(decided.lifetime.is_some_and(|l| l <= *max), "{decided:?} > {max}");
                    }
                    if let (Some(asked), false) = (asked, decided.capped) {
                        prop_assert_eq!(decided.lifetime, Some(asked));
                    }
                }
                Err(e) => {
                    prop_assert_eq!(on_excess, OnExcess::Refuse);
                    prop_assert!(asked.is_some_and(|a| a > e.max));
                    prop_assert!(maxima.iter().all(|m| *m >= e.max));
                }
            }
        }
    }
}
