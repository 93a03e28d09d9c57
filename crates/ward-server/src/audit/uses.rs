//! Token uses, counted instead of written one by one.
//!
//! Every authenticated request and every `POST /v1/verify` is a use of a
//! token, and the trail records each, but not as one row per request: uses
//! that agree on everything but their time (action, subject, token,
//! operation, verdict, error, client address) are counted in memory, and
//! the writer turns each count into one event every `usage.flush_interval`
//! (with `count` set when it stands for more than one use; its `time` and
//! `request_id` are the first use's). A flush of the sink, and the writer's
//! shutdown, take the counts too, so nothing counted is lost on a clean stop.
//!
//! Memory is bounded: when [`MAX_KEYS`] different uses are being counted,
//! the counts are handed to the writer at once instead of waiting for the
//! interval. Refusals (a malformed, unknown, expired or revoked token) are
//! counted the same way, so a flood of bad tokens costs a counter, not a row
//! per request.

use super::AuditEvent;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use ward_core::Risk;

/// The most different uses counted at once before they are handed over.
pub const MAX_KEYS: usize = 50_000;

/// What two uses must share to be counted as one event.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct UseKey {
    action: &'static str,
    subject: Option<String>,
    token_id: Option<String>,
    scopes: Vec<String>,
    operation: Option<String>,
    decision: Option<String>,
    risk_level: Option<Risk>,
    error: Option<String>,
    client_ip: Option<String>,
}

/// The uses counted so far under one key.
#[derive(Debug)]
struct Tally {
    first: DateTime<Utc>,
    request_id: Option<String>,
    count: u64,
}

/// How many maps the counts are spread over, so that requests on different
/// cores rarely wait for one another's lock.
const SHARDS: usize = 8;

type Tallies = HashMap<UseKey, Tally>;

/// Counts of uses since the last hand-over.
#[derive(Debug, Default)]
pub struct UseCounter {
    /// A key always lands in the same shard ([`shard_of`]), so each distinct
    /// use is still counted once.
    shards: [Mutex<Tallies>; SHARDS],
    /// Distinct uses counted, over every shard.
    keys: AtomicUsize,
}

/// The shard of a use: from its token id, which tells the uses of a busy
/// server apart (uses without one share the first).
fn shard_of(token_id: Option<&str>) -> usize {
    let folded = token_id.map_or(0, |id| id.bytes().fold(0usize, |h, b| h.rotate_left(5) ^ usize::from(b)));
    folded % SHARDS
}

impl UseCounter {
    fn lock(&self, shard: usize) -> MutexGuard<'_, Tallies> {
        self.shards[shard].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every shard's counts, taken; the counter starts over.
    fn take_all(&self) -> Tallies {
        let mut all = Tallies::new();
        for shard in 0..SHARDS {
            let taken = std::mem::take(&mut *self.lock(shard));
            self.keys.fetch_sub(taken.len(), Ordering::Relaxed);
            all.extend(taken);
        }
        all
    }

    /// Counts `event` (already stamped with its request's context), used at
    /// its own time or else at `now`. Returns every count as events when the
    /// counter is full.
    pub fn add(&self, event: AuditEvent, now: DateTime<Utc>) -> Option<Vec<AuditEvent>> {
        let AuditEvent {
            time,
            action,
            subject,
            token_id,
            scopes,
            operation,
            decision,
            risk_level,
            error,
            request_id,
            client_ip,
            count,
        } = event;
        let key =
            UseKey { action, subject, token_id, scopes, operation, decision, risk_level, error, client_ip };
        let time = time.unwrap_or(now);
        let uses = count.unwrap_or(1).max(1);
        let shard = shard_of(key.token_id.as_deref());
        let full = {
            let mut tallies = self.lock(shard);
            match tallies.get_mut(&key) {
                Some(t) => {
                    t.count = t.count.saturating_add(uses);
                    if time < t.first {
                        t.first = time;
                    }
                    false
                }
                None => {
                    tallies.insert(key, Tally { first: time, request_id, count: uses });
                    // Under the shard's lock, as `take_all`'s subtraction.
                    self.keys.fetch_add(1, Ordering::Relaxed) + 1 >= MAX_KEYS
                }
            }
        };
        // Turned into events after the locks are released.
        full.then(|| into_events(self.take_all()))
    }

    /// Every count so far as events, oldest first; the counter starts over.
    pub fn take(&self) -> Vec<AuditEvent> {
        into_events(self.take_all())
    }
}

fn into_events(tallies: Tallies) -> Vec<AuditEvent> {
    let mut events: Vec<AuditEvent> = tallies
        .into_iter()
        .map(|(key, tally)| AuditEvent {
            time: Some(tally.first),
            action: key.action,
            subject: key.subject,
            token_id: key.token_id,
            scopes: key.scopes,
            operation: key.operation,
            decision: key.decision,
            risk_level: key.risk_level,
            error: key.error,
            request_id: tally.request_id,
            client_ip: key.client_ip,
            count: (tally.count > 1).then_some(tally.count),
        })
        .collect();
    events.sort_by_key(|e| e.time);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(second: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + second, 0).unwrap_or_default()
    }

    fn use_of(token: &str, decision: &str) -> AuditEvent {
        AuditEvent::new("token.use").token(token).operation("GET /v1/whoami").decision(decision)
    }

    #[test]
    fn uses_that_agree_are_one_event_with_a_count_and_the_first_time() {
        let counter = UseCounter::default();
        assert!(counter.add(use_of("tok_a", "VALID"), at(1)).is_none());
        for second in 2..6 {
            assert!(counter.add(use_of("tok_a", "VALID"), at(second)).is_none());
        }
        counter.add(use_of("tok_a", "REVOKED"), at(7));
        counter.add(use_of("tok_b", "VALID"), at(8));

        let events = counter.take();
        let summary: Vec<(Option<&str>, Option<&str>, Option<u64>)> =
            events.iter().map(|e| (e.token_id.as_deref(), e.decision.as_deref(), e.count)).collect();
        assert_eq!(summary.len(), 3, "{summary:?}");
        assert!(summary.contains(&(Some("tok_a"), Some("VALID"), Some(5))), "{summary:?}");
        assert!(summary.contains(&(Some("tok_a"), Some("REVOKED"), None)), "a single use has no count");
        assert!(summary.contains(&(Some("tok_b"), Some("VALID"), None)));
        let counted = events.iter().find(|e| e.count == Some(5)).map(|e| e.time);
        assert_eq!(counted, Some(Some(at(1))));
        assert!(counter.take().is_empty(), "taking starts the count over");
    }

    #[test]
    fn a_full_counter_hands_everything_over_at_once() {
        let counter = UseCounter::default();
        for n in 0..MAX_KEYS - 1 {
            assert!(counter.add(use_of(&format!("tok_{n}"), "VALID"), at(1)).is_none());
        }
        let handed = counter.add(use_of("tok_last", "VALID"), at(2)).unwrap_or_default();
        assert_eq!(handed.len(), MAX_KEYS);
        assert!(counter.take().is_empty());
    }
}
