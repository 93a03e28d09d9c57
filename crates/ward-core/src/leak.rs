//! Finding ward tokens in text: what `ward scan` runs over files and git
//! history, and what the rule files in `docs/leaks/` say to gitleaks and
//! trufflehog.
//!
//! A candidate is `{prefix}_{kind}_{38 base62}` standing on its own: the
//! byte before the prefix and the byte after the checksum are not
//! `[A-Za-z0-9_]` (the `\b` of [`RULE_REGEX`]). Every candidate then passes
//! [`crate::token::inspect`] — shape, kind letter and CRC32 checksum — or
//! is dropped, so a string that merely looks like a token (a typo, a made-up
//! example, a longer or shorter string) is never reported. Any prefix is
//! accepted: a scan does not know which deployment a token came from.

use crate::token::{CHECKSUM_LEN, SECRET_LEN, inspect};
use crate::{TokenHash, TokenKind};
use std::fmt;

/// The regular expression the gitleaks and trufflehog rule files carry
/// (RE2 syntax). It cannot check the checksum, so it can match strings
/// that are not tokens; `ward scan` checks it.
pub const RULE_REGEX: &str = r"\b([a-z0-9]{2,8}_[upsrl]_[0-9A-Za-z]{38})\b";

/// A token found in text. `Debug` and `Display` show its display start
/// only; [`Found::expose`] is for the one request that revokes it.
#[derive(Clone, PartialEq, Eq)]
pub struct Found {
    token: String,
    /// 1-based line number.
    pub line: usize,
    /// 1-based byte column of the token's first character.
    pub column: usize,
    pub kind: TokenKind,
}

impl Found {
    /// The token string (to send to `POST /v1/leaks`; never print it).
    pub fn expose(&self) -> &str {
        &self.token
    }

    /// What may be shown: the prefix, kind and first four secret characters.
    pub fn display_start(&self) -> &str {
        let head = self.token.len() - SECRET_LEN - CHECKSUM_LEN;
        &self.token[..head + 4]
    }

    /// The SHA-256 the server stores, to tell findings of one token apart.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.token)
    }
}

impl fmt::Debug for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Found")
            .field("token", &format_args!("{}…", self.display_start()))
            .field("line", &self.line)
            .field("column", &self.column)
            .finish()
    }
}

/// A byte that continues a word (the `\w` of `\b`).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_prefix_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Every checksum-valid token in `text`, in order. Text that is not UTF-8
/// is searched as bytes (a token is ASCII).
pub fn find(text: &[u8]) -> Vec<Found> {
    let mut out = Vec::new();
    for (index, line) in text.split(|&b| b == b'\n').enumerate() {
        find_in_line(line, index + 1, &mut out);
    }
    out
}

fn find_in_line(line: &[u8], number: usize, out: &mut Vec<Found>) {
    let tail = SECRET_LEN + CHECKSUM_LEN;
    let mut i = 0;
    // `i` walks the first `_` of `_{kind}_`.
    while i + 3 + tail <= line.len() {
        if line[i] != b'_' || line[i + 2] != b'_' || !line[i + 1].is_ascii_lowercase() {
            i += 1;
            continue;
        }
        let end = i + 3 + tail;
        let start = (0..i).rev().take_while(|&j| is_prefix_byte(line[j])).last();
        let standalone_end = line.get(end).is_none_or(|&b| !is_word(b));
        if let Some(start) = start.filter(|&s| standalone_end && (2..=8).contains(&(i - s))) {
            let standalone_start = start == 0 || !is_word(line[start - 1]);
            let candidate = std::str::from_utf8(&line[start..end]).ok().filter(|_| standalone_start);
            if let Some(Ok(inspected)) = candidate.map(inspect) {
                out.push(Found {
                    token: candidate.unwrap_or_default().to_owned(),
                    line: number,
                    column: start + 1,
                    kind: inspected.kind,
                });
                i = end;
                continue;
            }
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::{Entropy, PlainToken, Prefix};

    struct Counter(u8);
    impl Entropy for Counter {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_mul(31).wrapping_add(7);
                *b = self.0;
            }
        }
    }

    fn token(prefix: &str, kind: TokenKind, seed: u8) -> String {
        let prefix = Prefix::parse(prefix).expect("test prefix");
        PlainToken::generate(&prefix, kind, &mut Counter(seed)).expose().to_owned()
    }

    /// The near misses of `t`: a changed checksum, every other kind letter
    /// (same checksum), one character more, one less, glued to a word.
    pub(crate) fn near_misses(t: &str) -> Vec<String> {
        let mut misses = Vec::new();
        let mut bad_sum = t.to_owned();
        let last = bad_sum.pop().unwrap_or('0');
        bad_sum.push(if last == 'A' { 'B' } else { 'A' });
        misses.push(bad_sum);
        let letter_at = t.find('_').unwrap_or(0) + 1;
        for letter in ['u', 'p', 's', 'r', 'l', 'x', 'a'] {
            if t.as_bytes()[letter_at] != letter as u8 {
                let mut s = t.to_owned();
                s.replace_range(letter_at..=letter_at, &letter.to_string());
                misses.push(s);
            }
        }
        misses.push(format!("{t}Q"));
        misses.push(t[..t.len() - 1].to_owned());
        misses.push(format!("X{t}"));
        misses.push(format!("x_{t}"));
        misses
    }

    #[test]
    fn tokens_in_text_are_found_with_line_and_column() {
        let a = token("ward", TokenKind::Pipeline, 1);
        let b = token("acme42", TokenKind::Service, 2);
        let text = format!("first line\nTOKEN={a}\n  \"key\": \"{b}\", again {a}\n");
        let found = find(text.as_bytes());
        let got: Vec<(usize, usize, &str)> = found.iter().map(|f| (f.line, f.column, f.expose())).collect();
        assert_eq!(got, vec![(2, 7, a.as_str()), (3, 11, b.as_str()), (3, 11 + b.len() + 9, a.as_str())]);
        assert_eq!(found[1].kind, TokenKind::Service);
    }

    #[test]
    fn near_misses_are_never_found() {
        for (seed, kind) in TokenKind::ALL.into_iter().enumerate() {
            let t = token("ward", kind, seed as u8);
            for miss in near_misses(&t) {
                assert!(find(miss.as_bytes()).is_empty(), "{kind}: found a near miss");
                assert!(find(format!("a = \"{miss}\"\n").as_bytes()).is_empty());
            }
        }
    }

    #[test]
    fn what_is_shown_of_a_finding_is_its_display_start_only() {
        let t = token("ward", TokenKind::Personal, 9);
        let found = find(t.as_bytes());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].display_start(), &t[..11]);
        let debug = format!("{:?}", found[0]);
        assert!(!debug.contains(&t[11..]), "{debug}");
    }
}

