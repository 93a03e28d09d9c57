//! Public ids: `tok_…`, `usr_…`, `evt_…`. Opaque, unique and sortable by creation
//! time: 48 bits of milliseconds then 80 random bits, in lower-case Crockford
//! base32 (26 characters), like a ULID.

use crate::token::Entropy;
use chrono::{DateTime, Utc};
use std::fmt;

const CROCKFORD: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const BODY_LEN: usize = 26;

/// An id string that does not fit its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{input}' is not a valid {what} id (expected {prefix}_ followed by 26 characters)")]
pub struct InvalidId {
    input: String,
    what: &'static str,
    prefix: &'static str,
}

fn encode(now: DateTime<Utc>, entropy: &mut dyn Entropy) -> String {
    let millis = u128::try_from(now.timestamp_millis()).unwrap_or(0) & ((1 << 48) - 1);
    let mut random = [0u8; 10];
    entropy.fill(&mut random);
    let mut value = millis << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (8 * (9 - i));
    }
    let mut out = [0u8; BODY_LEN];
    for slot in out.iter_mut().rev() {
        *slot = CROCKFORD[(value & 31) as usize];
        value >>= 5;
    }
    out.iter().map(|&b| char::from(b)).collect()
}

fn valid_body(body: &str) -> bool {
    body.len() == BODY_LEN && body.bytes().all(|b| CROCKFORD.contains(&b))
}

macro_rules! public_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate(now: DateTime<Utc>, entropy: &mut dyn Entropy) -> Self {
                Self(format!("{}_{}", $prefix, encode(now, entropy)))
            }

            pub fn parse(s: &str) -> Result<Self, InvalidId> {
                match s.strip_prefix(concat!($prefix, "_")) {
                    Some(body) if valid_body(body) => Ok(Self(s.to_owned())),
                    _ => Err(InvalidId {
                        input: s.chars().take(40).collect(),
                        what: $what,
                        prefix: $prefix,
                    }),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

public_id!(
    /// A token's public id, `tok_…`.
    TokenId, "tok", "token"
);
public_id!(
    /// A user's (or service user's) public id, `usr_…`.
    UserId, "usr", "user"
);
public_id!(
    /// An audit event's public id, `evt_…`.
    EventId, "evt", "audit event"
);

public_id!(
    /// A signing key's id (the JWT `kid`), `key_…`.
    KeyId, "key", "signing key"
);
public_id!(
    /// An approval's id, `apr_…`.
    ApprovalId, "apr", "approval"
);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    struct Fixed(u8);
    impl Entropy for Fixed {
        fn fill(&mut self, buf: &mut [u8]) {
            buf.fill(self.0);
        }
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let early = Utc.timestamp_millis_opt(1_000).single().unwrap_or_default();
        let late = Utc.timestamp_millis_opt(2_000).single().unwrap_or_default();
        let a = TokenId::generate(early, &mut Fixed(0xff));
        let b = TokenId::generate(late, &mut Fixed(0x00));
        assert!(a < b, "{a} < {b}");
    }

    #[test]
    fn parse_checks_prefix_and_body() {
        let id =
            UserId::generate(Utc.timestamp_millis_opt(1_000).single().unwrap_or_default(), &mut Fixed(7));
        assert_eq!(UserId::parse(id.as_str()), Ok(id.clone()));
        assert!(TokenId::parse(id.as_str()).is_err());
        assert!(UserId::parse("usr_short").is_err());
        assert!(UserId::parse("usr_IIIIIIIIIIIIIIIIIIIIIIIIII").is_err());
    }
}
