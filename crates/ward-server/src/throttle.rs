//! Login brute-force protection.
//!
//! Failures are counted per username and per client address within a
//! window. Each failure is answered a little later than the one before
//! (100 ms per failure, at most 1 s); once a username reaches
//! `max_failures` (or an address four times that, so that one office behind
//! one NAT does not lock itself out), logins for it are refused with 429 and
//! `Retry-After` until `lockout` has passed, even with the right password.
//! A successful login clears the username's count.

use crate::config::LoginLimits;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The most entries kept before stale ones are swept.
const SWEEP_AT: usize = 10_000;
/// An address may fail this many times more often than a username.
const ADDRESS_FACTOR: u32 = 4;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

/// Counts failed logins; shared by all requests.
#[derive(Debug)]
pub struct LoginThrottle {
    limits: LoginLimits,
    entries: Mutex<HashMap<Key, Entry>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

impl LoginThrottle {
    pub fn new(limits: LoginLimits) -> Self {
        Self { limits, entries: Mutex::new(HashMap::new()) }
    }

    fn keys(username: &str, client: Option<IpAddr>) -> Vec<Key> {
        let mut keys = vec![Key::User(username.to_owned())];
        keys.extend(client.map(Key::Address));
        keys
    }

    /// `Err(retry_after)` while the username or the address is locked out.
    pub fn check(&self, username: &str, client: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let wait = Self::keys(username, client)
            .iter()
            .filter_map(|k| entries.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(w) => Err(w),
            None => Ok(()),
        }
    }

    /// Counts a failure; returns how long to hold the answer back.
    pub fn failure(&self, username: &str, client: Option<IpAddr>) -> Duration {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= SWEEP_AT {
            let window = self.limits.window;
            entries.retain(|_, e| now - e.window_start < window || e.locked_until.is_some_and(|u| u > now));
        }
        let mut most = 0;
        for key in Self::keys(username, client) {
            let max = match key {
                Key::User(_) => self.limits.max_failures,
                Key::Address(_) => self.limits.max_failures.saturating_mul(ADDRESS_FACTOR),
            };
            let entry =
                entries.entry(key).or_insert(Entry { failures: 0, window_start: now, locked_until: None });
            let lock_over = entry.locked_until.is_some_and(|u| u <= now);
            if lock_over || now - entry.window_start >= self.limits.window {
                *entry = Entry { failures: 0, window_start: now, locked_until: None };
            }
            entry.failures += 1;
            if entry.failures >= max {
                entry.locked_until = Some(now + self.limits.lockout);
            }
            most = most.max(entry.failures);
        }
        Duration::from_millis(100 * u64::from(most)).min(Duration::from_secs(1))
    }

    /// Clears the username's count after a good login.
    pub fn success(&self, username: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.remove(&Key::User(username.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::Ttl;

    fn throttle(max: u32, lockout_ms: u64) -> LoginThrottle {
        LoginThrottle::new(LoginLimits {
            session_ttl: Ttl::parse("1h").expect("valid"),
            max_failures: max,
            window: Duration::from_secs(60),
            lockout: Duration::from_millis(lockout_ms),
        })
    }

    #[tokio::test(start_paused = true)]
    async fn locks_a_username_after_max_failures_and_releases_after_lockout() {
        let t = throttle(3, 2_000);
        for _ in 0..2 {
            t.failure("alice", None);
            assert!(t.check("alice", None).is_ok());
        }
        t.failure("alice", None);
        let wait = t.check("alice", None).expect_err("locked");
        assert!(wait <= Duration::from_secs(2) && wait > Duration::from_millis(1_900));
        assert!(t.check("bob", None).is_ok(), "other users are not affected");
        tokio::time::advance(Duration::from_millis(2_001)).await;
        assert!(t.check("alice", None).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn failures_are_answered_progressively_later() {
        let t = throttle(10, 1_000);
        let first = t.failure("carol", None);
        let second = t.failure("carol", None);
        assert!(second > first);
    }

    #[tokio::test(start_paused = true)]
    async fn an_address_trying_many_usernames_is_locked_too() {
        let t = throttle(2, 5_000);
        let ip: IpAddr = [127, 0, 0, 9].into();
        for i in 0..8 {
            t.failure(&format!("user{i}"), Some(ip));
        }
        assert!(t.check("someone-new", Some(ip)).is_err());
        assert!(t.check("someone-new", None).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn success_clears_the_username() {
        let t = throttle(2, 5_000);
        t.failure("dave", None);
        t.success("dave");
        t.failure("dave", None);
        assert!(t.check("dave", None).is_ok());
    }
}
