//! `[events]`: the revocation stream's replay window, heartbeat, retry hint
//! and subscriber bound.
//!
//! ```toml
//! [events]
//! replay = 4096            # events each node keeps for resuming subscribers
//! heartbeat = "5s"         # a comment line this often; also when the subscriber's credential is re-checked
//! retry = "1s"             # the `retry:` hint: how long an SSE client waits before reconnecting
//! max_subscribers = 1024   # open streams per node; one more is answered 503
//! ```
//!
//! Durations take ward's units (`5s`, `1m`) or milliseconds (`250ms`).

use serde::Deserialize;
use std::time::Duration;
use ward_core::Ttl;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvents {
    replay: Option<usize>,
    heartbeat: Option<String>,
    retry: Option<String>,
    max_subscribers: Option<usize>,
}

/// The stream's settings, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSettings {
    /// How many recent events a node keeps, to replay to a subscriber that
    /// resumes with `Last-Event-ID`.
    pub replay: usize,
    /// How often an idle stream sends a comment line, and re-checks the
    /// credential that opened it.
    pub heartbeat: Duration,
    /// The `retry:` hint sent first on every stream.
    pub retry: Duration,
    /// Open streams per node.
    pub max_subscribers: usize,
}

impl Default for EventSettings {
    fn default() -> Self {
        Self {
            replay: 4096,
            heartbeat: Duration::from_secs(5),
            retry: Duration::from_secs(1),
            max_subscribers: 1024,
        }
    }
}

/// `[events]`, with each bad key named.
pub fn parse(raw: RawEvents) -> Result<EventSettings, String> {
    let defaults = EventSettings::default();
    let heartbeat = match raw.heartbeat {
        Some(text) => duration("events.heartbeat", &text)?,
        None => defaults.heartbeat,
    };
    let retry = match raw.retry {
        Some(text) => duration("events.retry", &text)?,
        None => defaults.retry,
    };
    let max_subscribers = raw.max_subscribers.unwrap_or(defaults.max_subscribers);
    if max_subscribers == 0 {
        return Err("events.max_subscribers must be at least 1 (leave it out for 1024)".into());
    }
    Ok(EventSettings { replay: raw.replay.unwrap_or(defaults.replay), heartbeat, retry, max_subscribers })
}

/// `250ms`, or a duration in ward's units (`5s`, `1m`).
fn duration(key: &str, text: &str) -> Result<Duration, String> {
    if let Some(ms) = text.trim().strip_suffix("ms") {
        return match ms.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(format!("{key}: '{text}' is not a duration; write e.g. 250ms or 5s")),
        };
    }
    let ttl = Ttl::parse(text).map_err(|e| format!("{key}: {e}"))?;
    Ok(ttl.as_duration().to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<EventSettings, String> {
        let raw: RawEvents = toml::from_str(text).map_err(|e| e.to_string())?;
        parse(raw)
    }

    #[test]
    fn the_defaults_are_a_4096_event_window_and_a_5s_heartbeat() {
        assert_eq!(parsed(""), Ok(EventSettings::default()));
        assert_eq!(EventSettings::default().heartbeat, Duration::from_secs(5));
        assert_eq!(EventSettings::default().replay, 4096);
    }

    #[test]
    fn durations_take_milliseconds_or_wards_units_and_a_bad_one_names_its_key() {
        let s = parsed("heartbeat = \"250ms\"\nretry = \"2s\"\nreplay = 16\nmax_subscribers = 3");
        assert_eq!(
            s,
            Ok(EventSettings {
                replay: 16,
                heartbeat: Duration::from_millis(250),
                retry: Duration::from_secs(2),
                max_subscribers: 3
            })
        );
        let err = parsed("heartbeat = \"0ms\"").err().unwrap_or_default();
        assert!(err.contains("events.heartbeat"), "{err}");
        let err = parsed("retry = \"soon\"").err().unwrap_or_default();
        assert!(err.contains("events.retry"), "{err}");
        assert!(parsed("max_subscribers = 0").is_err());
        assert!(parsed("replays = 1").is_err());
    }
}
