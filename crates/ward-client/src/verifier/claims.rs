//! The offline half of checking a signed token: signature (when the key is
//! known), `iss`, `aud`, `exp` and `nbf`, judged on the Verifier's clock.
//! Whether the token was revoked is ward's answer, not this module's.

use super::VerifyError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::VerifyingKey;
use serde::Deserialize;
use ward_core::signed::{self, Claims, Unverified};

/// A decoded signed token and the claims ward's own [`Claims`] do not keep.
#[derive(Debug, Clone)]
pub(crate) struct Decoded {
    pub unverified: Unverified,
    pub nbf: Option<i64>,
}

#[derive(Deserialize)]
struct Extra {
    nbf: Option<i64>,
}

/// Parses a compact JWS (EdDSA only); anything else is malformed.
pub(crate) fn decode(token: &str) -> Result<Decoded, VerifyError> {
    let unverified = signed::decode(token).map_err(|_| VerifyError::Malformed)?;
    let payload = token.split('.').nth(1).unwrap_or_default();
    let bytes = B64.decode(payload).map_err(|_| VerifyError::Malformed)?;
    let extra: Extra = serde_json::from_slice(&bytes).map_err(|_| VerifyError::Malformed)?;
    Ok(Decoded { unverified, nbf: extra.nbf })
}

/// What the claims must say.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expect<'a> {
    pub issuer: &'a str,
    /// The service's audience; `None`: only tokens minted without one.
    pub audience: Option<&'a str>,
    /// Seconds since the epoch.
    pub now: i64,
}

/// Checks the signature with `key` (skipped when `None`: ward will be asked,
/// and it checks the signature itself), then the claims.
pub(crate) fn check(
    decoded: Decoded,
    key: Option<&VerifyingKey>,
    expect: Expect<'_>,
) -> Result<Claims, VerifyError> {
    let Decoded { unverified, nbf } = decoded;
    let claims = match key {
        Some(key) => unverified.verify(key).map_err(|_| VerifyError::Malformed)?,
        None => unverified.claims,
    };
    if claims.iss != expect.issuer {
        return Err(VerifyError::WrongIssuer);
    }
    if claims.aud.as_deref() != expect.audience {
        return Err(VerifyError::WrongAudience);
    }
    if claims.exp <= expect.now {
        return Err(VerifyError::Expired);
    }
    if nbf.is_some_and(|nbf| nbf > expect.now) {
        return Err(VerifyError::NotYetValid);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    fn claims() -> Claims {
        Claims {
            iss: "https://ward.example.com".into(),
            sub: "deploy-bot".into(),
            scope: "system:read".into(),
            exp: 2_000,
            iat: 1_000,
            jti: "tok_1".into(),
            aud: Some("stacks-api".into()),
        }
    }

    fn expect(now: i64) -> Expect<'static> {
        Expect { issuer: "https://ward.example.com", audience: Some("stacks-api"), now }
    }

    fn token(c: &Claims, seed: u8) -> String {
        signed::encode("key_a", c, &SigningKey::from_bytes(&[seed; 32]))
    }

    fn key(seed: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[seed; 32]).verifying_key()
    }

    fn checked(token: &str, key: Option<&VerifyingKey>, expect: Expect<'_>) -> Result<Claims, VerifyError> {
        decode(token).and_then(|d| check(d, key, expect))
    }

    #[test]
    fn a_good_token_passes_with_its_key_and_fails_with_another() {
        let t = token(&claims(), 1);
        assert_eq!(checked(&t, Some(&key(1)), expect(1_500)).map(|c| c.jti), Ok("tok_1".into()));
        assert_eq!(checked(&t, Some(&key(2)), expect(1_500)).err(), Some(VerifyError::Malformed));
    }

    #[test]
    fn issuer_audience_and_expiry_are_checked() {
        let t = token(&claims(), 1);
        let k = Some(key(1));
        let other_iss = Expect { issuer: "ward", ..expect(1_500) };
        assert_eq!(checked(&t, k.as_ref(), other_iss).err(), Some(VerifyError::WrongIssuer));
        let other_aud = Expect { audience: Some("billing"), ..expect(1_500) };
        assert_eq!(checked(&t, k.as_ref(), other_aud).err(), Some(VerifyError::WrongAudience));
        let no_aud = Expect { audience: None, ..expect(1_500) };
        assert_eq!(checked(&t, k.as_ref(), no_aud).err(), Some(VerifyError::WrongAudience));
        assert_eq!(checked(&t, k.as_ref(), expect(2_000)).err(), Some(VerifyError::Expired));
    }

    #[test]
    fn a_token_before_its_nbf_is_not_yet_valid() {
        let header = B64.encode(br#"{"alg":"EdDSA","typ":"JWT","kid":"key_a"}"#);
        let mut body = serde_json::to_value(claims()).expect("json");
        body["nbf"] = 1_800.into();
        let body = B64.encode(serde_json::to_vec(&body).expect("json"));
        let input = format!("{header}.{body}");
        let sig = ed25519_dalek::Signer::sign(&SigningKey::from_bytes(&[1; 32]), input.as_bytes());
        let t = format!("{input}.{}", B64.encode(sig.to_bytes()));
        assert_eq!(checked(&t, Some(&key(1)), expect(1_500)).err(), Some(VerifyError::NotYetValid));
        assert!(checked(&t, Some(&key(1)), expect(1_900)).is_ok());
    }

    #[test]
    fn garbage_and_other_algorithms_are_malformed() {
        assert_eq!(decode("eyJ.a.b").err(), Some(VerifyError::Malformed));
        let none = format!("{}.{}.", B64.encode(br#"{"alg":"none","kid":"k"}"#), B64.encode(b"{}"));
        assert_eq!(decode(&none).err(), Some(VerifyError::Malformed));
    }
}
