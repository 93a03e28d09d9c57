//! `${TOKEN:namespace:name}` references, resolved anywhere inside a string.
//!
//! `$${` is a literal `${`. Other `${…}` forms (`${HOME}`) are left alone:
//! they belong to whoever reads the file next. Every reference is collected
//! first, so one error names every unresolved reference, and a render that
//! fails produces nothing at all.
//!
//! [`render_as`] escapes each value for where it lands in a JSON, YAML,
//! TOML or env file ([`Format`]), so the output parses whatever the values
//! hold; [`render`] (and [`Format::Raw`]) put values in as they are.

mod env;
mod format;
mod json;
mod placer;
mod toml;
mod yaml;

use crate::entry::EntryId;
use crate::error::{Error, Result};
use crate::secret::SecretString;
pub use format::Format;

const OPEN: &str = "${TOKEN:";

/// A piece of parsed text.
#[derive(Debug, PartialEq, Eq)]
enum Part<'a> {
    Text(&'a str),
    Reference(EntryId),
}

/// The references in `text`, in order (duplicates included).
pub fn references(text: &str) -> Result<Vec<EntryId>> {
    Ok(parse(text)?
        .into_iter()
        .filter_map(|p| match p {
            Part::Reference(id) => Some(id),
            Part::Text(_) => None,
        })
        .collect())
}

/// Replaces every reference with what `resolve` returns for it, as it is.
/// Fails, naming them all, when any resolves to nothing.
pub fn render(
    text: &str,
    resolve: impl FnMut(&EntryId) -> Result<Option<SecretString>>,
) -> Result<SecretString> {
    render_as(text, Format::Raw, resolve)
}

/// [`render`], with each value escaped for its place in a `format` file.
/// A value that cannot sit where its reference is (a line break in a
/// comment, say) is an error naming the reference and its line, never the
/// value.
pub fn render_as(
    text: &str,
    format: Format,
    mut resolve: impl FnMut(&EntryId) -> Result<Option<SecretString>>,
) -> Result<SecretString> {
    let parts = parse(text)?;
    let mut values = Vec::with_capacity(parts.len());
    let mut missing: Vec<String> = Vec::new();
    for part in &parts {
        if let Part::Reference(id) = part {
            let value = resolve(id)?;
            if value.is_none() && !missing.contains(&shown(id)) {
                missing.push(shown(id));
            }
            values.push(value);
        }
    }
    if !missing.is_empty() {
        return Err(Error::Unresolved(missing));
    }
    let mut placer = format.placer();
    let mut out = zeroize::Zeroizing::new(String::with_capacity(text.len()));
    let mut values = values.into_iter().flatten();
    let mut line = 1;
    for (i, part) in parts.iter().enumerate() {
        match part {
            Part::Text(t) => {
                placer.feed(t);
                line += t.matches('\n').count();
                out.push_str(t);
            }
            Part::Reference(id) => {
                let value = values.next().unwrap_or_default();
                let after = match parts.get(i + 1) {
                    Some(Part::Text(t)) => Some(*t),
                    Some(Part::Reference(_)) => None,
                    None => Some(""),
                };
                let placed = zeroize::Zeroizing::new(placer.place(value.expose(), after).map_err(|why| {
                    Error::Template(format!(
                        "line {line}: {} cannot go there in {}: {why}",
                        shown(id),
                        format.as_str()
                    ))
                })?);
                out.push_str(&placed);
            }
        }
    }
    Ok(SecretString::from(std::mem::take(&mut *out)))
}

fn shown(id: &EntryId) -> String {
    format!("${{TOKEN:{}:{}}}", id.namespace, id.name)
}

fn parse(text: &str) -> Result<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        let (before, tail) = rest.split_at(at);
        if let Some(after) = tail.strip_prefix("$${") {
            parts.push(Part::Text(before));
            parts.push(Part::Text("${"));
            rest = after;
        } else if let Some(body) = tail.strip_prefix(OPEN) {
            parts.push(Part::Text(before));
            let end = body.find('}').ok_or_else(|| unclosed(text, tail))?;
            parts.push(Part::Reference(reference(&body[..end])?));
            rest = &body[end + 1..];
        } else {
            parts.push(Part::Text(&rest[..=at]));
            rest = &tail[1..];
        }
    }
    parts.push(Part::Text(rest));
    parts.retain(|p| !matches!(p, Part::Text("")));
    Ok(parts)
}

