//! The revocation stream, `GET /v1/events` (issue 15): every change that
//! ends credentials, published on every node as it commits, to subscribers
//! holding `ward:introspect` (services that cache verdicts; the SDK's
//! `Verifier`). See `docs/events.md`.
//!
//! Fed by the store's invalidation feed (`ward_store::Invalidation`, which
//! the ending write announces inside its own transaction): on PostgreSQL
//! every node, the writing one included, hears it through NOTIFY; on
//! SQLite the process's own feed delivers it after the COMMIT. The feed's
//! one follower (`crate::cache::follow`) evicts the verify cache first and
//! then publishes here, so a subscriber told of an end never finds the
//! ended credential still cached on this node.
//!
//! - `hub.rs`: the node's hub — cursors (`<epoch>-<seq>`), the replay
//!   ring, the broadcast, the subscriber bound;
//! - `stream.rs`: one subscriber's stream — replay or `reset`, live events,
//!   heartbeats, and the end of the stream when its credential ends;
//! - `settings.rs`: `[events]`.

pub mod hub;
pub mod settings;
pub mod stream;

pub use hub::Hub;
pub use settings::EventSettings;

use ward_api::StreamEvent;
use ward_store::Invalidation;

/// What the stream says of an invalidation: `None` for a change that ends
/// nothing (a new signing key).
pub fn announced(what: &Invalidation) -> Option<StreamEvent> {
    Some(match what {
        Invalidation::Token(id) => StreamEvent::Token { token_id: id.to_string() },
        Invalidation::User { id, name } => StreamEvent::User { user_id: id.to_string(), user: name.clone() },
        Invalidation::AgentToken(jti) => StreamEvent::AgentToken { jti: jti.to_string() },
        Invalidation::Agent(agent) => StreamEvent::Agent { agent: agent.clone() },
        Invalidation::Key(kid) => StreamEvent::Key { kid: kid.clone() },
        Invalidation::Keys => return None,
        Invalidation::Resync => StreamEvent::Reset { reason: hub::reason::LISTENER.to_owned() },
    })
}
