//! How a [`Verifier`] is set up: [`VerifierBuilder`] and [`OnStale`].

use super::Verifier;
use super::clock::Clock;
use crate::Client;
use std::time::Duration;

/// What the Verifier does while its revocation stream has been silent for
/// longer than the staleness bound (no event and no heartbeat), until the
/// stream speaks again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnStale {
    /// Refuse every token with [`crate::VerifyError::Stale`] (the layer
    /// answers 503): nothing is vouched for that ward could not confirm.
    #[default]
    FailClosed,
    /// Ask ward about every token (`POST /v1/verify`), as if there were no
    /// cache: correct, at the cost of one round trip per request, and ward
    /// must be reachable (the stream may be down for other reasons).
    Recheck,
}

/// Builds a [`Verifier`]. Start from [`Verifier::builder`].
#[derive(Debug, Clone)]
pub struct VerifierBuilder {
    pub(crate) client: Client,
    pub(crate) issuer: Option<String>,
    pub(crate) audience: Option<String>,
    pub(crate) staleness: Duration,
    pub(crate) on_stale: OnStale,
    pub(crate) capacity: usize,
    pub(crate) max_age: Duration,
    pub(crate) jwks_min_refresh: Duration,
    pub(crate) reconnect_max: Duration,
    pub(crate) clock: Clock,
}

impl VerifierBuilder {
    pub(crate) fn new(client: Client) -> Self {
        Self {
            client,
            issuer: None,
            audience: None,
            staleness: Duration::from_secs(15),
            on_stale: OnStale::FailClosed,
            capacity: 100_000,
            max_age: Duration::from_secs(600),
            jwks_min_refresh: Duration::from_secs(5),
            reconnect_max: Duration::from_secs(5),
            clock: Clock::system(),
        }
    }

    /// The `iss` signed tokens must carry. Default: the issuer in ward's
    /// `/.well-known/oauth-authorization-server`, asked once, or `ward`
    /// when the server has no `[server] issuer`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The `aud` signed tokens must carry (what `ward mint --audience`
    /// named). Without one, only signed tokens minted without an audience
    /// are accepted: a token meant for another service is refused.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// How long the stream may be silent before the cache stops being
    /// trusted (default 15 s; ward sends a heartbeat every 5 s by default,
    /// so keep this a few heartbeats long). Also how long a silent
    /// connection is kept before reconnecting. At least one second.
    pub fn staleness(mut self, bound: Duration) -> Self {
        self.staleness = bound.max(Duration::from_secs(1));
        self
    }

    /// What to do once the stream is stale (default [`OnStale::FailClosed`]).
    pub fn on_stale(mut self, on_stale: OnStale) -> Self {
        self.on_stale = on_stale;
        self
    }

    /// At most this many answers are cached (default 100 000).
    pub fn capacity(mut self, entries: usize) -> Self {
        self.capacity = entries.max(1);
        self
    }

    /// No answer is cached longer than this (default 10 min), whatever the
    /// token's own end, which also bounds every entry.
    pub fn max_age(mut self, age: Duration) -> Self {
        self.max_age = age;
        self
    }

    /// An unknown `kid` refetches the JWKS at most this often (default 5 s);
    /// in between, such a token is checked by ward instead.
    pub fn jwks_min_refresh(mut self, every: Duration) -> Self {
        self.jwks_min_refresh = every;
        self
    }

    /// The longest wait between reconnection attempts (default 5 s; the
    /// first is 100 ms, or the server's `retry:` hint, doubling up to this).
    pub fn reconnect_max(mut self, wait: Duration) -> Self {
        self.reconnect_max = wait.max(Duration::from_millis(100));
        self
    }

    /// Where the Verifier reads the time (default: the system clock).
    /// Tests pass [`crate::verifier::Clock::adjustable`] to move time.
    pub fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Starts the Verifier and its subscription to `GET /v1/events`. Must be
    /// called inside a Tokio runtime. It returns at once: until the stream
    /// has spoken, the Verifier behaves as stale (see [`OnStale`]); await
    /// [`Verifier::subscribed`] to wait for it.
    pub fn start(self) -> Verifier {
        Verifier::start(self)
    }
}
