//! What places a value into a rendered template ([`Placer`]), the placer
//! for raw output, and the escaping the JSON, YAML and TOML placers share.

/// Follows the template text around the references and writes each value
/// in the form its place needs. An `Err` says why a value cannot sit
/// there; it never quotes the value.
pub(super) trait Placer {
    /// Text of the template, as it is written to the output.
    fn feed(&mut self, text: &str);
    /// The value for the reference here. `after` is the template text up
    /// to the next reference (`None` when another reference follows at once).
    fn place(&mut self, value: &str, after: Option<&str>) -> Result<String, &'static str>;
}

pub(super) struct Raw;

impl Placer for Raw {
    fn feed(&mut self, _: &str) {}
    fn place(&mut self, value: &str, _: Option<&str>) -> Result<String, &'static str> {
        Ok(value.to_owned())
    }
}

/// The body of a double-quoted string, valid alike in JSON, a YAML
/// double-quoted scalar and a TOML basic string: `"` and `\` escaped,
/// control characters and the Unicode line separators as escapes.
pub(super) fn escape_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04X}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out
}

/// [`escape_quoted`] with the quotes around it.
pub(super) fn quoted(value: &str) -> String {
    format!("\"{}\"", escape_quoted(value))
}

/// Whether `value` has a control character other than those in `allowed`.
pub(super) fn has_control(value: &str, allowed: &[char]) -> bool {
    value.chars().any(|c| c.is_control() && !allowed.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_escapes_quotes_backslashes_and_controls() {
        assert_eq!(escape_quoted("a\"b\\c\nd\te\u{1}f\u{2028}#"), "a\\\"b\\\\c\\nd\\te\\u0001f\\u2028#");
    }
}
