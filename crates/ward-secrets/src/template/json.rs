//! JSON: a reference inside a string gets the escaped value; one outside
//! any string becomes a whole JSON string.

use super::placer::{Placer, escape_quoted, quoted};

#[derive(Debug, Default)]
pub(super) struct Json {
    in_string: bool,
    escaped: bool,
}

impl Placer for Json {
    fn feed(&mut self, text: &str) {
        for c in text.chars() {
            if self.escaped {
                self.escaped = false;
            } else if self.in_string && c == '\\' {
                self.escaped = true;
            } else if c == '"' {
                self.in_string = !self.in_string;
            }
        }
    }

    fn place(&mut self, value: &str, _: Option<&str>) -> Result<String, &'static str> {
        match (self.in_string, self.escaped) {
            (_, true) => Err("it follows a backslash"),
            (true, false) => Ok(escape_quoted(value)),
            (false, false) => Ok(quoted(value)),
        }
    }
}
