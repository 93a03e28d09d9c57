//! Request bodies parsed into domain values, once, at the edge.
//!
//! A handler turns each body into one of these (`parse`, with the settings
//! the rules need: the scope catalogue, the mint ceiling, the operations)
//! before it calls its authority function, which then sees only domain
//! types: [`TokenName`], [`TokenKind`], [`ScopeSet`], [`Ttl`], [`Username`],
//! [`Password`]. A value that does not parse is a 422 with the message the
//! rule gives; nothing is looked up here, so what is asked for is never
//! touched before the authority function authorizes the caller.

use crate::error::{ApiError, ApiResult};
use ward_api::{
    AuthorizeRequest, CreateServiceUserRequest, CreateTokenRequest, CreateUserRequest, DecideRequest,
    IdleRequest, MintRequest, MintRevokeRequest, RotateRequest, TokenQuery,
};
use ward_core::limits::{MaxUses, UseRate};
use ward_core::operation::{Operation, Policy};
use ward_core::{
    Password, Role, ScopeCatalog, ScopeSet, TokenId, TokenKind, TokenName, TokenStatus, Ttl, Username,
};

/// `expires_in_days` or `ttl`, never both; `None` for no expiry.
pub fn lifetime(days: Option<u32>, ttl: Option<&str>) -> ApiResult<Option<Ttl>> {
    match (days, ttl) {
        (Some(_), Some(_)) => Err(ApiError::invalid("give expires_in_days or ttl, not both")),
        (Some(d), None) => Ttl::days(d).map(Some).map_err(ApiError::invalid),
        (None, Some(t)) => Ttl::parse(t).map(Some).map_err(ApiError::invalid),
        (None, None) => Ok(None),
    }
}

/// Scopes or meta-scopes named in a request, expanded (422 naming the
/// valid ones on an unknown name).
fn scopes(catalog: &ScopeCatalog, names: &[String]) -> ApiResult<ScopeSet> {
    catalog.expand(names).map_err(ApiError::invalid)
}

/// `POST /v1/tokens`.
#[derive(Debug)]
pub struct NewToken {
    pub name: TokenName,
    pub kind: TokenKind,
    /// `None`: a personal token gets its owner's permissions, others none.
    pub scopes: Option<ScopeSet>,
    /// `None`: no expiry of its own (a non-session caller's end still bounds it).
    pub lifetime: Option<Ttl>,
    /// The owner by id or name, resolved after authorization; `None`: the caller.
    pub owner: Option<String>,
    /// `--max-uses` and `--rate`.
    pub limits: Limits,
}

/// The usage limits a new token is created with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub max_uses: Option<MaxUses>,
    pub rate: Option<UseRate>,
}

impl Limits {
    fn parse(max_uses: Option<u32>, rate: Option<&str>) -> ApiResult<Self> {
        Ok(Self {
            max_uses: max_uses.map(|n| MaxUses::new(u64::from(n))).transpose().map_err(ApiError::invalid)?,
            rate: rate.map(str::parse::<UseRate>).transpose().map_err(ApiError::invalid)?,
        })
    }
}

impl NewToken {
    pub fn parse(req: CreateTokenRequest, catalog: &ScopeCatalog) -> ApiResult<Self> {
        Ok(Self {
            name: TokenName::parse(&req.name).map_err(ApiError::invalid)?,
            kind: req.token_type,
            scopes: req.scopes.as_deref().map(|names| scopes(catalog, names)).transpose()?,
            lifetime: lifetime(req.expires_in_days, req.ttl.as_deref())?,
            limits: Limits::parse(req.max_uses, req.rate.as_deref())?,
            owner: req.user_id,
        })
    }
}

/// `GET /v1/tokens`: which tokens, one page.
#[derive(Debug)]
pub struct TokenListing {
    pub kind: Option<TokenKind>,
    pub status: Option<TokenStatus>,
    /// The owner by id or name, resolved after authorization; `None`: the caller.
    pub owner: Option<String>,
    /// Only tokens older than this one (the previous page's `next_cursor`).
    pub before: Option<TokenId>,
    /// 1 to [`TokenListing::MAX_PAGE`].
    pub limit: u32,
    /// Only active tokens ending within this (`--expiring 7d`).
    pub expiring: Option<Ttl>,
    /// Only active tokens unused for this long (`--unused-for 90d`).
    pub unused_for: Option<Ttl>,
}

