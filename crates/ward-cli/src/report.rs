//! How a failed command is told: `error:` and `hint:` lines on stderr
//! (`crate::exit::describe` words them), and with `-o json` (or `yaml`) the
//! same error on stdout as `{"error":{"code","message","hint"}}`, so a
//! script reads what failed without parsing prose. `code` is one of
//! [`ErrorCode`]'s stable snake_case names; the exit status goes with it.

use crate::exit::{ErrorCode, describe, error_code};
use crate::output::{self, Format};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// `{"error":{"code","message","hint"}}`, printed on stdout with `-o json`.
#[derive(Debug, Serialize)]
pub struct ErrorReport {
    pub error: ErrorFields,
}

#[derive(Debug, Serialize)]
pub struct ErrorFields {
    pub code: &'static str,
    pub message: String,
    /// What to do next; `null` when there is nothing to add.
    pub hint: Option<String>,
}

/// Tells the user (and, with `-o json`/`yaml`, the script) what failed;
/// returns the exit code that goes with it.
pub fn report(err: &anyhow::Error, format: Format) -> ExitCode {
    let code = error_code(err);
    let (message, hint) = describe(err);
    print_error(format, code, message, hint)
}

/// A command line clap refused (exit 2; `--help` and `--version` are not
/// errors and print as clap prints them).
pub fn report_usage(err: &clap::Error, format: Format) -> ExitCode {
    let exit = u8::try_from(err.exit_code()).unwrap_or(2);
    let _ = err.print();
    if !err.use_stderr() || format == Format::Table {
        return ExitCode::from(exit);
    }
    let rendered = err.render().to_string();
    // clap's first paragraph is the error, its `Usage:` line the hint.
    let message = rendered
        .lines()
        .take_while(|line| !line.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
        .trim_start_matches("error: ")
        .to_owned();
    let hint = rendered
        .lines()
        .find_map(|line| line.strip_prefix("Usage: "))
        .map_or_else(|| "see `ward --help`".to_owned(), |usage| format!("usage: {usage}"));
    let report =
        ErrorReport { error: ErrorFields { code: ErrorCode::Usage.as_str(), message, hint: Some(hint) } };
    let _ = write_report(format, &report);
    ExitCode::from(exit)
}

fn print_error(format: Format, code: ErrorCode, message: String, hint: Option<String>) -> ExitCode {
    {
        let mut stderr = std::io::stderr().lock();
        let _ = writeln!(stderr, "error: {message}");
        if let Some(hint) = &hint {
            let _ = writeln!(stderr, "hint: {hint}");
        }
    }
    if format != Format::Table {
        let report = ErrorReport { error: ErrorFields { code: code.as_str(), message, hint } };
        let _ = write_report(format, &report);
    }
    code.exit().into()
}

fn write_report(format: Format, report: &ErrorReport) -> anyhow::Result<()> {
    output::write_stdout(&output::render(format, report, String::new)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;
    use crate::exit::tests::api;

    #[test]
    fn codes_are_distinct_snake_case_names() {
        let names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        assert!(names.iter().all(|n| n.chars().all(|c| c.is_ascii_lowercase() || c == '_')), "{names:?}");
    }

    #[test]
    fn server_statuses_get_their_codes_and_exit_codes() {
        for (status, code, exit) in [
            (401, ErrorCode::Unauthenticated, Exit::Unauthenticated),
            (403, ErrorCode::Forbidden, Exit::Forbidden),
            (404, ErrorCode::NotFound, Exit::NotFound),
            (409, ErrorCode::Conflict, Exit::Error),
            (415, ErrorCode::InvalidRequest, Exit::Error),
            (422, ErrorCode::InvalidRequest, Exit::Error),
            (429, ErrorCode::RateLimited, Exit::Error),
            (503, ErrorCode::Unavailable, Exit::Error),
            (500, ErrorCode::ServerError, Exit::Error),
        ] {
            let err = api(status).context("showing tok_1");
            assert_eq!(error_code(&err), code, "{status}");
            assert_eq!(error_code(&err).exit(), exit, "{status}");
        }
    }

    #[test]
    fn the_json_error_has_code_message_and_hint() {
        let report = ErrorReport {
            error: ErrorFields { code: ErrorCode::NotFound.as_str(), message: "m".into(), hint: None },
        };
        let text = output::render(Format::Json, &report, String::new).unwrap_or_default();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(value, serde_json::json!({"error": {"code": "not_found", "message": "m", "hint": null}}));
    }
}
