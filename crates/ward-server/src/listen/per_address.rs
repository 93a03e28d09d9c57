//! The per-address connection cap (`server.max_connections_per_address`):
//! one client may hold at most that many of the server's connections, so a
//! host that opens (and keeps alive) as many as `max_connections` cannot
//! lock every other client out.
//!
//! Connections count together by [`Peer`]: one IPv4 address; one IPv6 /64
//! (a single host is commonly given a whole /64 and may use any address in
//! it; an IPv4-mapped IPv6 address counts as its IPv4 address); all
//! Unix-socket peers together (the kernel gives them no address). Loopback
//! is not exempt: behind a reverse proxy on the same machine every client
//! arrives from the proxy's one address, so raise the cap there
//! (`docs/tls.md`).
//!
//! The check is made at accept, before a byte is read: a connection beyond
//! the cap is closed at once (`super::run`).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

/// Whose connections count together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    /// An IPv4 address, or the first 64 bits of an IPv6 one.
    Ip(IpAddr),
    /// Any client of a Unix socket.
    Unix,
}

impl Peer {
    /// The bucket of a TCP client's address.
    pub fn of(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Self::Ip(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Self::Ip(IpAddr::V4(v4)),
                None => {
                    let [a, b, c, d, ..] = v6.segments();
                    Self::Ip(IpAddr::V6(Ipv6Addr::new(a, b, c, d, 0, 0, 0, 0)))
                }
            },
        }
    }
}

/// How many connections each peer holds, against one cap.
#[derive(Debug)]
pub struct AddressSlots {
    cap: usize,
    open: Mutex<HashMap<Peer, usize>>,
}

impl AddressSlots {
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self { cap, open: Mutex::new(HashMap::new()) })
    }

    /// A slot for one more connection of `peer`, or `None` when it holds
    /// the cap already.
    pub fn take(self: &Arc<Self>, peer: Peer) -> Option<AddressSlot> {
        let mut open = self.lock();
        let count = open.entry(peer).or_insert(0);
        if *count >= self.cap {
            return None;
        }
        *count += 1;
        Some(AddressSlot { slots: self.clone(), peer })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Peer, usize>> {
        match self.open.lock() {
            Ok(open) => open,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

/// One connection's place under its peer's cap, given back on drop. A peer
/// with no connection left is forgotten, so the table holds only the peers
/// connected now.
#[derive(Debug)]
pub struct AddressSlot {
    slots: Arc<AddressSlots>,
    peer: Peer,
}

impl Drop for AddressSlot {
    fn drop(&mut self) {
        let mut open = self.slots.lock();
        if let Some(count) = open.get_mut(&self.peer) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.peer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(text: &str) -> Peer {
        Peer::of(text.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)))
    }

    #[test]
    fn a_peer_at_its_cap_is_refused_while_another_is_not() {
        let slots = AddressSlots::new(2);
        let first = slots.take(peer("127.0.0.1"));
        let second = slots.take(peer("127.0.0.1"));
        assert!(first.is_some() && second.is_some());
        assert!(slots.take(peer("127.0.0.1")).is_none(), "a third from one address");
        assert!(slots.take(peer("127.0.0.2")).is_some(), "another address is not held back");
        drop(first);
        assert!(slots.take(peer("127.0.0.1")).is_some(), "a closed connection gives its slot back");
    }

    #[test]
    fn peers_with_no_connection_left_are_forgotten() {
        let slots = AddressSlots::new(4);
        let held: Vec<_> = (1..=50).filter_map(|i| slots.take(peer(&format!("10.0.0.{i}")))).collect();
        assert_eq!(held.len(), 50);
        drop(held);
        assert!(slots.lock().is_empty());
    }

    #[test]
    fn an_ipv6_slash_64_counts_as_one_peer_and_mapped_ipv4_as_its_ipv4() {
        assert_eq!(peer("2001:db8:1:2::1"), peer("2001:db8:1:2:ffff::9"));
        assert_ne!(peer("2001:db8:1:2::1"), peer("2001:db8:1:3::1"));
        assert_eq!(peer("::ffff:192.0.2.7"), peer("192.0.2.7"));
        let slots = AddressSlots::new(1);
        let _one = slots.take(peer("2001:db8::1"));
        assert!(slots.take(peer("2001:db8::2")).is_none());
        assert!(slots.take(Peer::Unix).is_some(), "Unix-socket peers have a bucket of their own");
    }
}
