//! Contract checks for usage limits (`--max-uses`, `--rate`) and the
//! clients each token was used from (issue 16).

use crate::concurrency::join_all;
use crate::support::*;
use ward_core::TokenKind;
use ward_core::limits::UseRate;
use ward_store::{ClientSeen, MAX_CLIENTS, Store, UseLimits};

pub async fn a_tokens_limits_are_stored_and_its_uses_count_down_to_none(store: &dyn Store) {
    let ci = add_user(store, service("ci", at(0))).await;
    let mut t = token(&ci, TokenKind::Pipeline, at(1));
    let rate: UseRate = "10/s".parse().expect("rate");
    t.record.limits = UseLimits { max_uses: Some(3), uses_left: Some(3), rate: Some(rate) };
    let hash = t.hash();
    let record = add(store, t).await;
    let found = store.token_by_hash(&hash).await.expect("by hash").expect("found");
    assert_eq!(found.token.limits, record.limits);

    let uses: Vec<Option<u64>> = [
        store.consume_use(&record.id).await.expect("use 1"),
        store.consume_use(&record.id).await.expect("use 2"),
        store.consume_use(&record.id).await.expect("use 3"),
        store.consume_use(&record.id).await.expect("use 4"),
    ]
    .into();
    assert_eq!(uses, vec![Some(2), Some(1), Some(0), None]);
    let after = store.token_by_id(&record.id).await.expect("by id").expect("found");
    assert_eq!(after.token.limits.uses_left, Some(0));
    assert_eq!(after.token.limits.max_uses, Some(3));

    let unlimited = add_token(store, &ci, 2).await;
    assert_eq!(store.consume_use(&unlimited.id).await.expect("unlimited"), None);
    assert_eq!(fetch(store, &unlimited.id).await, unlimited, "an unlimited token is not written");
}

pub async fn concurrent_uses_of_a_limited_token_succeed_exactly_its_count(store: &dyn Store) {
    let ci = add_user(store, service("ci", at(0))).await;
    let mut t = token(&ci, TokenKind::Pipeline, at(1));
    t.record.limits = UseLimits { max_uses: Some(25), uses_left: Some(25), rate: None };
    let record = add(store, t).await;
    let outcomes = join_all((0..80).map(|_| store.consume_use(&record.id))).await;
    let granted = outcomes.iter().filter(|o| matches!(o, Ok(Some(_)))).count();
    assert!(outcomes.iter().all(Result::is_ok), "no use failed: {outcomes:?}");
    assert_eq!(granted, 25);
    let mut left: Vec<u64> = outcomes.into_iter().filter_map(|o| o.ok().flatten()).collect();
    left.sort_unstable();
    assert_eq!(left, (0..25).collect::<Vec<u64>>(), "each count was handed out once");
}

fn seen(address: &str, agent: &str, minute: i64) -> ClientSeen {
    ClientSeen { address: address.into(), user_agent: agent.into(), last_seen: at(minute) }
}

pub async fn a_token_keeps_its_newest_five_distinct_clients(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t = add_token(store, &alice, 1).await;
    let other = add_token(store, &alice, 2).await;
    let batch: Vec<_> =
        (1..=6).map(|i| (t.id.clone(), seen(&format!("192.0.2.{i}"), "curl/8", 10 + i))).collect();
    store.record_clients(&batch).await.expect("first batch");
    let clients = store.token_clients(&t.id).await.expect("clients");
    let addresses: Vec<&str> = clients.iter().map(|c| c.address.as_str()).collect();
    assert_eq!(addresses, ["192.0.2.6", "192.0.2.5", "192.0.2.4", "192.0.2.3", "192.0.2.2"]);
    assert_eq!(clients.len(), MAX_CLIENTS);

    // Seen again later: moves up, the oldest drops out. An older time
    // never moves a pair back; another user agent is another client.
    let second = vec![
        (t.id.clone(), seen("192.0.2.3", "curl/8", 30)),
        (t.id.clone(), seen("192.0.2.6", "curl/8", 5)),
        (other.id.clone(), seen("198.51.100.1", "", 31)),
        (t.id.clone(), seen("192.0.2.5", "python-requests/2", 32)),
    ];
    store.record_clients(&second).await.expect("second batch");
    let clients = store.token_clients(&t.id).await.expect("clients");
    let pairs: Vec<(&str, &str)> =
        clients.iter().map(|c| (c.address.as_str(), c.user_agent.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("192.0.2.5", "python-requests/2"),
            ("192.0.2.3", "curl/8"),
            ("192.0.2.6", "curl/8"),
            ("192.0.2.5", "curl/8"),
            ("192.0.2.4", "curl/8")
        ]
    );
    assert_eq!(clients[2].last_seen, at(16));
    assert_eq!(store.token_clients(&other.id).await.expect("other").len(), 1);
}

pub async fn clients_of_a_deleted_token_are_skipped_and_gone(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t = add_token(store, &alice, 1).await;
    store.record_clients(&[(t.id.clone(), seen("192.0.2.1", "", 2))]).await.expect("record");
    store.delete_token(&t.id, at(3), &[]).await.expect("delete");
    assert!(store.token_clients(&t.id).await.expect("clients").is_empty());
    // A batch that names it after the delete still commits for the rest.
    let live = add_token(store, &alice, 4).await;
    let batch = [(t.id.clone(), seen("192.0.2.1", "", 5)), (live.id.clone(), seen("192.0.2.9", "", 5))];
    store.record_clients(&batch).await.expect("a batch with a deleted token");
    assert!(store.token_clients(&t.id).await.expect("clients").is_empty());
    assert_eq!(store.token_clients(&live.id).await.expect("live").len(), 1);
}
