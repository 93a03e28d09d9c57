//! The Verifier's answer cache: a bounded map from SHA-256(token) to the
//! [`Principal`] ward vouched for, with the indexes the revocation stream
//! evicts by.
//!
//! Keyed by the token's SHA-256, never the token: a heap dump of the
//! service shows no credential. An entry never outlives the token's own end
//! nor the configured `max_age`; past either it is a miss. Every eviction
//! (one token, a subject's tokens, a key's tokens, everything) bumps a
//! generation under the write lock, and an insert carries the generation
//! read before its answer was asked for: an answer that raced an eviction
//! is dropped instead of re-inserting what the stream just ended.
//!
//! Full: expired entries go first, then arbitrary ones; a miss costs one
//! call to ward, never a wrong answer.

use super::principal::Principal;
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// SHA-256 of a presented token.
pub(crate) type Key = [u8; 32];

/// What an entry is indexed by, for eviction.
#[derive(Debug, Clone)]
pub(crate) struct Tags {
    /// The token's id (a signed token's `jti`).
    pub token_id: String,
    /// The owner's name, or the agent's.
    pub subject: String,
    /// The signing key of a signed token; `None` for an opaque one.
    pub kid: Option<String>,
}

/// What one event of the stream tells the cache to forget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target<'a> {
    /// One token (or signed token) by id.
    TokenId(&'a str),
    /// Every token whose owner (or agent) is this name.
    Subject(&'a str),
    /// Every signed token (their minters are not known here).
    AllSigned,
    /// Every token signed by this key.
    Kid(&'a str),
    /// Everything.
    All,
}

struct Slot {
    principal: Principal,
    /// Milliseconds since the epoch after which the entry is a miss.
    ends_ms: i64,
    tags: Tags,
}

#[derive(Default)]
struct Maps {
    entries: HashMap<Key, Slot, Prehashed>,
    by_id: HashMap<String, Key>,
    by_subject: HashMap<String, HashSet<Key, Prehashed>>,
    by_kid: HashMap<String, HashSet<Key, Prehashed>>,
    signed: HashSet<Key, Prehashed>,
}

/// The cache. Shared by every clone of a Verifier and its stream task.
pub(crate) struct Cache {
    maps: RwLock<Maps>,
    generation: AtomicU64,
    capacity: usize,
}

impl Cache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { maps: RwLock::default(), generation: AtomicU64::new(0), capacity: capacity.max(1) }
    }

    /// The principal cached for `key`, if it is still within its end at `now_ms`.
    pub(crate) fn get(&self, key: &Key, now_ms: i64) -> Option<Principal> {
        let maps = self.maps.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = maps.entries.get(key)?;
        (now_ms < slot.ends_ms).then(|| slot.principal.clone())
    }

    /// The generation to pass to [`Cache::insert`]: read it before asking
    /// ward, so that an eviction in between voids the answer.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Caches `principal` under `key` until `ends_ms`, unless something was
    /// evicted since `generation` was read. Returns whether it was cached.
    pub(crate) fn insert(
        &self,
        generation: u64,
        key: Key,
        principal: Principal,
        ends_ms: i64,
        tags: Tags,
        now_ms: i64,
    ) -> bool {
        let mut maps = self.maps.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.generation.load(Ordering::Acquire) != generation || ends_ms <= now_ms {
            return false;
        }
        if maps.entries.len() >= self.capacity && !maps.entries.contains_key(&key) {
            maps.make_room(now_ms);
        }
        if let Some(old) = maps.by_id.get(&tags.token_id).copied().filter(|old| *old != key) {
            maps.remove(&old);
        }
        maps.remove(&key);
        maps.by_id.insert(tags.token_id.clone(), key);
        maps.by_subject.entry(tags.subject.clone()).or_default().insert(key);
        if let Some(kid) = &tags.kid {
            maps.by_kid.entry(kid.clone()).or_default().insert(key);
            maps.signed.insert(key);
        }
        maps.entries.insert(key, Slot { principal, ends_ms, tags });
        true
    }

    /// Forgets what `target` names and bumps the generation (even when
    /// nothing was cached: an answer in flight may be about it). Returns how
    /// many entries went.
    pub(crate) fn evict(&self, target: Target<'_>) -> usize {
        let mut maps = self.maps.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::AcqRel);
        let keys: Vec<Key> = match target {
            Target::TokenId(id) => maps.by_id.get(id).copied().into_iter().collect(),
            Target::Subject(name) => {
                maps.by_subject.get(name).map(|s| s.iter().copied().collect()).unwrap_or_default()
            }
            Target::AllSigned => maps.signed.iter().copied().collect(),
            Target::Kid(kid) => maps.by_kid.get(kid).map(|s| s.iter().copied().collect()).unwrap_or_default(),
            Target::All => {
                let n = maps.entries.len();
                *maps = Maps::default();
                return n;
            }
        };
        keys.iter().filter(|key| maps.remove(key)).count()
    }

    /// How many entries are held (expired ones included until they go).
    pub(crate) fn len(&self) -> usize {
        self.maps.read().unwrap_or_else(std::sync::PoisonError::into_inner).entries.len()
    }
}

impl Maps {
    /// Removes one entry and its index rows; whether it was there.
    fn remove(&mut self, key: &Key) -> bool {
        let Some(slot) = self.entries.remove(key) else {
            return false;
        };
        if self.by_id.get(&slot.tags.token_id) == Some(key) {
            self.by_id.remove(&slot.tags.token_id);
        }
        unindex(&mut self.by_subject, &slot.tags.subject, key);
        if let Some(kid) = &slot.tags.kid {
            unindex(&mut self.by_kid, kid, key);
            self.signed.remove(key);
        }
        true
    }

