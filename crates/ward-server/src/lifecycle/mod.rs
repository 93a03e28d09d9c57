//! The lifecycle work a server does by itself, on a timer: expiry notices
//! ([`notices`]) and, when configured, the idle-token sweep
//! (`authority::lifecycle::sweep_idle`). Both judge time by the server's
//! clock (`state.now()`); only their pace is tokio's interval. Every node
//! runs them: the database decides who sends a notice, and revoking an
//! idle token twice is a no-op.

pub mod notices;

use crate::state::AppState;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Starts the background tasks `state.settings.lifecycle` asks for; the
/// caller aborts them at shutdown.
pub fn start(state: &AppState) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    let lifecycle = &state.settings.lifecycle;
    if lifecycle.notices.webhook_url.is_some() {
        let state = state.clone();
        tasks.push(tokio::spawn(every(lifecycle.notices.interval, move || {
            let state = state.clone();
            async move {
                if let Err(e) = notices::sweep(&state).await {
                    tracing::warn!(error = %e, "expiry notice sweep failed; will retry");
                }
            }
        })));
    }
    if let (Some(interval), Some(unused_for)) = (lifecycle.idle_sweep_interval, lifecycle.revoke_unused_after)
    {
        let state = state.clone();
        tasks.push(tokio::spawn(every(interval, move || {
            let state = state.clone();
            async move {
                match crate::authority::lifecycle::sweep_idle(&state, unused_for).await {
                    Ok(r) if !r.value.tokens.is_empty() => {
                        tracing::info!(tokens.revoked = r.value.tokens.len(), "idle sweep revoked tokens");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "idle token sweep failed; will retry"),
                }
            }
        })));
    }
    tasks
}

/// Runs `work` every `interval` (the first time after one interval).
async fn every<F, Fut>(interval: Duration, work: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let period = interval.max(Duration::from_millis(10));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        work().await;
    }
}
