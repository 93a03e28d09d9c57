//! `ward server` and `ward server recover-admin`. Owned by the server work;
//! the rest of the CLI only calls [`run`].

use crate::cli::server::{ServerArgs, ServerCommand};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use ward_server::authority::bootstrap::{self, AdminPassword};
use ward_server::listen::TlsFiles;
use ward_server::signing::MasterKey;
use ward_server::{LaunchOptions, Settings};

/// Runs `ward server` (until SIGINT/SIGTERM) or `ward server recover-admin`.
pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    // The certificate pair is checked before anything is written.
    let tls = args.tls_cert.clone().zip(args.tls_key.clone()).map(|(cert, key)| TlsFiles { cert, key });
    if let Some(files) = tls.as_ref().filter(|_| args.command.is_none()) {
        files.load()?;
    }
    let database_url = database_url(&args)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    match args.command {
        None => {
            let settings = match &args.config {
                Some(path) => Settings::load(path)?,
                None => Settings::default(),
            };
            let master_key =
                MasterKey::load(std::env::var("WARD_MASTER_KEY").ok().as_deref(), &master_key_file(&args)?)?;
            let options = LaunchOptions {
                listen: args.listen,
                database_url,
                settings,
                admin_password: std::env::var("WARD_ADMIN_PASSWORD").ok().filter(|p| !p.is_empty()),
                audit_log: args.audit_log.clone(),
                master_key,
                tls,
            };
            runtime.block_on(async { ward_server::launch(options, ward_server::shutdown_signal()).await })?;
            Ok(ExitCode::SUCCESS)
        }
        Some(ServerCommand::RecoverAdmin { password_stdin }) => {
            let given = if password_stdin { Some(read_password_line()?) } else { None };
            let shown = runtime.block_on(async {
                let store = ward_store::open(&database_url).await?;
                bootstrap::recover_admin(store.as_ref(), given).await.map_err(|e| anyhow::anyhow!("{e}"))
            })?;
            match shown {
                AdminPassword::Generated(password) => {
                    eprintln!("The password of 'admin' is now: {password}");
                    eprintln!("It is shown only once. Log in with `ward login --username admin`.");
                }
                AdminPassword::Given => eprintln!("The password of 'admin' has been reset."),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `master.key` in the data dir: the key that seals signing keys.
fn master_key_file(args: &ServerArgs) -> anyhow::Result<PathBuf> {
    let dir = data_dir(args)?;
    create_private_dir(&dir)?;
    Ok(dir.join("master.key"))
}

fn data_dir(args: &ServerArgs) -> anyhow::Result<PathBuf> {
    match &args.data_dir {
        Some(dir) => Ok(dir.clone()),
        None => dirs::data_dir()
            .map(|d| d.join("ward"))
            .context("cannot find your data directory; pass --data-dir DIR"),
    }
}

/// `--database-url`, or the SQLite file in `--data-dir` / the user's data dir.
fn database_url(args: &ServerArgs) -> anyhow::Result<String> {
    if let Some(url) = &args.database_url {
        return Ok(url.clone());
    }
    let dir = data_dir(args)?;
    create_private_dir(&dir)?;
    Ok(format!("sqlite://{}", dir.join("ward.db").display()))
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .with_context(|| format!("cannot create the data directory {}; pass --data-dir DIR", dir.display()))
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Server logs go to stderr; `WARD_LOG` (e.g. `debug`) sets the level.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
