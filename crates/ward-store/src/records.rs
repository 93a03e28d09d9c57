//! The rows ward persists, as domain types.

use chrono::{DateTime, Utc};
use ward_core::limits::UseRate;
use ward_core::{Role, ScopeSet, TokenId, TokenKind, TokenName, UserId, Username};

/// A human with a role and a password, or a service user with fixed scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserKind {
    Human { role: Role, password_hash: Option<String> },
    Service { scopes: ScopeSet },
}

/// Filter for [`crate::Store::list_users`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserKindFilter {
    Human,
    Service,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub name: Username,
    pub kind: UserKind,
    pub created_at: DateTime<Utc>,
    pub deleted_at: Option<DateTime<Utc>>,
    /// The user whose credential created this one (`None`: the first admin,
    /// or created before ward recorded it). An approval requested by a
    /// service user may not be decided by its creator.
    pub created_by: Option<UserId>,
}

/// A token's metadata: never the token, never its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    pub id: TokenId,
    pub name: TokenName,
    pub kind: TokenKind,
    pub user_id: UserId,
    pub scopes: ScopeSet,
    /// The display start, e.g. `ward_p_Ab3x`.
    pub display: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub rotated_from: Option<TokenId>,
    /// The non-session credential whose caller obtained this one (a token
    /// id or an agent token's jti); `None` when a login session or nobody
    /// did. Ending that credential ends this one.
    pub parent_token_id: Option<TokenId>,
    /// The user whose credential issued it (`None`: bootstrap, or issued
    /// before ward recorded it). With the owners and issuers up its parent
    /// line, the users who may not approve what it requests.
    pub issued_by: Option<UserId>,
    /// The credential that issued it, login sessions included (a token id
    /// or an agent token's jti). The store inserts it only while that
    /// credential is live, ordered with that credential's revocation, so a
    /// revoked caller cannot leave a new token behind.
    pub issued_via: Option<TokenId>,
    /// Its usage limits (`--max-uses`, `--rate`); none by default.
    pub limits: UseLimits,
}

/// A token's usage limits. `uses_left` is counted down in the database, one
/// conditional decrement per use of a limited token only
/// ([`crate::Store::consume_use`]); an unlimited token is never written on use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UseLimits {
    /// How many uses it was created with.
    pub max_uses: Option<u64>,
    /// How many are left, as of when the record was read.
    pub uses_left: Option<u64>,
    /// At most this many uses per window, on each server node.
    pub rate: Option<UseRate>,
}

/// A client a token was used from (forensics): the address and user agent
/// of the request, and when it was last seen. A token keeps its
/// [`MAX_CLIENTS`] most recent distinct (address, user agent) pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSeen {
    pub address: String,
    /// The `User-Agent` header, cut to [`MAX_USER_AGENT`] characters; empty
    /// when none was sent.
    pub user_agent: String,
    pub last_seen: DateTime<Utc>,
}

/// How many distinct clients a token remembers.
pub const MAX_CLIENTS: usize = 5;
/// The longest user agent kept, in characters.
pub const MAX_USER_AGENT: usize = 200;

/// Where a token stands at a moment: ward-core's one enum.
pub use ward_core::TokenStatus;

impl TokenRecord {
    /// Revoked beats expired; expiry is derived from `expires_at`.
    pub fn status(&self, now: DateTime<Utc>) -> TokenStatus {
        if self.revoked_at.is_some_and(|t| t <= now) {
            TokenStatus::Revoked
        } else if self.expires_at.is_some_and(|t| t <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }
}

/// A token with its owner, as verify and listings need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenWithOwner {
    pub token: TokenRecord,
    pub owner: UserRecord,
}

/// What [`crate::Store::list_tokens`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenFilter {
    pub user_id: Option<UserId>,
    pub kind: Option<TokenKind>,
    pub status: Option<TokenStatus>,
    /// The moment `status` is judged at.
    pub now: DateTime<Utc>,
    /// Only tokens whose id sorts before this one (the previous page's last).
    pub before: Option<TokenId>,
    pub limit: u32,
    /// Only tokens that expire after `now` and no later than this.
    pub expiring_by: Option<DateTime<Utc>>,
    /// Only tokens not used since this moment: last used at or before it,
    /// or never used and created at or before it.
    pub unused_since: Option<DateTime<Utc>>,
}

impl TokenFilter {
    /// Every token, judged at `now`, at most `limit`.
    pub fn all(now: DateTime<Utc>, limit: u32) -> Self {
        Self {
            user_id: None,
            kind: None,
            status: None,
            now,
            before: None,
            limit,
            expiring_by: None,
            unused_since: None,
        }
    }
}