    /// Frees at least one place: every ended entry, else one arbitrary one.
    fn make_room(&mut self, now_ms: i64) {
        let ended: Vec<Key> =
            self.entries.iter().filter(|(_, slot)| slot.ends_ms <= now_ms).map(|(key, _)| *key).collect();
        if ended.is_empty() {
            if let Some(key) = self.entries.keys().next().copied() {
                self.remove(&key);
            }
        } else {
            for key in &ended {
                self.remove(key);
            }
        }
    }
}

fn unindex(index: &mut HashMap<String, HashSet<Key, Prehashed>>, name: &str, key: &Key) {
    if let Some(set) = index.get_mut(name) {
        set.remove(key);
        if set.is_empty() {
            index.remove(name);
        }
    }
}

/// The bucket hash of a [`Key`]: its first eight bytes. A SHA-256 is
/// already uniform, and only tokens ward vouched for enter the map, so
/// nobody can choose colliding keys; SipHash would only add cost to the hit.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Prehashed;

impl std::hash::BuildHasher for Prehashed {
    type Hasher = FirstWord;
    fn build_hasher(&self) -> FirstWord {
        FirstWord(0)
    }
}

pub(crate) struct FirstWord(u64);

impl std::hash::Hasher for FirstWord {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut word = [0u8; 8];
        let n = bytes.len().min(8);
        word[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(word);
    }

    // The array's length prefix carries nothing.
    fn write_usize(&mut self, _: usize) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(subject: &str, id: &str) -> Principal {
        Principal::new(subject.into(), id.into(), None, vec!["read:stacks".into()], None)
    }

    fn tags(id: &str, subject: &str, kid: Option<&str>) -> Tags {
        Tags { token_id: id.into(), subject: subject.into(), kid: kid.map(Into::into) }
    }

    fn put(cache: &Cache, key: u8, id: &str, subject: &str, kid: Option<&str>) {
        let g = cache.generation();
        assert!(cache.insert(g, [key; 32], principal(subject, id), 10_000, tags(id, subject, kid), 0));
    }

    #[test]
    fn a_cached_answer_is_served_until_its_end_and_not_after() {
        let cache = Cache::new(10);
        put(&cache, 1, "tok_1", "alice", None);
        assert_eq!(cache.get(&[1; 32], 9_999).map(|p| p.token_id().to_owned()), Some("tok_1".into()));
        assert!(cache.get(&[1; 32], 10_000).is_none());
        assert!(cache.get(&[2; 32], 0).is_none());
    }

    #[test]
    fn an_answer_that_raced_an_eviction_is_not_cached() {
        let cache = Cache::new(10);
        let before = cache.generation();
        cache.evict(Target::TokenId("tok_other"));
        let cached =
            cache.insert(before, [1; 32], principal("a", "tok_1"), 10_000, tags("tok_1", "a", None), 0);
        assert!(!cached);
        assert!(cache.get(&[1; 32], 0).is_none());
    }

    #[test]
    fn each_event_kind_evicts_exactly_what_it_names() {
        let cache = Cache::new(10);
        put(&cache, 1, "tok_1", "alice", None);
        put(&cache, 2, "tok_2", "alice", None);
        put(&cache, 3, "tok_3", "bob", None);
        put(&cache, 4, "tok_4", "deploy-bot", Some("key_a"));
        put(&cache, 5, "tok_5", "other-bot", Some("key_b"));
        assert_eq!(cache.evict(Target::TokenId("tok_3")), 1);
        assert!(cache.get(&[3; 32], 0).is_none() && cache.get(&[1; 32], 0).is_some());
        assert_eq!(cache.evict(Target::Subject("alice")), 2);
        assert!(cache.get(&[1; 32], 0).is_none() && cache.get(&[2; 32], 0).is_none());
        assert_eq!(cache.evict(Target::Kid("key_a")), 1);
        assert!(cache.get(&[4; 32], 0).is_none() && cache.get(&[5; 32], 0).is_some());
        put(&cache, 6, "tok_6", "carol", None);
        assert_eq!(cache.evict(Target::AllSigned), 1);
        assert!(cache.get(&[5; 32], 0).is_none() && cache.get(&[6; 32], 0).is_some());
        assert_eq!(cache.evict(Target::All), 1);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_never_grows_past_its_capacity_and_drops_ended_entries_first() {
        let cache = Cache::new(3);
        let g = cache.generation();
        assert!(cache.insert(g, [1; 32], principal("a", "tok_1"), 50, tags("tok_1", "a", None), 0));
        put(&cache, 2, "tok_2", "a", None);
        put(&cache, 3, "tok_3", "a", None);
        let g = cache.generation();
        assert!(cache.insert(g, [4; 32], principal("a", "tok_4"), 10_000, tags("tok_4", "a", None), 100));
        assert_eq!(cache.len(), 3);
        assert!(cache.get(&[2; 32], 100).is_some() && cache.get(&[3; 32], 100).is_some());
        for n in 5..40u8 {
            put(&cache, n, &format!("tok_{n}"), "a", None);
            assert!(cache.len() <= 3);
        }
        // Index rows went with their entries: evicting the subject finds only what is held.
        assert_eq!(cache.evict(Target::Subject("a")), 3);
    }

    #[test]
    fn an_entry_past_its_end_is_never_inserted() {
        let cache = Cache::new(3);
        let g = cache.generation();
        assert!(!cache.insert(g, [1; 32], principal("a", "tok_1"), 100, tags("tok_1", "a", None), 100));
    }
}
