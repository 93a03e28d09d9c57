//! The owner's leak webhook: told of each token `POST /v1/leaks` ended
//! (`authority::leaks`); its settings are `[leaks]` (`config/leaks.rs`).
//!
//! The notice is a JSON POST, sent off the request path and retried three
//! times (1 s, 2 s, 4 s apart): `{"event":"token.leaked","token_id","owner",
//! "display","type","location","outcome","reported_at"}` — never the token.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// What the owner's webhook is told of one leaked token.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LeakNotice {
    pub event: &'static str,
    pub token_id: String,
    pub owner: String,
    pub display: String,
    #[serde(rename = "type")]
    pub token_type: String,
    pub location: Option<String>,
    /// `revoked` or `already_ended`.
    pub outcome: &'static str,
    pub reported_at: DateTime<Utc>,
}

/// Sends `notice` to `url` (`[leaks] webhook_url`), if set, in a task of its own:
/// up to four attempts, 1, 2 and 4 seconds apart (real time: the receiver's
/// pace, not a decision of ward's). Failures are logged once, with no secret.
pub fn notify(url: Option<&str>, timeout: Duration, notice: LeakNotice) {
    let Some(url) = url.map(str::to_owned) else { return };
    let mut builder = reqwest::Client::builder().timeout(timeout).redirect(reqwest::redirect::Policy::none());
    if url.starts_with("http://") {
        builder = builder.no_proxy();
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "leak webhook client could not be built");
            return;
        }
    };
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        for attempt in 1..=4 {
            match client.post(&url).json(&notice).send().await {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => tracing::debug!(http.status = r.status().as_u16(), attempt, "leak webhook refused"),
                Err(e) => tracing::debug!(error = %e, attempt, "leak webhook unreachable"),
            }
            if attempt < 4 {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        tracing::warn!(token.id = %notice.token_id, "leak webhook failed four times; the audit trail has the event");
    });
}
