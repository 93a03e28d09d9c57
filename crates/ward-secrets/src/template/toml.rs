//! TOML: a reference in a basic string (`"…"`, `"""…"""`) gets the
//! escaped value; one outside any string becomes a whole basic string
//! (a value, or a quoted key); literal strings (`'…'`, `'''…'''`) cannot
//! escape, so a value that would end or break one is refused; one in a
//! comment must not hold a line break.

use super::placer::{Placer, escape_quoted, has_control, quoted};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Outside,
    Comment,
    Basic,
    MultiBasic,
    Escape(bool),
    Literal,
    MultiLiteral,
}

#[derive(Debug, Default)]
pub(super) struct Toml {
    state: State,
}

impl Placer for Toml {
    fn feed(&mut self, text: &str) {
        let chars: Vec<char> = text.chars().collect();
        let triple = |i: usize, q: char| chars.get(i..i + 3).is_some_and(|s| s.iter().all(|c| *c == q));
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            let (next, skip) = match (self.state, c) {
                (State::Outside, '#') => (State::Comment, 0),
                (State::Outside, '"') if triple(i, '"') => (State::MultiBasic, 2),
                (State::Outside, '"') => (State::Basic, 0),
                (State::Outside, '\'') if triple(i, '\'') => (State::MultiLiteral, 2),
                (State::Outside, '\'') => (State::Literal, 0),
                (State::Comment, '\n') | (State::Basic, '"' | '\n') | (State::Literal, '\'' | '\n') => {
                    (State::Outside, 0)
                }
                (State::Basic, '\\') => (State::Escape(false), 0),
                (State::MultiBasic, '\\') => (State::Escape(true), 0),
                (State::Escape(multi), _) => (if multi { State::MultiBasic } else { State::Basic }, 0),
                (State::MultiBasic, '"') if triple(i, '"') => (State::Outside, 2),
                (State::MultiLiteral, '\'') if triple(i, '\'') => (State::Outside, 2),
                (state, _) => (state, 0),
            };
            self.state = next;
            i += 1 + skip;
        }
    }

    fn place(&mut self, value: &str, _: Option<&str>) -> Result<String, &'static str> {
        match self.state {
            State::Outside => Ok(quoted(value)),
            State::Basic | State::MultiBasic => Ok(escape_quoted(value)),
            State::Escape(_) => Err("it follows a backslash"),
            State::Literal if value.contains('\'') || has_control(value, &['\t']) => Err(
                "its value holds a ' or a control character, which a TOML literal string ('…') cannot: use a \"…\" string",
            ),
            State::MultiLiteral if value.contains('\'') || has_control(value, &['\t', '\n']) => Err(
                "its value holds a ' or a control character, which this literal string ('''…''') cannot: use a \"…\" string",
            ),
            State::Comment if value.contains(['\n', '\r']) => {
                Err("it sits in a comment, which a line break would end")
            }
            State::Literal | State::MultiLiteral | State::Comment => Ok(value.to_owned()),
        }
    }
}
