//! The shown-once hand-off. A form that issues a token (create, rotate,
//! a service user's key) answers with a redirect to `/ui/shown/{slot}`
//! (post/redirect/get), and that page takes the token out of its slot:
//! it is rendered once, a reload finds the slot empty, and the browser
//! never re-posts the form. A slot is bound to the session that filled it
//! and holds the token (a `PlainToken`, zeroed on drop) for at most
//! [`TTL_SECONDS`]; nothing else in the dashboard ever holds or renders a
//! token string.

use crate::authority::Issued;
use crate::state::AppState;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use ward_core::TokenId;

/// How long a token waits for its page.
pub const TTL_SECONDS: i64 = 120;
/// At most this many tokens wait at once (per process).
const MAX_SLOTS: usize = 10_000;

/// A token waiting for its one showing.
#[derive(Debug)]
pub struct Waiting {
    pub issued: Issued,
    /// What happened, for the page's heading ("Token created", …).
    pub heading: &'static str,
    /// A line about the token it replaced, for a rotation.
    pub note: Option<String>,
}

struct Slot {
    session: TokenId,
    at: DateTime<Utc>,
    waiting: Waiting,
}

static SLOTS: LazyLock<Mutex<HashMap<String, Slot>>> = LazyLock::new(|| Mutex::new(HashMap::new()));

fn slots() -> std::sync::MutexGuard<'static, HashMap<String, Slot>> {
    // A panic while holding the lock leaves the map as valid as before it.
    SLOTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Puts `waiting` in a new slot for `session`; returns the slot's name.
/// Expired slots are dropped first; `None` when the slots are full.
pub fn put(state: &AppState, session: &TokenId, waiting: Waiting) -> Option<String> {
    let now = state.now();
    let mut slots = slots();
    slots.retain(|_, s| (now - s.at).num_seconds() < TTL_SECONDS);
    if slots.len() >= MAX_SLOTS {
        return None;
    }
    let name = super::csrf::nonce();
    slots.insert(name.clone(), Slot { session: session.clone(), at: now, waiting });
    Some(name)
}

/// Takes the token out of slot `name` if `session` filled it and it is
/// still fresh; empty from then on.
pub fn take(state: &AppState, session: &TokenId, name: &str) -> Option<Waiting> {
    let now = state.now();
    let mut slots = slots();
    let mine = slots.get(name).is_some_and(|s| &s.session == session);
    if !mine {
        return None;
    }
    let slot = slots.remove(name)?;
    ((now - slot.at).num_seconds() < TTL_SECONDS).then_some(slot.waiting)
}
