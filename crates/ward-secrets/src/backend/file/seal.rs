//! The store file's authentication tag.
//!
//! age encrypts to a public recipient, and that recipient is in the file's
//! plaintext index: anyone who can write the file can replace it with one
//! that decrypts. The tag is HMAC-SHA-256 over the magic line, the index
//! and the ciphertext, keyed with a key derived from the secret identity,
//! so only the holder of the file key can write a file that is accepted.
//! The tag is checked before anything is decrypted.

use age::secrecy::ExposeSecret;
use age::x25519;
use ward_core::keyed;
use zeroize::Zeroizing;

/// Separates this key from any other use of the identity.
const KEY_LABEL: &[u8] = b"ward-secrets v2 store file tag";

/// `HMAC-SHA-256(HMAC-SHA-256(identity, label), signed || ciphertext)`.
pub fn tag(identity: &x25519::Identity, signed: &[u8], ciphertext: &[u8]) -> [u8; 32] {
    let secret = identity.to_string();
    let key = Zeroizing::new(keyed::mac(secret.expose_secret().as_bytes(), &[KEY_LABEL]));
    keyed::mac(key.as_slice(), &[signed, ciphertext])
}

/// Whether `expected` is the tag of `signed || ciphertext`, compared in
/// constant time.
pub fn verify(identity: &x25519::Identity, signed: &[u8], ciphertext: &[u8], expected: &[u8; 32]) -> bool {
    let actual = tag(identity, signed, ciphertext);
    actual.iter().zip(expected).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_verifies_only_its_own_bytes_under_its_own_key() {
        let owner = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let t = tag(&owner, b"head\n", b"cipher");
        assert!(verify(&owner, b"head\n", b"cipher", &t));
        assert!(!verify(&owner, b"head\n", b"cipheR", &t));
        assert!(!verify(&owner, b"Head\n", b"cipher", &t));
        assert!(!verify(&other, b"head\n", b"cipher", &t));
    }
}
