//! Refresh-ahead: the tokens in use are read again, in batches, before
//! their entries expire, instead of one store lookup per token on the
//! request that finds its entry stale.
//!
//! Every tenth of `cache.ttl` a pass takes the entries that answered a
//! lookup since they were read and are at least [`refresh_after`] old, and
//! reads their tokens again, up to [`BATCH`] in one query
//! ([`ward_store::Store::tokens_by_ids`]). What the store answers replaces
//! the entries as if a miss had read it: status is judged from it at each
//! check, and a refresh that raced an eviction is dropped, like a put
//! (`VerifyCache::refresh`). An entry is therefore never older than
//! `cache.ttl` since it was last read from the store, as before; a token
//! used steadily just never meets a miss, and the store answers one query
//! per batch instead of one per token (`docs/PERFORMANCE.md`). Entries
//! nobody used since they were read are left to expire.

use super::VerifyCache;
use std::sync::Arc;
use std::time::Duration;
use ward_store::{Store, StoreResult};

/// The most tokens one query reads again.
pub const BATCH: usize = 500;

/// How old an entry in use must be to be read again: four fifths of
/// `ttl`, so that the passes (every tenth of `ttl`) have two chances before
/// it expires.
pub fn refresh_after(ttl: Duration) -> Duration {
    ttl - ttl / 5
}

/// One pass: reads again every entry due ([`VerifyCache::due_for_refresh`])
/// from `store`.
pub async fn refresh_once(cache: &VerifyCache, store: &dyn Store) -> StoreResult<()> {
    let due = cache.due_for_refresh();
    for ids in due.chunks(BATCH) {
        let generation = cache.generation();
        let read = store.tokens_by_ids(ids).await?;
        cache.refresh(generation, read);
    }
    Ok(())
}

/// Runs a pass every tenth of `cache.ttl` until the task is dropped
/// (nothing when the TTL is zero). A pass that fails is logged once until
/// one succeeds again; its entries expire as they would have.
pub async fn refresh_ahead(cache: Arc<VerifyCache>, store: Arc<dyn Store>) {
    let every = cache.ttl() / 10;
    if every.is_zero() {
        return;
    }
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticker.tick().await;
        match refresh_once(&cache, store.as_ref()).await {
            Ok(()) => failing = false,
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "could not read tokens in use again; their cache entries expire as usual");
            }
            Err(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{at, found};
    use super::*;
    use crate::clock::Clock;
    use async_trait::async_trait;
    use std::sync::Mutex;
    use ward_core::{TokenHash, TokenId, UserId};
    use ward_store::{Invalidation, TokenWithOwner};

    /// A store that holds some records and notes which ids it was asked for.
    #[derive(Default)]
    struct Records {
        held: Mutex<Vec<TokenWithOwner>>,
        asked: Mutex<Vec<Vec<TokenId>>>,
    }

    #[async_trait]
    impl Store for Records {
        async fn tokens_by_ids(&self, ids: &[TokenId]) -> StoreResult<Vec<TokenWithOwner>> {
            self.asked.lock().unwrap_or_else(|p| p.into_inner()).push(ids.to_vec());
            let held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            Ok(held.iter().filter(|t| ids.contains(&t.token.id)).cloned().collect())
        }
    }

    impl Records {
        fn asked(&self) -> Vec<Vec<TokenId>> {
            std::mem::take(&mut *self.asked.lock().unwrap_or_else(|p| p.into_inner()))
        }
    }

    #[tokio::test]
    async fn a_token_in_use_is_read_again_before_its_entry_expires_and_an_unused_one_is_not() {
        let (clock, hand) = Clock::adjustable();
        let cache = VerifyCache::new(10, Duration::from_secs(10), clock);
        let user = UserId::generate(at(), &mut crate::entropy::OsEntropy);
        let (used, idle) = (found(1, &user), found(2, &user));
        let used_id = used.token.id.clone();
        let mut revoked_since = used.clone();
        revoked_since.token.revoked_at = Some(at());
        let store = Records::default();
        store.held.lock().unwrap_or_else(|p| p.into_inner()).extend([revoked_since, idle.clone()]);
        cache.put(cache.generation(), TokenHash::of("used"), used);
        cache.put(cache.generation(), TokenHash::of("idle"), idle);
        assert!(cache.get(&TokenHash::of("used")).is_some());

        hand.advance(Duration::from_secs(7));
        refresh_once(&cache, &store).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.asked().is_empty(), "not yet near its end");
        hand.advance(Duration::from_secs(2));
        refresh_once(&cache, &store).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(store.asked(), vec![vec![used_id]], "only the entry in use is read again");

        hand.advance(Duration::from_secs(5));
        let entry = cache.get(&TokenHash::of("used")).expect("fresh again, 14 s after it was first read");
        assert!(entry.token.revoked_at.is_some(), "what the store holds now is what the cache answers");
        assert!(cache.get(&TokenHash::of("idle")).is_none(), "an unused entry expires");
    }

    #[tokio::test]
    async fn a_refresh_that_raced_an_eviction_is_dropped() {
        let (clock, hand) = Clock::adjustable();
        let cache = VerifyCache::new(10, Duration::from_secs(10), clock);
        let user = UserId::generate(at(), &mut crate::entropy::OsEntropy);
        let token = found(1, &user);
        cache.put(cache.generation(), TokenHash::of("t"), token.clone());
        hand.advance(Duration::from_secs(9));
        let before = cache.generation();
        cache.evict(&Invalidation::Token(found(2, &user).token.id));
        cache.refresh(before, vec![token]);
        hand.advance(Duration::from_secs(2));
        assert!(cache.get(&TokenHash::of("t")).is_none(), "not refreshed: it expired as it would have");
    }
}
