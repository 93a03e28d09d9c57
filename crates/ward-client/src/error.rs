//! What can go wrong talking to a ward server.
//!
//! Policy: an error names the URL and what happened, keeps the server's
//! machine-readable `code` and its human `message`, and never carries a token,
//! a password or a response body that might hold one.

/// An error from a call to the ward API.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server answered with an error status and (usually) an
    /// `{"error":{"code","message"}}` body.
    #[error("{message}")]
    Api {
        /// The HTTP status, e.g. 401, 403, 404, 409, 422, 429.
        status: u16,
        /// The server's stable code, e.g. `not_found`; `http_<status>` when
        /// the answer had no ward error body.
        code: String,
        /// What went wrong, as the server put it.
        message: String,
        /// Seconds to wait, from `Retry-After` (429 answers).
        retry_after: Option<u64>,
    },

    /// No answer: connection refused, DNS failure, timeout, TLS failure.
    #[error(
        "could not reach the ward server at {url} ({reason}): is `ward server` running? set --server or WARD_SERVER"
    )]
    Unreachable {
        /// The server's base URL.
        url: String,
        /// The underlying cause, e.g. `Connection refused (os error 111)`.
        reason: String,
    },

    /// The server answered, but not with the JSON this client expects.
    #[error("unexpected answer from {url}: {reason} (is it a ward server of a matching version?)")]
    Decode {
        /// The URL that was called.
        url: String,
        /// What did not parse; never includes string values from the body.
        reason: String,
    },

    /// The server's certificate is not trusted (unknown CA, wrong name,
    /// expired): the connection was closed before anything was sent.
    #[error(
        "the ward server at {url} presented a certificate this machine does not trust ({reason}): if it is signed by a private CA, pass that CA with --ca-cert FILE or WARD_CA_CERT"
    )]
    Certificate {
        /// The server's base URL.
        url: String,
        /// What the TLS library said, e.g. `invalid peer certificate: UnknownIssuer`.
        reason: String,
    },

    /// A plain `http://` URL to a host that is not this machine; refused
    /// before any connection was attempted.
    #[error(
        "refusing to send credentials over plain http:// to {host} ({url}), which is not this machine: use https://, or pass --allow-http (WARD_ALLOW_HTTP=true) if the network in between is trusted"
    )]
    PlainHttp { url: String, host: String },

    /// The extra CA (`--ca-cert`) cannot be used.
    #[error("the CA certificate cannot be used: {reason}")]
    InvalidCa { reason: String },

    /// The server URL given to [`crate::Client::new`] cannot be used.
    #[error("invalid server URL '{url}': {reason}")]
    InvalidUrl { url: String, reason: String },

    /// The token cannot be sent in an HTTP header (e.g. it holds a newline).
    #[error("the token contains characters that cannot be sent in an HTTP header")]
    InvalidToken,
}

impl Error {
    /// The HTTP status of an [`Error::Api`] answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The server's error code of an [`Error::Api`] answer.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether the server refused the credentials (HTTP 401).
    pub fn is_unauthenticated(&self) -> bool {
        self.status() == Some(401)
    }

    pub(crate) fn from_transport(base: &str, err: &reqwest::Error) -> Self {
        if err.is_builder() {
            return Self::InvalidUrl { url: base.to_owned(), reason: deepest_cause(err) };
        }
        let reason = deepest_cause(err);
        if reason.contains("certificate") {
            return Self::Certificate { url: base.to_owned(), reason };
        }
        Self::Unreachable { url: base.to_owned(), reason }
    }

    pub(crate) fn from_json(url: &reqwest::Url, err: &serde_json::Error) -> Self {
        Self::Decode { url: url_without_query(url), reason: redact_json_error(err) }
    }
}

/// The innermost cause of a transport error: "Connection refused (os error
/// 111)" says more than "error sending request".
fn deepest_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = err;
    while let Some(next) = cause.source() {
        cause = next;
    }
    cause.to_string()
}

/// The URL of a call for an error message, without its query string.
pub(crate) fn url_without_query(url: &reqwest::Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// A JSON error without any quoted value from the body: serde_json quotes
/// the offending string in type errors (`invalid type: string "…"`), which
/// could be a token.
fn redact_json_error(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.find('"') {
        Some(quote) => {
            format!("{}(value hidden) at line {} column {}", &text[..quote], err.line(), err.column())
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_errors_never_quote_body_values() {
        let err = serde_json::from_str::<u32>("\"ward_u_secret\"").err();
        let text = err.as_ref().map(redact_json_error).unwrap_or_default();
        assert!(!text.contains("ward_u_secret"), "{text}");
        assert!(text.contains("value hidden"), "{text}");
    }

    #[test]
    fn json_errors_keep_field_names() {
        #[derive(Debug, serde::Deserialize)]
        #[expect(dead_code, reason = "only deserialised: the test looks at the error")]
        struct T {
            token: String,
        }
        let err = serde_json::from_str::<T>("{}").err();
        let text = err.as_ref().map(redact_json_error).unwrap_or_default();
        assert!(text.contains("missing field `token`"), "{text}");
    }

    #[test]
    fn unreachable_names_the_url_and_the_fix() {
        let err =
            Error::Unreachable { url: "http://127.0.0.1:9".into(), reason: "Connection refused".into() };
        let text = err.to_string();
        assert!(text.contains("http://127.0.0.1:9"), "{text}");
        assert!(text.contains("WARD_SERVER"), "{text}");
    }

    #[test]
    fn status_and_code_come_from_api_errors_only() {
        let err = Error::Api {
            status: 404,
            code: "not_found".into(),
            message: "token tok_x not found".into(),
            retry_after: None,
        };
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.code(), Some("not_found"));
        assert_eq!(err.to_string(), "token tok_x not found");
        assert_eq!(Error::InvalidToken.status(), None);
    }
}
