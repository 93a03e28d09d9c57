//! How a failed command is told: `error:` and `hint:` lines on stderr
//! (`crate::exit::describe` words them), and with `-o json` (or `yaml`) the
//! same error on stdout as `{"error":{"code","message","hint"}}`, so a
//! script reads what failed without parsing prose. `code` is one of
//! [`ErrorCode`]'s stable snake_case names; the exit status goes with it.

use crate::exit::{CliError, Exit, client_error, describe};
use crate::output::{self, Format};
use serde::Serialize;
use std::io::Write;
use std::process::ExitCode;

/// What failed, as scripts read it in `{"error":{"code",…}}`. Stable:
/// a name is never reused for something else. Documented in the README
/// ("CLI conventions").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// A flag or argument is wrong or missing (exit 2).
    Usage,
    /// A destructive command had no terminal to ask on and no `--confirm` (exit 2).
    NeedsConfirmation,
    /// No token, or one the server refused (HTTP 401), or a refused login (exit 3).
    Unauthenticated,
    /// The token lacks the rights (HTTP 403) (exit 4).
    Forbidden,
    /// No such token, user, approval, key … or stored secret (HTTP 404) (exit 5).
    NotFound,
    /// The change conflicts with the current state (HTTP 409): already
    /// revoked, already rotated, name taken (exit 1).
    Conflict,
    /// The server refused the request as malformed or against a rule
    /// (HTTP 400, 413, 415, 422) (exit 1).
    InvalidRequest,
    /// Too many attempts (HTTP 429); the hint says how long to wait (exit 1).
    RateLimited,
    /// The server is up but cannot serve now (HTTP 503) (exit 1).
    Unavailable,
    /// The server failed (another 5xx) (exit 1).
    ServerError,
    /// No answer from the server, or one that is not ward's, or a
    /// certificate this machine does not trust (exit 1).
    Unreachable,
    /// The local secret store failed: locked, damaged, wrong key (exit 1).
    SecretStore,
    /// Anything else (exit 1).
    Error,
}

impl ErrorCode {
    #[cfg(test)]
    pub const ALL: [ErrorCode; 13] = [
        Self::Usage,
        Self::NeedsConfirmation,
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::InvalidRequest,
        Self::RateLimited,
        Self::Unavailable,
        Self::ServerError,
        Self::Unreachable,
        Self::SecretStore,
        Self::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Usage => "usage",
            Self::NeedsConfirmation => "needs_confirmation",
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::InvalidRequest => "invalid_request",
            Self::RateLimited => "rate_limited",
            Self::Unavailable => "unavailable",
            Self::ServerError => "server_error",
            Self::Unreachable => "unreachable",
            Self::SecretStore => "secret_store",
            Self::Error => "error",
        }
    }

    /// The exit status that goes with the code.
    pub fn exit(self) -> Exit {
        match self {
            Self::Usage | Self::NeedsConfirmation => Exit::Usage,
            Self::Unauthenticated => Exit::Unauthenticated,
            Self::Forbidden => Exit::Forbidden,
            Self::NotFound => Exit::NotFound,
            _ => Exit::Error,
        }
    }
}

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

/// The stable code for a failed command.
pub fn error_code(err: &anyhow::Error) -> ErrorCode {
    if let Some(cli) = err.downcast_ref::<CliError>() {
        return match cli {
            CliError::NeedsConfirmation { .. } => ErrorCode::NeedsConfirmation,
            CliError::Usage { .. } => ErrorCode::Usage,
            CliError::NotLoggedIn { .. }
            | CliError::SessionExpired { .. }
            | CliError::LoginRefused { .. } => ErrorCode::Unauthenticated,
        };
    }
    if let Some(secrets) = secrets_error(err) {
        return if secrets.is_not_found() { ErrorCode::NotFound } else { ErrorCode::SecretStore };
    }
    let Some(client) = client_error(err) else { return ErrorCode::Error };
    use ward_client::Error as E;
    match client {
        E::InvalidUrl { .. } => ErrorCode::Usage,
        E::Unreachable { .. } | E::Decode { .. } | E::Certificate { .. } => ErrorCode::Unreachable,
        E::Api { status, .. } => match status {
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            409 => ErrorCode::Conflict,
            400 | 413 | 415 | 422 => ErrorCode::InvalidRequest,
            429 => ErrorCode::RateLimited,
            503 => ErrorCode::Unavailable,
            s if *s >= 500 => ErrorCode::ServerError,
            _ => ErrorCode::Error,
        },
        _ => ErrorCode::Error,
    }
}

pub(crate) fn secrets_error(err: &anyhow::Error) -> Option<&ward_secrets::Error> {
    err.chain().find_map(|e| e.downcast_ref::<ward_secrets::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16) -> anyhow::Error {
        anyhow::Error::new(ward_client::Error::Api {
            status,
            code: "c".into(),
            message: "m".into(),
            retry_after: None,
        })
    }

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
