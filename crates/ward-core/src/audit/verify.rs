//! Walking a stored chain and naming the first event that is wrong.
//!
//! [`ChainVerifier`] is fed the stored events in `seq` order, one at a time
//! (so a long chain can be read page by page), and judges each against the
//! one before:
//!
//! - **changed**: the stored hash no longer matches the stored fields and
//!   `prev_hash` under the chain key; or the links are intact but the `seq`
//!   was renumbered; or the event at the head's `seq` is not the head that
//!   was recorded; or the chain has unkeyed events where it must be keyed
//!   (after its first keyed event, or anywhere when no valid keyed start
//!   follows them: see [`super::key`]).
//! - **reordered**: the fields match the hash, but the event follows
//!   another event than the one it was chained after, and that event is
//!   stored elsewhere in the chain.
//! - **removed**: the event it was chained after is not stored at all; or
//!   the recorded head is past the last stored event. The missing `seq` is
//!   named; its id is gone with it.
//!
//! Events before a valid keyed start are checked as unkeyed SHA-256 links
//! and counted in [`Verdict::unkeyed`]: they are intact as far as a chain
//! anyone can recompute shows, no further.
//!
//! Only the first problem is reported: past it, nothing can be trusted.

use super::key::recorded_unkeyed_head;
use super::{ChainHead, ChainKey, ChainedEntry, EventHash};
use std::fmt;

/// What is wrong with the first bad event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    Changed,
    Removed,
    Reordered,
}

impl Problem {
    pub fn as_str(self) -> &'static str {
        match self {
            Problem::Changed => "changed",
            Problem::Removed => "removed",
            Problem::Reordered => "reordered",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The first event that fails the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEvent {
    /// Where in the chain: the stored `seq`, or for a removed event the
    /// `seq` it had.
    pub seq: u64,
    /// The event's id; `None` for a removed event.
    pub id: Option<String>,
    pub problem: Problem,
    /// What was found, in a sentence.
    pub detail: String,
}

/// The outcome of a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// How many stored events were read.
    pub checked: u64,
    /// How many of them were chained before the keyed chain began (checked
    /// only as plain SHA-256 links, so not forgery-proof).
    pub unkeyed: u64,
    pub first_bad: Option<BadEvent>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.first_bad.is_none()
    }
}

#[derive(Debug)]
enum State {
    Intact,
    Bad(BadEvent),
    /// An event follows a hash that is not the one before it: reordered if
    /// an event later in the chain has that hash, removed otherwise.
    Broken {
        seq: u64,
        id: String,
        missing_seq: u64,
        wanted: EventHash,
    },
}

/// Checks a chain read in `seq` order. See the module docs.
#[derive(Debug)]
pub struct ChainVerifier {
    key: ChainKey,
    /// Whether the keyed part of the chain has begun.
    keyed: bool,
    /// Unkeyed events read before it began; the first one's seq and id.
    unkeyed: u64,
    first_unkeyed: Option<(u64, String)>,
    head: Option<ChainHead>,
    head_seen: bool,
    expected_prev: EventHash,
    expected_seq: u64,
    checked: u64,
    state: State,
}

impl ChainVerifier {
    /// A check with `key` against the recorded `head` (`None` when none is
    /// recorded, which is right only for an empty chain).
    pub fn new(key: ChainKey, head: Option<ChainHead>) -> Self {
        Self {
            key,
            keyed: false,
            unkeyed: 0,
            first_unkeyed: None,
            head,
            head_seen: false,
            expected_prev: EventHash::GENESIS,
            expected_seq: 1,
            checked: 0,
            state: State::Intact,
        }
    }

    /// Whether a problem has been found already (reading on only refines
    /// how a broken link is classified).
    pub fn failed(&self) -> bool {
        !matches!(self.state, State::Intact)
    }

    /// Judges the next stored event.
    pub fn push(&mut self, event: &ChainedEntry) {
        self.checked += 1;
        match &self.state {
            State::Bad(_) => {}
            State::Broken { seq, id, wanted, .. } => {
                if event.hash == *wanted {
                    let detail = format!(
                        "it was chained after {} (seq {}), which is stored later in the chain",
                        event.entry.id, event.seq
                    );
                    let bad =
                        BadEvent { seq: *seq, id: Some(id.clone()), problem: Problem::Reordered, detail };
                    self.state = State::Bad(bad);
                }
            }
            State::Intact => self.judge(event),
        }
    }

