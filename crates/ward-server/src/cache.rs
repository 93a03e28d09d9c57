//! The verify cache: a bounded in-memory map from token hash to the stored
//! token and owner, in front of the store.
//!
//! [`CachedStore`] wraps any [`Store`]: lookups by hash are served from
//! memory while fresh (`cache.ttl`), and every write that can end a token
//! (revoke, delete, rotate, revoke a user's tokens, delete a user) evicts
//! before it returns, so this node never answers from a stale entry. Other
//! nodes learn of such writes through the store's invalidation feed
//! (PostgreSQL NOTIFY) and evict too; if that feed breaks they forget
//! everything, and every entry expires after `cache.ttl` in any case.
//!
//! A token's end ends what it obtained (the store cascades it), so evicting
//! a token also evicts every cached token that has a parent: the cache does
//! not know the whole line of descent, and derived tokens are the few.
//! Agent tokens are not cached (each check reads the minted record); their
//! revocation evicts the same way (`authority::mint::revoke`).
//!
//! Status is judged at each check from the cached record (expiry needs no
//! eviction). Freshness is judged on the server's [`Clock`], so a test moves
//! it past `cache.ttl` instead of waiting. A lookup racing an eviction cannot re-insert what was just
//! evicted: every eviction bumps a generation, and a put carrying an older
//! generation is dropped.
//!
//! Entries are shared (`Arc`): a hit through [`Store::token_by_hash_shared`]
//! (the verify path) costs a reference count, not a copy of the record.
//!
//! Tokens in use do not wait for a miss to be read again: [`refresh_ahead`]
//! re-reads, in one query per batch, every entry that answered a lookup
//! since it was read and is near the end of its `cache.ttl`, so a token
//! used steadily is always answered from memory, and no entry is ever
//! older than `cache.ttl` since it was last read from the store.

mod refresh;

pub use refresh::{refresh_after, refresh_ahead, refresh_once};

use crate::clock::Clock;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::time::Instant;
use ward_core::audit::AuditEntry;
use ward_core::{TokenHash, TokenId, UserId};
use ward_store::{Invalidation, PasswordEnds, Store, StoreResult, TokenRecord, TokenWithOwner, UserKind};

struct Entry {
    found: Arc<TokenWithOwner>,
    at: Instant,
    /// Whether a lookup was answered from this entry since it was read
    /// from the store: only such entries are refreshed ([`refresh_ahead`]).
    used: AtomicBool,
}

impl Entry {
    fn new(found: Arc<TokenWithOwner>, at: Instant) -> Self {
        Self { found, at, used: AtomicBool::new(false) }
    }
}

#[derive(Default)]
struct Maps {
    by_hash: HashMap<TokenHash, Entry, Prehashed>,
    by_id: HashMap<TokenId, TokenHash>,
    /// The entries whose token has a parent, so that dropping them on an
    /// end does not scan the whole map.
    derived: HashSet<TokenHash, Prehashed>,
}

/// The bucket hash of a [`TokenHash`]: its bytes folded into a word.
///
/// A token hash is a SHA-256, already uniform, and only tokens this server
/// issued enter the map, so nobody can choose keys that collide; SipHash
/// over its 32 bytes, the default, showed in profiles of the verify path.
#[derive(Debug, Default, Clone, Copy)]
struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = Folded;
    fn build_hasher(&self) -> Folded {
        Folded(0)
    }
}

struct Folded(u64);

impl std::hash::Hasher for Folded {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(23) ^ u64::from_le_bytes(word);
        }
    }
}

/// `found` as the cache keeps it: without the owner's password hash,
/// which verify never needs.
fn without_password(mut found: TokenWithOwner) -> TokenWithOwner {
    if let UserKind::Human { password_hash, .. } = &mut found.owner.kind {
        *password_hash = None;
    }
    found
}

