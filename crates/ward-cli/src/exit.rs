//! Exit codes, and how an error is told to the user.
//!
//! 0 ok, 1 error, 2 usage (clap's errors too, and a destructive command
//! refused for want of `--confirm`), 3 unauthenticated (HTTP 401, or no token
//! at all, or a failed `token verify`), 4 forbidden (403), 5 not found (404).
//!
//! Errors print as `error: <what went wrong>` and, where there is one,
//! `hint: <what to do next>`, both on stderr; with `-o json` also as an
//! object on stdout (`crate::report`) whose `code` is an [`ErrorCode`]: a
//! stable snake_case name, from which the exit status follows. Nothing here ever prints a token:
//! client errors carry none, and CLI errors are built without them.

use std::process::ExitCode;

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Error = 1,
    Usage = 2,
    Unauthenticated = 3,
    Forbidden = 4,
    NotFound = 5,
    /// `ward scan` found tokens.
    Found = 6,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

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

fn secrets_error(err: &anyhow::Error) -> Option<&ward_secrets::Error> {
    err.chain().find_map(|e| e.downcast_ref::<ward_secrets::Error>())
}

/// Errors the CLI itself raises, each with its exit code and hint.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// No `WARD_TOKEN` and no saved session for the server.
    #[error("not logged in: run `ward login` or set WARD_TOKEN")]
    NotLoggedIn { server: String },
    /// `ward login` with a wrong user name or password (HTTP 401).
    #[error("{message}")]
    LoginRefused { message: String },
    /// The saved session's own expiry has passed.
    #[error("your session for {server} expired at {at}")]
    SessionExpired { server: String, at: String },
    /// Wrong or missing input that clap cannot see.
    #[error("{message}")]
    Usage { message: String, hint: Option<String> },
    /// A destructive command with no terminal to ask on and no `--confirm`.
    #[error("refusing to {action} without confirmation: stdin is not a terminal")]
    NeedsConfirmation { action: String },
}

impl CliError {
    pub fn usage(message: impl Into<String>, hint: Option<&str>) -> Self {
        Self::Usage { message: message.into(), hint: hint.map(str::to_owned) }
    }

    fn hint(&self) -> Option<String> {
        match self {
            Self::NotLoggedIn { server } => Some(format!(
                "no session is saved for {server}; use --server or WARD_SERVER if you meant another server"
            )),
            Self::SessionExpired { .. } => Some("run `ward login` to start a new session".into()),
            Self::LoginRefused { .. } => Some(
                "check the user name and password; on the server host, `ward server recover-admin` resets the admin user's password".into(),
            ),
            Self::Usage { hint, .. } => hint.clone(),
            Self::NeedsConfirmation { .. } => {
                Some("pass --confirm to go ahead without being asked".into())
            }
        }
    }
}

/// The `error:` and `hint:` lines for a failed command.
pub fn describe(err: &anyhow::Error) -> (String, Option<String>) {
    if let Some(cli) = err.downcast_ref::<CliError>() {
        return (cli.to_string(), cli.hint());
    }
    if let Some(secrets) = secrets_error(err) {
        // The context a command added, then the store's words.
        return (format!("{err:#}"), secrets.hint());
    }
    let Some(client) = client_error(err) else {
        return (format!("{err:#}"), None);
    };
    // The context a command added ("revoking tok_1"), then the server's words.
    let mut parts: Vec<String> = err
        .chain()
        .take_while(|e| e.downcast_ref::<ward_client::Error>().is_none())
        .map(ToString::to_string)
        .collect();
    parts.push(client_message(client));
    (parts.join(": "), client_hint(client))
}

/// Whether the failure is a closed stdout, which is not a failure at all.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

fn client_error(err: &anyhow::Error) -> Option<&ward_client::Error> {
    err.chain().find_map(|e| e.downcast_ref::<ward_client::Error>())
}

fn client_message(err: &ward_client::Error) -> String {
    match err {
        ward_client::Error::Unreachable { url, reason } => {
            format!("could not reach the ward server at {url} ({reason})")
        }
        other => other.to_string(),
    }
}

