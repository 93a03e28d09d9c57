//! env files, as POSIX `sh` reads them (`. ./app.env`, `set -a`): a bare
//! reference becomes a single-quoted word (`'` written as `'\''`), one
//! inside `'…'` or `"…"` is escaped for that quoting, one in a comment must
//! not hold a line break.

use super::placer::Placer;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Word,
    Single,
    Double,
    DoubleEscape,
    Escape,
    Comment,
}

#[derive(Debug)]
pub(super) struct Env {
    state: State,
    word_start: bool,
}

impl Default for Env {
    fn default() -> Self {
        Self { state: State::Word, word_start: true }
    }
}

impl Placer for Env {
    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            self.state = match (self.state, c) {
                (State::Word, '#') if self.word_start => State::Comment,
                (State::Word, '\'') => State::Single,
                (State::Word, '"') => State::Double,
                (State::Word, '\\') => State::Escape,
                (State::Single, '\'') | (State::Double, '"') | (State::Escape, _) => State::Word,
                (State::Double, '\\') => State::DoubleEscape,
                (State::DoubleEscape, _) => State::Double,
                (State::Comment, '\n') => State::Word,
                (state, _) => state,
            };
            self.word_start = self.state == State::Word && c.is_whitespace();
        }
    }

    fn place(&mut self, value: &str, _: Option<&str>) -> Result<String, &'static str> {
        if value.contains('\0') {
            return Err("its value holds a NUL byte, which no environment variable can");
        }
        let placed = match self.state {
            State::Word => format!("'{}'", value.replace('\'', "'\\''")),
            State::Single => value.replace('\'', "'\\''"),
            State::Double => value.chars().fold(String::new(), |mut out, c| {
                if matches!(c, '\\' | '"' | '$' | '`') {
                    out.push('\\');
                }
                out.push(c);
                out
            }),
            State::Comment if value.contains(['\n', '\r']) => {
                return Err("it sits in a comment, which a line break would end");
            }
            State::Comment => value.to_owned(),
            State::Escape | State::DoubleEscape => return Err("it follows a backslash"),
        };
        self.word_start = false;
        Ok(placed)
    }
}
