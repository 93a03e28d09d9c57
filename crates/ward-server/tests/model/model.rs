//! The reference model: principals, credentials (scopes, expiry, parent,
//! state) and approvals, as the rules of authority say they should be.
//! Pure: no I/O, no clock; times are the server's, handed in by the driver.

use chrono::{DateTime, Duration, Utc};

/// A scope set as a bit mask over [`SCOPES`].
pub type Scopes = u8;

/// Every scope of the test catalogue: ward's built-ins and three declared.
pub const SCOPES: [&str; 8] = [
    "ward:tokens",
    "ward:introspect",
    "ward:audit",
    "ward:mint",
    "ward:admin",
    "app:read",
    "app:write",
    "ops:admin",
];
pub const TOKENS: Scopes = 1;
pub const INTROSPECT: Scopes = 1 << 1;
pub const MINT: Scopes = 1 << 3;
pub const ADMIN: Scopes = 1 << 4;
pub const APP_READ: Scopes = 1 << 5;
pub const APP_WRITE: Scopes = 1 << 6;
/// What an admin may grant: everything.
pub const ALL: Scopes = 0xff;
/// The `user` role of the test config (see `driver::CONFIG`).
pub const USER: Scopes = TOKENS | INTROSPECT | MINT | (1 << 5) | APP_WRITE;

/// The login session lifetime of the test config.
pub const SESSION_HOURS: i64 = 12;

pub fn names(s: Scopes) -> Vec<String> {
    SCOPES.iter().enumerate().filter(|(i, _)| s & (1 << i) != 0).map(|(_, n)| (*n).to_owned()).collect()
}

/// Parses scope names back into a mask; `None` if one is not in the catalogue.
pub fn mask(names: &[String]) -> Option<Scopes> {
    names.iter().try_fold(0, |acc, n| SCOPES.iter().position(|s| s == n).map(|i| acc | (1 << i)))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Admin,
    User,
    /// A service user: fixed scopes, and the user who created it.
    Service {
        scopes: Scopes,
        created_by: Option<usize>,
    },
}

#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub id: String,
    pub role: Role,
    pub deleted: bool,
    pub password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Login,
    Personal,
    Pipeline,
    Service,
    Registry,
    Agent,
}

impl Kind {
    pub fn wire(self) -> &'static str {
        match self {
            Kind::Login => "login",
            Kind::Personal => "personal",
            Kind::Pipeline => "pipeline",
            Kind::Service => "service",
            Kind::Registry => "registry",
            Kind::Agent => "agent",
        }
    }
}

/// How a credential ended, if it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    Live,
    Revoked,
    /// The record is gone (`DELETE /v1/tokens/{id}`): `NOT_FOUND` from then on.
    Deleted,
}

#[derive(Debug, Clone)]
pub struct Cred {
    pub kind: Kind,
    /// The owner; for an agent token, the user who minted it.
    pub owner: usize,
    pub agent: Option<String>,
    /// Scopes as stored (effective = these ∩ owner's permissions).
    pub scopes: Scopes,
    pub created: DateTime<Utc>,
    pub expires: Option<DateTime<Utc>>,
    /// The credential that obtained this one (`None`: a login).
    pub parent: Option<usize>,
    pub end: End,
    pub successor: Option<usize>,
    /// Once the server answered "not valid", it must never say valid again.
    pub seen_invalid: bool,
    /// The signing key of an agent token.
    pub kid: Option<String>,
    pub id: String,
    pub token: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalState {
    Pending,
    Approved,
    Denied,
    Used,
}

#[derive(Debug, Clone)]
pub struct Approval {
    pub id: String,
    /// The credential that asked.
    pub cred: usize,
    /// The user behind it (the minter for an agent).
    pub requester: usize,
    /// The creator of the requesting service user, if it is one.
    pub svc_creator: Option<usize>,
    pub state: ApprovalState,
}

/// The whole model of one case.
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub users: Vec<User>,
    pub creds: Vec<Cred>,
    pub approvals: Vec<Approval>,
    /// Signing keys seen (from mint and key rotation), and whether retired.
    pub keys: Vec<(String, bool)>,
}

/// The server's clock during one request lies in `[lo, hi]`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub lo: DateTime<Utc>,
    pub hi: DateTime<Utc>,
}

/// The answer to a yes/no question whose answer depends on the exact time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tri {
    Yes,
    No,
    Maybe,
}

impl Tri {
    pub fn of(at_lo: bool, at_hi: bool) -> Self {
        match (at_lo, at_hi) {
            (true, true) => Tri::Yes,
            (false, false) => Tri::No,
            _ => Tri::Maybe,
        }
    }
}

/// The expiry a new credential must get, given the server's `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    Exact(DateTime<Utc>),
    FromNow(Duration),
    /// `min(now + d, t)`.
    MinOf(Duration, DateTime<Utc>),
}

impl Expiry {
    pub fn at(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expiry::Never => None,
            Expiry::Exact(t) => Some(t),
            Expiry::FromNow(d) => Some(now + d),
            Expiry::MinOf(d, t) => Some((now + d).min(t)),
        }
    }
}

