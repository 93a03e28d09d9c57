//! Scopes (`resource:action`), their risk levels, meta-scopes that expand,
//! and the catalogue a deployment declares.
//!
//! The catalogue always holds ward's own API scopes (`ward:*`). Meta-scopes
//! are names without a colon that expand to a list of scopes; the entry `*`
//! in a meta-scope means every declared scope except the `ward:*` ones, so
//! a broad meta-scope such as `admin` never hands out control of ward itself
//! by accident.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// A `resource:action` scope name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

/// A set of scopes, ordered for stable output.
pub type ScopeSet = BTreeSet<Scope>;

/// A string that is not `resource:action`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a scope: use resource:action with a-z, 0-9, '_', '-', '.' or '*'")]
pub struct InvalidScope(String);

impl Scope {
    pub fn parse(s: &str) -> Result<Self, InvalidScope> {
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 64
                && p.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'-' | b'.' | b'*')
                })
        };
        match s.split_once(':') {
            Some((r, a)) if part_ok(r) && part_ok(a) => Ok(Self(s.to_owned())),
            _ => Err(InvalidScope(s.chars().take(64).collect())),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for ward's own API scopes.
    pub fn is_builtin(&self) -> bool {
        self.0.starts_with("ward:")
    }
}

impl TryFrom<String> for Scope {
    type Error = InvalidScope;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> Self {
        s.0
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How much damage a scope can do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Moderate,
    High,
    Critical,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Moderate => "moderate",
            Risk::High => "high",
            Risk::Critical => "critical",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Risk {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Risk::Low),
            "moderate" => Ok(Risk::Moderate),
            "high" => Ok(Risk::High),
            "critical" => Ok(Risk::Critical),
            other => Err(format!("unknown risk level '{other}': use low, moderate, high or critical")),
        }
    }
}

/// What the catalogue knows of a scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeInfo {
    pub description: String,
    pub risk: Risk,
}

/// Scope names that are neither declared scopes nor meta-scopes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope{plural} {names}; valid scopes: {valid}", plural = if .unknown.len() == 1 { "" } else { "s" }, names = .unknown.join(", "), valid = .valid.join(", "))]
pub struct UnknownScopes {
    pub unknown: Vec<String>,
    pub valid: Vec<String>,
}

/// A catalogue entry that cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Invalid(#[from] InvalidScope),
    #[error("meta-scope '{meta}' names unknown scope '{scope}'")]
    MetaUnknown { meta: String, scope: String },
    #[error("meta-scope name '{0}' must be a plain word without ':'")]
    MetaName(String),
}

/// ward's own API scopes, always present.
pub const BUILTIN: [(&str, &str, Risk); 5] = [
    ("ward:tokens", "create, list, rotate and revoke your own tokens", Risk::Moderate),
    ("ward:introspect", "verify tokens (POST /v1/verify)", Risk::Low),
    ("ward:audit", "read the audit trail", Risk::Moderate),
    ("ward:mint", "mint signed agent tokens and manage signing keys", Risk::High),
    ("ward:admin", "manage users, service users and every token", Risk::Critical),
];

/// The scopes and meta-scopes of one deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeCatalog {
    scopes: BTreeMap<Scope, ScopeInfo>,
    meta: BTreeMap<String, ScopeSet>,
}

impl Default for ScopeCatalog {
    fn default() -> Self {
        let empty: [(&str, &str, Risk); 0] = [];
        let none: [(&str, Vec<String>); 0] = [];
        // Built from constants only; the builtin names are valid.
        Self::new(empty, none).unwrap_or_else(|_| Self { scopes: BTreeMap::new(), meta: BTreeMap::new() })
    }
}

