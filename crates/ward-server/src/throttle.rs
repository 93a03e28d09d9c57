//! Login brute-force protection.
//!
//! An attempt is *reserved* before its password is checked, under one lock:
//! the reservation counts as a failure at once and is released only when
//! the password turns out right. So N parallel guesses can never get more
//! than the limit through to the password check.
//!
//! Three counts, each within `window`:
//! - per (username, client address): `max_failures` reservations, then that
//!   pair is refused (429, `Retry-After`) for `lockout`, even with the right
//!   password;
//! - per client address: four times that, across usernames (one office
//!   behind one NAT does not lock itself out), then the address is refused;
//! - per username alone: never a lockout (that would let anyone lock anyone
//!   out), but each attempt waits a little longer, 100 ms per recent
//!   failure, at most [`MAX_DELAY`], before its password is checked.
//!
//! A good login clears its pair and releases its reservation on the others.
//! The client address is the one `crate::client` decided. Windows and
//! lockouts are measured on the server's [`Clock`] (its monotonic reading),
//! so a test moves it instead of waiting for a lockout to pass.

use crate::clock::Clock;
use crate::config::LoginLimits;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::Instant;

/// Entries kept before stale ones are swept.
const SWEEP_AT: usize = 10_000;
/// Entries kept at most; past it only lockouts are kept.
const MAX_ENTRIES: usize = 200_000;
/// An address may fail this many times more often than a (username, address).
const ADDRESS_FACTOR: u32 = 4;
/// The longest a username's attempts are slowed down.
pub const MAX_DELAY: Duration = Duration::from_secs(2);
/// The slow-down per recent failure of a username.
const DELAY_STEP: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

impl Entry {
    fn fresh(now: Instant) -> Self {
        Self { failures: 0, window_start: now, locked_until: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Pair(String, Option<IpAddr>),
    User(String),
    Address(IpAddr),
}

/// A reserved login attempt: report its outcome with
/// [`LoginThrottle::failed`] or [`LoginThrottle::succeeded`]. Forgotten, it
/// stays counted as a failure.
#[derive(Debug)]
#[must_use = "report the outcome of the attempt"]
pub struct Attempt {
    username: String,
    client: Option<IpAddr>,
    /// How long to wait before checking the password (the username's
    /// slow-down).
    pub delay: Duration,
}

/// Counts login attempts; shared by all requests.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: LoginLimits,
    entries: Mutex<HashMap<Key, Entry>>,
    clock: Clock,
    refused: AtomicU64,
    slowed: AtomicU64,
}

/// How many attempts the throttle refused (locked out) and slowed down,
/// since the start (`/metrics`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled {
    pub refused: u64,
    pub slowed: u64,
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits, clock: Clock) -> Self {
        Self {
            limits,
            entries: Mutex::new(HashMap::new()),
            clock,
            refused: AtomicU64::new(0),
            slowed: AtomicU64::new(0),
        }
    }

    /// What the throttle did so far.
    pub fn counts(&self) -> Throttled {
        Throttled {
            refused: self.refused.load(Ordering::Relaxed),
            slowed: self.slowed.load(Ordering::Relaxed),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The lockable keys of an attempt, each with its limit.
    fn lockable(&self, username: &str, client: Option<IpAddr>) -> Vec<(Key, u32)> {
        let mut keys = vec![(Key::Pair(username.to_owned(), client), self.limits.max_failures)];
        if let Some(ip) = client {
            keys.push((Key::Address(ip), self.limits.max_failures.saturating_mul(ADDRESS_FACTOR)));
        }
        keys
    }

    /// Reserves an attempt, or `Err(retry_after)` while the (username,
    /// address) pair or the address is locked out.
    pub fn reserve(&self, username: &str, client: Option<IpAddr>) -> Result<Attempt, Duration> {
        let now = self.clock.instant();
        let mut entries = self.lock();
        self.sweep(&mut entries, now);
        let lockable = self.lockable(username, client);
        let window = self.limits.window;
        let mut wait = None;
        for (key, _) in &lockable {
            if let Some(entry) = entries.get_mut(key) {
                refresh(entry, now, window);
                if let Some(until) = entry.locked_until {
                    wait = wait.max(Some(until - now));
                }
            }
        }
        if let Some(wait) = wait {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(wait);
        }
        for (key, max) in lockable {
            let entry = entries.entry(key).or_insert_with(|| Entry::fresh(now));
            entry.failures += 1;
            if entry.failures >= max {
                entry.locked_until = Some(now + self.limits.lockout);
            }
        }
        let user = entries.entry(Key::User(username.to_owned())).or_insert_with(|| Entry::fresh(now));
        refresh(user, now, window);
        let delay = DELAY_STEP.saturating_mul(user.failures).min(MAX_DELAY);
        user.failures += 1;
        if !delay.is_zero() {
            self.slowed.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Attempt { username: username.to_owned(), client, delay })
    }

    /// The password was wrong: the reservation stays a failure.
    pub fn failed(&self, attempt: Attempt) {
        drop(attempt);
    }

    /// The password was right: the pair starts over and the reservation is
    /// released from the address and the username.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut entries = self.lock();
        entries.remove(&Key::Pair(attempt.username.clone(), attempt.client));
        let address_max = self.limits.max_failures.saturating_mul(ADDRESS_FACTOR);
        let mut keys = vec![(Key::User(attempt.username), u32::MAX)];
        keys.extend(attempt.client.map(|ip| (Key::Address(ip), address_max)));
        release(&mut entries, keys);
    }

    /// The password was not checked (the server was busy): the reservation
    /// is released everywhere.
    pub fn cancelled(&self, attempt: Attempt) {
        let mut entries = self.lock();
        let mut keys = vec![(Key::Pair(attempt.username.clone(), attempt.client), self.limits.max_failures)];
        keys.push((Key::User(attempt.username), u32::MAX));
        keys.extend(
            attempt
                .client
                .map(|ip| (Key::Address(ip), self.limits.max_failures.saturating_mul(ADDRESS_FACTOR))),
        );
        release(&mut entries, keys);
    }

    fn sweep(&self, entries: &mut HashMap<Key, Entry>, now: Instant) {
        if entries.len() < SWEEP_AT {
            return;
        }
        let window = self.limits.window;
        let locked = |e: &Entry| e.locked_until.is_some_and(|u| u > now);
        entries.retain(|_, e| now - e.window_start < window || locked(e));
        if entries.len() >= MAX_ENTRIES {
            tracing::warn!(
                throttle.entries = entries.len(),
                "login throttle full: forgetting counts, keeping lockouts"
            );
            entries.retain(|_, e| locked(e));
        }
    }
}

