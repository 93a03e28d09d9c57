//! YAML: a reference that is a whole scalar (after `key: `, `- `, at the
//! start of a line, in a flow collection) becomes a double-quoted string;
//! inside `"…"` it is escaped; inside `'…'` a `'` is doubled and a line
//! break refused; in a literal block (`|`) each line break is followed by
//! the block's indentation; in a folded block (`>`) a line break is
//! refused; inside other unquoted text only a value of letters, digits
//! and `-_.~+/=` is accepted, anything else is refused with the advice to
//! quote the whole value; in a comment a line break is refused.

use super::placer::{Placer, escape_quoted, has_control, quoted};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Plain,
    Single,
    /// A `'` inside a single-quoted string: its end, or the first of `''`.
    SingleQuote,
    Double,
    DoubleEscape,
    Comment,
    /// A block scalar's lines: `parent` is the indentation of the line with
    /// the indicator, `indent` the block's, once its first line shows it.
    Block {
        parent: usize,
        indent: Option<usize>,
        folded: bool,
    },
}

#[derive(Debug, Default)]
pub(super) struct Yaml {
    state: State,
    /// The current line of the template so far (a reference counts as `x`).
    line: String,
    /// Where a comment starts in `line`.
    comment_at: Option<usize>,
    /// How deep in `[…]` / `{…}` the text is.
    flow: usize,
}

impl Yaml {
    fn step(&mut self, c: char) {
        if c == '\n' {
            self.end_line();
            return;
        }
        if c != ' ' {
            self.enter_block_line();
        }
        self.state = match (self.state, c) {
            (State::Plain | State::SingleQuote, _) => self.plain(c),
            (State::Single, '\'') => State::SingleQuote,
            (State::Double, '\\') => State::DoubleEscape,
            (State::Double, '"') => State::Plain,
            (State::DoubleEscape, _) => State::Double,
            (state, _) => state,
        };
        self.line.push(c);
    }

    /// `c` outside quotes (or just after a `'` that may end a string).
    fn plain(&mut self, c: char) -> State {
        if self.state == State::SingleQuote && c == '\'' {
            return State::Single;
        }
        match c {
            '#' if self.line.is_empty() || self.line.ends_with([' ', '\t']) => {
                self.comment_at = Some(self.line.len());
                State::Comment
            }
            '"' if self.scalar_start(&self.line) => State::Double,
            '\'' if self.scalar_start(&self.line) => State::Single,
            '[' | '{' if self.scalar_start(&self.line) => {
                self.flow += 1;
                State::Plain
            }
            ']' | '}' => {
                self.flow = self.flow.saturating_sub(1);
                State::Plain
            }
            _ => State::Plain,
        }
    }

    fn end_line(&mut self) {
        if matches!(self.state, State::Plain | State::SingleQuote | State::Comment) {
            let content = &self.line[..self.comment_at.unwrap_or(self.line.len())];
            self.state = match self.block_indicator(content) {
                Some(folded) => State::Block { parent: leading_spaces(&self.line), indent: None, folded },
                None => State::Plain,
            };
        }
        self.line.clear();
        self.comment_at = None;
    }

    /// At the first non-space character of a line inside a block scalar:
    /// the line either belongs to the block (and fixes its indentation) or
    /// ends it.
    fn enter_block_line(&mut self) {
        let State::Block { parent, indent, folded } = self.state else { return };
        if !self.line.chars().all(|c| c == ' ') {
            return;
        }
        let here = self.line.len();
        self.state = match indent {
            None if here > parent => State::Block { parent, indent: Some(here), folded },
            Some(i) if here >= i => self.state,
            _ => State::Plain,
        };
    }

    /// Whether a scalar may start after `before` on this line.
    fn scalar_start(&self, before: &str) -> bool {
        let trimmed = before.trim_end();
        let spaced = trimmed.len() < before.len();
        match trimmed.chars().last() {
            None => true,
            Some(':' | '?') => spaced,
            Some('-') => {
                spaced && trimmed[..trimmed.len() - 1].chars().last().is_none_or(char::is_whitespace)
            }
            Some('[' | '{') => true,
            Some(',') => self.flow > 0,
            Some(_) => false,
        }
    }

    /// Whether the text after a reference ends the scalar it starts.
    fn ends_scalar(&self, after: &str) -> bool {
        let rest = after.split('\n').next().unwrap_or_default();
        let t = rest.trim_start();
        t.trim_end().is_empty()
            || (t.starts_with('#') && t.len() < rest.len())
            || t.starts_with(": ")
            || t.trim_end() == ":"
            || (self.flow > 0 && t.starts_with([',', ']', '}']))
    }

    /// `Some(folded)` when `content` ends with a block scalar indicator.
    fn block_indicator(&self, content: &str) -> Option<bool> {
        let t = content.trim_end();
        let start = t.rfind([' ', '\t']).map_or(0, |i| i + 1);
        let (before, token) = t.split_at(start);
        let mut chars = token.chars();
        let folded = match chars.next()? {
            '|' => false,
            '>' => true,
            _ => return None,
        };
        let indicators = token.len() <= 3 && chars.all(|c| matches!(c, '-' | '+' | '1'..='9'));
        (indicators && self.scalar_start(before)).then_some(folded)
    }
}

fn leading_spaces(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

fn plain_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~+/=".contains(c)
}

impl Placer for Yaml {
    fn feed(&mut self, text: &str) {
        text.chars().for_each(|c| self.step(c));
    }

    fn place(&mut self, value: &str, after: Option<&str>) -> Result<String, &'static str> {
        self.enter_block_line();
        let placed = match self.state {
            State::Double => escape_quoted(value),
            State::DoubleEscape => return Err("it follows a backslash"),
            State::SingleQuote => return Err("it directly follows a quote"),
            State::Single if has_control(value, &[]) => {
                return Err(
                    "its value holds a line break or control character, which a single-quoted YAML string cannot: use double quotes",
                );
            }
            State::Single => value.replace('\'', "''"),
            State::Comment if value.contains(['\n', '\r']) => {
                return Err("it sits in a comment, which a line break would end");
            }
            State::Comment => value.to_owned(),
            State::Block { .. } if has_control(value, &['\n', '\t']) => {
                return Err(
                    "its value holds a control character, which a block scalar cannot: use double quotes",
                );
            }
            State::Block { folded: true, .. } if value.contains('\n') => {
                return Err("a folded block (>) would fold its value's line breaks: use | or double quotes");
            }
            State::Block { indent, .. } => {
                value.replace('\n', &format!("\n{}", " ".repeat(indent.unwrap_or_default())))
            }
            State::Plain if self.scalar_start(&self.line) && after.is_some_and(|a| self.ends_scalar(a)) => {
                quoted(value)
            }
            State::Plain if value.chars().all(plain_safe) => value.to_owned(),
            State::Plain => {
                return Err(
                    "it is part of unquoted text and its value holds characters that would change the document: put the whole value in double quotes",
                );
            }
        };
        self.line.push('x');
        Ok(placed)
    }
}
