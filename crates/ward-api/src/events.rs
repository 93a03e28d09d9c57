//! `GET /v1/events`: the revocation stream, as Server-Sent Events.
//!
//! Each event is one SSE message: `id:` a cursor the subscriber sends back
//! as `Last-Event-ID` to resume, `event:` the `kind` below, and `data:` the
//! event as JSON. An event names what ended — token ids, user ids, agent
//! names, key ids — never anything a caller could present as a credential.
//! Forgetting more than needed is always safe; a subscriber that receives
//! `reset` must drop every answer it cached.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One event of the revocation stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StreamEvent {
    /// One opaque token ended or changed (revoked, deleted, rotated — its
    /// end moved): forget what was cached about it.
    Token { token_id: String },
    /// Every token of this user ended (revoke-tokens, user deleted).
    User { user_id: String, user: String },
    /// One signed (minted) token was revoked.
    AgentToken { jti: String },
    /// Every signed token minted so far for this agent was revoked.
    Agent { agent: String },
    /// A signing key was retired: every token it signed is refused.
    Key { kid: String },
    /// The stream cannot tell what the subscriber missed (a gap, a restart,
    /// another node, a lost database notification): drop every cached
    /// answer.
    Reset { reason: String },
}

impl StreamEvent {
    /// The SSE `event:` name: the same as the `kind` field.
    pub fn kind(&self) -> &'static str {
        match self {
            StreamEvent::Token { .. } => "token",
            StreamEvent::User { .. } => "user",
            StreamEvent::AgentToken { .. } => "agent_token",
            StreamEvent::Agent { .. } => "agent",
            StreamEvent::Key { .. } => "key",
            StreamEvent::Reset { .. } => "reset",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_tagged_with_its_kind() {
        let event = StreamEvent::Token { token_id: "tok_1".into() };
        let json = serde_json::to_value(&event).expect("an event serialises");
        assert_eq!(json, serde_json::json!({"kind": "token", "token_id": "tok_1"}));
        assert_eq!(event.kind(), "token");
        let back: StreamEvent = serde_json::from_value(json).expect("an event reads back");
        assert_eq!(back, event);
    }

    #[test]
    fn every_kind_names_the_tag_serde_writes() {
        let all = [
            StreamEvent::Token { token_id: "tok_1".into() },
            StreamEvent::User { user_id: "usr_1".into(), user: "alice".into() },
            StreamEvent::AgentToken { jti: "agt_1".into() },
            StreamEvent::Agent { agent: "deploy-bot".into() },
            StreamEvent::Key { kid: "key_1".into() },
            StreamEvent::Reset { reason: "gap".into() },
        ];
        for event in all {
            let json = serde_json::to_value(&event).expect("an event serialises");
            assert_eq!(json["kind"], event.kind(), "{event:?}");
        }
    }
}