/// Takes one reservation back from each key, and its lockout when the count
/// falls below the key's limit.
fn release(entries: &mut HashMap<Key, Entry>, keys: Vec<(Key, u32)>) {
    for (key, max) in keys {
        if let Some(entry) = entries.get_mut(&key) {
            entry.failures = entry.failures.saturating_sub(1);
            if entry.failures < max {
                entry.locked_until = None;
            }
        }
    }
}

/// Starts an entry over when its window or its lockout is over.
fn refresh(entry: &mut Entry, now: Instant, window: Duration) {
    let lock_over = entry.locked_until.is_some_and(|u| u <= now);
    if lock_over || now - entry.window_start >= window {
        *entry = Entry::fresh(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HashLimits;
    use ward_core::Ttl;

    fn throttle(max: u32, lockout_ms: u64) -> LoginThrottle {
        throttle_on(max, lockout_ms, Clock::system())
    }

    fn throttle_on(max: u32, lockout_ms: u64, clock: Clock) -> LoginThrottle {
        LoginThrottle::new(
            LoginLimits {
                session_ttl: Ttl::parse("1h").expect("valid"),
                max_failures: max,
                window: Duration::from_secs(60),
                lockout: Duration::from_millis(lockout_ms),
                hashing: HashLimits { concurrent: 1, queue: 1, wait: Duration::from_secs(1) },
            },
            clock,
        )
    }

    fn ip(last: u8) -> Option<IpAddr> {
        Some([192, 0, 2, last].into())
    }

    fn fail(t: &LoginThrottle, user: &str, client: Option<IpAddr>) {
        t.failed(t.reserve(user, client).expect("not locked"));
    }

    #[tokio::test(start_paused = true)]
    async fn reservations_count_before_any_outcome_so_parallel_guesses_stop_at_the_limit() {
        let t = throttle(5, 60_000);
        let held: Vec<Attempt> = (0..30).filter_map(|_| t.reserve("admin", ip(1)).ok()).collect();
        assert_eq!(held.len(), 5);
        held.into_iter().for_each(|a| t.failed(a));
        assert!(t.reserve("admin", ip(1)).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn a_locked_pair_does_not_refuse_the_same_user_from_another_address() {
        let t = throttle(3, 60_000);
        (0..3).for_each(|_| fail(&t, "admin", ip(1)));
        assert!(t.reserve("admin", ip(1)).is_err());
        let other = t.reserve("admin", ip(2)).expect("another address is not locked out");
        assert!(other.delay >= Duration::from_millis(300), "but it is slowed down: {:?}", other.delay);
        t.succeeded(other);
    }

    #[test]
    fn the_lockout_ends_after_its_time_on_the_servers_clock() {
        let (clock, hand) = Clock::adjustable();
        let t = throttle_on(3, 2_000, clock);
        (0..3).for_each(|_| fail(&t, "alice", ip(1)));
        let wait = t.reserve("alice", ip(1)).expect_err("locked");
        assert!(wait <= Duration::from_secs(2) && wait > Duration::from_millis(1_900));
        hand.advance(Duration::from_millis(1_500));
        assert!(t.reserve("alice", ip(1)).is_err(), "still locked before its time");
        hand.advance(Duration::from_millis(501));
        t.succeeded(t.reserve("alice", ip(1)).expect("lockout over"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_username_is_slowed_down_more_with_each_failure_up_to_the_cap() {
        let t = throttle(1_000, 1_000);
        let mut last = Duration::ZERO;
        for i in 0..5u8 {
            let a = t.reserve("carol", ip(i)).expect("never locked per username");
            assert!(a.delay >= last);
            last = a.delay;
            t.failed(a);
        }
        assert!(last > Duration::ZERO);
        (0..50u8).for_each(|i| fail(&t, "carol", ip(100 + i)));
        assert_eq!(t.reserve("carol", ip(200)).expect("not locked").delay, MAX_DELAY);
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_trying_many_usernames_is_locked_too() {
        let t = throttle(2, 5_000);
        (0..8).for_each(|i| fail(&t, &format!("user{i}"), ip(9)));
        assert!(t.reserve("someone-new", ip(9)).is_err());
        assert!(t.reserve("someone-new", ip(10)).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn success_clears_the_pair() {
        let t = throttle(2, 5_000);
        fail(&t, "dave", ip(1));
        t.succeeded(t.reserve("dave", ip(1)).expect("one failure is not a lockout"));
        fail(&t, "dave", ip(1));
        assert!(t.reserve("dave", ip(1)).is_ok());
    }
}
