//! `ward server` and `ward server recover-admin`. Owned by the server work;
//! the rest of the CLI only calls [`run`].

mod log;

use crate::cli::server::{LogFormat, ServerArgs, ServerCommand};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use ward_server::authority::bootstrap::{self, AdminPassword};
use ward_server::listen::TlsFiles;
use ward_server::signing::NodeMasterKey;
use ward_server::{LaunchOptions, Settings};

/// Runs `ward server` (until SIGINT/SIGTERM) or `ward server recover-admin`.
pub fn run(args: ServerArgs) -> anyhow::Result<ExitCode> {
    // Held until `ward server` returns: dropping it writes the buffered
    // access lines.
    let _log = init_logging(args.log_format);
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
            // Read only: a new key is written once every check has passed.
            let master_key = NodeMasterKey::find(
                std::env::var("WARD_MASTER_KEY").ok().as_deref(),
                &master_key_file(&args)?,
            )?;
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

/// `master.key` in the data dir: the key that seals signing keys. The
/// directory is created (0700) only when a new key is written to it.
fn master_key_file(args: &ServerArgs) -> anyhow::Result<PathBuf> {
    Ok(data_dir(args)?.join("master.key"))
}

fn data_dir(args: &ServerArgs) -> anyhow::Result<PathBuf> {
    match &args.data_dir {
        Some(dir) => Ok(dir.clone()),
        None => dirs::data_dir()
            .map(|d| d.join("ward"))
            .context("cannot find your data directory; pass --data-dir DIR"),
    }
}

/// `--database-url`, or the SQLite file in `--data-dir` / the user's data
/// dir (the store creates it, 0700, when it opens the file).
fn database_url(args: &ServerArgs) -> anyhow::Result<String> {
    if let Some(url) = &args.database_url {
        return Ok(url.clone());
    }
    Ok(format!("sqlite://{}", data_dir(args)?.join("ward.db").display()))
}

fn read_password_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Server logs go to stderr, the access lines in batches (`log`); `WARD_LOG`
/// (e.g. `debug`) sets the level.
/// `json`: one object per line, event fields at the top level (`message`,
/// `http.route`, …) with the request's span (`request_id`, `trace_id`).
/// `text`: coloured only when stderr is a terminal and `NO_COLOR` is unset
/// or empty (<https://no-color.org>).
fn init_logging(format: LogFormat) -> log::Flusher {
    let (writer, flusher) = log::ServerLog::stderr();
    let filter = tracing_subscriber::EnvFilter::try_from_env("WARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    ward_server::observe::announce_as(format);
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_span_list(false).try_init(),
        LogFormat::Text => builder.with_ansi(colour(std::env::var_os("NO_COLOR").as_deref())).try_init(),
    };
    flusher
}

/// Whether text logs may be coloured: stderr is a terminal and `NO_COLOR`
/// is unset or empty.
fn colour(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|v| v.is_empty()) && std::io::IsTerminal::is_terminal(&std::io::stderr())
}
