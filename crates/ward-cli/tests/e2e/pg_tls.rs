//! `ward server` on a PostgreSQL server that speaks TLS: a private cluster
//! started by the test (`initdb` + `pg_ctl` on a free port, `ssl = on`,
//! a certificate for 127.0.0.1 signed by a CA the test makes with
//! `openssl`, `certs.rs`). With `sslmode=verify-full&sslrootcert=ca.pem` ward connects
//! and every one of its connections is encrypted; without the CA it
//! refuses to start and says what to add.
//!
//! Needs PostgreSQL's server binaries (`/usr/lib/postgresql/*/bin`) and
//! `openssl`: skipped without them, failing under `CI`. As root, the
//! cluster runs as the `postgres` user (`initdb` refuses root).

use crate::certs::Ca;
use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use crate::starts::{Node, psql_value, server_command};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The newest PostgreSQL `bin` directory that has `initdb`.
fn postgres_bin() -> Option<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok()));
    found.pop()
}

fn run(command: &mut Command, what: &str) {
    let out = command.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(out.status.success(), "{what} failed:\n{}{}", text(&out.stdout), text(&out.stderr));
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| text(&o.stdout).trim() == "0")
}

/// A PostgreSQL cluster of its own, stopped on drop.
struct TlsCluster {
    dir: tempfile::TempDir,
    /// The CA that signed the server's certificate.
    ca: PathBuf,
    bin: PathBuf,
    port: u16,
}

impl TlsCluster {
    /// `bin/PROGRAM ARGS…`, as `postgres` when we are root.
    fn command(bin: &Path, program: &str, args: &[&str]) -> Command {
        let path = bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path).args(args);
            c
        } else {
            let mut c = Command::new(path);
            c.args(args);
            c
        }
    }

    fn start(bin: PathBuf) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let at = |name: &str| dir.path().join(name).to_str().expect("utf-8 path").to_owned();
        let ca = Ca::new(dir.path());
        let (cert, key) = ca.issue("server");
        if is_root() {
            run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(dir.path()), "chown to postgres");
        }

        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let data = at("pgdata");
        run(
            &mut Self::command(&bin, "initdb", &["-D", &data, "-U", "postgres", "-A", "trust", "--no-sync"]),
            "initdb",
        );
        let conf = format!(
            "\nport = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\nfsync = off\n",
            dir.path().display(),
            cert.display(),
            key.display(),
        );
        let conf_path = dir.path().join("pgdata").join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).expect("read postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&conf_path, text).expect("write postgresql.conf");
        let log = at("postgres.log");
        run(
            &mut Self::command(&bin, "pg_ctl", &["-D", &data, "-l", &log, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        );
        Self { ca: ca.pem(), dir, bin, port }
    }

    /// A URL for the cluster's `postgres` database with `options`.
    fn url(&self, options: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres?{options}", self.port)
    }

    fn ca(&self) -> String {
        self.ca.display().to_string()
    }
}

impl Drop for TlsCluster {
    fn drop(&mut self) {
        let data = self.dir.path().join("pgdata").display().to_string();
        let _ = Self::command(&self.bin, "pg_ctl", &["-D", &data, "-m", "immediate", "stop"]).output();
    }
}

#[test]
fn ward_connects_to_postgres_with_verify_full_and_the_ca_and_refuses_without_it() {
    let tools = postgres_bin().filter(|_| Command::new("openssl").arg("version").output().is_ok());
    let Some(bin) = tools else {
        assert!(std::env::var_os("CI").is_none(), "CI needs PostgreSQL's initdb and openssl for this test");
        eprintln!("skipped: no /usr/lib/postgresql/*/bin/initdb or no openssl");
        return;
    };
    let cluster = TlsCluster::start(bin);

    // Without the CA: refused at start, with what to add, nothing written.
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let url = cluster.url("sslmode=verify-full");
    let mut command = server_command(&data, &["--listen", "127.0.0.1:0", "--database-url", &url]);
    command.env("WARD_ADMIN_PASSWORD", ADMIN_PASSWORD);
    let (code, log) = Node::spawn(command, &tmp.path().join("refused.log")).exit();
    assert_eq!(code, Some(1), "{log}");
    assert_eq!(log.matches("could not connect to PostgreSQL at postgres@127.0.0.1").count(), 1, "{log}");
    assert!(log.contains("certificate"), "{log}");
    assert!(log.contains("sslrootcert="), "names the fix: {log}");
    assert!(!data.exists(), "nothing written: {log}");

    // With it: ward serves, and every connection it holds is TLS.
    let url = cluster.url(&format!("sslmode=verify-full&sslrootcert={}", cluster.ca()));
    let server = Server::start_with_args("", &["--database-url", &url]);
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let created = admin.json(&[
        "token",
        "create",
        "--name",
        "over-tls",
        "--type",
        "pipeline",
        "--scopes",
        "ward:introspect",
    ]);
    assert!(created["token"].as_str().is_some_and(|t| t.starts_with("ward_p_")), "{created}");

    let plain = cluster.url("sslmode=disable");
    let ward = "FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE application_name = 'ward'";
    let total = psql_value(&plain, &format!("SELECT count(*) {ward}"));
    assert_ne!(total, "0", "ward holds connections");
    assert_eq!(psql_value(&plain, &format!("SELECT count(*) {ward} AND ssl")), total, "all of them TLS");
}
