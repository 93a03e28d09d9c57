//! The [`Client`] itself: base URL, bearer token, and the one place where a
//! request is sent and its answer turned into a type or an [`Error`].

use crate::error::{Error, url_without_query};
use reqwest::header::{self, HeaderValue};
use reqwest::{Method, RequestBuilder, StatusCode, Url};
use serde::de::DeserializeOwned;
use std::fmt;
use std::time::Duration;
use ward_api::ErrorBody;
use zeroize::Zeroizing;

/// Where `ward server` listens when started with no flags.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8420";

/// How the client may reach the server: an extra CA to trust besides the
/// public roots, and whether plain `http://` to a host that is not this
/// machine is allowed.
#[derive(Debug, Clone, Default)]
pub struct Transport {
    /// PEM certificates (one or more) to trust, e.g. a private CA.
    pub extra_ca_pem: Option<Vec<u8>>,
    /// Send requests over plain `http://` to any host (`--allow-http`).
    /// Without it only loopback hosts may be reached over plain HTTP.
    pub allow_http: bool,
}

/// A client for one ward server, optionally authenticated by one token.
///
/// Cheap to clone. `Debug` shows the server URL and whether a token is set,
/// never the token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    /// The base URL as given (without trailing slash), for messages.
    base_text: String,
    auth: Option<HeaderValue>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base_text)
            .field("token", &self.auth.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client for the server at `base_url` (`http://` or `https://`, with
    /// an optional path prefix), sending `token` as a bearer token if given,
    /// trusting the public roots and allowing plain `http://` to loopback
    /// hosts only.
    pub fn new(base_url: impl AsRef<str>, token: Option<String>) -> Result<Self, Error> {
        Self::with_transport(base_url, token, &Transport::default())
    }

    /// Like [`Client::new`], with an extra CA and the plain-http rule from
    /// `transport`. A refused `http://` URL fails here, before any
    /// connection is attempted.
    pub fn with_transport(
        base_url: impl AsRef<str>,
        token: Option<String>,
        transport: &Transport,
    ) -> Result<Self, Error> {
        let given = base_url.as_ref().trim();
        let invalid = |reason: &str| Error::InvalidUrl {
            url: given.chars().take(200).collect(),
            reason: reason.to_owned(),
        };
        let base = Url::parse(given).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("use an http:// or https:// URL"));
        }
        if base.cannot_be_a_base() || base.host().is_none() {
            return Err(invalid("the URL has no host"));
        }
        if base.query().is_some() || base.fragment().is_some() || !base.username().is_empty() {
            return Err(invalid("give only scheme, host, port and an optional path"));
        }
        let host = base.host_str().unwrap_or_default();
        ward_core::plain_http::check(base.scheme(), host, transport.allow_http)
            .map_err(|e| Error::PlainHttp { url: given.chars().take(200).collect(), host: e.host })?;
        // The API never redirects, and a redirect would carry a login's
        // password to a URL the plain-http rule never judged: none is
        // followed. Plain http goes straight to the server, never through
        // an `HTTP_PROXY` that would read it.
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("ward/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .redirect(reqwest::redirect::Policy::none());
        if base.scheme() == "http" {
            builder = builder.no_proxy();
        }
        if let Some(pem) = &transport.extra_ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| Error::InvalidCa { reason: e.to_string() })?;
            if certs.is_empty() {
                return Err(Error::InvalidCa { reason: "it holds no PEM certificate".into() });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let http = builder.build().map_err(|e| Error::from_transport(given, &e))?;
        Ok(Self { http, base_text: given.trim_end_matches('/').to_owned(), base, auth: bearer(token)? })
    }

    /// The same server and connection pool with another token (or none).
    pub fn with_token(&self, token: Option<String>) -> Result<Self, Error> {
        Ok(Self { auth: bearer(token)?, ..self.clone() })
    }

    /// The server's base URL as given, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_text
    }

    /// Whether this client sends a bearer token.
    pub fn has_token(&self) -> bool {
        self.auth.is_some()
    }

    /// A request to the path made of `segments`, each percent-encoded, so an
    /// id or a user name can never change the path.
    pub(crate) fn request(&self, method: Method, segments: &[&str]) -> RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        let builder = self.http.request(method, url);
        match &self.auth {
            Some(value) => builder.header(header::AUTHORIZATION, value.clone()),
            None => builder,
        }
    }

    /// Sends `request` and parses a successful answer as `T`.
    pub(crate) async fn fetch<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, Error> {
        let (url, bytes) = self.send(request).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::from_json(&url, &e))
    }

    /// Sends `request` and ignores the body of a successful answer (204).
    pub(crate) async fn fetch_empty(&self, request: RequestBuilder) -> Result<(), Error> {
        self.send(request).await.map(|_| ())
    }

    async fn send(&self, request: RequestBuilder) -> Result<(Url, Vec<u8>), Error> {
        let response = request
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| Error::from_transport(&self.base_text, &e))?;
        let status = response.status();
        let url = response.url().clone();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let bytes = response.bytes().await.map_err(|e| Error::from_transport(&self.base_text, &e))?;
        if status.is_success() {
            return Ok((url, bytes.to_vec()));
        }
        Err(api_error(status, &url, &bytes, retry_after))
    }
}

