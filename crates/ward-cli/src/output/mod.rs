//! Results on stdout as a table for people, or JSON / YAML for scripts.
//!
//! JSON and YAML are the serde form of a value: snake_case field names that
//! do not change, times in RFC 3339 UTC. Tables show times as
//! `2026-11-22 18:30 UTC`. Writing goes through `io::Write` so that a closed
//! pipe (`ward token list | head -1`) is an error `main` treats as success,
//! not a panic.

pub mod shown_once;
pub mod table;
pub mod tokens;

use chrono::{DateTime, Utc};
use clap::ValueEnum;
use serde::Serialize;
use std::io::{self, Write};

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// Prints `value` as JSON or YAML, or calls `table` to render it for people.
pub fn emit<T: Serialize>(format: Format, value: &T, table: impl FnOnce() -> String) -> anyhow::Result<()> {
    let text = render(format, value, table)?;
    write_stdout(&text)
}

/// The text [`emit`] prints, ending in a newline.
pub fn render<T: Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce() -> String,
) -> anyhow::Result<String> {
    let mut text = match format {
        Format::Table => table(),
        Format::Json => serde_json::to_string_pretty(value)?,
        Format::Yaml => serde_norway::to_string(value)?,
    };
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

/// Writes `text` to stdout and flushes.
pub fn write_stdout(text: &str) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// A time in a table: `2026-11-22 18:30 UTC`.
pub fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// An optional time in a table; `None` reads as `never`.
pub fn time_or_never(at: Option<&DateTime<Utc>>) -> String {
    at.map_or_else(|| "Never".to_owned(), time)
}

/// A scope list in a table: `a, b`, or `-` when empty.
pub fn scopes(scopes: &[String]) -> String {
    if scopes.is_empty() { "-".to_owned() } else { scopes.join(", ") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[derive(Serialize)]
    struct Sample {
        id: &'static str,
        last_used_at: Option<DateTime<Utc>>,
        #[serde(rename = "type")]
        kind: &'static str,
    }

    fn sample() -> Sample {
        Sample {
            id: "tok_1",
            last_used_at: Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 5).single(),
            kind: "pipeline",
        }
    }

    #[test]
    fn json_keeps_snake_case_names_and_rfc3339_utc_times() {
        let text = render(Format::Json, &sample(), String::new).expect("renders");
        let value: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
        assert_eq!(value["id"], "tok_1");
        assert_eq!(value["type"], "pipeline");
        assert_eq!(value["last_used_at"], "2026-11-22T18:30:05Z");
    }

    #[test]
    fn yaml_has_the_same_field_names() {
        let text = render(Format::Yaml, &sample(), String::new).expect("renders");
        let value: serde_json::Value = serde_norway::from_str(&text).expect("valid YAML");
        assert_eq!(value["id"], "tok_1");
        assert_eq!(value["type"], "pipeline");
        assert_eq!(value["last_used_at"], "2026-11-22T18:30:05Z");
    }

    #[test]
    fn tables_come_from_the_table_closure_with_a_final_newline() {
        let text = render(Format::Table, &sample(), || "ID\ntok_1".to_owned()).expect("renders");
        assert_eq!(text, "ID\ntok_1\n");
    }

    #[test]
    fn table_times_are_minutes_in_utc_and_none_is_never() {
        let at = Utc.with_ymd_and_hms(2026, 11, 22, 18, 30, 59).single();
        assert_eq!(time_or_never(at.as_ref()), "2026-11-22 18:30 UTC");
        assert_eq!(time_or_never(None), "Never");
    }
}