fn client_hint(err: &ward_client::Error) -> Option<String> {
    use ward_client::Error as E;
    match err {
        E::Unreachable { .. } => {
            Some("is `ward server` running? set --server or WARD_SERVER".into())
        }
        E::Api { status: 401, .. } if std::env::var_os("WARD_TOKEN").is_some_and(|t| !t.is_empty()) => {
            Some("the token in WARD_TOKEN was refused: set a valid one, or unset it to use your `ward login` session".into())
        }
        E::Api { status: 401, .. } => Some("run `ward login` to start a new session".into()),
        E::Api { status: 403, .. } => {
            Some("this needs rights your token does not have: see them with `ward whoami`, or ask an admin".into())
        }
        E::Api { status: 404, .. } => {
            Some("check the id or name with `ward token list` or `ward user list`".into())
        }
        E::Api { status: 429, retry_after: Some(secs), .. } => {
            Some(format!("wait {secs} seconds, then try again"))
        }
        E::Api { status, .. } if *status >= 500 => {
            Some("the server failed; its log has the details".into())
        }
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn code_for(err: &anyhow::Error) -> Exit {
        error_code(err).exit()
    }

    /// An API error with `status`, for the tests here and in `report.rs`.
    pub(crate) fn api(status: u16) -> anyhow::Error {
        anyhow::Error::new(ward_client::Error::Api {
            status,
            code: "c".into(),
            message: "m".into(),
            retry_after: None,
        })
    }

    #[test]
    fn http_statuses_map_to_their_exit_codes() {
        assert_eq!(code_for(&api(401)), Exit::Unauthenticated);
        assert_eq!(code_for(&api(403)), Exit::Forbidden);
        assert_eq!(code_for(&api(404)), Exit::NotFound);
        for other in [400, 409, 422, 429, 500] {
            assert_eq!(code_for(&api(other)), Exit::Error, "status {other}");
        }
    }

    #[test]
    fn statuses_are_found_under_added_context() {
        assert_eq!(code_for(&api(404).context("revoking tok_1")), Exit::NotFound);
        let (message, _) = describe(&api(404).context("revoking tok_1"));
        assert_eq!(message, "revoking tok_1: m");
    }

    #[test]
    fn cli_errors_map_to_their_exit_codes() {
        let not_logged_in = anyhow::Error::new(CliError::NotLoggedIn { server: "s".into() });
        assert_eq!(code_for(&not_logged_in), Exit::Unauthenticated);
        let refused = anyhow::Error::new(CliError::NeedsConfirmation { action: "x".into() });
        assert_eq!(code_for(&refused), Exit::Usage);
        assert_eq!(code_for(&anyhow::Error::new(CliError::usage("bad", None))), Exit::Usage);
        assert_eq!(code_for(&anyhow::anyhow!("disk full")), Exit::Error);
    }

    #[test]
    fn exit_codes_have_their_documented_numbers() {
        let numbers =
            [Exit::Ok, Exit::Error, Exit::Usage, Exit::Unauthenticated, Exit::Forbidden, Exit::NotFound]
                .map(|e| e as u8);
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn not_logged_in_says_what_to_do() {
        let (message, hint) =
            describe(&anyhow::Error::new(CliError::NotLoggedIn { server: "http://s".into() }));
        assert_eq!(message, "not logged in: run `ward login` or set WARD_TOKEN");
        assert!(hint.is_some_and(|h| h.contains("http://s")));
    }

    #[test]
    fn unreachable_servers_are_named_with_a_hint() {
        let err = anyhow::Error::new(ward_client::Error::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "Connection refused".into(),
        });
        let (message, hint) = describe(&err);
        assert!(message.contains("http://127.0.0.1:9"), "{message}");
        assert!(hint.is_some_and(|h| h.contains("WARD_SERVER")));
        assert_eq!(code_for(&err), Exit::Error);
    }

    #[test]
    fn too_many_requests_says_how_long_to_wait() {
        let err = anyhow::Error::new(ward_client::Error::Api {
            status: 429,
            code: "rate_limited".into(),
            message: "too many failed logins".into(),
            retry_after: Some(30),
        });
        assert_eq!(describe(&err).1.as_deref(), Some("wait 30 seconds, then try again"));
    }

    #[test]
    fn broken_pipes_are_recognised_under_context() {
        let err =
            anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe)).context("printing");
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&anyhow::anyhow!("other")));
    }
}
