//! [`Verifier`]: ward tokens checked inside the service.
//!
//! - **Opaque tokens** (`ward_p_…`): shape and checksum are checked here (a
//!   typo never reaches ward); a token seen for the first time is asked
//!   about through `POST /v1/verify` (the Verifier's own credential holds
//!   `ward:introspect`), and ward's answer is cached under SHA-256(token) —
//!   never the token — until the token's end, `max_age`, or an event of
//!   the stream ends it.
//! - **Signed tokens** (JWT, EdDSA): the signature is checked offline with
//!   the cached JWKS (refetched on an unknown `kid`, rate-limited), then
//!   `iss`, `aud`, `exp` and `nbf`. A JWT says nothing of its revocation,
//!   so the first sight of each token is confirmed once through
//!   `/v1/verify` — that catches a revocation that happened before this
//!   Verifier subscribed, or while its stream was away — and then cached
//!   like an opaque one (keyed by SHA-256 of its signature) until its
//!   `exp` or an event (`agent_token`,
//!   `agent`, `key`, `user`, `reset`). The scopes are the ones ward
//!   answered: the token's, cut to what its minter may still hold.
//! - **The stream** (`GET /v1/events`): every event evicts
//!   at once; an answer that raced an eviction is not cached (a generation
//!   counter). When the stream has been silent for longer than the
//!   staleness bound, the cache is not used — every token fails
//!   ([`OnStale::FailClosed`]) or goes to ward ([`OnStale::Recheck`]) —
//!   until the stream speaks again after a reconnect (with backoff and
//!   `Last-Event-ID`, so the server replays what was missed or says
//!   `reset`).

mod cache;
mod claims;
mod clock;
mod config;
mod error;
mod jwks;
mod principal;
mod sse;
mod stream;

pub use clock::{Clock, ClockHand};
pub use config::{OnStale, VerifierBuilder};
pub use error::VerifyError;
pub use principal::Principal;
pub use stream::StreamStatus;

use crate::{Client, Error};
use cache::{Cache, Key, Tags};
use chrono::{DateTime, Utc};
use jwks::{Jwks, Lookup};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use ward_api::{AuthorizeRequest, AuthorizeResponse, VerifyRequest, VerifyResponse};
use ward_core::signed::looks_like_jwt;

/// The longest token string looked at; anything longer is malformed.
const MAX_TOKEN: usize = 8 * 1024;

/// Verifies ward tokens in process. Cheap to clone (clones share one
/// cache and one subscription, which ends when the last clone is dropped).
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
    _task: Arc<stream::Task>,
}

pub(crate) struct Inner {
    client: Client,
    cache: Cache,
    jwks: Jwks,
    audience: Option<String>,
    staleness_ms: u64,
    on_stale: OnStale,
    max_age_ms: i64,
    clock: Clock,
    /// Clock ticks + 1 of the last frame read from the stream; 0: never.
    last_heard: AtomicU64,
    counters: Counters,
    status: tokio::sync::watch::Sender<StreamStatus>,
}

#[derive(Default)]
struct Counters {
    misses: AtomicU64,
    verify_calls: AtomicU64,
    authorize_calls: AtomicU64,
    jwks_fetches: AtomicU64,
}

