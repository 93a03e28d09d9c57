//! The invalidation feed (`Store::invalidations`, issue 15), on every
//! backend: each committed change that ends credentials is heard once, as
//! it commits, naming what ended — every token and agent token of a
//! cascade, the user with their name, the agent, the retired key — and a
//! change that fails is never heard. PostgreSQL delivers it through
//! LISTEN/NOTIFY, SQLite through the process's own feed.
//!
//! Each write is followed by a probe (a token revoked): what is heard
//! before the probe's notice is exactly what that write announced.

use crate::agents::minted;
use crate::support::*;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use ward_core::{TokenId, TokenKind};
use ward_store::{Backend, Invalidation, KeyRecord, StoreError, UserRecord};

struct Feed {
    rx: UnboundedReceiver<Invalidation>,
    prober: UserRecord,
    minute: i64,
}

impl Feed {
    /// A feed that is listening: a probe was heard on it.
    async fn open(store: &dyn Backend) -> Self {
        let rx = store.invalidations().expect("every backend has a feed");
        let prober = add_user(store, human("prober", at(0))).await;
        let mut feed = Self { rx, prober, minute: 100 };
        // PostgreSQL's listener starts listening on its own task: probe
        // until one is heard.
        for _ in 0..50 {
            if feed.probe(store, Duration::from_millis(200)).await.is_some() {
                return feed;
            }
        }
        panic!("the feed never heard a probe");
    }

    /// Revokes a new token of the prober and returns what was heard before
    /// its notice, or `None` if it was not heard within `wait`.
    async fn probe(&mut self, store: &dyn Backend, wait: Duration) -> Option<Vec<Invalidation>> {
        self.minute += 1;
        let t = add_token(store, &self.prober, self.minute).await;
        assert!(store.revoke_token(&t.id, at(self.minute), &[]).await.expect("revoke the probe"));
        let mut heard = Vec::new();
        loop {
            match tokio::time::timeout(wait, self.rx.recv()).await {
                Ok(Some(Invalidation::Token(id))) if id == t.id => return Some(heard),
                // A listener (re)connecting says so; not a write's notice.
                Ok(Some(Invalidation::Resync)) => {}
                Ok(Some(other)) => heard.push(other),
                Ok(None) => panic!("the feed ended"),
                Err(_) => return None,
            }
        }
    }

    /// What the last write announced, sorted (one write's notices come in
    /// no promised order).
    async fn heard(&mut self, store: &dyn Backend) -> Vec<Invalidation> {
        let mut heard = self.probe(store, Duration::from_secs(5)).await.expect("the probe is heard");
        heard.sort_by_key(Invalidation::payload);
        heard
    }
}

fn sorted(mut all: Vec<Invalidation>) -> Vec<Invalidation> {
    all.sort_by_key(Invalidation::payload);
    all
}

async fn child(store: &dyn Backend, owner: &UserRecord, parent: &TokenId, minute: i64) -> TokenId {
    let mut t = token(owner, TokenKind::Pipeline, at(minute));
    t.record.parent_token_id = Some(parent.clone());
    add(store, t).await.id
}

pub async fn the_feed_names_each_token_and_agent_token_a_revocation_ends(store: &dyn Backend) {
    let mut feed = Feed::open(store).await;
    let alice = add_user(store, human("alice", at(0))).await;
    let root = add_token(store, &alice, 1).await;
    let kid = child(store, &alice, &root.id, 2).await;
    let mut agent = minted("builder", &alice, at(3));
    agent.parent_token_id = Some(kid.clone());
    store.insert_minted(&agent, &[]).await.expect("mint");
    let grandkid = child(store, &alice, &agent.jti, 4).await;
    assert!(feed.heard(store).await.is_empty(), "inserts end nothing");

    let ghost = token(&alice, TokenKind::Personal, at(5));
    assert!(matches!(store.revoke_token(&ghost.record.id, at(5), &[]).await, Err(StoreError::NotFound)));
    assert!(feed.heard(store).await.is_empty(), "a failed revoke is never heard");

    assert!(store.revoke_token(&root.id, at(6), &[]).await.expect("revoke"));
    assert_eq!(
        feed.heard(store).await,
        sorted(vec![
            Invalidation::Token(root.id.clone()),
            Invalidation::Token(kid),
            Invalidation::AgentToken(agent.jti.clone()),
            Invalidation::Token(grandkid),
        ])
    );
}

pub async fn the_feed_names_agent_tokens_by_jti_agents_by_name_and_retired_keys_by_kid(store: &dyn Backend) {
    let mut feed = Feed::open(store).await;
    let alice = add_user(store, human("alice", at(0))).await;
    let key = KeyRecord {
        kid: "key_01".into(),
        public_key: [1; 32],
        private_sealed: vec![1, 2, 3],
        created_at: at(0),
        retired_at: None,
    };
    store.insert_key(&key, &[]).await.expect("insert key");
    assert_eq!(
        feed.heard(store).await,
        vec![Invalidation::Keys],
        "a new key ends nothing, but reloads rings"
    );
    let one = minted("patcher", &alice, at(1));
    let two = minted("patcher", &alice, at(2));
    let three = minted("other", &alice, at(3));
    for m in [&one, &two, &three] {
        store.insert_minted(m, &[]).await.expect("mint");
    }

    assert!(store.revoke_minted(&one.jti, at(5), &[]).await.expect("revoke by jti"));
    assert_eq!(feed.heard(store).await, vec![Invalidation::AgentToken(one.jti.clone())]);
    assert_eq!(store.revoke_agent("patcher", None, at(6), &[]).await.expect("revoke by agent"), 1);
    assert_eq!(feed.heard(store).await, vec![Invalidation::Agent("patcher".into())]);
    assert_eq!(store.revoke_agent("patcher", None, at(7), &[]).await.expect("again"), 0);
    assert!(feed.heard(store).await.is_empty(), "nothing ended, nothing said");

    assert!(store.retire_key("key_01", at(8), &[]).await.expect("retire"));
    assert_eq!(feed.heard(store).await, vec![Invalidation::Key("key_01".into())]);
}

pub async fn the_feed_names_an_ending_user_by_id_and_name_and_each_agent_token_they_minted(
    store: &dyn Backend,
) {
    let mut feed = Feed::open(store).await;
    let alice = add_user(store, human("alice", at(0))).await;
    add_token(store, &alice, 1).await;
    let bot = minted("bot", &alice, at(2));
    store.insert_minted(&bot, &[]).await.expect("mint");
    let user = Invalidation::User { id: alice.id.clone(), name: "alice".into() };

    store.revoke_user_tokens(&alice.id, at(5), &[]).await.expect("revoke all");
    assert_eq!(
        feed.heard(store).await,
        sorted(vec![user.clone(), Invalidation::AgentToken(bot.jti.clone())])
    );
    store.delete_user(&alice.id, at(6), &[]).await.expect("delete");
    assert_eq!(feed.heard(store).await, vec![user], "a deleted user is named as they were");
}
