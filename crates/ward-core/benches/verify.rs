//! Micro benchmark of the in-process verify path (issue 5):
//! parse + checksum (`token::inspect`), SHA-256 (`TokenHash::of`), a lookup
//! in a `HashMap<TokenHash, _>` of 100 000 entries standing in for a cache
//! hit, and the three together. Run with `cargo bench -p ward-core`.
//!
//! The cache-hit path is measured twice: with the lookup only, and with the
//! lookup plus an `Arc` clone of the entry, as ward-server's verify path
//! (`Store::token_by_hash_shared`, `VerifyCache::get`) takes a shared
//! `Arc<TokenWithOwner>` from its cache. For comparison, "verify + deep
//! clone" is the lookup plus a full copy of the entry, what the server did
//! before the `Arc` (the entry here has the shape of `TokenWithOwner`: ids,
//! names, a scope set, times, the owner's password hash).
//!
//! Criterion prints its own estimates; at the end a summary prints ns/op
//! (the median over criterion's samples) and both cache-hit paths against
//! the target of issue 5 (<= 500 ns).

use chrono::{DateTime, Utc};
use criterion::{Criterion, criterion_group};
use std::collections::HashMap;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use ward_core::base62;
use ward_core::token::inspect;
use ward_core::{Entropy, PlainToken, Prefix, Scope, ScopeSet, TokenHash, TokenId, TokenKind, UserId};

/// Tokens in the stand-in cache, as in the HTTP benchmark's store.
const CACHED: usize = 100_000;
/// Distinct token strings the benchmarks cycle through (a power of two:
/// the index is masked, not divided).
const PRESENTED: usize = 4096;
/// Issue 5: in-process verify, cache hit.
const TARGET_NS: f64 = 500.0;

/// Deterministic entropy (xorshift64*): reproducible tokens, no OS calls.
struct Xorshift(u64);

impl Entropy for Xorshift {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            *b = (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 56) as u8;
        }
    }
}

/// Shaped like ward-store's `TokenWithOwner`, what the server's cache holds.
#[expect(dead_code, reason = "shaped like the real record; the benchmark reads only some fields")]
#[derive(Clone)]
struct Entry {
    id: TokenId,
    name: String,
    kind: TokenKind,
    user_id: UserId,
    scopes: ScopeSet,
    display: String,
    created_at: DateTime<Utc>,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    rotated_from: Option<TokenId>,
    owner_id: UserId,
    owner_name: String,
    owner_password_hash: Option<String>,
    owner_created_at: DateTime<Utc>,
    owner_deleted_at: Option<DateTime<Utc>>,
}

fn entry(i: usize, token: &str, rng: &mut Xorshift) -> Entry {
    // A fixed time: the lookup being measured does not depend on it.
    let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let owner = UserId::generate(now, &mut Xorshift(1));
    Entry {
        id: TokenId::generate(now, rng),
        name: format!("bench-{i}"),
        kind: TokenKind::Pipeline,
        user_id: owner.clone(),
        scopes: [Scope::parse("ward:introspect").expect("scope")].into_iter().collect(),
        display: token[..11].to_owned(),
        created_at: now,
        expires_at: None,
        revoked_at: None,
        last_used_at: None,
        rotated_from: None,
        owner_id: owner,
        owner_name: "admin".to_owned(),
        owner_password_hash: Some(format!(
            "$argon2id$v=19$m=19456,t=2,p=1${}${}",
            "s".repeat(22),
            "h".repeat(43)
        )),
        owner_created_at: now,
        owner_deleted_at: None,
    }
}

fn tokens(n: usize, seed: u64) -> Vec<String> {
    let prefix = Prefix::default();
    let mut rng = Xorshift(seed);
    (0..n).map(|_| PlainToken::generate(&prefix, TokenKind::Pipeline, &mut rng).expose().to_owned()).collect()
}

