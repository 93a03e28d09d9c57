//! A ward server whose clock the test moves, with the real `ward` CLI
//! against it.
//!
//! A `ward server` process reads the wall clock, so a test that needs a
//! token to expire would have to wait for it. This one runs the same server
//! library in the test process, on its own thread and runtime, with an
//! adjustable clock (`ward_server::clock`), so the test moves the clock
//! instead of sleeping. Everything the CLI does still goes over HTTP.

use super::harness::ADMIN_PASSWORD;
use std::time::Duration;
use tokio::sync::oneshot;
use ward_server::authority::bootstrap::ensure_admin;
use ward_server::clock::{Clock, ClockHand};
use ward_server::signing::MasterKey;
use ward_server::{AppState, Settings};

/// A server on 127.0.0.1:0 with a fresh SQLite database and `admin`.
pub struct ClockedServer {
    pub url: String,
    hand: ClockHand,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl ClockedServer {
    pub fn start() -> Self {
        Self::with_config("")
    }

    /// A server whose config file would hold `config` (TOML).
    pub fn with_config(config: &str) -> Self {
        let settings = Settings::parse(config).expect("test config");
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("ward.db").display());
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (shutdown, stop) = oneshot::channel::<()>();
        let (clock, hand) = Clock::adjustable();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Runtime::new().expect("runtime");
            runtime.block_on(async move {
                let store = ward_store::open(&url).await.expect("open store");
                ensure_admin(store.as_ref(), Some(ADMIN_PASSWORD.into())).await.expect("first admin");
                let state = AppState::with_clock(store, settings, MasterKey::random(), clock);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                ready_tx.send(format!("http://{addr}")).expect("test waits");
                ward_server::serve(state, listener, async {
                    let _ = stop.await;
                })
                .await
                .expect("server stopped cleanly");
            });
        });
        let url = ready_rx.recv_timeout(Duration::from_secs(30)).expect("the server started");
        Self { url, hand, shutdown: Some(shutdown), thread: Some(thread), _dir: dir }
    }

    /// Moves the server's clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.hand.advance(by);
    }
}

impl Drop for ClockedServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
