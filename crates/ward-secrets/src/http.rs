//! The blocking HTTP client shared by the Vault backend and OAuth refresh:
//! a timeout on every call, HTTP error statuses returned as responses so
//! callers can read the server's error body, and the plain-http rule
//! ([`check_url`]): secrets go over `http://` only to this machine unless
//! the process allowed it ([`allow_plain_http`], the CLI's `--allow-http`).
//! Plain `http://` also goes straight to the server, never through a proxy
//! named by `HTTP_PROXY`/`ALL_PROXY` ([`agent_for`]): a proxy would read
//! the Vault token or the refresh token in clear, as it would the CLI's
//! (`ward-client` makes the same choice). `https://` keeps the proxy: it
//! only sees a tunnel.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub const TIMEOUT: Duration = Duration::from_secs(15);

static PLAIN_HTTP_ALLOWED: AtomicBool = AtomicBool::new(false);

/// The agent for requests to `url`: the proxy from the environment for
/// `https://`, none for plain `http://`.
pub fn agent_for(url: &str) -> ureq::Agent {
    agent_with(url, ureq::Proxy::try_from_env())
}

/// [`agent_for`] with the proxy the environment would give.
pub(crate) fn agent_with(url: &str, env_proxy: Option<ureq::Proxy>) -> ureq::Agent {
    let plain = url.get(..7).is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"));
    ureq::Agent::config_builder()
        .proxy(if plain { None } else { env_proxy })
        .timeout_global(Some(TIMEOUT))
        .http_status_as_error(false)
        // A redirect's target was never judged by the plain-http rule.
        .max_redirects(0)
        .build()
        .into()
}

/// Allows (or forbids again) plain `http://` to hosts that are not this
/// machine, for every Vault and OAuth call this process makes.
pub fn allow_plain_http(allowed: bool) {
    PLAIN_HTTP_ALLOWED.store(allowed, Ordering::Relaxed);
}

/// Checks `url` before anything is sent to it: it must parse, and plain
/// `http://` must go to a loopback host unless [`allow_plain_http`] was
/// called. The host is the one ureq's own parser finds.
pub fn check_url(url: &str) -> Result<()> {
    let shown: String = url.chars().take(200).collect();
    let uri: ureq::http::Uri = url.parse().map_err(|_| Error::Invalid(format!("'{shown}' is not a URL")))?;
    let scheme = uri.scheme_str().unwrap_or_default();
    let host = uri.host().unwrap_or_default();
    ward_core::plain_http::check(scheme, host, PLAIN_HTTP_ALLOWED.load(Ordering::Relaxed)).map_err(|e| {
        Error::Invalid(format!(
            "{e} (the URL was {shown}); pass --allow-http if the network in between is trusted"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_goes_only_to_this_machine() {
        let err =
            check_url("http://10.1.2.3:8200/v1/secret").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("10.1.2.3") && err.contains("--allow-http"), "{err}");
        for fine in ["http://127.0.0.1:8200", "http://localhost/token", "https://vault.example.com"] {
            assert!(check_url(fine).is_ok(), "{fine}");
        }
    }

    /// A listener that answers one request with 204 and reports the bytes
    /// it read; `None` if nobody connected within a second.
    fn listener() -> (String, std::sync::mpsc::Receiver<Vec<u8>>) {
        use std::io::{Read, Write};
        let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = socket.local_addr().expect("addr").to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = socket.accept() {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    seen.extend_from_slice(&buf[..n]);
                    if seen.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
                let _ = tx.send(seen);
            }
        });
        (addr, rx)
    }

    #[test]
    fn plain_http_goes_straight_to_the_server_and_never_through_a_proxy() {
        let (proxy, proxy_saw) = listener();
        let (server, server_saw) = listener();
        let env_proxy = ureq::Proxy::new(&format!("http://{proxy}")).expect("a proxy URL");
        let url = format!("http://{server}/v1/secret/data/x");
        let answer = agent_with(&url, Some(env_proxy)).get(&url).header("X-Vault-Token", "s.secret").call();
        assert_eq!(answer.map(|r| r.status().as_u16()).ok(), Some(204));
        let reached = server_saw.recv_timeout(Duration::from_secs(5)).unwrap_or_default();
        assert!(String::from_utf8_lossy(&reached).contains("/v1/secret/data/x"));
        let leaked = proxy_saw.recv_timeout(Duration::from_millis(500));
        assert!(
            leaked.is_err(),
            "the proxy saw: {:?}",
            leaked.map(|b| String::from_utf8_lossy(&b).into_owned())
        );
    }

    #[test]
    fn https_keeps_the_proxy_of_the_environment() {
        let env_proxy = ureq::Proxy::new("http://127.0.0.1:3128").expect("a proxy URL");
        let agent = agent_with("https://vault.example.com", Some(env_proxy));
        assert!(agent.config().proxy().is_some());
        let env_proxy = ureq::Proxy::new("http://127.0.0.1:3128").expect("a proxy URL");
        assert!(agent_with("HTTP://127.0.0.1:8200", Some(env_proxy)).config().proxy().is_none());
    }
}
