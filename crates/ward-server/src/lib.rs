//! ward's HTTP server.
//!
//! [`serve`] runs the API on a listener until a shutdown future resolves, so
//! tests bind port 0 and never wait on a sleep; [`launch`] is what `ward
//! server` runs: check every option, bind, open the store and create the
//! first admin (`start.rs`), serve, flush.

pub mod audit;
pub mod auth;
pub mod authority;
pub mod cache;
pub mod client;
pub mod clients;
pub mod clock;
pub mod config;
pub mod entropy;
pub mod error;
pub mod events;
pub mod extract;
pub mod interop;
pub mod leaks;
pub mod lifecycle;
pub mod listen;
pub mod observe;
pub mod password;
pub mod rate;
pub mod routes;
pub mod signing;
pub mod start;
pub mod state;
pub mod throttle;
pub mod token_rate;
pub mod usage;

// The web dashboard at /ui.
pub mod ui;

pub use config::Settings;
pub use state::AppState;

use listen::{Endpoint, Listener, TlsConfig, TlsFiles};
use std::future::Future;

/// Serves the API over plain HTTP on `listener` (a `TcpListener` or a
/// [`Listener`]) until `shutdown` resolves; see [`serve_with_tls`].
pub async fn serve(
    state: AppState,
    listener: impl Into<Listener>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with_tls(state, listener.into(), None, shutdown).await
}

/// Serves the API on `listener` (over TLS when `tls` is given) until
/// `shutdown` resolves, then lets in-flight requests finish, writes pending
/// usage, and drains the audit writer (every event emitted is stored before
/// this returns). Timeouts and the connection bound come from
/// `state.settings.transport` (`listen`).
pub async fn serve_with_tls(
    state: AppState,
    listener: Listener,
    tls: Option<TlsConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let flusher = tokio::spawn(state.usage.clone().run(state.settings.usage_flush));
    let refresher = tokio::spawn(cache::refresh_ahead(state.cache.clone(), state.store.clone()));
    let follower = state.store.invalidations().map(|feed| {
        tokio::spawn(cache::follow(feed, state.cache.clone(), state.keys.clone(), state.events.clone()))
    });
    // Event streams never end by themselves: shutting down ends them, so
    // their connections close instead of holding the shutdown back.
    let hub = state.events.clone();
    let shutdown = async move {
        shutdown.await;
        hub.close();
    };
    let audit_writer = audit::writer::AuditWriter::start(state.audit.clone(), state.metrics.audit());
    let lifecycle_tasks = lifecycle::start(&state);
    let app = observe::layer(routes::router(state.clone()), &state)
        .layer(axum::Extension(ui::Transport { tls: tls.is_some() }))
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::<[client::Cidr]>::from(state.settings.trusted_proxies.as_slice()),
            audit::context::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.settings.transport.body_timeout,
            listen::body::layer,
        ));
    let limits = state.settings.transport.clone();
    let refused = state.metrics.connections_refused();
    let served = listen::run(listener, app, tls, limits, refused, shutdown).await;
    flusher.abort();
    refresher.abort();
    for task in lifecycle_tasks {
        task.abort();
    }
    if let Some(f) = follower {
        f.abort();
    }
    state.usage.flush().await;
    if let Some(writer) = audit_writer {
        writer.stop().await;
    }
    served
}

/// How `ward server` was asked to run.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    pub listen: String,
    pub database_url: String,
    pub settings: Settings,
    /// `WARD_ADMIN_PASSWORD`, used only when the database is new.
    pub admin_password: Option<String>,
    /// Seals the private halves of signing keys at rest; a new one is
    /// written to its file only once every check has passed.
    pub master_key: signing::NodeMasterKey,
    /// `--audit-log FILE`: mirror audit events there as JSON lines.
    pub audit_log: Option<std::path::PathBuf>,
    /// `--tls-cert FILE --tls-key FILE`: serve HTTPS, reloading on SIGHUP.
    pub tls: Option<TlsFiles>,
}