impl ScopeCatalog {
    /// Builds a catalogue from declared scopes and meta-scope definitions.
    /// Without a definition, `admin` is every declared scope and `readonly`
    /// every declared scope of low risk.
    pub fn new<'a, S, M>(declared: S, meta: M) -> Result<Self, CatalogError>
    where
        S: IntoIterator<Item = (&'a str, &'a str, Risk)>,
        M: IntoIterator<Item = (&'a str, Vec<String>)>,
    {
        let mut scopes = BTreeMap::new();
        for (name, description, risk) in BUILTIN.into_iter().chain(declared) {
            let info = ScopeInfo { description: description.to_owned(), risk };
            scopes.insert(Scope::parse(name)?, info);
        }
        let declared_only: ScopeSet = scopes.keys().filter(|s| !s.is_builtin()).cloned().collect();
        let mut metas = BTreeMap::new();
        metas.insert("admin".to_owned(), declared_only.clone());
        let low = declared_only.iter().filter(|s| scopes.get(*s).map(|i| i.risk) == Some(Risk::Low));
        metas.insert("readonly".to_owned(), low.cloned().collect());
        for (name, members) in meta {
            if name.is_empty() || name.contains(':') {
                return Err(CatalogError::MetaName(name.to_owned()));
            }
            let mut set = ScopeSet::new();
            for member in members {
                if member == "*" {
                    set.extend(declared_only.iter().cloned());
                    continue;
                }
                let scope = Scope::parse(&member)?;
                if !scopes.contains_key(&scope) {
                    return Err(CatalogError::MetaUnknown { meta: name.to_owned(), scope: member });
                }
                set.insert(scope);
            }
            metas.insert(name.to_owned(), set);
        }
        Ok(Self { scopes, meta: metas })
    }

    /// Expands names (scopes or meta-scopes) into scopes, refusing any name
    /// the catalogue does not know, with the list of valid ones.
    pub fn expand<I, T>(&self, names: I) -> Result<ScopeSet, UnknownScopes>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let mut out = ScopeSet::new();
        let mut unknown = Vec::new();
        for name in names {
            let name = name.as_ref().trim();
            if name.is_empty() {
                continue;
            }
            if let Some(set) = self.meta.get(name) {
                out.extend(set.iter().cloned());
            } else if let Some(scope) = Scope::parse(name).ok().filter(|s| self.scopes.contains_key(s)) {
                out.insert(scope);
            } else {
                unknown.push(name.chars().take(64).collect());
            }
        }
        if unknown.is_empty() { Ok(out) } else { Err(UnknownScopes { unknown, valid: self.valid_names() }) }
    }

    /// Every scope and meta-scope name, sorted, for error messages.
    pub fn valid_names(&self) -> Vec<String> {
        self.scopes.keys().map(|s| s.to_string()).chain(self.meta.keys().cloned()).collect()
    }

    /// Every scope, ward's own included.
    pub fn all(&self) -> ScopeSet {
        self.scopes.keys().cloned().collect()
    }

    pub fn info(&self, scope: &Scope) -> Option<&ScopeInfo> {
        self.scopes.get(scope)
    }

    /// The highest risk among `scopes` (low for an empty set).
    pub fn max_risk<'a>(&self, scopes: impl IntoIterator<Item = &'a Scope>) -> Risk {
        scopes.into_iter().filter_map(|s| self.info(s).map(|i| i.risk)).max().unwrap_or(Risk::Low)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ops() -> ScopeCatalog {
        let declared = [
            ("system:read", "read system state", Risk::Low),
            ("container:read", "list containers", Risk::Low),
            ("container:write", "restart containers", Risk::High),
            ("system:admin", "patch the system", Risk::Critical),
        ];
        let meta = [("readonly", vec!["system:read".to_owned(), "container:read".to_owned()])];
        ScopeCatalog::new(declared, meta).unwrap_or_default()
    }

    fn names(set: &ScopeSet) -> Vec<&str> {
        set.iter().map(Scope::as_str).collect()
    }

    #[test]
    fn meta_scopes_expand_to_their_members() {
        let got = ops().expand(["readonly"]).unwrap_or_default();
        assert_eq!(names(&got), ["container:read", "system:read"]);
    }

    #[test]
    fn admin_expands_to_every_declared_scope_but_not_to_ward_itself() {
        let got = ops().expand(["admin"]).unwrap_or_default();
        assert_eq!(got.len(), 4);
        assert!(got.iter().all(|s| !s.is_builtin()));
    }

    #[test]
    fn unknown_scopes_are_refused_with_the_valid_list() {
        let err = ops().expand(["system:read", "system:destroy"]).err();
        let err = err.map(|e| e.to_string()).unwrap_or_default();
        assert!(err.starts_with("unknown scope system:destroy; valid scopes:"), "{err}");
        assert!(err.contains("container:write") && err.contains("readonly"), "{err}");
    }

    #[test]
    fn builtin_scopes_are_always_known() {
        assert!(ScopeCatalog::default().expand(["ward:tokens", "ward:admin"]).is_ok());
    }

    #[test]
    fn meta_scope_naming_an_unknown_scope_is_a_config_error() {
        let r = ScopeCatalog::new([], [("ops", vec!["nope:read".to_owned()])]);
        assert!(matches!(r, Err(CatalogError::MetaUnknown { .. })));
    }

    proptest! {
        #[test]
        fn expansion_only_yields_declared_scopes(picks in proptest::collection::vec(0usize..7, 0..6)) {
            let pool = ["system:read", "container:read", "container:write", "system:admin", "readonly", "admin", "ward:tokens"];
            let catalog = ops();
            let chosen: Vec<&str> = picks.iter().map(|&i| pool[i]).collect();
            let got = catalog.expand(&chosen).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let all = catalog.all();
            prop_assert!(got.is_subset(&all));
            // Expanding the expansion changes nothing.
            let again = catalog.expand(got.iter().map(Scope::as_str)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again, got);
        }
    }
}
