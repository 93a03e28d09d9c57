//! Signed agent tokens: compact JWS (JWT) with EdDSA (Ed25519), RFC 7519 /
//! RFC 8037. Header `{"alg":"EdDSA","typ":"JWT","kid"}`, claims `iss sub
//! scope exp iat jti` and, when the minter named one, `aud` (`scope`
//! space-separated, RFC 8693). Any JWT library
//! verifies them with the public keys of `/.well-known/jwks.json`.
//!
//! This module only encodes, decodes and checks signatures; whether a token
//! is revoked or its key retired is the server's question.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

/// The JOSE header ward writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    pub kid: String,
}

/// The claims of an agent token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The agent.
    pub sub: String,
    /// Space-separated scopes.
    pub scope: String,
    pub exp: i64,
    pub iat: i64,
    /// The token's id, `tok_…`.
    pub jti: String,
    /// The audience the minter named (`ward mint --audience`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

impl Claims {
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_ascii_whitespace()
    }
}

/// Why a string is not a well-formed, correctly signed ward JWT. Never
/// carries the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("not a JWT (expected three base64url parts)")]
    Shape,
    #[error("the JWT header or claims are not valid JSON of the expected shape")]
    Json,
    #[error("unsupported JWT algorithm: ward signs with EdDSA")]
    Algorithm,
    #[error("the JWT signature does not match")]
    Signature,
}

/// True for strings that look like a compact JWS (so they are not opaque
/// ward tokens).
pub fn looks_like_jwt(s: &str) -> bool {
    s.starts_with("eyJ") && s.bytes().filter(|&b| b == b'.').count() == 2
}

/// Signs `claims` with `key`, naming it `kid`.
pub fn encode(kid: &str, claims: &Claims, key: &SigningKey) -> String {
    let header = Header { alg: "EdDSA".into(), typ: Some("JWT".into()), kid: kid.into() };
    // Serializing these plain structs cannot fail.
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let claims = serde_json::to_vec(claims).unwrap_or_default();
    let signing_input = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(signature.to_bytes()))
}

/// A parsed, not yet verified token.
#[derive(Debug, Clone)]
pub struct Unverified {
    pub header: Header,
    pub claims: Claims,
    signing_input: String,
    signature: Signature,
}

/// Parses a compact JWS without checking its signature.
pub fn decode(token: &str) -> Result<Unverified, JwtError> {
    let mut parts = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Shape);
    };
    let bytes = |part: &str| B64.decode(part).map_err(|_| JwtError::Shape);
    let header: Header = serde_json::from_slice(&bytes(h)?).map_err(|_| JwtError::Json)?;
    if header.alg != "EdDSA" {
        return Err(JwtError::Algorithm);
    }
    let claims: Claims = serde_json::from_slice(&bytes(c)?).map_err(|_| JwtError::Json)?;
    let sig: [u8; 64] = bytes(s)?.try_into().map_err(|_| JwtError::Shape)?;
    Ok(Unverified {
        header,
        claims,
        signing_input: format!("{h}.{c}"),
        signature: Signature::from_bytes(&sig),
    })
}

impl Unverified {
    /// Checks the signature with `key`.
    pub fn verify(self, key: &VerifyingKey) -> Result<Claims, JwtError> {
        key.verify(self.signing_input.as_bytes(), &self.signature).map_err(|_| JwtError::Signature)?;
        Ok(self.claims)
    }
}

/// The JWK (RFC 8037 OKP) of a public key.
pub fn jwk(kid: &str, key: &VerifyingKey) -> serde_json::Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": B64.encode(key.as_bytes()),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn claims() -> Claims {
        Claims {
            iss: "ward".into(),
            sub: "grafana".into(),
            scope: "system:read container:read".into(),
            exp: 2_000_000_000,
            iat: 1_900_000_000,
            jti: "tok_x".into(),
            aud: None,
        }
    }

    #[test]
    fn an_audience_is_a_claim_only_when_named() {
        let payload = |c: &Claims| {
            let token = encode("key_1", c, &key(1));
            let part = token.split('.').nth(1).unwrap_or_default().to_owned();
            String::from_utf8(B64.decode(part).unwrap_or_default()).unwrap_or_default()
        };
        assert!(!payload(&claims()).contains("aud"));
        let with = Claims { aud: Some("grafana-api".into()), ..claims() };
        assert!(payload(&with).contains(r#""aud":"grafana-api""#), "{}", payload(&with));
        let token = encode("key_1", &with, &key(1));
        let back = decode(&token).and_then(|u| u.verify(&key(1).verifying_key()));
        assert_eq!(back.map(|c| c.aud), Ok(Some("grafana-api".into())));
    }

    #[test]
    fn a_signed_token_round_trips_and_verifies_with_its_key_only() {
        let token = encode("key_1", &claims(), &key(1));
        assert!(looks_like_jwt(&token));
        let parsed = decode(&token).expect("decodes");
        assert_eq!(parsed.header.kid, "key_1");
        assert_eq!(parsed.clone().verify(&key(1).verifying_key()), Ok(claims()));
        assert_eq!(parsed.verify(&key(2).verifying_key()), Err(JwtError::Signature));
    }

    #[test]
    fn a_changed_claim_breaks_the_signature() {
        let token = encode("key_1", &claims(), &key(1));
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims();
        forged.scope = "system:admin".into();
        parts[1] = B64.encode(serde_json::to_vec(&forged).expect("json"));
        let forged = parts.join(".");
        let parsed = decode(&forged).expect("decodes");
        assert_eq!(parsed.verify(&key(1).verifying_key()), Err(JwtError::Signature));
    }

    #[test]
    fn other_algorithms_and_shapes_are_refused() {
        let none = format!("{}.{}.", B64.encode(br#"{"alg":"none","kid":"k"}"#), B64.encode(b"{}"));
        assert_eq!(decode(&none).err(), Some(JwtError::Algorithm));
        assert_eq!(decode("a.b").err(), Some(JwtError::Shape));
        assert!(!looks_like_jwt("ward_u_abc"));
    }
}
