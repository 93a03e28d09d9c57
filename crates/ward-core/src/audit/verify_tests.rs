use super::*;
use crate::audit::tests::{entry, key};
use crate::audit::{ChainHead, ChainKey, ChainedEntry, EventHash, chain_after};
use proptest::prelude::*;

/// A chain of `n` events and its head.
fn chain(n: u64) -> (Vec<ChainedEntry>, Option<ChainHead>) {
    let events = chain_after(&key(), None, (1..=n).map(entry).collect());
    let head = events.last().map(|e| ChainHead { seq: e.seq, hash: e.hash });
    (events, head)
}

/// Swaps the rows at positions `i` and `j` the way an UPDATE of their `seq`
/// columns does: each keeps its fields and hashes, the order changes.
fn swap(events: &mut [ChainedEntry], i: usize, j: usize) {
    let (a, b) = (events[i].seq, events[j].seq);
    events[i].seq = b;
    events[j].seq = a;
    events.swap(i, j);
}

fn bad(verdict: &Verdict) -> &BadEvent {
    verdict.first_bad.as_ref().expect("the check fails")
}

#[test]
fn an_intact_chain_passes_and_counts_its_events() {
    let (events, head) = chain(5);
    let verdict = verify(&key(), head, &events);
    assert!(verdict.ok(), "{verdict:?}");
    assert_eq!(verdict.checked, 5);
}

#[test]
fn an_empty_chain_with_no_head_passes() {
    let verdict = verify(&key(), None, &[]);
    assert!(verdict.ok());
    assert_eq!(verdict.checked, 0);
}

#[test]
fn an_edited_field_is_named_as_changed() {
    let (mut events, head) = chain(5);
    events[2].entry.subject = Some("mallory".into());
    let verdict = verify(&key(), head, &events);
    let bad = bad(&verdict);
    assert_eq!((bad.seq, bad.problem), (3, Problem::Changed));
    assert_eq!(bad.id.as_deref(), Some(events[2].entry.id.as_str()));
}

#[test]
fn an_edited_hash_is_named_as_changed() {
    let (mut events, head) = chain(3);
    events[1].hash = EventHash::from_bytes([1; 32]);
    let bad = verify(&key(), head, &events).first_bad.expect("fails");
    assert_eq!((bad.seq, bad.problem), (2, Problem::Changed));
}

#[test]
fn a_removed_event_in_the_middle_is_named_by_its_seq() {
    let (mut events, head) = chain(5);
    events.remove(2);
    let verdict = verify(&key(), head, &events);
    let bad = bad(&verdict);
    assert_eq!((bad.seq, bad.problem, bad.id.as_deref()), (3, Problem::Removed, None));
    assert!(bad.detail.contains("seq 3 is missing"), "{}", bad.detail);
}

#[test]
fn a_removed_first_event_is_named() {
    let (mut events, head) = chain(3);
    events.remove(0);
    let bad = verify(&key(), head, &events).first_bad.expect("fails");
    assert_eq!((bad.seq, bad.problem), (1, Problem::Removed));
}

#[test]
fn removed_events_at_the_end_are_caught_by_the_head() {
    let (mut events, head) = chain(5);
    events.truncate(3);
    let bad = verify(&key(), head, &events).first_bad.expect("fails");
    assert_eq!((bad.seq, bad.problem), (4, Problem::Removed));
    assert!(bad.detail.contains("seq 4..5"), "{}", bad.detail);
}

#[test]
fn a_removal_hidden_by_renumbering_is_still_a_removal() {
    let (mut events, head) = chain(5);
    events.remove(1);
    for (i, e) in events.iter_mut().enumerate() {
        e.seq = i as u64 + 1;
    }
    let bad = verify(&key(), head, &events).first_bad.expect("fails");
    assert_eq!((bad.seq, bad.problem), (2, Problem::Removed));
}