/// Per-sample ns/op recorded by `iter_custom`, per benchmark name.
static SAMPLES: Mutex<Vec<(&'static str, f64)>> = Mutex::new(Vec::new());

fn record(name: &'static str, iters: u64, elapsed: Duration) {
    if iters > 0 {
        let ns = elapsed.as_nanos() as f64 / iters as f64;
        SAMPLES.lock().expect("samples lock").push((name, ns));
    }
}

/// Runs `op` on the presented tokens in turn, timing `iters` calls.
fn timed<F: FnMut(&str) -> bool>(
    name: &'static str,
    presented: &[String],
    mut op: F,
) -> impl FnMut(u64) -> Duration {
    move |iters| {
        let start = Instant::now();
        let mut ok = 0u64;
        for i in 0..iters {
            let token = &presented[(i as usize) & (PRESENTED - 1)];
            ok += u64::from(op(black_box(token.as_str())));
        }
        let elapsed = start.elapsed();
        black_box(ok);
        record(name, iters, elapsed);
        elapsed
    }
}

fn bench_verify(c: &mut Criterion) {
    let stored = tokens(CACHED, 0x5eed_0001);
    let mut rng = Xorshift(0x5eed_0002);
    // Shared entries, as in ward-server's `VerifyCache`.
    let cache: HashMap<TokenHash, Arc<Entry>> =
        stored.iter().enumerate().map(|(i, t)| (TokenHash::of(t), Arc::new(entry(i, t, &mut rng)))).collect();
    // Spread over the whole cache, so lookups are not all in one corner.
    let presented: Vec<String> = (0..PRESENTED).map(|i| stored[(i * 7919) % CACHED].clone()).collect();
    let mut garbage = presented.clone();
    for t in &mut garbage {
        let last = if t.ends_with('0') { "1" } else { "0" };
        t.replace_range(t.len() - 1.., last);
    }
    let hashes: Vec<TokenHash> = presented.iter().map(|t| TokenHash::of(t)).collect();

    let mut g = c.benchmark_group("verify");
    g.bench_function("parse+checksum", |b| {
        b.iter_custom(timed("parse+checksum", &presented, |t| inspect(t).is_ok()));
    });
    // The parts of parse+checksum: the CRC32 itself, and reading the six
    // checksum digits as a number (no allocation).
    g.bench_function("crc32 only", |b| {
        b.iter_custom(timed("crc32 only", &presented, |t| crc32fast::hash(t.as_bytes()) != 0));
    });
    g.bench_function("base62 decode of the checksum", |b| {
        b.iter_custom(timed("base62 decode of the checksum", &presented, |t| {
            base62::decode(&t.as_bytes()[t.len() - 6..]).is_some()
        }));
    });
    g.bench_function("reject bad checksum", |b| {
        b.iter_custom(timed("reject bad checksum", &garbage, |t| inspect(t).is_err()));
    });
    g.bench_function("sha256", |b| {
        b.iter_custom(timed("sha256", &presented, |t| TokenHash::of(t).as_bytes()[0] != 0));
    });
    g.bench_function("hashmap hit (100k)", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            let mut ok = 0u64;
            for i in 0..iters {
                let h = black_box(&hashes[(i as usize) & (PRESENTED - 1)]);
                ok += u64::from(cache.get(h).is_some_and(|e| e.revoked_at.is_none()));
            }
            let elapsed = start.elapsed();
            black_box(ok);
            record("hashmap hit (100k)", iters, elapsed);
            elapsed
        });
    });
    g.bench_function("cache hit (parse+checksum+sha256+lookup)", |b| {
        b.iter_custom(timed("cache hit (parse+checksum+sha256+lookup)", &presented, |t| {
            inspect(t).is_ok() && cache.get(&TokenHash::of(t)).is_some_and(|e| e.revoked_at.is_none())
        }));
    });
    g.bench_function("cache hit + Arc clone (as ward-server)", |b| {
        b.iter_custom(timed("cache hit + Arc clone (as ward-server)", &presented, |t| {
            inspect(t).is_ok()
                && cache
                    .get(&TokenHash::of(t))
                    .map(Arc::clone)
                    .is_some_and(|e| black_box(e).revoked_at.is_none())
        }));
    });
    g.bench_function("verify + deep clone (server before the Arc)", |b| {
        b.iter_custom(timed("verify + deep clone (server before the Arc)", &presented, |t| {
            inspect(t).is_ok()
                && cache
                    .get(&TokenHash::of(t))
                    .map(|e| Entry::clone(e))
                    .is_some_and(|e| black_box(e).revoked_at.is_none())
        }));
    });
    g.finish();
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    if v.is_empty() { f64::NAN } else { v[v.len() / 2] }
}

fn summary() {
    let samples = SAMPLES.lock().expect("samples lock").clone();
    let mut names: Vec<&str> = samples.iter().map(|(n, _)| *n).collect();
    names.dedup();
    println!("\nmicro summary (ns/op, median over criterion samples)");
    for name in names {
        let ns = median(samples.iter().filter(|(n, _)| *n == name).map(|(_, v)| *v).collect());
        if name.starts_with("cache hit") {
            let verdict = if ns <= TARGET_NS { "PASS" } else { "FAIL" };
            println!(
                "  {name:<44} {ns:>8.1} ns   target <= {TARGET_NS:.0} ns: {verdict} ({:.2} of target)",
                ns / TARGET_NS
            );
            let key = if name.contains("clone") { "cache_hit_clone_ns" } else { "cache_hit_ns" };
            println!("MICRO {key}={ns:.1} target_ns={TARGET_NS:.0} {verdict}");
        } else {
            println!("  {name:<44} {ns:>8.1} ns");
        }
    }
}

criterion_group!(benches, bench_verify);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // Only when measuring (`cargo bench`), not in `cargo test --benches`.
    if std::env::args().any(|a| a == "--bench") {
        summary();
    }
}