#[cfg(test)]
mod rule_files {
    use super::tests::near_misses;
    use super::*;
    use crate::token::{Entropy, PlainToken, Prefix};

    const GITLEAKS: &str = include_str!("../../../docs/leaks/gitleaks.toml");
    const TRUFFLEHOG: &str = include_str!("../../../docs/leaks/trufflehog.yaml");

    /// The regex of a rule file: between `'''` in gitleaks' TOML, between
    /// `'` after `token:` in trufflehog's YAML.
    fn gitleaks_regex() -> &'static str {
        GITLEAKS.split("'''").nth(1).expect("gitleaks.toml has a ''' regex")
    }

    fn trufflehog_regex() -> &'static str {
        let after = TRUFFLEHOG.split("token: '").nth(1).expect("trufflehog.yaml has a token regex");
        after.split('\'').next().expect("closing quote")
    }

    struct Seq(u64);
    impl Entropy for Seq {
        fn fill(&mut self, buf: &mut [u8]) {
            for b in buf {
                self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                *b = (self.0 >> 33) as u8;
            }
        }
    }

    #[test]
    fn both_rule_files_carry_the_documented_regex() {
        assert_eq!(gitleaks_regex(), RULE_REGEX);
        assert_eq!(trufflehog_regex(), RULE_REGEX);
    }

    #[test]
    fn the_rule_matches_every_generated_token_and_no_wrong_shape() {
        let re = regex::Regex::new(RULE_REGEX).expect("the rule is a valid regex");
        let mut entropy = Seq(42);
        for prefix in ["ward", "ab", "acme1234", "x9"] {
            let prefix = Prefix::parse(prefix).expect("prefix");
            for kind in TokenKind::ALL {
                for _ in 0..20 {
                    let t = PlainToken::generate(&prefix, kind, &mut entropy);
                    let t = t.expose();
                    let line = format!("export WARD_TOKEN=\"{t}\" # ci");
                    let got = re.captures(&line).and_then(|c| c.get(1)).map(|m| m.as_str());
                    assert_eq!(got, Some(t), "{kind}");
                    // Wrong shapes: the regex refuses them as `ward scan` does.
                    let at = prefix.as_str().len() + 1;
                    let mut wrong_letter = t.to_owned();
                    wrong_letter.replace_range(at..=at, "x");
                    let wrong = [
                        wrong_letter,
                        format!("{t}Q"),
                        t[..t.len() - 1].to_owned(),
                        format!("X{t}"),
                        format!("x_{t}"),
                    ];
                    for miss in wrong {
                        assert!(!re.is_match(&miss), "the rule matched a wrong shape");
                    }
                    // A bad checksum has the shape: only `ward scan` can tell.
                    for miss in near_misses(t) {
                        assert!(find(miss.as_bytes()).is_empty());
                    }
                }
            }
        }
    }
}