#[test]
fn swapped_events_are_named_as_reordered_at_the_first_of_the_two() {
    let (mut events, head) = chain(6);
    let moved = events[3].entry.id.clone();
    swap(&mut events, 1, 3);
    let verdict = verify(&key(), head, &events);
    let bad = bad(&verdict);
    assert_eq!((bad.seq, bad.problem), (2, Problem::Reordered));
    assert_eq!(bad.id.as_deref(), Some(moved.as_str()));
    assert_eq!(verdict.checked, 6);
}

#[test]
fn a_renumbered_seq_with_intact_links_is_a_change() {
    let (mut events, head) = chain(3);
    events[2].seq = 9;
    let bad = verify(&key(), head, &events).first_bad.expect("fails");
    assert_eq!((bad.seq, bad.problem), (9, Problem::Changed));
}

#[test]
fn a_missing_head_record_fails_a_chain_with_events() {
    let (events, _) = chain(2);
    let bad = verify(&key(), None, &events).first_bad.expect("fails");
    assert_eq!(bad.problem, Problem::Removed);
}

#[test]
fn a_chain_rewritten_from_an_event_on_does_not_match_the_head() {
    let (mut events, head) = chain(4);
    events[3].entry.subject = Some("mallory".into());
    let rewritten = events[3].entry.clone().chain(&key(), 4, events[2].hash);
    events[3] = rewritten;
    let bad = verify(&key(), head, &events).first_bad.expect("fails");
    assert_eq!((bad.seq, bad.problem), (4, Problem::Changed));
}

#[test]
fn events_appended_after_the_head_was_read_still_pass() {
    let (events, _) = chain(5);
    let head = Some(ChainHead { seq: 3, hash: events[2].hash });
    assert!(verify(&key(), head, &events).ok());
}

proptest! {
    #[test]
    fn every_untouched_chain_passes(n in 0u64..40) {
        let (events, head) = chain(n);
        prop_assert!(verify(&key(), head, &events).ok());
    }

    #[test]
    fn any_single_edit_is_found_at_that_event(n in 1u64..30, at in 0usize..30, what in 0usize..4) {
        let (mut events, head) = chain(n);
        let at = at % events.len();
        let e = &mut events[at].entry;
        match what {
            0 => e.action.push('x'),
            1 => e.time += chrono::Duration::seconds(1),
            2 => e.scopes.push("ward:admin".into()),
            _ => e.client_ip = None,
        }
        let bad = verify(&key(), head, &events).first_bad.expect("an edit is found");
        prop_assert_eq!(bad.problem, Problem::Changed);
        prop_assert_eq!(bad.seq, at as u64 + 1);
    }

    #[test]
    fn any_single_removal_is_found_at_its_seq(n in 1u64..30, at in 0usize..30) {
        let (mut events, head) = chain(n);
        let at = at % events.len();
        events.remove(at);
        let bad = verify(&key(), head, &events).first_bad.expect("a removal is found");
        prop_assert_eq!(bad.problem, Problem::Removed);
        prop_assert_eq!(bad.seq, at as u64 + 1);
    }

    #[test]
    fn any_swap_of_two_events_is_found_at_the_earlier_position(n in 2u64..30, i in 0usize..30, j in 0usize..30) {
        let (mut events, head) = chain(n);
        let (i, j) = (i % events.len(), j % events.len());
        prop_assume!(i != j);
        let (i, j) = (i.min(j), i.max(j));
        swap(&mut events, i, j);
        let bad = verify(&key(), head, &events).first_bad.expect("a swap is found");
        prop_assert_eq!(bad.problem, Problem::Reordered);
        prop_assert_eq!(bad.seq, i as u64 + 1);
    }
}

/// `events` rechained from position `from` on with plain SHA-256, the way
/// someone with only database access would, and the head that goes with it.
fn rechain_unkeyed(events: &mut [ChainedEntry], from: usize) -> Option<ChainHead> {
    let mut prev = if from == 0 { EventHash::GENESIS } else { events[from - 1].hash };
    for event in &mut events[from..] {
        event.prev_hash = prev;
        event.hash = crate::audit::unkeyed_hash(&prev, &event.entry.canonical());
        prev = event.hash;
    }
    events.last().map(|e| ChainHead { seq: e.seq, hash: e.hash })
}

