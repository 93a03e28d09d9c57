//! Reading a Server-Sent-Events stream in tests (`GET /v1/events`),
//! message by message. Waiting is bounded ([`DUE`]) but never a sleep.
#![allow(dead_code, reason = "shared by test binaries, each using part of it")]

use serde_json::Value;
use std::time::Duration;

/// How long a message that is due may take to arrive.
pub const DUE: Duration = Duration::from_secs(5);

/// One SSE message: an event, a comment (heartbeat), or a `retry:` hint.
#[derive(Debug, Default, Clone)]
pub struct Message {
    pub id: Option<String>,
    pub event: Option<String>,
    pub data: Option<Value>,
    pub comment: Option<String>,
    pub retry: Option<u64>,
}

/// An open stream, read message by message.
pub struct Subscriber {
    response: reqwest::Response,
    buffer: String,
}

impl Subscriber {
    pub fn new(response: reqwest::Response) -> Self {
        Self { response, buffer: String::new() }
    }

    /// The next message, or `None` when the server ended the stream.
    pub async fn next(&mut self) -> Option<Message> {
        loop {
            if let Some((block, rest)) = self.buffer.split_once("\n\n") {
                let message = parse(block);
                self.buffer = rest.to_owned();
                return Some(message);
            }
            let chunk = tokio::time::timeout(DUE, self.response.chunk())
                .await
                .expect("a message or the end of the stream within 5 s")
                .expect("the stream reads");
            self.buffer.push_str(std::str::from_utf8(&chunk?).expect("UTF-8"));
        }
    }

    /// The next event, past comments and hints.
    pub async fn event(&mut self) -> Message {
        loop {
            let m = self.next().await.expect("an event, not the end of the stream");
            if m.event.is_some() {
                return m;
            }
        }
    }

    /// The opening of a stream: the `retry:` hint, the replay or a reset,
    /// then the `: subscribed` comment. Returns the events in between.
    pub async fn opening(&mut self) -> Vec<Message> {
        let first = self.next().await.expect("the retry hint");
        assert!(first.retry.is_some(), "a stream opens with retry: {first:?}");
        let mut events = Vec::new();
        loop {
            let m = self.next().await.expect("the opening");
            if m.comment.as_deref() == Some("subscribed") {
                return events;
            }
            events.push(m);
        }
    }

    /// Reads until the server ends the stream; the events read meanwhile.
    pub async fn until_closed(&mut self) -> Vec<Message> {
        let mut events = Vec::new();
        while let Some(m) = self.next().await {
            if m.event.is_some() {
                events.push(m);
            }
        }
        events
    }
}

fn parse(block: &str) -> Message {
    let mut m = Message::default();
    for line in block.lines() {
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "" => m.comment = Some(value.to_owned()),
            "id" => m.id = Some(value.to_owned()),
            "event" => m.event = Some(value.to_owned()),
            "data" => m.data = Some(serde_json::from_str(value).expect("data is JSON")),
            "retry" => m.retry = value.parse().ok(),
            other => panic!("unexpected field {other:?} in {block:?}"),
        }
    }
    m
}

/// The event's kind and data.
pub fn said(m: &Message) -> (String, Value) {
    (m.event.clone().unwrap_or_default(), m.data.clone().unwrap_or_default())
}