/// The `Authorization` header for `token`, marked sensitive so that it is
/// redacted from reqwest's and hyper's own debug output.
fn bearer(token: Option<String>) -> Result<Option<HeaderValue>, Error> {
    let Some(token) = token.map(Zeroizing::new) else {
        return Ok(None);
    };
    let line = Zeroizing::new(format!("Bearer {}", token.trim()));
    let mut value = HeaderValue::from_str(&line).map_err(|_| Error::InvalidToken)?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// An error answer: the server's `{"error":{…}}` when there is one, else the
/// status line (the body is not quoted: it might not be ward's).
fn api_error(status: StatusCode, url: &Url, body: &[u8], retry_after: Option<u64>) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => {
            Error::Api { status: status.as_u16(), code: error.code, message: error.message, retry_after }
        }
        Err(_) => Error::Api {
            status: status.as_u16(),
            code: format!("http_{}", status.as_u16()),
            message: format!(
                "the server answered {status} for {} with no ward error body",
                url_without_query(url)
            ),
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::new(base, Some("ward_u_secret".into())).expect("valid client")
    }

    #[test]
    fn debug_output_never_shows_the_token() {
        let text = format!("{:?}", client("http://127.0.0.1:8420"));
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("***"), "{text}");
    }

    #[test]
    fn path_segments_are_percent_encoded_below_the_base_path() {
        let c = client("https://example.com/ward/");
        let request =
            c.request(Method::GET, &["v1", "users", "a/../b c", "tokens"]).build().expect("request builds");
        assert_eq!(request.url().as_str(), "https://example.com/ward/v1/users/a%2F..%2Fb%20c/tokens");
    }

    #[test]
    fn the_token_is_sent_as_a_sensitive_bearer_header() {
        let request = client("http://127.0.0.1").request(Method::GET, &["v1"]).build().expect("builds");
        let value = request.headers().get(header::AUTHORIZATION).expect("header set");
        assert!(value.is_sensitive());
        assert_eq!(value.to_str().ok(), Some("Bearer ward_u_secret"));
    }

    #[test]
    fn refuses_urls_that_are_not_http() {
        for bad in ["127.0.0.1:8420", "ftp://h", "mailto:a@b", "http://h/?q=1", "not a url"] {
            assert!(
                matches!(Client::new(bad, None), Err(Error::InvalidUrl { .. })),
                "{bad} should be refused"
            );
        }
    }

    #[test]
    fn refuses_tokens_that_cannot_be_a_header() {
        assert!(matches!(Client::new("http://localhost", Some("a\nb".into())), Err(Error::InvalidToken)));
    }

    #[test]
    fn plain_http_reaches_only_this_machine_unless_allowed() {
        let err = Client::new("http://10.1.2.3:1", None).expect_err("refused");
        assert!(matches!(err, Error::PlainHttp { ref host, .. } if host == "10.1.2.3"), "{err:?}");
        assert!(err.to_string().contains("--allow-http"), "{err}");
        for fine in ["http://127.0.0.1:8420", "http://localhost:1", "http://[::1]:1", "https://10.1.2.3"] {
            assert!(Client::new(fine, None).is_ok(), "{fine}");
        }
        let allowed = Transport { allow_http: true, ..Transport::default() };
        assert!(Client::with_transport("http://10.1.2.3:1", None, &allowed).is_ok());
    }

    #[test]
    fn an_extra_ca_that_is_not_pem_is_refused() {
        let bad = Transport { extra_ca_pem: Some(b"not a certificate".to_vec()), allow_http: false };
        let err = Client::with_transport("https://127.0.0.1", None, &bad).expect_err("refused");
        assert!(matches!(err, Error::InvalidCa { .. }), "{err:?}");
    }

    #[test]
    fn error_answers_keep_status_code_and_message() {
        let url = Url::parse("http://h/v1/tokens?cursor=x").expect("url");
        let body = br#"{"error":{"code":"insufficient_scope","message":"Only admins can list users"}}"#;
        let err = api_error(StatusCode::FORBIDDEN, &url, body, None);
        assert!(matches!(
            err,
            Error::Api { status: 403, ref code, ref message, .. }
                if code == "insufficient_scope" && message == "Only admins can list users"
        ));
    }

    #[test]
    fn error_answers_without_a_ward_body_name_the_status_and_hide_the_body() {
        let url = Url::parse("http://h/v1/tokens?cursor=x").expect("url");
        let err = api_error(StatusCode::BAD_GATEWAY, &url, b"<html>ward_u_leak</html>", Some(3));
        let text = err.to_string();
        assert!(text.contains("502") && !text.contains("leak") && !text.contains("cursor"), "{text}");
        assert_eq!(err.code(), Some("http_502"));
    }

    #[tokio::test]
    async fn a_closed_port_is_unreachable_and_named() {
        let c = Client::new("http://127.0.0.1:9", None).expect("client");
        let err = c.health().await.expect_err("port 9 is closed");
        assert!(matches!(err, Error::Unreachable { ref url, .. } if url == "http://127.0.0.1:9"), "{err:?}");
    }
}
