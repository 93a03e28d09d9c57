//! ward's HTTP server.
//!
//! [`serve`] runs the API on a listener until a shutdown future resolves, so
//! tests bind port 0 and never wait on a sleep; [`launch`] is what `ward
//! server` runs: open the store, create the first admin, bind, serve, flush.

pub mod audit;
pub mod auth;
pub mod authority;
pub mod cache;
pub mod client;
pub mod clock;
pub mod config;
pub mod entropy;
pub mod error;
pub mod extract;
pub mod listen;
pub mod password;
pub mod routes;
pub mod signing;
pub mod state;
pub mod throttle;
pub mod usage;

pub use config::Settings;
pub use state::AppState;

use authority::bootstrap::{self, AdminPassword};
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
    let follower = state
        .store
        .invalidations()
        .map(|feed| tokio::spawn(cache::follow(feed, state.cache.clone(), state.keys.clone())));
    let audit_writer = audit::writer::AuditWriter::start(state.audit.clone());
    let app = routes::router(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            std::sync::Arc::<[client::Cidr]>::from(state.settings.trusted_proxies.as_slice()),
            audit::context::layer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.settings.transport.body_timeout,
            listen::body::layer,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let limits = state.settings.transport.clone();
    let served = listen::run(listener, app, tls, limits, shutdown).await;
    flusher.abort();
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
    /// Seals the private halves of signing keys at rest.
    pub master_key: signing::MasterKey,
    /// `--audit-log FILE`: mirror audit events there as JSON lines.
    pub audit_log: Option<std::path::PathBuf>,
    /// `--tls-cert FILE --tls-key FILE`: serve HTTPS, reloading on SIGHUP.
    pub tls: Option<TlsFiles>,
}

/// Why the server could not start; each message names the fix.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error("cannot open the database: {0}")]
    Store(#[from] ward_store::StoreError),
    #[error("cannot create the first admin: {0}")]
    Bootstrap(error::ApiError),
    #[error(
        "cannot listen on {addr}: {source} (is another ward server running? pick another --listen address)"
    )]
    Bind { addr: String, source: std::io::Error },
    #[error("{0} (check --tls-cert and --tls-key)")]
    Tls(#[from] listen::TlsError),
    #[error("{0}")]
    Listen(#[from] listen::BadEndpoint),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
    #[error("cannot open the audit log {path}: {source} (check that its directory exists and is writable)")]
    AuditLog { path: String, source: std::io::Error },
}

/// Opens the store, bootstraps the admin, binds and serves until `shutdown`.
/// Prints the listening address (and a generated admin password, once) to
/// stderr.
pub async fn launch(
    options: LaunchOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LaunchError> {
    let tls = match &options.tls {
        Some(files) => Some(TlsConfig::new(files.clone(), files.load()?)),
        None => None,
    };
    let endpoint = Endpoint::parse(&options.listen)?;
    let store = ward_store::open(&options.database_url).await?;
    match bootstrap::ensure_admin(store.as_ref(), options.admin_password)
        .await
        .map_err(LaunchError::Bootstrap)?
    {
        Some(AdminPassword::Generated(password)) => {
            eprintln!("Created the first user 'admin' with password: {password}");
            eprintln!("This password is shown only once. Log in with `ward login --username admin`.");
        }
        Some(AdminPassword::Given) => {
            eprintln!("Created the first user 'admin' with the password from WARD_ADMIN_PASSWORD.")
        }
        None => {}
    }
    let mirror = match &options.audit_log {
        Some(path) => Some(
            audit::mirror::Mirror::open(path)
                .map_err(|source| LaunchError::AuditLog { path: path.display().to_string(), source })?,
        ),
        None => None,
    };
    let listener =
        endpoint.bind().await.map_err(|source| LaunchError::Bind { addr: options.listen.clone(), source })?;
    let addr = listener.describe(tls.is_some()).map_err(LaunchError::Serve)?;
    eprintln!("ward server listening on {addr}");
    tracing::info!(server.addr = %addr, "listening");
    let reloader = match &tls {
        Some(tls) => Some(tls.reload_on_sighup().map_err(LaunchError::Serve)?),
        None => None,
    };
    let state = AppState::new(store, options.settings, options.master_key);
    if let Some(mirror) = mirror {
        tracing::info!(audit.mirror = %mirror.path().display(), "mirroring audit events");
        state.audit.mirror_to(mirror);
    }
    let served = serve_with_tls(state, listener, tls, shutdown).await.map_err(LaunchError::Serve);
    if let Some(task) = reloader {
        task.abort();
    }
    served
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
