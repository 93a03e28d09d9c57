//! Password hashing with argon2id, always off the async runtime.

use crate::error::ApiError;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use ward_core::Password;

/// Hashes a password (argon2id, default parameters, random salt) in a
/// blocking thread.
pub async fn hash(password: Password) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
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
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => dummy_hash()?,
    };
    let ok = tokio::task::spawn_blocking(move || {
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
}
