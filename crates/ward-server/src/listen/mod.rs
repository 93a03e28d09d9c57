//! The transport: where the server listens (TCP or a Unix socket), TLS,
//! and what a connection may take before it is dropped.
//!
//! `axum::serve` has no TLS, no header or body timeout and no bound on
//! connections, so ward runs its own accept loop ([`run`]): at most
//! `server.max_connections` connections are open at once (the next ones
//! wait in the kernel's listen backlog, they are not refused by ward); one
//! client address holds at most `server.max_connections_per_address` of
//! them ([`per_address`]: one more is closed as soon as it is accepted, and
//! counted in `ward_connections_refused_total`); each is served by hyper
//! (HTTP/1.1 or HTTP/2) under the deadlines in [`conn`]; request bodies are
//! read under [`body`]'s deadline.

pub mod body;
pub mod conn;
pub mod per_address;
pub mod tls;
mod unix;

use crate::config::TransportLimits;
use per_address::{AddressSlots, Peer};
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{Semaphore, watch};

pub use tls::{TlsConfig, TlsError, TlsFiles};

/// A `--listen` value: `HOST:PORT`, or `unix:/path/to/socket`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Tcp(String),
    Unix(PathBuf),
}

/// A `--listen` value that cannot be an address.
#[derive(Debug, thiserror::Error)]
#[error("'{0}' is not an address to listen on: give HOST:PORT (e.g. 127.0.0.1:8420) or unix:/path/to/socket")]
pub struct BadEndpoint(pub String);

impl Endpoint {
    /// Parses `--listen` without binding: `unix:` and an absolute or
    /// relative path, or anything with a port after its last `:`.
    pub fn parse(text: &str) -> Result<Self, BadEndpoint> {
        let bad = || BadEndpoint(text.chars().take(200).collect());
        if let Some(path) = text.strip_prefix("unix:") {
            return if path.is_empty() { Err(bad()) } else { Ok(Self::Unix(PathBuf::from(path))) };
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(bad)?;
        if host.is_empty() || port.parse::<u16>().is_err() {
            return Err(bad());
        }
        Ok(Self::Tcp(text.to_owned()))
    }

    /// Binds: a TCP listener, or a Unix socket of mode 0660 (a socket file
    /// left by a server that is gone is replaced; one that answers is not).
    pub async fn bind(&self) -> std::io::Result<Listener> {
        match self {
            Self::Tcp(addr) => Ok(Listener::Tcp(TcpListener::bind(addr).await?)),
            Self::Unix(path) => {
                let (socket, file) = unix::bind(path)?;
                Ok(Listener::Unix(socket, path.clone(), file))
            }
        }
    }
}

/// A bound listener.
#[derive(Debug)]
pub enum Listener {
    Tcp(TcpListener),
    /// The socket, its path, and the file the path named when bound.
    Unix(UnixListener, PathBuf, unix::FileId),
}

impl From<TcpListener> for Listener {
    fn from(listener: TcpListener) -> Self {
        Self::Tcp(listener)
    }
}

impl Listener {
    /// Where it listens, as a URL (`http://…`, `https://…`) or `unix:/path`.
    pub fn describe(&self, tls: bool) -> std::io::Result<String> {
        let scheme = if tls { "https" } else { "http" };
        Ok(match self {
            Self::Tcp(l) => format!("{scheme}://{}", l.local_addr()?),
            Self::Unix(_, path, _) => format!("unix:{}", path.display()),
        })
    }
}

/// The client address a Unix-socket peer is given: the audit trail and the
/// login throttle see it as this machine.
pub const UNIX_PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 0);

/// Accepts connections until `shutdown` resolves, serving each with `app`
/// (a connection beyond its address's cap is closed at once and counted in
/// `refused`); then asks every open connection to finish its request and
/// close, and waits for them.
pub async fn run(
    listener: Listener,
    app: axum::Router,
    tls: Option<TlsConfig>,
    limits: TransportLimits,
    refused: metrics::Counter,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_address = AddressSlots::new(limits.max_connections_per_address);
    let (closing, closed) = watch::channel(false);
    let server = conn::Server { app, tls, limits, closing: closed };
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = accept(&listener) => accepted,
        };
        match accepted {
            Ok(Accepted::Tcp(stream, peer)) => match per_address.take(Peer::of(peer.ip())) {
                Some(address) => {
                    let _ = stream.set_nodelay(true);
                    // (address, permit): a tuple drops in order, so the
                    // address slot is back before the permit lets this loop
                    // accept the next connection, which may be its own.
                    server.spawn(stream, peer, (address, permit));
                }
                None => refuse(stream, peer, &refused),
            },
            Ok(Accepted::Unix(stream)) => match per_address.take(Peer::Unix) {
                Some(address) => server.spawn(stream, UNIX_PEER, (address, permit)),
                None => refuse(stream, UNIX_PEER, &refused),
            },
            Err(e) => {
                // EMFILE and friends: wait a moment instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    }
    let _ = closing.send(true);
    if let Listener::Unix(_, path, file) = &listener {
        unix::remove_if_ours(*file, path);
    }
    drop(listener);
    // Every connection holds a slot: all slots back means all closed.
    let all = u32::try_from(server.limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
    Ok(())
}

/// Closes a connection beyond its address's cap before reading from it.
/// Logged at DEBUG only (a client that floods would flood the log); the
/// counter is what an operator watches.
fn refuse<S>(stream: S, peer: SocketAddr, refused: &metrics::Counter) {
    refused.increment(1);
    tracing::debug!(client.addr = %peer.ip(), "connection refused: its address holds max_connections_per_address");
    drop(stream);
}

enum Accepted {
    Tcp(tokio::net::TcpStream, SocketAddr),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Accepted> {
    match listener {
        Listener::Tcp(l) => l.accept().await.map(|(s, peer)| Accepted::Tcp(s, peer)),
        Listener::Unix(l, _, _) => l.accept().await.map(|(s, _)| Accepted::Unix(s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_values_parse_into_tcp_or_unix() {
        assert_eq!(Endpoint::parse("127.0.0.1:8420").ok(), Some(Endpoint::Tcp("127.0.0.1:8420".into())));
        assert_eq!(Endpoint::parse("[::1]:0").ok(), Some(Endpoint::Tcp("[::1]:0".into())));
        assert_eq!(
            Endpoint::parse("unix:/run/ward.sock").ok(),
            Some(Endpoint::Unix("/run/ward.sock".into()))
        );
        for bad in ["", "8420", "unix:", "host:port", ":8420", "127.0.0.1:99999"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }
}
