//! `ward health`: asks the server's `/healthz`, with no token, and exits 0
//! when it answers `ok`, 1 otherwise. It is what the Dockerfile's
//! `HEALTHCHECK` runs, since the runtime image has no shell and no curl.

use crate::app::App;
use crate::exit::Exit;
use crate::output;
use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

/// Longer than a healthy server ever takes, shorter than a health check's timeout.
const WAIT: Duration = Duration::from_secs(5);

pub async fn health(app: &App) -> anyhow::Result<ExitCode> {
    let client = app.anonymous_client()?;
    let health = tokio::time::timeout(WAIT, client.health())
        .await
        .map_err(|_| anyhow::anyhow!("{} did not answer /healthz within {} s", app.server, WAIT.as_secs()))?
        .with_context(|| format!("{} did not answer /healthz", app.server))?;
    output::emit(app.output, &health, || format!("{}: {}", app.server, health.status))?;
    Ok(if health.status == "ok" { ExitCode::SUCCESS } else { Exit::Error.into() })
}
