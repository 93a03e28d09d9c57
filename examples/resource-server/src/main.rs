//! `resource-server`: a small axum service protected by ward (see
//! `app.rs`, and the README's "Protect your service").
//!
//! ```text
//! WARD_TOKEN=<a token holding ward:introspect> resource-server \
//!     --ward http://127.0.0.1:8420 --listen 127.0.0.1:3000 --staleness 15s --on-stale fail-closed
//! ```
//!
//! It prints `resource-server listening on http://ADDR` on stderr once it
//! accepts connections (tests start it on port 0 and read the line), and
//! `GET /ready` answers 200 while the Verifier trusts its cache, else 503.

mod app;

use clap::{Parser, ValueEnum};
use std::time::Duration;
use ward_client::{Client, OnStale, Verifier};

#[derive(Debug, Parser)]
#[command(about = "An example service protected by ward's tower layer")]
struct Args {
    /// ward's URL.
    #[arg(long, env = "WARD_SERVER", default_value = ward_client::DEFAULT_SERVER)]
    ward: String,
    /// The service's own ward token (holds ward:introspect).
    #[arg(long, env = "WARD_TOKEN", hide_env_values = true)]
    token: String,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: String,
    /// How long the revocation stream may be silent before the cache is not trusted, in seconds.
    #[arg(long, default_value_t = 15.0)]
    staleness: f64,
    /// What to do once it is.
    #[arg(long, value_enum, default_value_t = Stale::FailClosed)]
    on_stale: Stale,
    /// The `aud` signed tokens must carry.
    #[arg(long)]
    audience: Option<String>,
    /// The `iss` signed tokens must carry (default: ward's metadata, or `ward`).
    #[arg(long)]
    issuer: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Stale {
    FailClosed,
    Recheck,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("resource-server: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let client = Client::new(&args.ward, Some(args.token))?;
    let mut builder = Verifier::builder(client)
        .staleness(Duration::from_secs_f64(args.staleness.max(1.0)))
        .on_stale(match args.on_stale {
            Stale::FailClosed => OnStale::FailClosed,
            Stale::Recheck => OnStale::Recheck,
        });
    if let Some(audience) = args.audience {
        builder = builder.audience(audience);
    }
    if let Some(issuer) = args.issuer {
        builder = builder.issuer(issuer);
    }
    let verifier = builder.start();
    let ready = verifier.clone();
    let router = app::app(verifier).route("/ready", axum::routing::get(move || readiness(ready.clone())));
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    eprintln!("resource-server listening on http://{}", listener.local_addr()?);
    axum::serve(listener, router).with_graceful_shutdown(shutdown()).await?;
    Ok(())
}

/// 200 while the Verifier trusts its cache, else 503; with how often it
/// asked ward (the e2e tests count those calls).
async fn readiness(verifier: Verifier) -> (axum::http::StatusCode, axum::Json<serde_json::Value>) {
    let stats = verifier.stats();
    let status = verifier.stream_status().borrow().clone();
    let fresh = verifier.is_fresh();
    let body = serde_json::json!({
        "fresh": fresh,
        "verify_calls": stats.verify_calls,
        "authorize_calls": stats.authorize_calls,
        "jwks_fetches": stats.jwks_fetches,
        "cached": stats.cached,
        "connects": status.connects,
        "events": status.events,
        "resets": status.resets,
    });
    let code = if fresh { axum::http::StatusCode::OK } else { axum::http::StatusCode::SERVICE_UNAVAILABLE };
    (code, axum::Json(body))
}

async fn shutdown() {
    let _ = tokio::signal::ctrl_c().await;
}