/// The map and its rules.
pub struct VerifyCache {
    maps: RwLock<Maps>,
    generation: AtomicU64,
    capacity: usize,
    ttl: Duration,
    clock: Clock,
    /// Lookups answered from memory, and those that were not (`/metrics`).
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for VerifyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyCache")
            .field("capacity", &self.capacity)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl VerifyCache {
    pub fn new(capacity: usize, ttl: Duration, clock: Clock) -> Self {
        Self {
            maps: RwLock::default(),
            generation: AtomicU64::new(0),
            capacity,
            ttl,
            clock,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Maps> {
        self.maps.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Maps> {
        self.maps.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The fresh entry for `hash`, shared with the cache (no copy).
    /// Counted as a hit or a miss.
    pub fn get(&self, hash: &TokenHash) -> Option<Arc<TokenWithOwner>> {
        let fresh = self.fresh(hash);
        let count = if fresh.is_some() { &self.hits } else { &self.misses };
        count.fetch_add(1, Ordering::Relaxed);
        fresh
    }

    fn fresh(&self, hash: &TokenHash) -> Option<Arc<TokenWithOwner>> {
        let maps = self.read();
        let entry = maps.by_hash.get(hash)?;
        let age = self.clock.instant().saturating_duration_since(entry.at);
        if age >= self.ttl {
            return None;
        }
        // Read first: most hits find it set, and a load does not take the
        // cache line from the other cores.
        if !entry.used.load(Ordering::Relaxed) {
            entry.used.store(true, Ordering::Relaxed);
        }
        Some(Arc::clone(&entry.found))
    }

    /// Lookups answered from memory and lookups that went to the store,
    /// since the start.
    pub fn hits_and_misses(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }

    /// How long an entry answers after it was read from the store.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Caches `found` unless an eviction happened since `generation`.
    /// Returns it as cached (shared, without the password hash) either way.
    pub fn put(&self, generation: u64, hash: TokenHash, found: TokenWithOwner) -> Arc<TokenWithOwner> {
        let found = Arc::new(without_password(found));
        if self.capacity == 0 {
            return found;
        }
        let mut maps = self.write();
        if self.generation() != generation {
            return found;
        }
        if maps.by_hash.len() >= self.capacity {
            // Full: drop the stalest tenth.
            let mut ages: Vec<(Instant, TokenHash)> = maps.by_hash.iter().map(|(h, e)| (e.at, *h)).collect();
            ages.sort_unstable_by_key(|(at, _)| *at);
            for (_, h) in ages.into_iter().take(self.capacity / 10 + 1) {
                if let Some(e) = maps.by_hash.remove(&h) {
                    maps.by_id.remove(&e.found.token.id);
                    maps.derived.remove(&h);
                }
            }
        }
        if found.token.parent_token_id.is_some() {
            maps.derived.insert(hash);
        }
        maps.by_id.insert(found.token.id.clone(), hash);
        maps.by_hash.insert(hash, Entry::new(Arc::clone(&found), self.clock.instant()));
        found
    }

    /// The ids of the entries worth reading again before they expire: used
    /// since they were read, and older than [`refresh_after`] (`ttl`).
    pub fn due_for_refresh(&self) -> Vec<TokenId> {
        let now = self.clock.instant();
        let after = refresh_after(self.ttl);
        let maps = self.read();
        maps.by_hash
            .values()
            .filter(|e| e.used.load(Ordering::Relaxed) && now.saturating_duration_since(e.at) >= after)
            .map(|e| e.found.token.id.clone())
            .collect()
    }

    /// Replaces the entries of `read` (records just read from the store)
    /// with them, fresh, unless an eviction happened since `generation`:
    /// then nothing is replaced, and the entries expire as they would have.
    /// Only entries still held are replaced; nothing is added.
    pub fn refresh(&self, generation: u64, read: Vec<TokenWithOwner>) {
        let now = self.clock.instant();
        let mut maps = self.write();
        if self.generation() != generation {
            return;
        }
        for found in read {
            let Some(hash) = maps.by_id.get(&found.token.id).copied() else { continue };
            if let Some(entry) = maps.by_hash.get_mut(&hash) {
                *entry = Entry::new(Arc::new(without_password(found)), now);
            }
        }
    }

    pub fn evict(&self, what: &Invalidation) {
        match what {
            Invalidation::Token(id) => self.evict_token(id),
            Invalidation::User { id, .. } => self.evict_user(id),
            // What agent tokens obtained ended with them; a retired key
            // ended what its agent tokens obtained (agent tokens themselves
            // are not cached).
            Invalidation::AgentToken(_)
            | Invalidation::Agent(_)
            | Invalidation::Key(_)
            | Invalidation::Keys => self.evict_derived(),
            Invalidation::Resync => {
                let mut maps = self.write();
                self.generation.fetch_add(1, Ordering::SeqCst);
                *maps = Maps::default();
            }
        }
    }

    /// Evicts one token, and every token that has a parent: its end ends
    /// (or cuts short) its descendants, which the cache cannot tell from
    /// other derived tokens.
    pub fn evict_token(&self, id: &TokenId) {
        let mut maps = self.write();
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(h) = maps.by_id.remove(id) {
            maps.by_hash.remove(&h);
        }
        Self::drop_derived(&mut maps);
    }

    /// Evicts every token of `user`, and every token that has a parent
    /// (what their credentials obtained ended with them).
    pub fn evict_user(&self, user: &UserId) {
        let mut maps = self.write();
        self.generation.fetch_add(1, Ordering::SeqCst);
        Self::drop_derived(&mut maps);
        let gone: Vec<TokenHash> =
            maps.by_hash.iter().filter(|(_, e)| &e.found.owner.id == user).map(|(h, _)| *h).collect();
        for h in gone {
            if let Some(e) = maps.by_hash.remove(&h) {
                maps.by_id.remove(&e.found.token.id);
                maps.derived.remove(&h);
            }
        }
    }

    /// Evicts every token that has a parent: after an agent token ended,
    /// whose descendants the store revoked with it.
    pub fn evict_derived(&self) {
        let mut maps = self.write();
        self.generation.fetch_add(1, Ordering::SeqCst);
        Self::drop_derived(&mut maps);
    }

    fn drop_derived(maps: &mut Maps) {
        for h in std::mem::take(&mut maps.derived) {
            if let Some(e) = maps.by_hash.remove(&h) {
                maps.by_id.remove(&e.found.token.id);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.read().by_hash.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A [`Store`] with the verify cache in front of `token_by_hash`.
pub struct CachedStore {
    inner: Arc<dyn Store>,
    pub cache: Arc<VerifyCache>,
}

impl std::fmt::Debug for CachedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedStore").field("cache", &self.cache).finish_non_exhaustive()
    }
}

impl CachedStore {
    pub fn new(inner: Arc<dyn Store>, cache: Arc<VerifyCache>) -> Self {
        Self { inner, cache }
    }
}

#[async_trait]
impl Store for CachedStore {
    fn inner(&self) -> Option<&dyn Store> {
        Some(self.inner.as_ref())
    }
    async fn set_password(
        &self,
        id: &UserId,
        hash: &str,
        ends: PasswordEnds<'_>,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        let out = self.inner.set_password(id, hash, ends, now, events).await;
        self.cache.evict_user(id);
        out
    }
    async fn delete_user(&self, id: &UserId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<u64> {
        let out = self.inner.delete_user(id, now, events).await;
        self.cache.evict_user(id);
        out
    }
    async fn token_by_hash(&self, hash: &TokenHash) -> StoreResult<Option<TokenWithOwner>> {
        if let Some(found) = self.cache.get(hash) {
            return Ok(Some(TokenWithOwner::clone(&found)));
        }
        let generation = self.cache.generation();
        let found = self.inner.token_by_hash(hash).await?;
        if let Some(f) = &found {
            self.cache.put(generation, *hash, f.clone());
        }
        Ok(found)
    }
    async fn token_by_hash_shared(&self, hash: &TokenHash) -> StoreResult<Option<Arc<TokenWithOwner>>> {
        if let Some(found) = self.cache.get(hash) {
            return Ok(Some(found));
        }
        let generation = self.cache.generation();
        let found = self.inner.token_by_hash(hash).await?;
        Ok(found.map(|f| self.cache.put(generation, *hash, f)))
    }
    async fn revoke_token(
        &self,
        id: &TokenId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<bool> {
        let out = self.inner.revoke_token(id, now, events).await;
        self.cache.evict_token(id);
        out
    }
    async fn revoke_user_tokens(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<u64> {
        let out = self.inner.revoke_user_tokens(user, now, events).await;
        self.cache.evict_user(user);
        out
    }
    async fn delete_token(&self, id: &TokenId, now: DateTime<Utc>, events: &[AuditEntry]) -> StoreResult<()> {
        let out = self.inner.delete_token(id, now, events).await;
        self.cache.evict_token(id);
        out
    }
    async fn rotate_token(
        &self,
        old: &TokenId,
        old_ends_at: Option<DateTime<Utc>>,
        new: &TokenRecord,
        new_hash: &TokenHash,
        now: DateTime<Utc>,
        events: &[AuditEntry],
    ) -> StoreResult<()> {
        let out = self.inner.rotate_token(old, old_ends_at, new, new_hash, now, events).await;
        self.cache.evict_token(old);
        out
    }
}

/// Applies the store's invalidation feed to the cache (and the key ring),
/// then publishes what ended on the revocation stream, until the feed
/// ends. Evicting first: a subscriber told of an end and asking this node
/// at once finds nothing stale.
pub async fn follow(
    mut feed: tokio::sync::mpsc::UnboundedReceiver<Invalidation>,
    cache: Arc<VerifyCache>,
    keys: Arc<crate::signing::KeyRing>,
    events: Arc<crate::events::Hub>,
) {
    while let Some(what) = feed.recv().await {
        tracing::debug!(invalidation = ?what, "cache invalidation");
        cache.evict(&what);
        if matches!(what, Invalidation::Keys | Invalidation::Key(_) | Invalidation::Resync) {
            keys.forget().await;
        }
        if let Some(event) = crate::events::announced(&what) {
            events.publish(event);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_core::{Entropy, Role, TokenKind};
    use ward_store::UserRecord;

    struct Fill(u8);
    impl Entropy for Fill {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    /// A fixed time: what the cache keeps does not depend on it.
    pub(super) fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default()
    }

    fn cache_with(capacity: usize, ttl: Duration) -> VerifyCache {
        VerifyCache::new(capacity, ttl, Clock::system())
    }

    pub(super) fn found(seed: u8, user: &UserId) -> TokenWithOwner {
        let now = at();
        TokenWithOwner {
            token: TokenRecord {
                id: TokenId::generate(now, &mut Fill(seed)),
                name: ward_core::TokenName::parse("t").expect("a token name"),
                kind: TokenKind::Pipeline,
                user_id: user.clone(),
                scopes: Default::default(),
                display: "ward_p_abcd".into(),
                created_at: now,
                expires_at: None,
                revoked_at: None,
                last_used_at: None,
                rotated_from: None,
                parent_token_id: None,
                issued_by: None,
                issued_via: None,
                limits: Default::default(),
            },
            owner: UserRecord {
                id: user.clone(),
                name: ward_core::Username::parse("u").unwrap_or_else(|e| panic!("{e}")),
                kind: UserKind::Human { role: Role::User, password_hash: Some("$argon2id$…".into()) },
                created_at: now,
                deleted_at: None,
                created_by: None,
            },
        }
    }

    #[test]
    fn a_put_that_raced_an_eviction_is_dropped() {
        let cache = cache_with(10, Duration::from_secs(60));
        let user = UserId::generate(at(), &mut Fill(9));
        let f = found(1, &user);
        let hash = TokenHash::of("x");
        let before = cache.generation();
        cache.evict(&Invalidation::Token(f.token.id.clone()));
        cache.put(before, hash, f);
        assert!(cache.get(&hash).is_none());
    }

    #[test]
    fn evicting_a_user_drops_all_their_tokens_and_no_password_hash_is_kept() {
        let cache = cache_with(10, Duration::from_secs(60));
        let alice = UserId::generate(at(), &mut Fill(1));
        let bob = UserId::generate(at(), &mut Fill(2));
        for (i, who) in [(1u8, &alice), (2, &alice), (3, &bob)] {
            cache.put(cache.generation(), TokenHash::of(&i.to_string()), found(i, who));
        }
        let cached = cache.get(&TokenHash::of("1")).expect("cached");
        assert!(matches!(cached.owner.kind, UserKind::Human { password_hash: None, .. }));
        cache.evict(&Invalidation::User { id: alice, name: "alice".into() });
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&TokenHash::of("3")).is_some());
    }

    #[test]
    fn evicting_a_token_drops_every_derived_entry_and_no_root() {
        let cache = cache_with(10, Duration::from_secs(60));
        let user = UserId::generate(at(), &mut Fill(1));
        let root = found(1, &user);
        let mut kid = found(2, &user);
        kid.token.parent_token_id = Some(root.token.id.clone());
        let other = found(3, &user);
        let unrelated = found(4, &user).token.id;
        cache.put(cache.generation(), TokenHash::of("1"), root);
        cache.put(cache.generation(), TokenHash::of("2"), kid);
        cache.put(cache.generation(), TokenHash::of("3"), other);
        cache.evict(&Invalidation::Token(unrelated));
        assert!(cache.get(&TokenHash::of("2")).is_none(), "a derived entry may descend from it");
        assert!(cache.get(&TokenHash::of("1")).is_some() && cache.get(&TokenHash::of("3")).is_some());
    }

    #[test]
    fn a_hit_shares_the_cached_record_instead_of_copying_it() {
        let cache = cache_with(10, Duration::from_secs(60));
        let user = UserId::generate(at(), &mut Fill(1));
        let hash = TokenHash::of("x");
        let put = cache.put(cache.generation(), hash, found(1, &user));
        let first = cache.get(&hash).expect("cached");
        let second = cache.get(&hash).expect("cached");
        assert!(Arc::ptr_eq(&put, &first) && Arc::ptr_eq(&first, &second));
    }

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let (clock, hand) = Clock::adjustable();
        let cache = VerifyCache::new(5, Duration::from_secs(10), clock);
        let user = UserId::generate(at(), &mut Fill(1));
        cache.put(0, TokenHash::of("a"), found(1, &user));
        hand.advance(Duration::from_secs(9));
        assert!(cache.get(&TokenHash::of("a")).is_some(), "fresh within the TTL");
        hand.advance(Duration::from_secs(1));
        assert!(cache.get(&TokenHash::of("a")).is_none(), "stale once the TTL has passed");
        let cache = cache_with(5, Duration::ZERO);
        cache.put(0, TokenHash::of("a"), found(1, &user));
        assert!(cache.get(&TokenHash::of("a")).is_none(), "a zero TTL caches nothing usable");
        let cache = cache_with(5, Duration::from_secs(60));
        for i in 0..20u8 {
            cache.put(cache.generation(), TokenHash::of(&i.to_string()), found(i, &user));
        }
        assert!(cache.len() <= 5);
    }
}
