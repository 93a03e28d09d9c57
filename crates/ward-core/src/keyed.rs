//! HMAC-SHA-256, the one keyed hash ward uses: the audit chain's links,
//! keys derived from the master key, and the keyed form of login names
//! that are no user. Pure: the key is passed in.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// `HMAC-SHA-256(key, parts[0] || parts[1] || …)`.
pub fn mac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_rfc_4231_test_case_2() {
        let got = mac(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        let hex: String = got.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }
}