/// Why the server could not start; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot open the database: {0}")]
    Store(ward_store::StoreError),
    #[error("cannot create the first admin: {0}")]
    Bootstrap(error::ApiError),
    #[error("invalid --listen address '{addr}': {reason}; use HOST:PORT (e.g. 127.0.0.1:8420) or unix:/PATH")]
    Listen { addr: String, reason: String },
    #[error(
        "cannot listen on {addr}: the address is in use (is another ward server running? pick another --listen address)"
    )]
    AddrInUse { addr: String },
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: String, error: std::io::Error },
    #[error("{0}")]
    Unseal(String),
    #[error(transparent)]
    MasterKey(#[from] signing::MasterKeyError),
    #[error("{0} (check --tls-cert and --tls-key)")]
    Tls(#[from] listen::TlsError),
    #[error("{0}")]
    Endpoint(#[from] listen::BadEndpoint),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot open the audit log {path}: {error} (check that its directory exists and is writable)")]
    AuditLog { path: String, error: std::io::Error },
}

// Each message carries its cause, so none is also a `source()`: the CLI
// prints an error's whole chain, and would say it twice.
impl From<ward_store::StoreError> for LaunchError {
    fn from(e: ward_store::StoreError) -> Self {
        Self::Store(e)
    }
}

impl LaunchError {
    /// A failed bind; "in use" only when the address really is.
    pub fn bind(addr: &str, error: std::io::Error) -> Self {
        match error.kind() {
            std::io::ErrorKind::AddrInUse => Self::AddrInUse { addr: addr.to_owned() },
            _ => Self::Bind { addr: addr.to_owned(), error },
        }
    }
}

/// Checks every option, binds, opens the store and bootstraps the admin
/// (`start.rs`), then serves until `shutdown`. Nothing is written before
/// the checks and the bind pass. Prints the listening address (and a
/// generated admin password, once) to stderr.
pub async fn launch(
    options: LaunchOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    let tls = match &options.tls {
        Some(files) => Some(TlsConfig::new(files.clone(), files.load()?)),
        None => None,
    };
    start::check_listen(&options.listen)?;
    let endpoint = Endpoint::parse(&options.listen)?;
    ward_store::DatabaseUrl::parse(&options.database_url)?;
    let mirror = match &options.audit_log {
        Some(path) => Some(
            audit::mirror::Mirror::open(path)
                .map_err(|error| LaunchError::AuditLog { path: path.display().to_string(), error })?,
        ),
        None => None,
    };
    let listener = endpoint.bind().await.map_err(|source| LaunchError::bind(&options.listen, source))?;
    let (store, master_key) =
        start::prepare(&options.database_url, options.master_key, options.admin_password).await?;
    let addr = listener.describe(tls.is_some()).map_err(LaunchError::Serve)?;
    // Before the address is announced: a SIGHUP sent as soon as it is (a
    // reload right after start) must not meet the default action, exit.
    let reloader = match &tls {
        Some(tls) => tls.reload_on_sighup().map_err(LaunchError::Serve)?,
        None => ignore_sighup().map_err(LaunchError::Serve)?,
    };
    observe::announce(&format!("ward server listening on {addr}"));
    tracing::info!(server.addr = %addr, "listening");
    let state = AppState::new(store, options.settings, master_key);
    if let Some(mirror) = mirror {
        tracing::info!(audit.mirror = %mirror.path().display(), "mirroring audit events");
        state.audit.mirror_to(mirror);
    }
    let served = serve_with_tls(state, listener, tls, shutdown).await.map_err(LaunchError::Serve);
    reloader.abort();
    served
}

/// Without TLS there is nothing to reload, but SIGHUP (`systemctl reload`,
/// a habit) must not end the server as its default action would.
fn ignore_sighup() -> std::io::Result<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    Ok(tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: nothing to reload (no --tls-cert); still serving");
        }
    }))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is
/// called (inside a runtime), not when the future is first polled, so a
/// signal that arrives while the server is still starting is not lost.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {},
                        _ = int.recv() => {},
                    }
                }
                _ => std::future::pending::<()>().await,
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
