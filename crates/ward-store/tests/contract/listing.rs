//! Contract checks for `list_tokens`: order, limit, cursor and filters.

use crate::support::*;
use ward_core::TokenKind;
use ward_store::{Store, TokenFilter, TokenRecord, TokenStatus};

pub async fn tokens_are_listed_newest_first_up_to_the_limit(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let t1 = add_token(store, &alice, 1).await;
    let t3 = add_token(store, &alice, 3).await;
    let t2 = add_token(store, &alice, 2).await;
    assert_eq!(listed(store, &all_at(at(9))).await, ids(&[&t3, &t2, &t1]));
    let two = TokenFilter { limit: 2, ..all_at(at(9)) };
    assert_eq!(listed(store, &two).await, ids(&[&t3, &t2]));
    let none = TokenFilter { limit: 0, ..all_at(at(9)) };
    assert!(listed(store, &none).await.is_empty());
}

pub async fn the_before_cursor_pages_through_every_token_once(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut all = Vec::new();
    for minute in 1..=7 {
        all.push(add_token(store, &alice, minute).await.id);
    }
    all.reverse();

    let mut seen = Vec::new();
    let mut page = TokenFilter { limit: 3, ..all_at(at(9)) };
    loop {
        let ids = listed(store, &page).await;
        assert!(ids.len() <= 3);
        let Some(last) = ids.last().cloned() else { break };
        seen.extend(ids);
        page.before = Some(last);
    }
    assert_eq!(seen, all);

    let after_fourth = TokenFilter { before: Some(all[3].clone()), ..all_at(at(9)) };
    assert_eq!(listed(store, &after_fourth).await, all[4..].to_vec());
}

pub async fn tokens_are_filtered_by_user(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let a1 = add_token(store, &alice, 1).await;
    let b1 = add_token(store, &bob, 2).await;
    let a2 = add_token(store, &alice, 3).await;
    let alices = TokenFilter { user_id: Some(alice.id.clone()), ..all_at(at(9)) };
    assert_eq!(listed(store, &alices).await, ids(&[&a2, &a1]));
    let bobs = store
        .list_tokens(&TokenFilter { user_id: Some(bob.id.clone()), ..all_at(at(9)) })
        .await
        .expect("list");
    assert_eq!(bobs.len(), 1);
    assert_eq!(bobs[0].token, b1);
    assert_eq!(bobs[0].owner, bob, "each row carries its owner");
}

pub async fn tokens_are_filtered_by_kind(store: &dyn Store) {
    let ci = add_user(store, service("ci", at(0))).await;
    let p1 = add(store, token(&ci, TokenKind::Pipeline, at(1))).await;
    let s1 = add(store, token(&ci, TokenKind::Service, at(2))).await;
    let p2 = add(store, token(&ci, TokenKind::Pipeline, at(3))).await;
    let kind = |k| TokenFilter { kind: Some(k), ..all_at(at(9)) };
    assert_eq!(listed(store, &kind(TokenKind::Pipeline)).await, ids(&[&p2, &p1]));
    assert_eq!(listed(store, &kind(TokenKind::Service)).await, ids(&[&s1]));
    assert!(listed(store, &kind(TokenKind::Registry)).await.is_empty());
}

/// Tokens in every state relative to minute 50, with the edge cases: expiry
/// exactly at `now`, revoked and expired at once.
async fn tokens_in_every_state(store: &dyn Store) -> Vec<TokenRecord> {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut out = Vec::new();
    let cases: [(Option<i64>, Option<i64>); 6] = [
        (None, None),         // active forever
        (Some(100), None),    // active until 100
        (Some(40), None),     // expired at 40
        (Some(50), None),     // expires exactly at 50
        (None, Some(30)),     // revoked at 30
        (Some(40), Some(45)), // expired, then revoked
    ];
    for (minute, (expires, revoked)) in (1..).zip(cases) {
        let mut t = token(&alice, TokenKind::Personal, at(minute));
        t.record.expires_at = expires.map(at);
        let t = add(store, t).await;
        if let Some(r) = revoked {
            store.revoke_token(&t.id, at(r), &[]).await.expect("revoke");
        }
        out.push(fetch(store, &t.id).await);
    }
    out
}

pub async fn tokens_are_filtered_by_status_at_the_given_moment(store: &dyn Store) {
    let tokens = tokens_in_every_state(store).await;
    for now in [at(20), at(35), at(50), at(200)] {
        for status in [TokenStatus::Active, TokenStatus::Expired, TokenStatus::Revoked] {
            let mut expected: Vec<&TokenRecord> = tokens.iter().filter(|t| t.status(now) == status).collect();
            expected.reverse();
            let filter = TokenFilter { status: Some(status), ..all_at(now) };
            assert_eq!(listed(store, &filter).await, ids(&expected), "{status:?} at {now}");
        }
    }
    let at_50 = |status| TokenFilter { status: Some(status), ..all_at(at(50)) };
    assert_eq!(listed(store, &at_50(TokenStatus::Active)).await, ids(&[&tokens[1], &tokens[0]]));
    assert_eq!(listed(store, &at_50(TokenStatus::Expired)).await, ids(&[&tokens[3], &tokens[2]]));
    assert_eq!(listed(store, &at_50(TokenStatus::Revoked)).await, ids(&[&tokens[5], &tokens[4]]));
}

pub async fn token_filters_combine(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let bob = add_user(store, human("bob", at(0))).await;
    let mut wanted = Vec::new();
    for minute in 1..=6 {
        let owner = if minute % 2 == 0 { &alice } else { &bob };
        let kind = if minute % 3 == 0 { TokenKind::Registry } else { TokenKind::Pipeline };
        let t = add(store, token(owner, kind, at(minute))).await;
        if owner.id == alice.id && kind == TokenKind::Pipeline {
            wanted.push(t);
        }
    }
    store.revoke_token(&wanted[0].id, at(7), &[]).await.expect("revoke");
    let filter = TokenFilter {
        user_id: Some(alice.id.clone()),
        kind: Some(TokenKind::Pipeline),
        status: Some(TokenStatus::Active),
        ..TokenFilter::all(at(9), 10)
    };
    assert_eq!(listed(store, &filter).await, ids(&[&wanted[1]]));
}
