//! Who the client is: the address a request came from, decided once per
//! request (by `audit::context::layer`) and used by the login throttle and
//! the audit trail alike.
//!
//! The peer address of the connection is the client, unless the peer is a
//! trusted proxy (`[server] trusted_proxies`, CIDRs). Then
//! `X-Forwarded-For` is read from the right: every hop a trusted proxy
//! added is skipped, and the right-most address that is not a trusted proxy
//! is the client. A header from an untrusted peer is ignored, so nobody can
//! pick the address they are throttled and audited under.

use axum::http::HeaderMap;
use std::net::IpAddr;

/// An address block such as `10.0.0.0/8` or `::1/128`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// A CIDR that cannot be read; the message says what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not an address block: write e.g. 127.0.0.1/32, 10.0.0.0/8 or ::1/128")]
pub struct InvalidCidr(String);

impl Cidr {
    /// `ADDR/PREFIX`, or a bare address (a block of one).
    pub fn parse(s: &str) -> Result<Self, InvalidCidr> {
        let bad = || InvalidCidr(s.chars().take(64).collect());
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let network: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(bad)?,
            None => max,
        };
        Ok(Self { network, prefix })
    }

    /// Whether `ip` lies in this block (an IPv4-mapped IPv6 address counts
    /// as its IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The most `X-Forwarded-For` hops looked at; a longer chain is cut there.
const MAX_HOPS: usize = 32;

/// The client's address: `peer`, or when `peer` is a trusted proxy, the
/// right-most `X-Forwarded-For` hop that is not one. A hop that is not an
/// address stops the walk at the proxy that passed it on.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else { return peer };
        hops.extend(text.split(',').map(str::trim).filter(|h| !h.is_empty()));
    }
    let mut client = peer;
    for hop in hops.iter().rev().take(MAX_HOPS) {
        let Ok(ip) = hop.parse::<IpAddr>().map(canonical) else { return client };
        client = ip;
        if !is_trusted(ip) {
            return ip;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).expect("header"));
        }
        h
    }

    fn cidrs(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|c| Cidr::parse(c).expect("test cidr")).collect()
    }

    #[test]
    fn blocks_contain_what_their_prefix_covers() {
        let net = Cidr::parse("10.1.0.0/16").expect("cidr");
        assert!(net.contains(ip("10.1.200.3")));
        assert!(!net.contains(ip("10.2.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").expect("cidr").contains(ip("8.8.8.8")));
        assert!(Cidr::parse("::1").expect("cidr").contains(ip("::1")));
        assert!(Cidr::parse("127.0.0.1/32").expect("cidr").contains(ip("::ffff:127.0.0.1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("localhost").is_err());
    }

    #[test]
    fn the_header_of_an_untrusted_peer_is_ignored() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        assert_eq!(resolve(ip("192.0.2.7"), &xff(&["203.0.113.9"]), &trusted), ip("192.0.2.7"));
        assert_eq!(resolve(ip("192.0.2.7"), &xff(&["203.0.113.9"]), &[]), ip("192.0.2.7"));
    }

    #[test]
    fn a_trusted_proxy_names_the_right_most_untrusted_hop() {
        let trusted = cidrs(&["10.0.0.0/8"]);
        // The client forged the first entry; the proxies appended the rest.
        let headers = xff(&["1.1.1.1, 203.0.113.9", "10.0.0.2"]);
        assert_eq!(resolve(ip("10.0.0.1"), &headers, &trusted), ip("203.0.113.9"));
        // Only proxies: the left-most of them.
        assert_eq!(resolve(ip("10.0.0.1"), &xff(&["10.0.0.5"]), &trusted), ip("10.0.0.5"));
        // No header: the proxy itself.
        assert_eq!(resolve(ip("10.0.0.1"), &HeaderMap::new(), &trusted), ip("10.0.0.1"));
        // Garbage stops the walk at the proxy that passed it on.
        assert_eq!(resolve(ip("10.0.0.1"), &xff(&["203.0.113.9, junk"]), &trusted), ip("10.0.0.1"));
    }
}
