//! The opaque token format: `{prefix}_{kind}_{secret}{checksum}`.
//!
//! - `prefix`: per deployment, 2-8 chars `[a-z0-9]` (default `ward`);
//! - `kind`: one letter, see [`TokenKind`];
//! - `secret`: 32 base62 chars from the caller's CSPRNG (about 190 bits);
//! - `checksum`: 6 base62 chars of CRC32 over everything before it.
//!
//! A [`PlainToken`] exists only between creation and the response that shows
//! it once; its `Debug` is redacted and its memory is zeroed on drop. What is
//! stored is the [`TokenHash`] (SHA-256) and a short display start.

use crate::base62;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// Length of the random part of a token.
pub const SECRET_LEN: usize = 32;
/// Length of the base62 CRC32 checksum.
pub const CHECKSUM_LEN: usize = 6;
/// How many secret characters the display start keeps.
const DISPLAY_SECRET_CHARS: usize = 4;

/// A source of cryptographically secure random bytes (the OS CSPRNG in the
/// server, a fixed sequence in tests).
pub trait Entropy {
    fn fill(&mut self, buf: &mut [u8]);
}

/// What a token is for; the letter is part of the token string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    Personal,
    Pipeline,
    Service,
    Registry,
    Login,
    /// A signed agent token (JWT) from `ward mint`; it has no letter.
    Agent,
}

impl TokenKind {
    /// The kinds of opaque tokens, which carry a letter.
    pub const ALL: [TokenKind; 5] =
        [TokenKind::Personal, TokenKind::Pipeline, TokenKind::Service, TokenKind::Registry, TokenKind::Login];

    /// Every kind: the opaque ones and the signed agent token.
    pub const EVERY: [TokenKind; 6] = [
        TokenKind::Personal,
        TokenKind::Pipeline,
        TokenKind::Service,
        TokenKind::Registry,
        TokenKind::Login,
        TokenKind::Agent,
    ];

    pub fn letter(self) -> char {
        match self {
            TokenKind::Personal => 'u',
            TokenKind::Pipeline => 'p',
            TokenKind::Service => 's',
            TokenKind::Registry => 'r',
            TokenKind::Login => 'l',
            TokenKind::Agent => 'a',
        }
    }

    pub fn from_letter(letter: char) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.letter() == letter)
    }

    /// The name used in the API, the CLI and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Personal => "personal",
            TokenKind::Pipeline => "pipeline",
            TokenKind::Service => "service",
            TokenKind::Registry => "registry",
            TokenKind::Login => "login",
            TokenKind::Agent => "agent",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown token type name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown token type '{0}': use personal, pipeline, service or registry")]
pub struct UnknownKind(String);

impl FromStr for TokenKind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .chain([TokenKind::Agent])
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.chars().take(40).collect()))
    }
}

/// The deployment's token prefix: 2-8 chars `[a-z0-9]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Prefix(String);

/// A prefix that does not fit the rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid token prefix '{0}': use 2 to 8 characters a-z or 0-9")]
pub struct InvalidPrefix(String);

impl Prefix {
    pub fn parse(s: &str) -> Result<Self, InvalidPrefix> {
        if Self::is_valid(s) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidPrefix(s.chars().take(40).collect()))
        }
    }

    /// The rule of [`Prefix::parse`], without building anything.
    fn is_valid(s: &str) -> bool {
        (2..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Self("ward".to_owned())
    }
}

/// Why a string is not a well-formed token. Never carries the string itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Malformed {
    #[error("the token does not have the shape prefix_kind_secret")]
    Shape,
    #[error("the token's type letter is unknown")]
    Kind,
    #[error("the token's checksum does not match (a typo, or not a ward token)")]
    Checksum,
}

/// A complete token string, shown once. `Debug` prints `PlainToken(***)`.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainToken(Zeroizing<String>);

impl fmt::Debug for PlainToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainToken(***)")
    }
}