impl Model {
    /// What a user may grant now (nothing once deleted).
    pub fn perms(&self, user: usize) -> Scopes {
        let u = &self.users[user];
        if u.deleted {
            return 0;
        }
        match u.role {
            Role::Admin => ALL,
            Role::User => USER,
            Role::Service { scopes, .. } => scopes,
        }
    }

    /// The permissions of a role, whatever happened to the user since.
    pub fn role_perms(&self, user: usize) -> Scopes {
        match self.users[user].role {
            Role::Admin => ALL,
            Role::User => USER,
            Role::Service { scopes, .. } => scopes,
        }
    }

    /// Would the server accept this credential now?
    pub fn valid(&self, c: usize) -> bool {
        let cred = &self.creds[c];
        cred.end == End::Live && !self.users[cred.owner].deleted && !self.retired(cred.kid.as_deref())
    }

    /// Retiring a key invalidates every token it signed.
    pub fn retired(&self, kid: Option<&str>) -> bool {
        kid.is_some_and(|k| self.keys.iter().any(|(id, retired)| id == k && *retired))
    }

    /// Notes a key the server named.
    pub fn saw_key(&mut self, kid: &str) {
        if !self.keys.iter().any(|(id, _)| id == kid) {
            self.keys.push((kid.to_owned(), false));
        }
    }

    /// A credential's effective scopes: its own ∩ its owner's permissions.
    pub fn eff(&self, c: usize) -> Scopes {
        let cred = &self.creds[c];
        cred.scopes & self.perms(cred.owner)
    }

    /// Effective scopes by role, for ancestors that have since ended.
    pub fn eff_by_role(&self, c: usize) -> Scopes {
        let cred = &self.creds[c];
        cred.scopes & self.role_perms(cred.owner)
    }

    pub fn has(&self, c: usize, s: Scopes) -> bool {
        self.eff(c) & s == s
    }

    pub fn is_admin(&self, c: usize) -> bool {
        self.has(c, ADMIN)
    }

    /// Does `now + d` end after `e`?
    pub fn outlives(&self, d: Duration, e: Option<DateTime<Utc>>, w: Window) -> Tri {
        match e {
            None => Tri::No,
            Some(e) => Tri::of(w.lo + d > e, w.hi + d > e),
        }
    }

    /// The newest live service-kind key of a service user.
    pub fn newest_key(&self, user: usize) -> Option<usize> {
        (0..self.creds.len())
            .rev()
            .find(|&c| self.creds[c].owner == user && self.creds[c].kind == Kind::Service && self.valid(c))
    }

    /// Ends a user: every credential they hold (agents they minted included)
    /// and what those obtained, and their pending approval requests;
    /// `delete` marks them gone.
    pub fn end_user(&mut self, user: usize, delete: bool) {
        let ended: Vec<usize> = (0..self.creds.len())
            .filter(|&c| self.creds[c].owner == user && self.creds[c].end == End::Live)
            .collect();
        for &c in &ended {
            self.creds[c].end = End::Revoked;
        }
        for c in ended {
            self.cascade_end(c);
        }
        for a in &mut self.approvals {
            if a.requester == user && a.state == ApprovalState::Pending {
                a.state = ApprovalState::Denied;
            }
        }
        if delete {
            self.users[user].deleted = true;
        }
    }

    /// Every credential obtained through `c`, down the whole line; none
    /// for a login session, the root of authority.
    pub fn descendants(&self, c: usize) -> Vec<usize> {
        let mut out = Vec::new();
        if self.creds[c].kind == Kind::Login {
            return out;
        }
        let mut todo = vec![c];
        while let Some(p) = todo.pop() {
            for d in 0..self.creds.len() {
                if self.creds[d].parent == Some(p) && !out.contains(&d) {
                    out.push(d);
                    todo.push(d);
                }
            }
        }
        out
    }

    /// `c` ended: so does every live credential obtained through it.
    pub fn cascade_end(&mut self, c: usize) {
        for d in self.descendants(c) {
            if self.creds[d].end == End::Live {
                self.creds[d].end = End::Revoked;
            }
        }
    }

    /// `c` now ends at `end` (a rotation's grace): nothing obtained
    /// through it ends later.
    pub fn cascade_cut(&mut self, c: usize, end: DateTime<Utc>) {
        for d in self.descendants(c) {
            let cred = &mut self.creds[d];
            if cred.end == End::Live {
                cred.expires = Some(cred.expires.map_or(end, |e| e.min(end)));
            }
        }
    }

    /// A short readable name for a credential, for failure traces.
    pub fn label(&self, c: usize) -> String {
        let cred = &self.creds[c];
        let owner = &self.users[cred.owner].name;
        let state = if self.valid(c) { "" } else { " (ended)" };
        match &cred.agent {
            Some(a) => format!("#{c} agent {a} of {owner}{state}"),
            None => format!("#{c} {} of {owner}{state}", cred.kind.wire()),
        }
    }
}