/// Unkeyed events 1..=`unkeyed`, the keyed start, then `keyed` keyed events:
/// a chain begun before the key existed and carried on by a keyed server.
fn upgraded(unkeyed: u64, keyed: u64) -> (Vec<ChainedEntry>, Option<ChainHead>) {
    let mut events: Vec<ChainedEntry> = chain(unkeyed).0;
    let old_head = rechain_unkeyed(&mut events, 0).expect("some unkeyed events");
    let start = crate::audit::keyed_start("evt_start".into(), entry(0).time, old_head);
    let rest = std::iter::once(start).chain((100..100 + keyed).map(entry)).collect();
    events.extend(chain_after(&key(), Some(old_head), rest));
    let head = events.last().map(|e| ChainHead { seq: e.seq, hash: e.hash });
    (events, head)
}

#[test]
fn an_edit_with_the_chain_and_head_recomputed_without_the_key_is_found_at_the_edit() {
    let (mut events, _) = chain(6);
    events[3].entry.subject = Some("mallory".into());
    let head = rechain_unkeyed(&mut events, 3);
    let bad = verify(&key(), head, &events).first_bad.expect("the forgery is found");
    assert_eq!((bad.seq, bad.problem), (4, Problem::Changed), "{bad:?}");
    assert!(bad.detail.contains("without the audit key"), "{}", bad.detail);
}

#[test]
fn a_chain_recomputed_from_the_first_event_without_the_key_fails_as_unkeyed() {
    let (mut events, _) = chain(5);
    events[2].entry.subject = Some("mallory".into());
    let head = rechain_unkeyed(&mut events, 0);
    let verdict = verify(&key(), head, &events);
    let bad = verdict.first_bad.expect("the forgery is found");
    assert_eq!((bad.seq, bad.problem), (1, Problem::Changed), "{bad:?}");
    assert!(bad.detail.contains("none of the 5 events is keyed"), "{}", bad.detail);
}

#[test]
fn a_chain_checked_with_another_key_fails() {
    let (events, head) = chain(3);
    let other = ChainKey::new([1; 32]);
    assert!(!verify(&other, head, &events).ok());
}

#[test]
fn unkeyed_events_before_a_keyed_start_pass_and_are_counted() {
    let (events, head) = upgraded(3, 4);
    let verdict = verify(&key(), head, &events);
    assert!(verdict.ok(), "{verdict:?}");
    assert_eq!((verdict.checked, verdict.unkeyed), (8, 3));
}

#[test]
fn keyed_events_cannot_be_turned_into_unkeyed_ones() {
    // Rewritten from the keyed start on: the start itself fails.
    let (mut events, _) = upgraded(3, 4);
    let head = rechain_unkeyed(&mut events, 3);
    let bad = verify(&key(), head, &events).first_bad.expect("found");
    assert_eq!((bad.seq, bad.problem), (4, Problem::Changed), "{bad:?}");
    // The keyed start removed and the rest rechained unkeyed: nothing keyed remains.
    let (mut events, _) = upgraded(3, 4);
    events.remove(3);
    for (n, e) in events.iter_mut().enumerate() {
        e.seq = n as u64 + 1;
    }
    let head = rechain_unkeyed(&mut events, 3);
    let bad = verify(&key(), head, &events).first_bad.expect("found");
    assert_eq!(bad.problem, Problem::Changed, "{bad:?}");
    // An unkeyed event edited after the keyed start fixed their end.
    let (mut events, head) = upgraded(3, 4);
    events[1].entry.subject = Some("mallory".into());
    let _ = rechain_unkeyed(&mut events[..3], 1);
    assert!(!verify(&key(), head, &events).ok());
}

#[test]
fn a_keyed_event_straight_after_unkeyed_ones_needs_a_keyed_start() {
    let (mut events, _) = upgraded(3, 2);
    events.remove(3);
    for (n, e) in events.iter_mut().enumerate() {
        e.seq = n as u64 + 1;
    }
    let bad = verify(&key(), None, &events).first_bad.expect("found");
    assert_eq!(bad.seq, 4, "{bad:?}");
}