impl PlainToken {
    /// Draws a new token of `kind` from `entropy`.
    pub fn generate(prefix: &Prefix, kind: TokenKind, entropy: &mut dyn Entropy) -> Self {
        let mut body = String::with_capacity(prefix.0.len() + 3 + SECRET_LEN + CHECKSUM_LEN);
        body.push_str(&prefix.0);
        body.push('_');
        body.push(kind.letter());
        body.push('_');
        let mut produced = 0;
        let mut buf = [0u8; 48];
        while produced < SECRET_LEN {
            entropy.fill(&mut buf);
            // Rejection sampling keeps every character equally likely:
            // 248 = 4 * 62, so bytes >= 248 are dropped.
            for &b in buf.iter().filter(|&&b| b < 248) {
                if produced == SECRET_LEN {
                    break;
                }
                body.push(char::from(base62::ALPHABET[usize::from(b % 62)]));
                produced += 1;
            }
        }
        let checksum = checksum(&body);
        body.push_str(&checksum);
        Self(Zeroizing::new(body))
    }

    /// Checks shape, kind letter and checksum without touching any store.
    pub fn parse(s: &str) -> Result<Self, Malformed> {
        inspect(s)?;
        Ok(Self(Zeroizing::new(s.to_owned())))
    }

    /// The token string, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn kind(&self) -> TokenKind {
        // Parsed or generated, so the shape is known to be valid.
        inspect(&self.0).map(|t| t.kind).unwrap_or(TokenKind::Personal)
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }

    /// The start kept for display: `ward_p_Ab3x`.
    pub fn display_start(&self) -> String {
        let head = self.0.len() - SECRET_LEN - CHECKSUM_LEN;
        self.0[..head + DISPLAY_SECRET_CHARS].to_owned()
    }
}

/// The parts of a token string that has passed the shape and checksum check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inspected<'a> {
    pub prefix: &'a str,
    pub kind: TokenKind,
}

/// Shape, kind and checksum check on a borrowed string (the verify hot path).
/// Allocates nothing, whether the string passes or not.
pub fn inspect(s: &str) -> Result<Inspected<'_>, Malformed> {
    let tail_len = SECRET_LEN + CHECKSUM_LEN;
    if !s.is_ascii() || s.len() < 2 + 3 + tail_len || s.len() > 8 + 3 + tail_len {
        return Err(Malformed::Shape);
    }
    let (head, tail) = s.split_at(s.len() - tail_len);
    let bytes = head.as_bytes();
    let n = bytes.len();
    if bytes[n - 1] != b'_' || bytes[n - 3] != b'_' {
        return Err(Malformed::Shape);
    }
    let prefix = &head[..n - 3];
    if !Prefix::is_valid(prefix) || !base62::is_base62(tail) {
        return Err(Malformed::Shape);
    }
    let kind = TokenKind::from_letter(char::from(bytes[n - 2])).ok_or(Malformed::Kind)?;
    let (body, sum) = s.split_at(s.len() - CHECKSUM_LEN);
    // Compared as numbers, not as text: a string of CHECKSUM_LEN base62
    // digits has exactly one value and every value below 62^6 exactly one
    // such string, so this accepts exactly the strings `checksum(body)`
    // renders. The comparison is in u64, so a value at or above 2^32 (which
    // the rendering never produces) cannot match a CRC32.
    if base62::decode(sum.as_bytes()) != Some(checksum_value(body)) {
        return Err(Malformed::Checksum);
    }
    Ok(Inspected { prefix, kind })
}

/// The CRC32 of everything before the checksum, as the number it encodes.
fn checksum_value(body: &str) -> u64 {
    u64::from(crc32fast::hash(body.as_bytes()))
}

/// The checksum as it is written into a token: `CHECKSUM_LEN` base62 digits.
fn checksum(body: &str) -> String {
    base62::encode_fixed(checksum_value(body), CHECKSUM_LEN)
}