/// What a Verifier did so far: how often it had to ask ward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Tokens that were not answered from the cache.
    pub misses: u64,
    /// `POST /v1/verify` calls made.
    pub verify_calls: u64,
    /// `POST /v1/authorize` calls made.
    pub authorize_calls: u64,
    /// JWKS fetches made.
    pub jwks_fetches: u64,
    /// Answers held in the cache now.
    pub cached: usize,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("server", &self.inner.client.base_url())
            .field("on_stale", &self.inner.on_stale)
            .field("cached", &self.inner.cache.len())
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A builder for a Verifier that asks ward through `client`, whose token
    /// must hold `ward:introspect` (and `/v1/events` needs it too).
    pub fn builder(client: Client) -> VerifierBuilder {
        VerifierBuilder::new(client)
    }

    fn start(b: VerifierBuilder) -> Self {
        let (status, _) = tokio::sync::watch::channel(StreamStatus::default());
        let inner = Arc::new(Inner {
            cache: Cache::new(b.capacity),
            jwks: Jwks::new(millis(b.jwks_min_refresh), b.issuer),
            audience: b.audience,
            staleness_ms: millis(b.staleness),
            on_stale: b.on_stale,
            max_age_ms: i64::try_from(millis(b.max_age)).unwrap_or(i64::MAX),
            clock: b.clock,
            last_heard: AtomicU64::new(0),
            counters: Counters::default(),
            status,
            client: b.client,
        });
        let task = stream::Task::spawn(inner.clone(), b.reconnect_max);
        Self { inner, _task: Arc::new(task) }
    }

    /// Verifies `token` (opaque or signed): the principal it speaks for, or
    /// why not. Answers from the cache while the stream is fresh; asks ward
    /// otherwise (see the module docs).
    pub async fn verify(&self, token: &str) -> Result<Principal, VerifyError> {
        let inner = &*self.inner;
        if token.is_empty() || token.len() > MAX_TOKEN {
            return Err(VerifyError::Malformed);
        }
        let key = cache_key(token);
        let fresh = inner.fresh();
        if fresh && let Some(principal) = inner.cache.get(&key, inner.clock.now_ms()) {
            return Ok(principal);
        }
        inner.counters.misses.fetch_add(1, Ordering::Relaxed);
        if !fresh && inner.on_stale == OnStale::FailClosed {
            return Err(VerifyError::Stale { quiet_for: inner.quiet_for() });
        }
        if looks_like_jwt(token) {
            inner.verify_signed(token, key).await
        } else {
            inner.verify_opaque(token, key).await
        }
    }

    /// Asks ward whether `token` may perform `operation` (`POST
    /// /v1/authorize`, never cached: approvals are spent and decisions
    /// audited there). `approval_id` spends an approval; `auto_approve`
    /// confirms an `auto_approve` operation.
    pub async fn authorize(
        &self,
        token: &str,
        operation: &str,
        approval_id: Option<String>,
        auto_approve: bool,
    ) -> Result<AuthorizeResponse, Error> {
        self.inner.counters.authorize_calls.fetch_add(1, Ordering::Relaxed);
        let request = AuthorizeRequest {
            token: Some(token.to_owned()),
            operation: operation.to_owned(),
            auto_approve,
            approval_id,
        };
        self.inner.client.authorize(&request).await
    }

    /// Whether the cache is trusted now: the stream spoke within the bound.
    pub fn is_fresh(&self) -> bool {
        self.inner.fresh()
    }

    /// The subscription's state, updated as frames arrive: for readiness
    /// probes and metrics (and tests that wait for an event to land).
    pub fn stream_status(&self) -> tokio::sync::watch::Receiver<StreamStatus> {
        self.inner.status.subscribe()
    }

    /// Waits until the stream has spoken (the cache can be trusted), or
    /// `timeout` passes; returns whether it did.
    pub async fn subscribed(&self, timeout: Duration) -> bool {
        let mut status = self.stream_status();
        let heard =
            matches!(tokio::time::timeout(timeout, status.wait_for(|s| s.frames > 0)).await, Ok(Ok(_)));
        heard && self.is_fresh()
    }

    /// How often ward was asked so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            misses: c.misses.load(Ordering::Relaxed),
            verify_calls: c.verify_calls.load(Ordering::Relaxed),
            authorize_calls: c.authorize_calls.load(Ordering::Relaxed),
            jwks_fetches: c.jwks_fetches.load(Ordering::Relaxed),
            cached: self.inner.cache.len(),
        }
    }
}

impl Inner {
    fn fresh(&self) -> bool {
        let heard = self.last_heard.load(Ordering::Acquire);
        heard != 0 && self.clock.ticks_ms().saturating_sub(heard - 1) <= self.staleness_ms
    }

    fn quiet_for(&self) -> Duration {
        match self.last_heard.load(Ordering::Acquire) {
            0 => Duration::ZERO,
            heard => Duration::from_millis(self.clock.ticks_ms().saturating_sub(heard - 1)),
        }
    }

    /// The stream just spoke.
    fn heard(&self) {
        self.last_heard.store(self.clock.ticks_ms() + 1, Ordering::Release);
    }

    async fn verify_opaque(&self, token: &str, key: Key) -> Result<Principal, VerifyError> {
        if ward_core::token::inspect(token).is_err() {
            return Err(VerifyError::Malformed);
        }
        let generation = self.cache.generation();
        let answer = self.ask(token).await?;
        let principal = principal(&answer)?;
        let ends = self.ends(answer.expires_at, None);
        let tags = Tags {
            token_id: principal.token_id().to_owned(),
            subject: principal.subject().to_owned(),
            kid: None,
        };
        self.remember(generation, key, &principal, ends, tags);
        Ok(principal)
    }

