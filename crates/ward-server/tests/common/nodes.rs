//! `ward server` nodes in the test's own process, on one PostgreSQL
//! database of the test's own: what the cluster tests share.
#![allow(dead_code, reason = "shared by test binaries, each using part of it")]

use std::process::Command;
use tokio::sync::oneshot;
use ward_server::signing::MasterKey;
use ward_server::{AppState, Settings};

/// A node serving on 127.0.0.1; dropping it stops it.
pub struct Node {
    pub base: String,
    pub state: AppState,
    _stop: oneshot::Sender<()>,
}

/// A node on the database at `url`, with the admin `admin`/`admin-password-1`
/// and the server config `config` (TOML).
pub async fn node(url: &str, master: &MasterKey, config: &str) -> Node {
    let backend = ward_store::open(url).await.expect("connect to PostgreSQL");
    ward_server::authority::bootstrap::ensure_admin(backend.as_ref(), Some("admin-password-1".into()))
        .await
        .expect("admin");
    let state = AppState::new(backend, Settings::parse(config).expect("config"), master.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(ward_server::serve(state.clone(), listener, async {
        let _ = rx.await;
    }));
    Node { base, state, _stop: tx }
}

/// A new, empty database `<prefix>_<pid>` beside the one `admin_url` names
/// (dropped first if a killed run left it); its URL.
pub fn fresh_database(admin_url: &str, prefix: &str) -> String {
    let name = format!("{prefix}_{}", std::process::id());
    let psql = |sql: &str| Command::new("psql").args([admin_url, "-qc", sql]).status().map(|s| s.success());
    let _ = psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert_eq!(psql(&format!("CREATE DATABASE {name}")).ok(), Some(true), "psql can create a database");
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    format!("{base}/{name}")
}