/// SHA-256 of a token string: the only form a token is stored in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(token: &str) -> Self {
        Self(Sha256::digest(token.as_bytes()).into())
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash(")?;
        for b in &self.0[..4] {
            write!(f, "{b:02x}")?;
        }
        write!(f, "…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A deterministic byte stream for tests.
    pub(crate) struct Counter(u8);
    impl Entropy for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                *b = self.0;
                self.0 = self.0.wrapping_add(37);
            }
        }
    }

    fn token(kind: TokenKind) -> PlainToken {
        PlainToken::generate(&Prefix::default(), kind, &mut Counter(1))
    }

    #[test]
    fn generated_token_has_the_documented_shape() {
        let t = token(TokenKind::Pipeline);
        let s = t.expose();
        assert!(s.starts_with("ward_p_"), "{s}");
        assert_eq!(s.len(), "ward_p_".len() + SECRET_LEN + CHECKSUM_LEN);
        assert_eq!(PlainToken::parse(s), Ok(t.clone()));
        assert_eq!(t.kind(), TokenKind::Pipeline);
        assert_eq!(t.display_start().len(), "ward_p_".len() + 4);
    }

    #[test]
    fn a_changed_character_fails_the_checksum() {
        let t = token(TokenKind::Personal);
        let mut s = t.expose().to_owned();
        let i = 10;
        let c = if &s[i..=i] == "a" { "b" } else { "a" };
        s.replace_range(i..=i, c);
        assert_eq!(PlainToken::parse(&s), Err(Malformed::Checksum));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let t = token(TokenKind::Service);
        assert_eq!(format!("{t:?}"), "PlainToken(***)");
        assert!(!format!("{:?}", t.hash()).contains(t.expose()));
    }

    #[test]
    fn random_strings_and_wrong_shapes_are_malformed() {
        for bad in [
            "",
            "ward",
            "ward_x_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "WARD_p_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "ward_p_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "ward_p_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-AA",
        ] {
            assert!(PlainToken::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn prefix_rules() {
        assert!(Prefix::parse("acme").is_ok());
        assert!(Prefix::parse("a").is_err());
        assert!(Prefix::parse("toolongpx").is_err());
        assert!(Prefix::parse("Ac").is_err());
    }

    /// `inspect` as it was before the checksum was compared as a number:
    /// the reference its accept/reject behaviour must keep matching.
    fn inspect_as_text(s: &str) -> Result<Inspected<'_>, Malformed> {
        let tail_len = SECRET_LEN + CHECKSUM_LEN;
        if !s.is_ascii() || s.len() < 2 + 3 + tail_len || s.len() > 8 + 3 + tail_len {
            return Err(Malformed::Shape);
        }
        let (head, tail) = s.split_at(s.len() - tail_len);
        let bytes = head.as_bytes();
        let n = bytes.len();
        if bytes[n - 1] != b'_' || bytes[n - 3] != b'_' {
            return Err(Malformed::Shape);
        }
        let prefix = &head[..n - 3];
        if Prefix::parse(prefix).is_err() || !base62::is_base62(tail) {
            return Err(Malformed::Shape);
        }
        let kind = TokenKind::from_letter(char::from(bytes[n - 2])).ok_or(Malformed::Kind)?;
        let (body, sum) = s.split_at(s.len() - CHECKSUM_LEN);
        if checksum(body) != sum {
            return Err(Malformed::Checksum);
        }
        Ok(Inspected { prefix, kind })
    }

    /// A token's body (all but the checksum) and its checksum.
    fn body_and_sum(t: &PlainToken) -> (&str, &str) {
        t.expose().split_at(t.expose().len() - CHECKSUM_LEN)
    }

    #[test]
    fn tokens_generated_by_the_crate_pass_inspection() {
        for prefix in ["ward", "ab", "acme2024"] {
            let prefix = Prefix::parse(prefix).expect("valid prefix");
            for seed in 0..=u8::MAX {
                for kind in TokenKind::ALL {
                    let t = PlainToken::generate(&prefix, kind, &mut Counter(seed));
                    let inspected = inspect(t.expose());
                    assert_eq!(inspected, Ok(Inspected { prefix: prefix.as_str(), kind }));
                    assert_eq!(inspected, inspect_as_text(t.expose()));
                }
            }
        }
    }

    #[test]
    fn every_single_character_change_of_the_checksum_is_rejected() {
        for seed in [0u8, 1, 77, 200, 255] {
            let t = PlainToken::generate(&Prefix::default(), TokenKind::Login, &mut Counter(seed));
            let original = t.expose();
            let sum_start = original.len() - CHECKSUM_LEN;
            for pos in sum_start..original.len() {
                for b in 0..=u8::MAX {
                    let mut bytes = original.as_bytes().to_vec();
                    if bytes[pos] == b {
                        continue;
                    }
                    bytes[pos] = b;
                    let changed = String::from_utf8_lossy(&bytes);
                    let expected =
                        if b.is_ascii_alphanumeric() { Malformed::Checksum } else { Malformed::Shape };
                    assert_eq!(inspect(&changed), Err(expected), "byte {b} at {pos}");
                    assert_eq!(inspect_as_text(&changed), Err(expected), "byte {b} at {pos}");
                }
            }
        }
    }

    #[test]
    fn non_canonical_checksum_encodings_are_rejected() {
        let t = token(TokenKind::Pipeline);
        let (body, sum) = body_and_sum(&t);
        let crc = checksum_value(body);
        // The same CRC32 plus a multiple of 2^32: six base62 digits hold
        // values up to 62^6 - 1, about 13.2 times 2^32.
        let mut wrapped = Vec::new();
        let mut value = crc + (1 << 32);
        while value < 62u64.pow(6) {
            wrapped.push(base62::encode_fixed(value, CHECKSUM_LEN));
            value += 1 << 32;
        }
        assert!((12..=13).contains(&wrapped.len()));
        for other in &wrapped {
            let s = format!("{body}{other}");
            assert_eq!(inspect(&s), Err(Malformed::Checksum), "{other}");
            assert_eq!(inspect_as_text(&s), Err(Malformed::Checksum), "{other}");
        }
        // Out of the range any CRC32 renders to.
        let s = format!("{body}zzzzzz");
        assert_eq!(inspect(&s), Err(Malformed::Checksum));
        // Other paddings: one digit more (a leading zero), one less, none.
        for other in [format!("0{sum}"), sum[1..].to_owned(), format!("{crc}"), String::new()] {
            let s = format!("{body}{other}");
            assert!(inspect(&s).is_err(), "{other}");
            assert_eq!(inspect(&s), inspect_as_text(&s), "{other}");
        }
    }

    proptest! {
        #[test]
        fn inspect_agrees_with_the_text_comparison(
            seed in any::<u8>(),
            k in 0usize..5,
            changes in proptest::collection::vec((0usize..45, prop::sample::select(vec!['0', 'a', 'Z', 'z', '_', '-', ' ', 'é', 'p', 'u'])), 0..3),
        ) {
            let t = PlainToken::generate(&Prefix::default(), TokenKind::ALL[k], &mut Counter(seed));
            let mut chars: Vec<char> = t.expose().chars().collect();
            for (pos, c) in changes {
                chars[pos] = c;
            }
            let s: String = chars.into_iter().collect();
            prop_assert_eq!(inspect(&s), inspect_as_text(&s));
        }

        #[test]
        fn any_checksum_string_is_accepted_only_when_it_renders_the_crc(seed in any::<u8>(), sum in "[0-9A-Za-z]{6}") {
            let t = PlainToken::generate(&Prefix::default(), TokenKind::Service, &mut Counter(seed));
            let (body, _) = body_and_sum(&t);
            let s = format!("{body}{sum}");
            prop_assert_eq!(inspect(&s).is_ok(), sum == checksum(body));
            prop_assert_eq!(inspect(&s), inspect_as_text(&s));
        }

        #[test]
        fn every_generated_token_round_trips(seed in any::<u8>(), k in 0usize..5, p in "[a-z0-9]{2,8}") {
            let prefix = Prefix::parse(&p).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let kind = TokenKind::ALL[k];
            let t = PlainToken::generate(&prefix, kind, &mut Counter(seed));
            let parsed = inspect(t.expose()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(parsed.kind, kind);
            prop_assert_eq!(parsed.prefix, p.as_str());
        }

        #[test]
        fn any_single_substitution_is_caught(seed in any::<u8>(), pos in 7usize..45, to in 0usize..62) {
            let t = PlainToken::generate(&Prefix::default(), TokenKind::Personal, &mut Counter(seed));
            let mut bytes = t.expose().as_bytes().to_vec();
            let new = base62::ALPHABET[to];
            prop_assume!(bytes[pos] != new);
            bytes[pos] = new;
            let s = String::from_utf8(bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(PlainToken::parse(&s).is_err());
        }
    }
}