impl TokenListing {
    pub const DEFAULT_PAGE: u32 = 100;
    pub const MAX_PAGE: u32 = 1000;
}

impl TryFrom<TokenQuery> for TokenListing {
    type Error = ApiError;
    fn try_from(query: TokenQuery) -> ApiResult<Self> {
        let before = query.cursor.as_deref().map(TokenId::parse).transpose();
        let duration = |key: &str, v: Option<&str>| {
            v.map(Ttl::parse).transpose().map_err(|e| ApiError::invalid(format!("{key}: {e}")))
        };
        Ok(Self {
            expiring: duration("expiring", query.expiring.as_deref())?,
            unused_for: duration("unused_for", query.unused_for.as_deref())?,
            kind: query.token_type,
            status: query.status,
            owner: query.user_id,
            before: before.map_err(|_| ApiError::invalid("cursor is not a token id from next_cursor"))?,
            limit: query.limit.unwrap_or(Self::DEFAULT_PAGE).clamp(1, Self::MAX_PAGE),
        })
    }
}

/// `GET /v1/idle-tokens` and `POST /v1/idle-tokens/revoke`: the idle
/// threshold asked for; `None`: the server's `lifecycle.revoke_unused_after`.
#[derive(Debug, Default)]
pub struct IdleQuery {
    pub unused_for: Option<Ttl>,
}

impl TryFrom<IdleRequest> for IdleQuery {
    type Error = ApiError;
    fn try_from(req: IdleRequest) -> ApiResult<Self> {
        let unused_for = req.unused_for.as_deref().map(Ttl::parse).transpose();
        Ok(Self { unused_for: unused_for.map_err(|e| ApiError::invalid(format!("unused_for: {e}")))? })
    }
}

/// `POST /v1/mint/revoke`: one minted token, or every token of an agent
/// issued so far.
#[derive(Debug, PartialEq, Eq)]
pub enum MintRevoke {
    Jti(TokenId),
    Agent(Username),
}

impl TryFrom<MintRevokeRequest> for MintRevoke {
    type Error = ApiError;
    fn try_from(req: MintRevokeRequest) -> ApiResult<Self> {
        match (req.jti, req.agent) {
            (Some(jti), None) => TokenId::parse(&jti).map(Self::Jti).map_err(|_| {
                ApiError::invalid("jti is not a minted token's id (tok_…): copy it from `ward mint list`")
            }),
            (None, Some(agent)) => Username::parse(&agent)
                .map(Self::Agent)
                .map_err(|_| ApiError::invalid("agent name is invalid: use a-z, 0-9, '.', '_' or '-'")),
            _ => Err(ApiError::invalid("give exactly one of jti or agent")),
        }
    }
}

/// `POST /v1/users`.
#[derive(Debug)]
pub struct NewUser {
    pub name: Username,
    pub role: Role,
    pub password: Password,
}

impl TryFrom<CreateUserRequest> for NewUser {
    type Error = ApiError;
    fn try_from(req: CreateUserRequest) -> ApiResult<Self> {
        Ok(Self {
            name: Username::parse(&req.name).map_err(ApiError::invalid)?,
            role: req.role.unwrap_or(Role::User),
            password: Password::new_checked(req.password).map_err(ApiError::invalid)?,
        })
    }
}

/// `POST /v1/service-users`.
#[derive(Debug)]
pub struct NewServiceUser {
    pub name: Username,
    /// Never empty.
    pub scopes: ScopeSet,
    pub lifetime: Option<Ttl>,
}

impl NewServiceUser {
    pub fn parse(req: CreateServiceUserRequest, catalog: &ScopeCatalog) -> ApiResult<Self> {
        let name = Username::parse(&req.name).map_err(ApiError::invalid)?;
        let scopes = scopes(catalog, &req.scopes)?;
        if scopes.is_empty() {
            return Err(ApiError::invalid(format!(
                "a service user needs at least one scope; valid scopes: {}",
                catalog.valid_names().join(", ")
            )));
        }
        Ok(Self { name, scopes, lifetime: lifetime(req.expires_in_days, req.ttl.as_deref())? })
    }
}