    async fn verify_signed(&self, token: &str, key: Key) -> Result<Principal, VerifyError> {
        let decoded = claims::decode(token)?;
        let kid = decoded.unverified.header.kid.clone();
        let ticks = || self.clock.ticks_ms();
        let found = self
            .jwks
            .key(&self.client, &kid, ticks, &self.counters.jwks_fetches)
            .await
            .map_err(unavailable)?;
        let issuer = self.jwks.issuer(&self.client).await.map_err(unavailable)?;
        let expect = claims::Expect {
            issuer: &issuer,
            audience: self.audience.as_deref(),
            now: self.clock.now().timestamp(),
        };
        // An unknown kid (even after a refetch) is not refused here: ward
        // checks the signature itself, and a key it does not know is NOT_FOUND.
        let signing_key = match found {
            Lookup::Found(k) => Some(k),
            Lookup::Unknown => None,
        };
        let claims = claims::check(decoded, signing_key.as_ref(), expect)?;
        let generation = self.cache.generation();
        let answer = self.ask(token).await?;
        let principal = principal(&answer)?;
        let exp = DateTime::from_timestamp(claims.exp, 0);
        let ends = self.ends(answer.expires_at, exp);
        let tags = Tags {
            token_id: principal.token_id().to_owned(),
            subject: principal.subject().to_owned(),
            kid: Some(kid),
        };
        self.remember(generation, key, &principal, ends, tags);
        Ok(principal)
    }

    /// `POST /v1/verify`.
    async fn ask(&self, token: &str) -> Result<VerifyResponse, VerifyError> {
        self.counters.verify_calls.fetch_add(1, Ordering::Relaxed);
        self.client.verify(&VerifyRequest { token: token.to_owned() }).await.map_err(unavailable)
    }

    /// When a cached answer stops being used: the earliest of the token's
    /// ends and `max_age` from now.
    fn ends(&self, expires_at: Option<DateTime<Utc>>, exp: Option<DateTime<Utc>>) -> i64 {
        let now = self.clock.now_ms();
        [expires_at, exp]
            .into_iter()
            .flatten()
            .map(|t| t.timestamp_millis())
            .fold(now.saturating_add(self.max_age_ms), i64::min)
    }

    /// Caches an answer, only while the stream is fresh (a stale Verifier
    /// rechecking every token must not fill the cache with answers no event
    /// would have evicted).
    fn remember(&self, generation: u64, key: Key, principal: &Principal, ends: i64, tags: Tags) {
        if self.fresh() {
            self.cache.insert(generation, key, principal.clone(), ends, tags, self.clock.now_ms());
        }
    }
}

/// The principal of a `VALID` answer, or the refusal its code means.
fn principal(answer: &VerifyResponse) -> Result<Principal, VerifyError> {
    if let Some(refusal) = VerifyError::from_code(&answer.code) {
        return Err(refusal);
    }
    if !answer.valid {
        return Err(VerifyError::NotFound);
    }
    let (Some(token_id), Some(subject)) = (answer.token_id.clone(), answer.user.clone()) else {
        return Err(VerifyError::Unavailable { reason: "ward's answer named no token id or subject".into() });
    };
    Ok(Principal::new(subject, token_id, answer.token_type, answer.scopes.clone(), answer.expires_at))
}

/// Where a token's answer is cached: SHA-256 of an opaque token; of a
/// signed token, SHA-256 of its signature segment only (86 characters
/// instead of the whole ~300: the hit stays under 300 ns). The signature
/// covers header and claims, so only the token it was made for can carry
/// it; a string that reuses a cached signature with other claims is
/// answered as that token — whose signature, its one secret part, the
/// presenter already holds. An opaque ward token never starts with `eyJ`
/// (its prefix is lowercase).
fn cache_key(token: &str) -> Key {
    let hashed = match token.rsplit_once('.') {
        Some((_, signature)) if token.starts_with("eyJ") => signature,
        _ => token,
    };
    Sha256::digest(hashed.as_bytes()).into()
}

fn unavailable(err: Error) -> VerifyError {
    let reason = match &err {
        Error::Api { status: 401 | 403, message, .. } => format!(
            "ward refused the Verifier's own token ({message}): give it a valid token that holds ward:introspect"
        ),
        other => other.to_string(),
    };
    VerifyError::Unavailable { reason }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
