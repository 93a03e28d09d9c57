//! What a connection may take from the real `ward server`: the header and
//! body timeouts, the global connection bound (connections beyond it wait),
//! and the per-address cap (a connection beyond it is closed at once while
//! other addresses are served). Client sockets from another loopback
//! address (127.0.0.2, which Linux routes to this machine) stand for a
//! second host.

use crate::harness::eventually;
use crate::transport::Ward;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// Reads until the server closes the connection; `false` if it was still
/// open after `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).expect("timeout");
    let mut sink = Vec::new();
    match stream.read_to_end(&mut sink) {
        Ok(_) => true,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

const SHORT_TIMEOUTS: &str = "[server]\nheader_timeout = \"1s\"\nbody_timeout = \"1s\"\n";

#[test]
fn a_client_that_stalls_mid_body_is_disconnected() {
    let server = Ward::start(SHORT_TIMEOUTS, &["--listen", "127.0.0.1:0"]);
    for announced in ["1000", "10000000"] {
        let mut stream = TcpStream::connect(server.host_port()).expect("connect");
        let head = format!(
            "POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {announced}\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("send headers");
        stream.write_all(b"{\"usernam").expect("send 9 bytes");
        assert!(closed_within(&mut stream, Duration::from_secs(15)), "announced {announced}: still open");
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let server = Ward::start(SHORT_TIMEOUTS, &["--listen", "127.0.0.1:0"]);
    let mut stream = TcpStream::connect(server.host_port()).expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").expect("send part of the headers");
    assert!(closed_within(&mut stream, Duration::from_secs(15)), "still open");
    // One that sends nothing at all, too.
    let mut silent = TcpStream::connect(server.host_port()).expect("connect");
    assert!(closed_within(&mut silent, Duration::from_secs(15)), "still open");
    // And the server still answers.
    let mut fine = TcpStream::connect(server.host_port()).expect("connect");
    fine.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = String::new();
    fine.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let _ = fine.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn connections_beyond_the_bound_wait_until_one_closes() {
    let server = Ward::start(
        "[server]\nmax_connections = 1\nheader_timeout = \"60s\"\n",
        &["--listen", "127.0.0.1:0"],
    );
    let holder = TcpStream::connect(server.host_port()).expect("connect");
    // Give the server the time to accept the first one: its request is answered.
    let mut waiting = TcpStream::connect(server.host_port()).expect("the kernel queues it");
    waiting.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").expect("send");
    waiting.set_read_timeout(Some(Duration::from_millis(1500))).expect("timeout");
    let mut first = [0u8; 1];
    let early = waiting.read(&mut first);
    assert!(early.is_err(), "answered while the only slot was taken: {early:?}");
    drop(holder);
    waiting.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let mut answer = String::new();
    let _ = waiting.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 200"), "answered once the slot was free: {answer}");
}

/// A TCP connection to `to` (`HOST:PORT`) from the local address `from`
/// (e.g. `127.0.0.2`): std cannot bind a socket before connecting it.
fn connect_from(from: &str, to: &str) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("a runtime");
    let stream = runtime
        .block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(format!("{from}:0").parse().expect("an address"))?;
            socket.connect(to.parse().expect("an address")).await?.into_std()
        })
        .unwrap_or_else(|e| panic!("connect from {from} to {to}: {e}"));
    stream.set_nonblocking(false).expect("blocking");
    stream
}

/// Sends `GET path` on `stream` (closing after the answer) and returns the
/// answer, or what was read before the server closed the connection.
fn get(stream: &mut TcpStream, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let _ = stream.write_all(request.as_bytes());
    stream.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn one_address_beyond_its_cap_is_closed_at_once_while_another_address_is_served() {
    let server = Ward::start(
        "[server]\nmax_connections_per_address = 2\nheader_timeout = \"60s\"\n",
        &["--listen", "127.0.0.1:0"],
    );
    let addr = server.host_port();
    // Two connections from 127.0.0.1 that send nothing: within the cap,
    // they stay open (for header_timeout, 60 s).
    let mut held = [TcpStream::connect(&addr).expect("connect"), TcpStream::connect(&addr).expect("connect")];
    let mut third = TcpStream::connect(&addr).expect("the kernel completes the handshake");
    assert!(closed_within(&mut third, Duration::from_secs(5)), "a third from 127.0.0.1 was kept open");

    let mut other = connect_from("127.0.0.2", &addr);
    let metrics = get(&mut other, "/metrics");
    assert!(metrics.starts_with("HTTP/1.1 200"), "127.0.0.2 is served: {metrics}");
    assert!(
        metrics.contains("ward_connections_refused_total{reason=\"per_address\"} 1"),
        "the refusal is counted: {metrics}"
    );

    // The two held ones are served, and once one closes, 127.0.0.1 gets a slot back.
    assert!(get(&mut held[0], "/healthz").starts_with("HTTP/1.1 200"), "a connection within the cap");
    eventually(20, "a new connection from 127.0.0.1 to be served", || {
        let mut again = TcpStream::connect(&addr).expect("connect");
        get(&mut again, "/healthz").starts_with("HTTP/1.1 200")
    });
    drop(held);
}
