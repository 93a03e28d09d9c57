//! What the model answers for a step: a success and what it must change
//! ([`Effect`]), or the statuses a refusal may have ([`Verdict`]).

use crate::model::{Expiry, Kind, Role, Scopes, Tri};

/// A credential a success must issue.
#[derive(Debug, Clone)]
pub struct NewCred {
    pub kind: Kind,
    pub owner: usize,
    pub agent: Option<String>,
    pub scopes: Scopes,
    /// Scopes the response may show instead (rotation: stored or effective).
    pub alt_scopes: Option<Scopes>,
    pub expiry: Expiry,
    pub parent: Option<usize>,
    /// A service user created with it.
    pub new_user: Option<Role>,
}

/// What a success changes.
#[derive(Debug, Clone)]
pub enum Effect {
    New(NewCred),
    Rotate {
        old: usize,
        new: NewCred,
        grace: bool,
    },
    /// These credentials end (revoke, mint revoke: the count must match).
    End(Vec<usize>),
    Delete(usize),
    EndUser {
        user: usize,
        delete: bool,
    },
    Request {
        cred: usize,
    },
    Decide {
        approval: usize,
        approve: bool,
    },
    Use {
        approval: usize,
        decision: &'static str,
    },
    Password {
        user: usize,
        keep: Option<usize>,
    },
    /// `POST /v1/verify` must say whether `target` is valid.
    Verified {
        target: usize,
        valid: bool,
    },
    /// `POST /oauth/introspect` must say whether `target` is active, and
    /// nothing but `{"active":false}` when it is not.
    Introspected {
        target: usize,
        active: bool,
    },
    /// Nothing changes (a read).
    Nothing,
    /// A listing that must hold exactly these credentials' ids.
    Listed(Vec<usize>),
    /// `whoami` must describe this credential.
    Described(usize),
    /// A new signing key (its kid is in the answer).
    NewKey,
    /// This key is retired: every token it signed stops verifying.
    RetireKey(usize),
}

/// The right answers: success with `ok` (if any), or one of `refuse`.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub ok: Option<Effect>,
    pub refuse: Vec<u16>,
}

pub fn no(status: u16) -> Verdict {
    Verdict { ok: None, refuse: vec![status] }
}

/// Unordered checks: any failing one's status is right; a `Maybe` one
/// (decided by milliseconds) allows success too.
#[derive(Default)]
pub struct Group {
    fail: Vec<u16>,
    maybe: Vec<u16>,
}

impl Group {
    pub fn check(&mut self, failed: bool, status: u16) {
        if failed {
            self.fail.push(status);
        }
    }
    pub fn tri(&mut self, t: Tri, status: u16) {
        match t {
            Tri::Yes => self.fail.push(status),
            Tri::Maybe => self.maybe.push(status),
            Tri::No => {}
        }
    }
    pub fn then(self, ok: Effect) -> Verdict {
        if self.fail.is_empty() {
            Verdict { ok: Some(ok), refuse: self.maybe }
        } else {
            Verdict { ok: None, refuse: self.fail }
        }
    }
}
