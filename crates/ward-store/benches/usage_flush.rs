//! How the usage flush (`Store::record_usage`, the batch of last-used times
//! the server writes every few seconds) grows with the batch, on SQLite.
//!
//! `cargo bench -p ward-store --bench usage_flush` flushes batches of 1,000
//! and 10,000 distinct tokens into a fresh file and prints the time of each
//! and their ratio. The baseline is the small batch of the same run: a flush
//! that is linear in the batch shows a ratio near 10; the two-array join it
//! replaced (two `json_each` joined on their keys) showed about 100 and took
//! 35 s for 10,000 tokens. Add `-- PG_URL` to run the same on PostgreSQL.

#[path = "../tests/contract/support.rs"]
#[expect(dead_code, reason = "the bench uses a few of the contract suite's fixtures")]
mod support;

use std::time::{Duration, Instant};
use support::{add_user, at, human, token};
use ward_core::{TokenId, TokenKind};
use ward_store::Store;

const SMALL: usize = 1_000;
const LARGE: usize = 10_000;
const ROUNDS: usize = 3;

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let pg = std::env::args().skip(1).find(|a| a.starts_with("postgres"));
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = match &pg {
            Some(url) => ward_store::open(url).await.expect("open PostgreSQL"),
            None => ward_store::open(&format!("sqlite://{}", dir.path().join("bench.db").display()))
                .await
                .expect("open SQLite"),
        };
        let owner = add_user(store.as_ref(), human(&format!("bench-{}", std::process::id()), at(0))).await;
        // Inserted concurrently, so SQLite's group commit takes them in batches.
        let mut inserts = tokio::task::JoinSet::new();
        for _ in 0..LARGE {
            let (store, t) = (store.clone(), token(&owner, TokenKind::Pipeline, at(1)));
            inserts.spawn(async move {
                store.insert_token(&t.record, &t.hash(), &[]).await.expect("insert a token");
                t.record.id
            });
        }
        let ids: Vec<TokenId> = inserts.join_all().await;
        let store: &dyn Store = store.as_ref();
        let small = best_of(store, &ids[..SMALL]).await;
        let large = best_of(store, &ids).await;
        println!("usage flush, {}", if pg.is_some() { "PostgreSQL" } else { "SQLite" });
        println!("  {SMALL:>6} tokens: {:>9.1} ms", small.as_secs_f64() * 1e3);
        println!("  {LARGE:>6} tokens: {:>9.1} ms", large.as_secs_f64() * 1e3);
        println!(
            "  ratio {:.1} for {}x the tokens (linear: about {}; quadratic: about {})",
            large.as_secs_f64() / small.as_secs_f64(),
            LARGE / SMALL,
            LARGE / SMALL,
            (LARGE / SMALL).pow(2)
        );
    });
}

/// The fastest of a few flushes of `ids`, each with later times than the last.
async fn best_of(store: &dyn Store, ids: &[TokenId]) -> Duration {
    let mut best = Duration::MAX;
    for round in 0..ROUNDS {
        let when = at(10 + round as i64);
        let batch: Vec<_> = ids.iter().map(|id| (id.clone(), when)).collect();
        let started = Instant::now();
        store.record_usage(&batch).await.expect("record usage");
        best = best.min(started.elapsed());
    }
    best
}