    fn judge(&mut self, event: &ChainedEntry) {
        let bad = |problem, detail: String| BadEvent {
            seq: event.seq,
            id: Some(event.entry.id.clone()),
            problem,
            detail,
        };
        if let Some(detail) = self.key_problem(event) {
            self.state = State::Bad(bad(Problem::Changed, detail));
        } else if event.prev_hash != self.expected_prev {
            self.state = State::Broken {
                seq: event.seq,
                id: event.entry.id.clone(),
                missing_seq: self.expected_seq,
                wanted: event.prev_hash,
            };
        } else if event.seq != self.expected_seq {
            let detail = format!("its sequence number was changed from {}", self.expected_seq);
            self.state = State::Bad(bad(Problem::Changed, detail));
        } else if let Some(head) = self.head.filter(|h| h.seq == event.seq) {
            if head.hash == event.hash {
                self.head_seen = true;
            } else {
                let detail = "it is not the event recorded as the chain's head: the chain was rewritten \
                              from here or from an earlier event"
                    .to_owned();
                self.state = State::Bad(bad(Problem::Changed, detail));
            }
        }
        if !self.failed() {
            self.expected_prev = event.hash;
            self.expected_seq = event.seq + 1;
        }
    }

    /// Checks `event`'s hash: keyed once the keyed chain has begun, else
    /// keyed (which begins it) or unkeyed. `Some(why)` when it fails.
    fn key_problem(&mut self, event: &ChainedEntry) -> Option<String> {
        let keyed = event.hash_matches(&self.key);
        if self.keyed {
            return (!keyed).then(|| {
                if event.unkeyed_hash_matches() {
                    "its hash is a plain SHA-256 where the chain is keyed: it was rewritten without \
                     the audit key"
                        .to_owned()
                } else {
                    "its stored fields no longer match its keyed hash".to_owned()
                }
            });
        }
        if keyed {
            let follows = ChainHead { seq: self.expected_seq - 1, hash: self.expected_prev };
            if self.unkeyed > 0 && recorded_unkeyed_head(&event.entry) != Some(follows) {
                return Some(format!(
                    "it is keyed but follows {} unkeyed events without a keyed start that names them: \
                     the chain was rewritten, or written with another key",
                    self.unkeyed
                ));
            }
            self.keyed = true;
            return None;
        }
        if event.entry.action == super::KEYED_START {
            return Some(
                "it claims to start the keyed chain but is not keyed with this server's audit key".into(),
            );
        }
        if !event.unkeyed_hash_matches() {
            return Some("its stored fields no longer match its hash".to_owned());
        }
        self.unkeyed += 1;
        self.first_unkeyed.get_or_insert_with(|| (event.seq, event.entry.id.clone()));
        None
    }

    /// The verdict once every stored event has been pushed.
    pub fn finish(self) -> Verdict {
        let first_bad = match self.state {
            State::Bad(bad) => Some(bad),
            State::Broken { seq, id, missing_seq, .. } => {
                let detail = if seq > missing_seq {
                    format!(
                        "{id} (seq {seq}) was chained after an event that is no longer stored; \
                         seq {missing_seq}{} missing",
                        if seq - missing_seq > 1 { format!("..{} are", seq - 1) } else { " is".into() }
                    )
                } else {
                    format!("{id} (seq {seq}) was chained after an event that is no longer stored")
                };
                Some(BadEvent { seq: missing_seq, id: None, problem: Problem::Removed, detail })
            }
            State::Intact => self.unkeyed_problem().or_else(|| self.tail_problem()),
        };
        Verdict { checked: self.checked, unkeyed: self.unkeyed, first_bad }
    }

    /// With every stored event intact: unkeyed events that no keyed start
    /// follows can be anyone's rewrite.
    fn unkeyed_problem(&self) -> Option<BadEvent> {
        if self.keyed {
            return None;
        }
        let (seq, id) = self.first_unkeyed.clone()?;
        let detail = format!(
            "none of the {} events is keyed with this server's audit key and no keyed start follows them: \
             the chain was rewritten without the key (or written with another master key)",
            self.unkeyed
        );
        Some(BadEvent { seq, id: Some(id), problem: Problem::Changed, detail })
    }

    /// With every stored event intact: is the recorded head the last one?
    fn tail_problem(&self) -> Option<BadEvent> {
        let removed = |detail: String| {
            Some(BadEvent { seq: self.expected_seq, id: None, problem: Problem::Removed, detail })
        };
        match self.head {
            None if self.checked == 0 => None,
            None => removed(
                "the record of the chain's head is missing, so events removed from the end cannot be ruled out"
                    .into(),
            ),
            Some(_) if self.head_seen => None,
            Some(head) if head.seq >= self.expected_seq => {
                let range = if head.seq > self.expected_seq {
                    format!("seq {}..{} were", self.expected_seq, head.seq)
                } else {
                    format!("seq {} was", head.seq)
                };
                removed(format!("the end of the chain is missing: {range} appended but are not stored"))
            }
            Some(head) => removed(format!(
                "the chain's recorded head (seq {}) is not among the stored events",
                head.seq
            )),
        }
    }
}

/// Checks a whole chain held in memory, in `seq` order, with `key`.
pub fn verify<'a>(
    key: &ChainKey,
    head: Option<ChainHead>,
    events: impl IntoIterator<Item = &'a ChainedEntry>,
) -> Verdict {
    let mut verifier = ChainVerifier::new(key.clone(), head);
    for event in events {
        verifier.push(event);
    }
    verifier.finish()
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