/// `POST /v1/tokens/{id}/rotate` and `…/rotate-key`.
#[derive(Debug, Default)]
pub struct Rotation {
    /// How long the old token keeps working; `None`: it stops at once.
    pub grace: Option<Ttl>,
}

impl TryFrom<RotateRequest> for Rotation {
    type Error = ApiError;
    fn try_from(req: RotateRequest) -> ApiResult<Self> {
        Ok(Self { grace: req.grace.as_deref().map(Ttl::parse).transpose().map_err(ApiError::invalid)? })
    }
}

/// `POST /v1/mint`.
#[derive(Debug)]
pub struct NewMint {
    pub agent: Username,
    /// Never empty.
    pub scopes: ScopeSet,
    /// At most the server's `mint.max_ttl`.
    pub ttl: Ttl,
    /// The `aud` claim: printable, without spaces, when given.
    pub audience: Option<String>,
}

impl NewMint {
    pub fn parse(req: MintRequest, catalog: &ScopeCatalog, max_ttl: Ttl) -> ApiResult<Self> {
        let agent = Username::parse(&req.agent).map_err(|_| {
            ApiError::invalid(format!("agent name '{}' is invalid: use a-z, 0-9, '.', '_' or '-'", req.agent))
        })?;
        let ttl = Ttl::parse(&req.ttl).map_err(ApiError::invalid)?;
        if ttl > max_ttl {
            return Err(ApiError::invalid(format!(
                "ttl {ttl} is longer than this server allows ({max_ttl}): use a shorter --ttl"
            )));
        }
        let scopes = scopes(catalog, &req.scopes)?;
        if scopes.is_empty() {
            return Err(ApiError::invalid("an agent token needs at least one scope"));
        }
        let audience = req.audience.map(audience).transpose()?;
        Ok(Self { agent, scopes, ttl, audience })
    }
}

/// A mint request's audience: one printable value with no whitespace (a
/// URL or a name), as JWT verifiers compare it byte for byte.
fn audience(aud: String) -> ApiResult<String> {
    if aud.is_empty()
        || !aud
            .chars()
            .all(|c| c.is_ascii_graphic() || (!c.is_ascii() && !c.is_control() && !c.is_whitespace()))
    {
        return Err(ApiError::invalid(
            "audience must be one non-empty value without spaces, e.g. https://api.example.com",
        ));
    }
    Ok(aud)
}

/// `POST /v1/authorize`.
pub struct Authorize {
    /// The token to check; `None`: the bearer's own. Never printed.
    pub token: Option<String>,
    pub operation: Operation,
    pub auto_approve: bool,
    pub approval_id: Option<String>,
}

impl std::fmt::Debug for Authorize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorize")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("operation", &self.operation.name)
            .field("auto_approve", &self.auto_approve)
            .field("approval_id", &self.approval_id)
            .finish()
    }
}

impl Authorize {
    /// The operation must be one the server's policy names (422 listing them).
    pub fn parse(req: AuthorizeRequest, policy: &Policy) -> ApiResult<Self> {
        let operation = policy.operation(&req.operation).cloned().ok_or_else(|| {
            ApiError::invalid(format!(
                "unknown operation '{}'; operations: {}",
                req.operation,
                policy.names().join(", ")
            ))
        })?;
        Ok(Self { token: req.token, operation, auto_approve: req.auto_approve, approval_id: req.approval_id })
    }
}

/// `POST /v1/approvals/{id}/approve|deny`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decide {
    pub approve: bool,
    pub reason: Option<String>,
}

impl Decide {
    pub fn approve() -> Self {
        Self { approve: true, reason: None }
    }

