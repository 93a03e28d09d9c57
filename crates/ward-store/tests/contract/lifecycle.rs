//! Contract checks for the lifecycle queries (issue 16): listings by end
//! and by last use, due expiry notices, and their claims.

use crate::support::*;
use chrono::Duration;
use ward_core::notice::{NoticePoints, Window};
use ward_core::{TokenId, TokenKind};
use ward_store::{Backend, NoticeClaim, Store, TokenFilter, TokenStatus};

pub async fn tokens_are_filtered_by_how_soon_they_end_and_how_long_they_went_unused(store: &dyn Store) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut made = Vec::new();
    // (created, expires, last used)
    for (created, expires, used) in [
        (1, Some(100), None),
        (2, Some(30), Some(25)),
        (3, Some(15), None),
        (4, None, Some(8)),
        (5, Some(500), Some(40)),
    ] {
        let mut t = token(&alice, TokenKind::Pipeline, at(created));
        t.record.expires_at = expires.map(at);
        let t = add(store, t).await;
        if let Some(u) = used {
            store.record_usage(&[(t.id.clone(), at(u))]).await.expect("usage");
        }
        made.push(t);
    }
    let now = at(20);
    // Ending after now and by at(120): 1 (100) and 2 (30); 3 has ended, 4 never ends, 5 too late.
    let expiring = TokenFilter { expiring_by: Some(at(120)), ..all_at(now) };
    assert_eq!(listed(store, &expiring).await, ids(&[&made[1], &made[0]]));
    // Unused since at(10): 1 and 3 (never used, created before), 4 (last used at 8).
    let unused = TokenFilter { unused_since: Some(at(10)), ..all_at(now) };
    assert_eq!(listed(store, &unused).await, ids(&[&made[3], &made[2], &made[0]]));
    // Combined with status: 3 has expired by now.
    let active = TokenFilter { status: Some(TokenStatus::Active), ..unused };
    assert_eq!(listed(store, &active).await, ids(&[&made[3], &made[0]]));
}

fn windows() -> Vec<Window> {
    NoticePoints::new([Duration::minutes(60), Duration::minutes(10)]).expect("points").windows().collect()
}

fn due_ids(found: Vec<ward_store::TokenWithOwner>) -> Vec<TokenId> {
    found.into_iter().map(|t| t.token.id).collect()
}

pub async fn due_notices_follow_the_window_rule(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let [hour, ten] = <[Window; 2]>::try_from(windows()).expect("two windows");
    let with_end = |created: i64, end: i64, kind| {
        let mut t = token(&alice, kind, at(created));
        t.record.expires_at = Some(at(end));
        t
    };
    let old = add(store, with_end(0, 100, TokenKind::Pipeline)).await; // hour window: [40, 90)
    let young = add(store, with_end(50, 100, TokenKind::Pipeline)).await; // too young for the hour point
    let session = add(store, with_end(0, 100, TokenKind::Login)).await; // sessions get no notice
    let revoked = add(store, with_end(0, 100, TokenKind::Pipeline)).await;
    store.revoke_token(&revoked.id, at(1), &[]).await.expect("revoke");
    let _ = session;
    let due = |w, now| async move { due_ids(store.due_notices(w, at(now), 100).await.expect("due")) };
    assert_eq!(due(hour, 39).await, Vec::<TokenId>::new());
    assert_eq!(due(hour, 40).await, vec![old.id.clone()]);
    assert_eq!(due(hour, 89).await, vec![old.id.clone()]);
    assert_eq!(due(hour, 90).await, Vec::<TokenId>::new(), "the ten-minute window has begun");
    let mut both = due(ten, 90).await;
    both.sort();
    let mut want = vec![old.id.clone(), young.id.clone()];
    want.sort();
    assert_eq!(both, want);
    assert_eq!(due(ten, 100).await, Vec::<TokenId>::new(), "ended");
}

pub async fn a_notice_is_claimed_once_held_for_its_lease_and_never_sent_twice(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut t = token(&alice, TokenKind::Pipeline, at(0));
    t.record.expires_at = Some(at(100));
    let t = add(store, t).await;
    let hour = windows()[0];
    let claim = |node, now, lease| NoticeClaim {
        token_id: &t.id,
        point: hour.point,
        node,
        now: at(now),
        lease_until: at(lease),
    };
    assert_eq!(store.claim_notice(claim("a", 41, 43)).await.expect("claim"), Some(1));
    assert_eq!(store.claim_notice(claim("b", 42, 44)).await.expect("claim"), None, "a holds it");
    assert!(store.due_notices(hour, at(42), 10).await.expect("due").is_empty(), "held: not due");
    // a's lease ran out (a died): b takes over, on its second attempt.
    assert_eq!(store.claim_notice(claim("b", 43, 45)).await.expect("claim"), Some(2));
    assert!(!store.notice_sent(&t.id, hour.point, "a", at(43), &[]).await.expect("sent"), "a lost it");
    // b fails and hands it back until 50.
    store.notice_failed(&t.id, hour.point, "b", at(50)).await.expect("failed");
    assert!(store.due_notices(hour, at(49), 10).await.expect("due").is_empty());
    assert_eq!(store.claim_notice(claim("c", 49, 52)).await.expect("claim"), None, "backing off");
    assert_eq!(due_ids(store.due_notices(hour, at(50), 10).await.expect("due")), vec![t.id.clone()]);
    assert_eq!(store.claim_notice(claim("c", 50, 52)).await.expect("claim"), Some(3));
    assert!(store.notice_sent(&t.id, hour.point, "c", at(51), &[]).await.expect("sent"));
    assert!(store.due_notices(hour, at(60), 10).await.expect("due").is_empty(), "sent: never due again");
    assert_eq!(store.claim_notice(claim("d", 70, 72)).await.expect("claim"), None);
    // The other point is a notice of its own.
    let ten = NoticeClaim { point: windows()[1].point, ..claim("d", 91, 93) };
    assert_eq!(store.claim_notice(ten).await.expect("claim"), Some(1));
}

pub async fn concurrent_claims_of_one_notice_have_exactly_one_winner(store: &dyn Backend) {
    let alice = add_user(store, human("alice", at(0))).await;
    let mut t = token(&alice, TokenKind::Pipeline, at(0));
    t.record.expires_at = Some(at(100));
    let t = add(store, t).await;
    let point = windows()[0].point;
    let nodes: Vec<String> = (0..16).map(|i| format!("node-{i}")).collect();
    let claims = nodes.iter().map(|node| {
        store.claim_notice(NoticeClaim { token_id: &t.id, point, node, now: at(41), lease_until: at(45) })
    });
    let won: Vec<Option<u32>> =
        crate::concurrency::join_all(claims).await.into_iter().map(|r| r.expect("claim")).collect();
    assert_eq!(won.iter().filter(|w| w.is_some()).count(), 1, "{won:?}");
}
