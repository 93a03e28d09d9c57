//! Base62 (`0-9A-Za-z`), the alphabet of token secrets and checksums.

/// The 62 characters, in value order.
pub const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Encodes `value` in exactly `width` base62 digits, most significant first.
/// `value` must fit: `62^width > value`.
pub fn encode_fixed(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for slot in digits.iter_mut().rev() {
        *slot = ALPHABET[(value % 62) as usize];
        value /= 62;
    }
    debug_assert_eq!(value, 0, "value does not fit in {width} base62 digits");
    digits.into_iter().map(char::from).collect()
}

/// Marks a byte that is not a base62 digit in [`VALUES`].
const NOT_A_DIGIT: u8 = u8::MAX;

/// Each byte's digit value: a table, because random digits would make the
/// branches of a range match mispredict on the verify hot path.
const VALUES: [u8; 256] = {
    let mut values = [NOT_A_DIGIT; 256];
    let mut i = 0;
    while i < ALPHABET.len() {
        values[ALPHABET[i] as usize] = i as u8;
        i += 1;
    }
    values
};

/// The value of one base62 digit, `None` for any other byte.
pub fn digit(b: u8) -> Option<u8> {
    let value = VALUES[usize::from(b)];
    (value != NOT_A_DIGIT).then_some(value)
}

/// The value of `digits` read as base62, most significant first: the inverse
/// of [`encode_fixed`] for a string of its `width`. `None` when a byte is not
/// a base62 digit or the value does not fit in a `u64`. Does not allocate.
pub fn decode(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |acc, &b| acc.checked_mul(62)?.checked_add(u64::from(digit(b)?)))
}

/// True when every byte is a base62 digit.
pub fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_zero_and_max_u32_in_six_digits() {
        assert_eq!(encode_fixed(0, 6), "000000");
        assert_eq!(encode_fixed(61, 6), "00000z");
        assert_eq!(encode_fixed(62, 6), "000010");
        assert_eq!(encode_fixed(u64::from(u32::MAX), 6).len(), 6);
    }

    #[test]
    fn digits_follow_the_alphabet_and_nothing_else_is_a_digit() {
        for b in 0..=u8::MAX {
            let expected = ALPHABET.iter().position(|&a| a == b).and_then(|i| u8::try_from(i).ok());
            assert_eq!(digit(b), expected, "byte {b}");
        }
    }

    #[test]
    fn decode_inverts_encode_fixed() {
        for value in [0, 1, 61, 62, 3843, 916_132_831, u64::from(u32::MAX), 62u64.pow(6) - 1] {
            assert_eq!(decode(encode_fixed(value, 6).as_bytes()), Some(value), "{value}");
        }
        assert_eq!(decode(b""), Some(0));
        assert_eq!(decode(b"zzzzzz"), Some(62u64.pow(6) - 1));
    }

    #[test]
    fn decode_refuses_foreign_bytes_and_overflow() {
        assert_eq!(decode(b"00-000"), None);
        assert_eq!(decode(b"00 000"), None);
        assert_eq!(decode("00\u{e9}0".as_bytes()), None);
        // 62^11 > u64::MAX
        assert_eq!(decode(b"zzzzzzzzzzzz"), None);
    }
}
