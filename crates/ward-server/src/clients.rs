//! The clients each token was used from (forensics, issue 16): its newest
//! five distinct (address, user agent) pairs with when each was last seen,
//! shown by `ward token show`.
//!
//! Like last-used times (`crate::usage`), they are noted in memory on each
//! valid use — one map lookup under a mutex, and no allocation when the
//! pair is already pending — and written in one batch per
//! `usage.flush_interval` (`Store::record_clients`), never once per
//! request. A token's page overlays what is pending on what is stored, so
//! it is current before a flush. A failed flush puts its batch back.
//!
//! The address is the one `crate::client` decided for the request (a
//! trusted proxy's `X-Forwarded-For`, else the peer). For `POST /v1/verify`
//! and introspection that is the verifying service's address: ward sees
//! the token there, not its holder.

use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use ward_core::TokenId;
use ward_store::{ClientSeen, MAX_CLIENTS, MAX_USER_AGENT};

/// Pending client sightings, by token.
#[derive(Debug, Default)]
pub struct RecentClients {
    pending: Mutex<HashMap<TokenId, Vec<ClientSeen>>>,
}

/// A user agent cut to what is kept.
fn kept_agent(agent: &str) -> &str {
    match agent.char_indices().nth(MAX_USER_AGENT) {
        Some((cut, _)) => &agent[..cut],
        None => agent,
    }
}

/// Adds or refreshes one sighting in `list`, keeping the newest
/// [`MAX_CLIENTS`], newest first.
fn merge(list: &mut Vec<ClientSeen>, seen: ClientSeen) {
    match list.iter_mut().find(|c| c.address == seen.address && c.user_agent == seen.user_agent) {
        Some(c) => c.last_seen = c.last_seen.max(seen.last_seen),
        None => list.push(seen),
    }
    list.sort_by(|a, b| b.last_seen.cmp(&a.last_seen).then_with(|| a.address.cmp(&b.address)));
    list.truncate(MAX_CLIENTS);
}

impl RecentClients {
    fn lock(&self) -> MutexGuard<'_, HashMap<TokenId, Vec<ClientSeen>>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Notes that `token` was used from `address` with `user_agent` at `at`.
    pub fn record(&self, token: &TokenId, address: &str, user_agent: &str, at: DateTime<Utc>) {
        let agent = kept_agent(user_agent);
        let mut pending = self.lock();
        if let Some(list) = pending.get_mut(token)
            && let Some(c) = list.iter_mut().find(|c| c.address == address && c.user_agent == agent)
        {
            c.last_seen = c.last_seen.max(at);
            return;
        }
        let seen = ClientSeen { address: address.to_owned(), user_agent: agent.to_owned(), last_seen: at };
        merge(pending.entry(token.clone()).or_default(), seen);
    }

    /// What is pending, newest first, merged over `stored`.
    pub fn overlay(&self, token: &TokenId, mut stored: Vec<ClientSeen>) -> Vec<ClientSeen> {
        let pending = self.lock().get(token).cloned().unwrap_or_default();
        for seen in pending {
            merge(&mut stored, seen);
        }
        stored
    }

    /// Takes everything pending, for one batch.
    pub fn take(&self) -> Vec<(TokenId, ClientSeen)> {
        std::mem::take(&mut *self.lock())
            .into_iter()
            .flat_map(|(id, list)| list.into_iter().map(move |c| (id.clone(), c)))
            .collect()
    }

    /// Puts back a batch that could not be written.
    pub fn put_back(&self, batch: Vec<(TokenId, ClientSeen)>) {
        let mut pending = self.lock();
        for (id, seen) in batch {
            merge(pending.entry(id).or_default(), seen);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_700_000_000 + s, 0).single().expect("time")
    }

    #[test]
    fn the_newest_five_distinct_pairs_are_kept_and_a_repeat_only_moves_its_time() {
        let clients = RecentClients::default();
        let id = TokenId::generate(at(0), &mut crate::entropy::OsEntropy);
        for i in 1..=6 {
            clients.record(&id, &format!("192.0.2.{i}"), "curl/8", at(i));
        }
        clients.record(&id, "192.0.2.3", "curl/8", at(10));
        clients.record(&id, "192.0.2.4", "curl/8", at(1));
        let shown = clients.overlay(&id, Vec::new());
        let addresses: Vec<&str> = shown.iter().map(|c| c.address.as_str()).collect();
        assert_eq!(addresses, ["192.0.2.3", "192.0.2.6", "192.0.2.5", "192.0.2.4", "192.0.2.2"]);
        assert_eq!(shown[3].last_seen, at(4));
        assert_eq!(clients.take().len(), 5);
        assert!(clients.take().is_empty());
    }

    #[test]
    fn a_long_user_agent_is_cut() {
        let clients = RecentClients::default();
        let id = TokenId::generate(at(0), &mut crate::entropy::OsEntropy);
        clients.record(&id, "192.0.2.1", &"é".repeat(500), at(1));
        let shown = clients.overlay(&id, Vec::new());
        assert_eq!(shown[0].user_agent.chars().count(), MAX_USER_AGENT);
    }
}
