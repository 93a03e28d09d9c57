//! The formats `ward inject` knows, how a template's name picks one, and
//! the escaping the JSON, YAML and TOML placers share.

use super::{env, json, toml, yaml};

/// What a rendered file is, so each value can be escaped for where it
/// lands. `Raw` replaces references with the values as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
    Toml,
    Env,
    Raw,
}

impl Format {
    /// The format a template's file name says, after dropping a `.tpl`,
    /// `.tmpl` or `.template` suffix: `.json`, `.yaml`/`.yml`, `.toml`,
    /// `.env` (also `.env.NAME`). `None` when the name says nothing.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let name = [".tpl", ".tmpl", ".template"].iter().find_map(|s| name.strip_suffix(s)).unwrap_or(&name);
        if name.ends_with(".json") {
            Some(Self::Json)
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            Some(Self::Yaml)
        } else if name.ends_with(".toml") {
            Some(Self::Toml)
        } else if name == ".env" || name.ends_with(".env") || name.starts_with(".env.") {
            Some(Self::Env)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
            Self::Toml => "toml",
            Self::Env => "env",
            Self::Raw => "raw",
        }
    }

    pub(super) fn placer(self) -> Box<dyn Placer> {
        match self {
            Self::Json => Box::new(json::Json::default()),
            Self::Yaml => Box::new(yaml::Yaml::default()),
            Self::Toml => Box::new(toml::Toml::default()),
            Self::Env => Box::new(env::Env::default()),
            Self::Raw => Box::new(Raw),
        }
    }
}

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

struct Raw;

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
    use std::path::Path;

    #[test]
    fn the_name_picks_the_format_through_a_template_suffix() {
        for (name, format) in [
            ("app.json", Some(Format::Json)),
            ("app.JSON.tpl", Some(Format::Json)),
            ("app.yml.tmpl", Some(Format::Yaml)),
            ("conf/app.yaml", Some(Format::Yaml)),
            ("Cargo.toml.template", Some(Format::Toml)),
            (".env", Some(Format::Env)),
            (".env.tpl", Some(Format::Env)),
            (".env.production", Some(Format::Env)),
            ("prod.env", Some(Format::Env)),
            ("t.tpl", None),
            ("nginx.conf", None),
        ] {
            assert_eq!(Format::from_path(Path::new(name)), format, "{name}");
        }
    }

    #[test]
    fn quoted_escapes_quotes_backslashes_and_controls() {
        assert_eq!(escape_quoted("a\"b\\c\nd\te\u{1}f\u{2028}#"), "a\\\"b\\\\c\\nd\\te\\u0001f\\u2028#");
    }
}
