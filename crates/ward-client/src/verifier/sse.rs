//! A Server-Sent Events parser (the WHATWG `text/event-stream` format), fed
//! the bytes of `GET /v1/events` as they arrive.
//!
//! Lines end in `\n`, `\r\n` or `\r`; a blank line ends a message; `:` opens
//! a comment (ward's heartbeat); `id`, `event`, `data` (joined by `\n` when
//! repeated) and `retry` are the fields; anything else is ignored. A line
//! longer than [`MAX_LINE`] is a broken stream: the caller drops the
//! connection rather than buffer without bound.

/// The longest line kept (an event is a few hundred bytes).
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// What one complete line or message means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Frame {
    /// A comment line: the server is alive (heartbeat).
    Comment,
    /// A message ended by a blank line.
    Message { id: Option<String>, event: Option<String>, data: String },
    /// `retry: <ms>`: how long to wait before reconnecting.
    Retry(u64),
}

/// The stream's line was too long to be ward's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLong;

#[derive(Debug, Default)]
pub(crate) struct Parser {
    line: Vec<u8>,
    /// The previous byte was `\r`: a following `\n` belongs to it.
    after_cr: bool,
    id: Option<String>,
    event: Option<String>,
    data: Option<String>,
}

impl Parser {
    /// Feeds `bytes`, appending every frame they complete to `out`.
    pub(crate) fn feed(&mut self, bytes: &[u8], out: &mut Vec<Frame>) -> Result<(), TooLong> {
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line(&line, out);
                }
                _ if self.line.len() >= MAX_LINE => return Err(TooLong),
                _ => self.line.push(b),
            }
        }
        Ok(())
    }

    fn line(&mut self, line: &[u8], out: &mut Vec<Frame>) {
        if line.is_empty() {
            if let Some(data) = self.data.take() {
                out.push(Frame::Message { id: self.id.take(), event: self.event.take(), data });
            }
            self.id = None;
            self.event = None;
            return;
        }
        if line[0] == b':' {
            out.push(Frame::Comment);
            return;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (&*text, ""),
        };
        match field {
            "id" if !value.contains('\0') => self.id = Some(value.to_owned()),
            "event" => self.event = Some(value.to_owned()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_owned()),
            },
            "retry" => {
                if let Ok(ms) = value.parse() {
                    out.push(Frame::Retry(ms));
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(chunks: &[&[u8]]) -> Vec<Frame> {
        let mut parser = Parser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk, &mut out).expect("short lines");
        }
        out
    }

    fn message(id: &str, event: &str, data: &str) -> Frame {
        Frame::Message { id: Some(id.into()), event: Some(event.into()), data: data.into() }
    }

    #[test]
    fn messages_comments_and_retry_are_read_across_chunk_boundaries() {
        let out = frames(&[
            b"retry: 1500\n: heart",
            b"beat\n\nid: e-1\nevent: tok",
            b"en\ndata: {\"a\":1}\n",
            b"\n",
        ]);
        assert_eq!(out, vec![Frame::Retry(1500), Frame::Comment, message("e-1", "token", "{\"a\":1}")]);
    }

    #[test]
    fn crlf_and_cr_line_ends_and_repeated_data_lines_are_understood() {
        let out = frames(&[b"id: e-2\r\nevent: reset\r", b"\ndata: a\rdata: b\r\n\r\n"]);
        assert_eq!(out, vec![message("e-2", "reset", "a\nb")]);
    }

    #[test]
    fn a_blank_line_without_data_dispatches_nothing_and_forgets_the_fields() {
        let out = frames(&[b"id: e-3\nevent: token\n\ndata: x\n\n"]);
        assert_eq!(out, vec![Frame::Message { id: None, event: None, data: "x".into() }]);
    }

    #[test]
    fn a_line_without_end_is_refused_past_the_limit() {
        let mut parser = Parser::default();
        let long = vec![b'a'; MAX_LINE + 1];
        assert_eq!(parser.feed(&long, &mut Vec::new()), Err(TooLong));
    }
}
