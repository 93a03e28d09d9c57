//! The one rule for plain `http://`: credentials travel over it only to
//! this machine (a loopback address or `localhost`), unless the operator
//! said the network is trusted. The CLI's server URL, the approval webhook,
//! the Vault address and OAuth token URLs all ask [`check`], each with the
//! host its own URL parser found (the parser that will connect), so no
//! second parser can read the URL differently.

use std::net::IpAddr;

/// A plain-http URL to a host that is not this machine, refused before any
/// connection is attempted. Callers add how to allow it (`--allow-http`, a
/// config key) to the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "refusing plain http:// to {host}, which is not this machine: whatever is sent (passwords, tokens) could be read on the way; use https://"
)]
pub struct PlainHttp {
    pub host: String,
}

/// Whether `host` names this machine: `localhost`, an address in
/// 127.0.0.0/8, or `::1` (with or without brackets).
pub fn is_loopback_host(host: &str) -> bool {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    // Not `localhost.`: a name with a trailing dot skips /etc/hosts and is
    // asked of DNS, which may answer with any address.
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<IpAddr>().is_ok_and(|ip| match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    })
}

/// Ok for any scheme but `http`, for `http` to this machine, and for any
/// `http` when `allow_http` is set. `scheme` and `host` are what the
/// caller's URL parser found.
pub fn check(scheme: &str, host: &str, allow_http: bool) -> Result<(), PlainHttp> {
    if !scheme.eq_ignore_ascii_case("http") || allow_http || is_loopback_host(host) {
        return Ok(());
    }
    Err(PlainHttp { host: host.chars().take(200).collect() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_this_machine() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "[::1]", "::1", "[::ffff:127.0.0.1]"]
        {
            assert!(is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn other_hosts_are_not() {
        for host in [
            "10.1.2.3",
            "192.168.0.1",
            "example.com",
            "localhost.example.com",
            "localhost.",
            "[::2]",
            "0.0.0.0",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn plain_http_to_another_host_is_refused_unless_allowed() {
        assert_eq!(check("http", "10.1.2.3", false), Err(PlainHttp { host: "10.1.2.3".into() }));
        assert!(check("http", "10.1.2.3", true).is_ok());
        assert!(check("https", "10.1.2.3", false).is_ok());
        assert!(check("http", "127.0.0.1", false).is_ok());
        assert!(check("HTTP", "example.com", false).is_err());
    }
}
