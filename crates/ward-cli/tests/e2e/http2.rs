//! HTTP/2 on the real `ward server`, driven by curl (built with nghttp2):
//! `h2` negotiated by ALPN over TLS, prior knowledge on plain TCP, and the
//! body deadline on an HTTP/2 stream whose body stalls. HTTP/1.1 clients
//! are served as before on the same listener (`transport.rs`).

use crate::certs::Ca;
use crate::harness::eventually;
use crate::transport::Ward;
use std::io::Write;
use std::process::{Command, Stdio};

/// `curl ARGS -w '%{http_version} %{http_code}'`: what it printed.
fn curl(args: &[&str], dir: &std::path::Path) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("curl is needed for this test and could not run: {e}"));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn http2_is_served_over_tls_by_alpn_and_on_plain_tcp_by_prior_knowledge() {
    let certs = tempfile::tempdir().expect("tempdir");
    let dir = certs.path();
    let (cert, key) = Ca::new(dir).issue("ward-h2");
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    let tls = Ward::start("", &["--listen", "127.0.0.1:0", "--tls-cert", &cert_arg, "--tls-key", &key_arg]);
    let healthz = format!("{}/healthz", tls.addr);
    assert_eq!(curl(&["--http2", "--cacert", "ca.pem", &healthz], dir), "2 200");
    assert_eq!(curl(&["--http1.1", "--cacert", "ca.pem", &healthz], dir), "1.1 200");

    let plain = Ward::start("", &["--listen", "127.0.0.1:0"]);
    let healthz = format!("{}/healthz", plain.addr);
    assert_eq!(curl(&["--http2-prior-knowledge", &healthz], dir), "2 200");
    assert_eq!(curl(&[&healthz], dir), "1.1 200");
}

#[test]
fn an_http2_stream_whose_body_stalls_is_answered_at_the_body_deadline() {
    let server = Ward::start(
        "[server]\nheader_timeout = \"1s\"\nbody_timeout = \"1s\"\n",
        &["--listen", "127.0.0.1:0"],
    );
    let login = format!("{}/v1/login", server.addr);
    // The body comes from curl's stdin, which the test keeps open after 9
    // bytes: the stream stalls, the connection itself stays healthy.
    let mut curl = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "--http2-prior-knowledge"])
        .args(["-X", "POST", "-H", "content-type: application/json", "-H", "content-length: 1000"])
        .args(["-T", "-", &login])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("curl runs");
    let mut stdin = curl.stdin.take().expect("stdin");
    stdin.write_all(b"{\"usernam").expect("send 9 bytes");
    stdin.flush().expect("flush");
    // curl itself waits for its stdin to end before it exits, so the
    // server's access line says when the stream was answered.
    let answered =
        |log: &str| log.lines().any(|l| l.contains("route=\"/v1/login\"") && l.contains("status=400"));
    eventually(15, "the stalled HTTP/2 stream to be answered 400", || answered(&server.log()));
    drop(stdin);
    let out = curl.wait_with_output().expect("curl output");
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(said, "2 400", "curl saw the answer on its HTTP/2 stream");
}
