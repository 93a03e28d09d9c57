//! Password hashing with argon2id, always off the async runtime, and for
//! requests always under a bound.
//!
//! Each argon2id run holds about 19 MiB for its duration. [`Hasher`] lets at
//! most `login.max_concurrent_hashes` run at once (one per core by
//! default), lets `login.hash_queue` more wait at most `login.hash_wait`,
//! and answers the rest at once with 503 and `Retry-After`: a burst of
//! logins costs bounded memory and a bounded wait instead of both growing
//! with the burst. The unknown-user dummy check takes a permit the same way,
//! so it is bounded too and still takes as long as a real one.

use crate::config::HashLimits;
use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use ward_core::Password;

/// Runs password hashes for requests under [`HashLimits`].
#[derive(Debug)]
pub struct Hasher {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    limits: HashLimits,
}

/// Decrements the count of waiting hashes when a wait ends, however it ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    pub fn new(limits: HashLimits) -> Self {
        let permits = Arc::new(Semaphore::new(limits.concurrent.max(1)));
        Self { permits, waiting: AtomicUsize::new(0), limits }
    }

    /// A permit to run one hash: at once if one is free, else after a wait
    /// in a short queue; `Busy` when the queue is full or the wait is over.
    async fn permit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(permit);
        }
        let busy = || ApiError::Busy { retry_after: self.limits.wait.as_secs().max(1) };
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.limits.queue {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(busy());
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.limits.wait, self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(busy()),
        }
    }

    /// [`hash`] under the bound.
    pub async fn hash(&self, password: Password) -> Result<String, ApiError> {
        let permit = self.permit().await?;
        hash_with(password, Some(permit)).await
    }

    /// [`verify`] under the bound.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, ApiError> {
        let permit = self.permit().await?;
        verify_with(password, stored, Some(permit)).await
    }
}

/// Hashes a password (argon2id, default parameters, random salt) in a
/// blocking thread, with no bound: for the first admin and `recover-admin`,
/// which run once, not per request.
pub async fn hash(password: Password) -> Result<String, ApiError> {
    hash_with(password, None).await
}

/// The permit, if any, is held until the blocking work is done, even when
/// the request that wanted it is gone.
async fn hash_with(password: Password, permit: Option<OwnedSemaphorePermit>) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut salt_bytes = [0u8; 16];
        getrandom::fill(&mut salt_bytes).map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
        let salt =
            SaltString::encode_b64(&salt_bytes).map_err(|e| ApiError::Internal(format!("salt: {e}")))?;
        Argon2::default()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("argon2: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("hashing task: {e}")))?
}

/// Checks a password against a stored hash in a blocking thread. With no
/// stored hash (unknown user) it checks against a dummy so that the answer
/// takes as long either way.
pub async fn verify(password: Password, stored: Option<String>) -> Result<bool, ApiError> {
    verify_with(password, stored, None).await
}

async fn verify_with(
    password: Password,
    stored: Option<String>,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<bool, ApiError> {
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => dummy_hash()?,
    };
    let ok = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        PasswordHash::new(&stored)
            .map(|parsed| Argon2::default().verify_password(password.expose().as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("verify task: {e}")))?;
    Ok(ok && known)
}

fn dummy_hash() -> Result<String, ApiError> {
    static DUMMY: OnceLock<Option<String>> = OnceLock::new();
    DUMMY
        .get_or_init(|| {
            let salt = SaltString::encode_b64(b"ward-dummy-salt!").ok()?;
            Argon2::default().hash_password(b"no such user", &salt).ok().map(|h| h.to_string())
        })
        .clone()
        .ok_or_else(|| ApiError::Internal("argon2 dummy hash".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::any(s.to_owned()).expect("short test password")
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_and_nothing_else() {
        let h = hash(pw("correct horse")).await.expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify(pw("correct horse"), Some(h.clone())).await.expect("verify"));
        assert!(!verify(pw("wrong horse"), Some(h)).await.expect("verify"));
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify(pw("no such user"), None).await.expect("verify"));
    }

    #[tokio::test]
    async fn hashes_past_the_bound_and_its_queue_are_answered_busy_at_once() {
        let hasher = Arc::new(Hasher::new(HashLimits {
            concurrent: 1,
            queue: 1,
            wait: std::time::Duration::from_secs(30),
        }));
        let running = hasher.permit().await.expect("the one permit");
        let queued = tokio::spawn({
            let hasher = hasher.clone();
            async move { hasher.verify(pw("queued"), None).await }
        });
        while hasher.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        let refused = hasher.verify(pw("one too many"), None).await;
        assert!(matches!(refused, Err(ApiError::Busy { .. })), "{refused:?}");
        drop(running);
        assert!(!queued.await.expect("task").expect("the queued check ran"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_queued_hash_gives_up_after_the_wait() {
        let hasher =
            Hasher::new(HashLimits { concurrent: 1, queue: 4, wait: std::time::Duration::from_millis(500) });
        let _running = hasher.permit().await.expect("the one permit");
        let refused = hasher.verify(pw("waits too long"), None).await;
        assert!(matches!(refused, Err(ApiError::Busy { retry_after: 1 })), "{refused:?}");
        assert_eq!(hasher.waiting.load(Ordering::SeqCst), 0);
    }
}