fn reference(body: &str) -> Result<EntryId> {
    let shown = format!("${{TOKEN:{body}}}");
    let Some((namespace, name)) = body.split_once(':') else {
        return Err(Error::Template(format!("`{shown}` needs a namespace: write ${{TOKEN:namespace:name}}")));
    };
    EntryId::new(namespace, name).map_err(|e| Error::Template(format!("`{shown}`: {e}")))
}

fn unclosed(text: &str, tail: &str) -> Error {
    let line = text[..text.len() - tail.len()].matches('\n').count() + 1;
    let start: String = tail.chars().take(30).take_while(|c| *c != '\n').collect();
    Error::Template(format!("line {line}: `{start}` has no closing `}}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(id: &EntryId) -> Result<Option<SecretString>> {
        Ok(match (id.namespace.as_str(), id.name.as_str()) {
            ("api-key", "openai") => Some(SecretString::new("sk-1")),
            ("bearer", "gh") => Some(SecretString::new("ghp_2")),
            _ => None,
        })
    }

    fn render_str(text: &str) -> Result<String> {
        render(text, lookup).map(|s| s.expose().to_owned())
    }

    #[test]
    fn references_resolve_inside_strings() {
        assert_eq!(
            render_str("Authorization: Bearer ${TOKEN:bearer:gh}; key=${TOKEN:api-key:openai}!")
                .expect("renders"),
            "Authorization: Bearer ghp_2; key=sk-1!"
        );
    }

    #[test]
    fn a_doubled_dollar_escapes_a_reference() {
        assert_eq!(
            render_str("$${TOKEN:bearer:gh} costs $5 ${HOME}").expect("renders"),
            "${TOKEN:bearer:gh} costs $5 ${HOME}"
        );
    }

    #[test]
    fn unresolved_references_are_all_named_once() {
        let err = render_str("${TOKEN:x:a} ${TOKEN:bearer:gh} ${TOKEN:x:b} ${TOKEN:x:a}").expect_err("fails");
        assert_eq!(err.to_string(), "unresolved references: ${TOKEN:x:a}, ${TOKEN:x:b}");
    }

    #[test]
    fn malformed_references_are_errors() {
        assert!(render_str("${TOKEN:justname}").expect_err("fails").to_string().contains("namespace"));
        assert!(render_str("a\n${TOKEN:x:y").expect_err("fails").to_string().contains("line 2"));
        assert!(render_str("${TOKEN:x:a b}").is_err());
    }

    fn render_in(format: Format, text: &str) -> std::result::Result<String, String> {
        render_as(text, format, lookup).map(|s| s.expose().to_owned()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_hash_inside_a_word_starts_no_comment() {
        assert_eq!(render_in(Format::Yaml, "a: x#${TOKEN:bearer:gh}\n").as_deref(), Ok("a: x#ghp_2\n"));
        assert_eq!(render_in(Format::Env, "A=x#${TOKEN:bearer:gh}\n").as_deref(), Ok("A=x#'ghp_2'\n"));
    }

    #[test]
    fn a_yaml_block_ends_at_a_less_indented_line() {
        assert_eq!(
            render_in(Format::Yaml, "b: |\n  x\nc: ${TOKEN:bearer:gh}\n").as_deref(),
            Ok("b: |\n  x\nc: \"ghp_2\"\n")
        );
    }

    #[test]
    fn a_lone_quote_inside_a_multi_line_toml_string_does_not_end_it() {
        assert_eq!(
            render_in(Format::Toml, "k = \"\"\"a\"b ${TOKEN:bearer:gh}\"\"\"").as_deref(),
            Ok("k = \"\"\"a\"b ghp_2\"\"\"")
        );
    }

    #[test]
    fn a_reference_after_a_backslash_is_refused_with_its_line() {
        for format in [Format::Json, Format::Yaml, Format::Toml, Format::Env] {
            let err = render_in(format, "\n\"x\\${TOKEN:bearer:gh}\"").expect_err("refused");
            assert!(err.contains("line 2") && err.contains("backslash") && !err.contains("ghp_2"), "{err}");
        }
    }

    #[test]
    fn text_without_references_is_unchanged() {
        for text in ["", "$", "a$", "$$", "plain", "ünïcode $ ${X}"] {
            assert_eq!(render_str(text).expect("renders"), text);
        }
    }
}