    pub fn deny(req: DecideRequest) -> Self {
        Self { approve: false, reason: req.reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> ScopeCatalog {
        ScopeCatalog::default()
    }

    fn request(body: serde_json::Value) -> CreateTokenRequest {
        serde_json::from_value(body).unwrap_or_else(|e| panic!("test body does not deserialize: {e}"))
    }

    fn message(r: ApiResult<impl std::fmt::Debug>) -> String {
        match r {
            Err(ApiError::Unprocessable(m)) => m,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn a_token_request_becomes_its_domain_values() {
        let req = request(serde_json::json!({
            "name": " ci ", "type": "pipeline", "scopes": ["ward:introspect"], "ttl": "2h"
        }));
        let new = NewToken::parse(req, &catalog()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.name.as_str(), "ci");
        assert_eq!(new.kind, TokenKind::Pipeline);
        assert_eq!(
            new.scopes.map(|s| s.iter().map(ToString::to_string).collect::<Vec<_>>()),
            Some(vec!["ward:introspect".to_owned()])
        );
        assert_eq!(new.lifetime, Ttl::parse("2h").ok());
        assert_eq!(new.owner, None);
    }

    #[test]
    fn a_token_with_a_bad_name_is_refused_with_the_name_rule() {
        let req = request(serde_json::json!({"name": "   ", "type": "pipeline"}));
        let m = message(NewToken::parse(req, &catalog()));
        assert!(m.contains("token name"), "{m}");
    }

    #[test]
    fn a_token_with_an_unknown_kind_does_not_deserialize_and_the_error_names_the_kinds() {
        let err =
            serde_json::from_value::<CreateTokenRequest>(serde_json::json!({"name": "a", "type": "robot"}))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(
            err.contains("unknown token type 'robot': use personal, pipeline, service or registry"),
            "{err}"
        );
    }

    #[test]
    fn a_token_with_a_bad_ttl_or_an_unknown_scope_is_refused() {
        let req = request(serde_json::json!({"name": "a", "type": "pipeline", "ttl": "soon"}));
        let m = message(NewToken::parse(req, &catalog()));
        assert_eq!(m, Ttl::parse("soon").err().map(|e| e.to_string()).unwrap_or_default());
        let req = request(serde_json::json!({"name": "a", "type": "pipeline", "scopes": ["system:destroy"]}));
        let m = message(NewToken::parse(req, &catalog()));
        assert!(m.contains("system:destroy") && m.contains("ward:introspect"), "{m}");
    }

    #[test]
    fn a_token_with_both_expires_in_days_and_ttl_is_refused() {
        let req =
            request(serde_json::json!({"name": "a", "type": "pipeline", "ttl": "2h", "expires_in_days": 3}));
        assert_eq!(message(NewToken::parse(req, &catalog())), "give expires_in_days or ttl, not both");
        let req = request(serde_json::json!({"name": "a", "type": "pipeline", "expires_in_days": 3}));
        let new = NewToken::parse(req, &catalog()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(new.lifetime, Ttl::days(3).ok());
    }

    #[test]
    fn a_user_request_becomes_a_name_a_role_and_a_checked_password() {
        let req = |body| serde_json::from_value::<CreateUserRequest>(body).unwrap_or_else(|e| panic!("{e}"));
        let user = NewUser::try_from(req(serde_json::json!({"name": "bob", "password": "long enough"})))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((user.name.as_str(), user.role), ("bob", Role::User));
        let m =
            message(NewUser::try_from(req(serde_json::json!({"name": "Bob!", "password": "long enough"}))));
        assert!(m.contains("user name 'Bob!' is invalid"), "{m}");
        let m = message(NewUser::try_from(req(serde_json::json!({"name": "bob", "password": "short"}))));
        assert!(m.contains("at least"), "{m}");
        let err = serde_json::from_value::<CreateUserRequest>(
            serde_json::json!({"name": "bob", "role": "root", "password": "long enough"}),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("unknown role 'root': use admin or user"), "{err}");
    }

    #[test]
    fn a_service_user_needs_a_scope_and_a_valid_name() {
        let req =
            |body| serde_json::from_value::<CreateServiceUserRequest>(body).unwrap_or_else(|e| panic!("{e}"));
        let m =
            message(NewServiceUser::parse(req(serde_json::json!({"name": "ci", "scopes": []})), &catalog()));
        assert!(m.starts_with("a service user needs at least one scope; valid scopes:"), "{m}");
        let m = message(NewServiceUser::parse(
            req(serde_json::json!({"name": "CI", "scopes": ["ward:introspect"]})),
            &catalog(),
        ));
        assert!(m.contains("user name 'CI' is invalid"), "{m}");
    }

    #[test]
    fn a_rotation_grace_is_a_ttl() {
        let ok =
            Rotation::try_from(RotateRequest { grace: Some("1h".into()) }).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok.grace, Ttl::parse("1h").ok());
        assert!(Rotation::try_from(RotateRequest::default()).is_ok_and(|r| r.grace.is_none()));
        let m = message(Rotation::try_from(RotateRequest { grace: Some("forever".into()) }));
        assert_eq!(m, Ttl::parse("forever").err().map(|e| e.to_string()).unwrap_or_default());
    }

    #[test]
    fn a_mint_longer_than_the_ceiling_or_without_scopes_is_refused() {
        let max = Ttl::parse("1d").unwrap_or_else(|e| panic!("{e}"));
        let req = |ttl: &str, scopes: &[&str]| MintRequest {
            agent: "bot".into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            ttl: ttl.into(),
            audience: None,
        };
        let m = message(NewMint::parse(req("30d", &["ward:introspect"]), &catalog(), max));
        assert!(m.contains("longer than this server allows"), "{m}");
        let m = message(NewMint::parse(req("1h", &[]), &catalog(), max));
        assert_eq!(m, "an agent token needs at least one scope");
        let ok = NewMint::parse(req("1h", &["ward:introspect"]), &catalog(), max)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((ok.agent.as_str(), ok.ttl), ("bot", Ttl::parse("1h").unwrap_or(max)));
    }

    #[test]
    fn a_token_listing_caps_its_page_and_reads_the_cursor_as_a_token_id() {
        let listing = TokenListing::try_from(TokenQuery { limit: Some(50_000), ..TokenQuery::default() })
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((listing.limit, listing.before), (TokenListing::MAX_PAGE, None));
        let zero = TokenListing::try_from(TokenQuery { limit: Some(0), ..TokenQuery::default() });
        assert!(zero.is_ok_and(|l| l.limit == 1));
        let m = message(TokenListing::try_from(TokenQuery {
            cursor: Some("page2".into()),
            ..TokenQuery::default()
        }));
        assert_eq!(m, "cursor is not a token id from next_cursor");
        let m = message(TokenListing::try_from(TokenQuery {
            expiring: Some("a week".into()),
            ..TokenQuery::default()
        }));
        assert!(m.starts_with("expiring: invalid duration"), "{m}");
        let ok =
            TokenListing::try_from(TokenQuery { unused_for: Some("90d".into()), ..TokenQuery::default() });
        assert!(ok.is_ok_and(|l| l.unused_for == Ttl::parse("90d").ok() && l.expiring.is_none()));
    }

    #[test]
    fn a_mint_revoke_names_exactly_one_valid_jti_or_agent() {
        let revoke = |jti: Option<&str>, agent: Option<&str>| {
            MintRevoke::try_from(MintRevokeRequest { jti: jti.map(Into::into), agent: agent.map(Into::into) })
        };
        assert!(
            revoke(None, Some("backup"))
                .is_ok_and(|r| matches!(r, MintRevoke::Agent(a) if a.as_str() == "backup"))
        );
        assert_eq!(message(revoke(Some("tok_1"), Some("backup"))), "give exactly one of jti or agent");
        assert_eq!(message(revoke(None, None)), "give exactly one of jti or agent");
        assert!(message(revoke(Some("evt_1"), None)).contains("jti is not a minted token's id"));
        assert!(message(revoke(None, Some("Backup!"))).contains("agent name is invalid"));
    }

    #[test]
    fn an_audience_is_one_value_without_spaces() {
        let max = Ttl::parse("1d").unwrap_or_else(|e| panic!("{e}"));
        let req = |aud: &str| MintRequest {
            agent: "bot".into(),
            scopes: vec!["ward:introspect".into()],
            ttl: "1h".into(),
            audience: Some(aud.into()),
        };
        let ok = NewMint::parse(req("https://api.example.com"), &catalog(), max).map(|m| m.audience);
        assert_eq!(ok.ok().flatten().as_deref(), Some("https://api.example.com"));
        for bad in ["", "two words", "tab\there"] {
            assert!(message(NewMint::parse(req(bad), &catalog(), max)).contains("audience"), "{bad:?}");
        }
    }
}
