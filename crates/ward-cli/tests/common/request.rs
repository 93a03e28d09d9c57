//! Reading one HTTP/1.1 request in the tests' small stand-in servers (a
//! webhook, an OAuth provider): the head line by line, then the body by its
//! `Content-Length`.

use std::io::BufRead;

/// The body of the request `reader` is at, read past its head; empty when
/// the connection ends before the whole body arrived.
pub fn body(reader: &mut impl BufRead) -> Vec<u8> {
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        body.clear();
    }
    body
}
