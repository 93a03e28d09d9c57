//! Changes that make cached verdicts stale or end credentials, announced by
//! the write that makes them, inside its own transaction, and heard by
//! every node when (and only if) it commits: on PostgreSQL through
//! LISTEN/NOTIFY (the writing node hears its own), on SQLite through the
//! process's own feed (`sqlite/announce.rs`). The server applies them to
//! its verify cache and publishes the ones that end credentials on the
//! revocation stream (`GET /v1/events`).
//!
//! Each names what changed by public ids and names only (token ids, jtis,
//! user ids and names, agent names, key ids), never anything a caller
//! could present.

use ward_core::{TokenId, UserId};

/// What a node must forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalidation {
    /// One token was revoked, deleted or ended by rotation.
    Token(TokenId),
    /// Every token of a user changed (revoke-tokens, user deleted, password
    /// changed or recovered). `name` is the user's name.
    User { id: UserId, name: String },
    /// One signed (minted) agent token was revoked, by its jti.
    AgentToken(TokenId),
    /// Every agent token minted so far for this agent name was revoked.
    Agent(String),
    /// This signing key was retired: every token it signed is refused.
    Key(String),
    /// Signing keys changed (a new one): the key ring reloads; nothing ended.
    Keys,
    /// Notifications may have been missed (the listener reconnected): forget
    /// everything.
    Resync,
}

impl Invalidation {
    /// The NOTIFY payload.
    pub fn payload(&self) -> String {
        match self {
            Invalidation::Token(id) => format!("token:{id}"),
            Invalidation::User { id, name } => format!("user:{id}:{name}"),
            Invalidation::AgentToken(jti) => format!("agent_token:{jti}"),
            Invalidation::Agent(name) => format!("agent:{name}"),
            Invalidation::Key(kid) => format!("key:{kid}"),
            Invalidation::Keys => "keys".to_owned(),
            Invalidation::Resync => "resync".to_owned(),
        }
    }

    /// Parses a payload; anything unknown means "forget everything".
    pub fn parse(payload: &str) -> Self {
        let token = |rest: &str| TokenId::parse(rest).ok();
        if let Some(id) = payload.strip_prefix("token:").and_then(token) {
            return Invalidation::Token(id);
        }
        if let Some(jti) = payload.strip_prefix("agent_token:").and_then(token) {
            return Invalidation::AgentToken(jti);
        }
        if let Some(rest) = payload.strip_prefix("user:") {
            // A payload of an older node has no name: the id still evicts.
            let (id, name) = rest.split_once(':').unwrap_or((rest, ""));
            if let Ok(id) = UserId::parse(id) {
                return Invalidation::User { id, name: name.to_owned() };
            }
        }
        if let Some(name) = payload.strip_prefix("agent:").filter(|n| !n.is_empty()) {
            return Invalidation::Agent(name.to_owned());
        }
        if let Some(kid) = payload.strip_prefix("key:").filter(|k| !k.is_empty()) {
            return Invalidation::Key(kid.to_owned());
        }
        if payload == "keys" { Invalidation::Keys } else { Invalidation::Resync }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    struct Fill(u8);
    impl ward_core::Entropy for Fill {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn every_invalidation_reads_back_from_its_payload() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let all = [
            Invalidation::Token(TokenId::generate(at, &mut Fill(1))),
            Invalidation::User { id: UserId::generate(at, &mut Fill(2)), name: "alice".into() },
            Invalidation::AgentToken(TokenId::generate(at, &mut Fill(3))),
            Invalidation::Agent("deploy-bot".into()),
            Invalidation::Key("key_abc".into()),
            Invalidation::Keys,
            Invalidation::Resync,
        ];
        for what in all {
            assert_eq!(Invalidation::parse(&what.payload()), what, "{}", what.payload());
        }
    }

    #[test]
    fn garbage_or_an_empty_name_means_forget_everything() {
        for bad in ["", "token:nope", "agent:", "key:", "user:x:alice", "something-new:1"] {
            assert_eq!(Invalidation::parse(bad), Invalidation::Resync, "{bad}");
        }
    }

    #[test]
    fn a_user_payload_without_a_name_still_names_the_user() {
        let at = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        let id = UserId::generate(at, &mut Fill(2));
        assert_eq!(
            Invalidation::parse(&format!("user:{id}")),
            Invalidation::User { id, name: String::new() }
        );
    }
}
