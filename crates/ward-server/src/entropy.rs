//! The OS CSPRNG as ward-core's [`Entropy`].

use ward_core::Entropy;

/// Reads the operating system's CSPRNG (getrandom).
#[derive(Debug, Default, Clone, Copy)]
pub struct OsEntropy;

impl Entropy for OsEntropy {
    fn fill(&mut self, buf: &mut [u8]) {
        // The OS generator failing leaves no safe way to issue a token.
        if let Err(e) = getrandom::fill(buf) {
            panic!("the operating system's random number generator failed: {e}");
        }
    }
}

/// A random password of `len` base62 characters.
pub fn random_password(len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        OsEntropy.fill(&mut buf);
        for &b in buf.iter().filter(|&&b| b < 248) {
            if out.len() == len {
                break;
            }
            out.push(char::from(ward_core::base62::ALPHABET[usize::from(b % 62)]));
        }
    }
    out
}
