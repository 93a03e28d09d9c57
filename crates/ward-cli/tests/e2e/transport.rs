//! The transport of the real `ward server`: HTTPS with a certificate made
//! by `openssl` (`certs.rs`; checked by curl, `openssl s_client` and `ward
//! login`), the swap on SIGHUP, a warning for a key others can read, plain
//! http refused to other machines and kept from proxies, and a Unix socket.
//! Timeouts and connection bounds are in `limits.rs`. curl and openssl are
//! needed; a missing one fails the test.

use crate::certs::{Ca, set_mode};
use crate::harness::{ADMIN_PASSWORD, User, eventually, text};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A `ward server` process started with exactly the given arguments.
pub struct Ward {
    /// What it printed after "ward server listening on ".
    pub addr: String,
    child: Child,
    log: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
}

impl Ward {
    pub fn start(config: &str, args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config_path = dir.path().join("server.toml");
        std::fs::write(&config_path, config).expect("write config");
        Self::start_in(dir, &config_path, args)
    }

    fn start_in(dir: tempfile::TempDir, config: &Path, args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ward"))
            .arg("server")
            .args(args)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--config")
            .arg(config)
            .env("WARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("WARD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ward server");
        let stderr = child.stderr.take().expect("stderr");
        let log: Arc<Mutex<String>> = Arc::default();
        let (tx, rx) = mpsc::channel();
        let kept = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("ward server listening on ") {
                    let _ = tx.send(addr.to_owned());
                }
                let mut log = kept.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let addr = rx.recv_timeout(Duration::from_secs(30)).expect("the server printed its address");
        Self { addr, child, log, dir }
    }

    pub fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    /// `127.0.0.1:PORT` of an `http(s)://` address.
    pub fn host_port(&self) -> String {
        self.addr.split("://").nth(1).expect("a URL").to_owned()
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill").args([name, &self.child.id().to_string()]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill {name}");
    }
}

impl Drop for Ward {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(program: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} is needed for this test and could not run: {e}"));
    assert!(out.status.success(), "{program} {args:?} failed: {}", text(&out.stderr));
    text(&out.stdout)
}

/// The subject of the certificate a new TLS connection is shown.
fn served_subject(host_port: &str, dir: &Path) -> String {
    let out = Command::new("openssl")
        .args(["s_client", "-connect", host_port, "-CAfile", "ca.pem", "-verify_return_error"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .expect("openssl s_client runs");
    let all = text(&out.stdout);
    all.lines().find(|l| l.starts_with("subject=")).map(str::to_owned).unwrap_or(all)
}

/// A kept-alive HTTPS connection through `openssl s_client`.
struct KeptAlive {
    child: Child,
    seen: Arc<Mutex<String>>,
}

impl KeptAlive {
    fn open(host_port: &str, dir: &Path) -> Self {
        let mut child = Command::new("openssl")
            .args(["s_client", "-connect", host_port, "-CAfile", "ca.pem", "-quiet", "-verify_return_error"])
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_client runs");
        let mut stdout = child.stdout.take().expect("stdout");
        let seen: Arc<Mutex<String>> = Arc::default();
        let kept = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n @ 1..) = stdout.read(&mut buf) {
                kept.lock().expect("lock").push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Self { child, seen }
    }

    /// Sends GET /healthz and waits for the `n`-th 200 on this connection.
    fn health(&mut self, n: usize) {
        let stdin = self.child.stdin.as_mut().expect("stdin");
        stdin.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").expect("send");
        stdin.flush().expect("flush");
        let seen = self.seen.clone();
        eventually(20, "an answer on the kept-alive connection", || {
            seen.lock().expect("lock").matches("HTTP/1.1 200").count() >= n
        });
    }
}

impl Drop for KeptAlive {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn https_is_served_checked_by_the_cli_and_swapped_on_sighup_without_dropping_connections() {
    let certs = tempfile::tempdir().expect("tempdir");
    let dir = certs.path();
    let ca = Ca::new(dir);
    let (cert, key) = ca.issue("ward-one");
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    let server =
        Ward::start("", &["--listen", "127.0.0.1:0", "--tls-cert", &cert_arg, "--tls-key", &key_arg]);
    assert!(server.addr.starts_with("https://127.0.0.1:"), "{}", server.addr);

    let healthz = format!("{}/healthz", server.addr);
    let status =
        run("curl", &["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "ca.pem", &healthz], dir);
    assert_eq!(status, "200");

    // ward login: refused without the CA, with a message naming the fix; fine with it.
    let user = User::at(&server.addr);
    let refused =
        user.run(&["login", "--username", "admin", "--password-stdin"], &format!("{ADMIN_PASSWORD}\n"));
    assert_ne!(refused.status.code(), Some(0));
    let said = text(&refused.stderr);
    assert!(said.contains("certificate") && said.contains("--ca-cert"), "{said}");
    let ca_pem = ca.pem().display().to_string();
    let out = user
        .command(&["login", "--username", "admin", "--password-stdin"])
        .env("WARD_CA_CERT", &ca_pem)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            if let Some(mut input) = child.stdin.take() {
                let _ = input.write_all(format!("{ADMIN_PASSWORD}\n").as_bytes());
            }
            child.wait_with_output()
        })
        .expect("ward runs");
    assert_eq!(out.status.code(), Some(0), "login with WARD_CA_CERT: {}", text(&out.stderr));
    let me = user.command(&["whoami", "--ca-cert", &ca_pem]).output().expect("ward runs");
    assert!(text(&me.stdout).contains("admin"), "{}", text(&me.stderr));

    // A kept-alive connection, then a new pair and SIGHUP.
    let host_port = server.host_port();
    assert!(served_subject(&host_port, dir).contains("ward-one"));
    let mut kept = KeptAlive::open(&host_port, dir);
    kept.health(1);
    let (new_cert, new_key) = ca.issue("ward-two");
    std::fs::rename(&new_cert, &cert).expect("replace the certificate");
    std::fs::rename(&new_key, &key).expect("replace the key");
    server.signal("-HUP");
    eventually(20, "the reload to be logged", || server.log().contains("reloaded the TLS certificate"));
    assert!(
        served_subject(&host_port, dir).contains("ward-two"),
        "a new connection sees the new certificate"
    );
    kept.health(2);

    // A bad pair on SIGHUP is logged and the current one kept.
    std::fs::write(&key, "not a key").expect("spoil the key");
    server.signal("-HUP");
    eventually(20, "the refusal to be logged", || server.log().contains("kept the old TLS certificate"));
    assert!(served_subject(&host_port, dir).contains("ward-two"));
    kept.health(3);
}

#[test]
fn a_tls_key_that_others_can_read_is_served_with_a_warning_naming_the_mode_and_the_fix() {
    let certs = tempfile::tempdir().expect("tempdir");
    let dir = certs.path();
    let (cert, key) = Ca::new(dir).issue("ward-open");
    set_mode(&key, 0o644);
    let (cert_arg, key_arg) = (cert.display().to_string(), key.display().to_string());
    let server =
        Ward::start("", &["--listen", "127.0.0.1:0", "--tls-cert", &cert_arg, "--tls-key", &key_arg]);
    let warnings = |log: &str| -> Vec<String> {
        log.lines().filter(|l| l.contains("WARN") && l.contains("TLS key file")).map(str::to_owned).collect()
    };
    let said = warnings(&server.log());
    assert_eq!(said.len(), 1, "{}", server.log());
    assert!(said[0].contains(&key_arg) && said[0].contains("mode 0644"), "{}", said[0]);
    assert!(said[0].contains(&format!("chmod 600 {key_arg}")), "{}", said[0]);
    let healthz = format!("{}/healthz", server.addr);
    let status =
        run("curl", &["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "ca.pem", &healthz], dir);
    assert_eq!(status, "200", "served all the same");

    // Fixed as told, the reload says nothing more.
    set_mode(&key, 0o600);
    server.signal("-HUP");
    eventually(20, "the reload to be logged", || server.log().contains("reloaded the TLS certificate"));
    assert_eq!(warnings(&server.log()).len(), 1, "{}", server.log());
}

#[test]
fn a_bad_certificate_pair_stops_the_start_before_anything_is_written() {
    let certs = tempfile::tempdir().expect("tempdir");
    let dir = certs.path();
    std::fs::write(dir.join("cert.pem"), "no certificate here").expect("write");
    std::fs::write(dir.join("key.pem"), "no key here").expect("write");
    let data = dir.join("data");
    let out = Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["server", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(dir.join("cert.pem"))
        .arg("--tls-key")
        .arg(dir.join("key.pem"))
        .arg("--data-dir")
        .arg(&data)
        .env("WARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .output()
        .expect("ward runs");
    assert_ne!(out.status.code(), Some(0));
    let said = text(&out.stderr);
    assert!(said.contains("cert.pem") && said.contains("no PEM certificate"), "{said}");
    assert!(!data.exists(), "nothing was written");
}

#[test]
fn plain_http_to_another_machine_is_refused_before_connecting() {
    let user = User::at("http://10.1.2.3:1");
    let started = std::time::Instant::now();
    let out = user.run(&["login", "--username", "admin", "--password-stdin"], "whatever\n");
    assert_ne!(out.status.code(), Some(0));
    let said = text(&out.stderr);
    assert!(said.contains("--allow-http") && said.contains("10.1.2.3"), "{said}");
    assert!(!said.contains("could not reach"), "no connection was attempted: {said}");
    // Refused at once, not after a connect timeout (10 s).
    assert!(started.elapsed() < Duration::from_secs(8), "took {:?}", started.elapsed());
}

#[test]
fn plain_http_to_this_machine_still_works() {
    let server = Ward::start("", &["--listen", "127.0.0.1:0"]);
    let user = User::at(&server.addr);
    user.login("admin", ADMIN_PASSWORD);
    assert!(user.ok(&["whoami"]).contains("admin"));
}

#[test]
fn a_unix_socket_serves_the_api_with_mode_0660() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket = dir.path().join("ward.sock");
    let listen = format!("unix:{}", socket.display());
    let config = dir.path().join("server.toml");
    std::fs::write(&config, "").expect("config");
    let server = Ward::start_in(dir, &config, &["--listen", &listen]);
    assert_eq!(server.addr, listen);
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).expect("socket").permissions());
    assert_eq!(mode & 0o777, 0o660);
    let socket_arg = socket.display().to_string();
    let status = run(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--unix-socket",
            &socket_arg,
            "http://localhost/healthz",
        ],
        server.dir.path(),
    );
    assert_eq!(status, "200");
    // Logging in over the socket: the audit trail sees a local client.
    let login = run(
        "curl",
        &[
            "-s",
            "--unix-socket",
            &socket_arg,
            "-H",
            "content-type: application/json",
            "-d",
            &format!("{{\"username\":\"admin\",\"password\":\"{ADMIN_PASSWORD}\"}}"),
            "http://localhost/v1/login",
        ],
        server.dir.path(),
    );
    assert!(login.contains("\"token\""), "{login}");
    server.signal("-TERM");
    eventually(20, "the socket to be removed at shutdown", || !socket.exists());
}

/// A listener on 127.0.0.1 that keeps every byte sent to it and answers
/// each connection with `answer` (then closes it).
fn listener_answering(answer: impl Fn(&str) -> String + Send + 'static) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let me = addr.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 8192];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                kept.lock().expect("lock").extend_from_slice(&buf[..n]);
                if kept.lock().expect("lock").windows(4).any(|w| w == b"\r\n\r\n") {
                    break;
                }
            }
            let _ = stream.write_all(answer(&me).as_bytes());
        }
    });
    (addr, seen)
}

#[test]
fn a_redirect_is_never_followed_and_no_proxy_sees_plain_http() {
    const PASSWORD: &str = "a password for nobody else";
    // Where a redirect or a proxy would carry the password.
    let (sink, sink_saw) = listener_answering(|_| {
        "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
    });
    let target = format!("http://{sink}/v1/login");
    let (redirector, _) = listener_answering(move |_| {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {target}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });

    let user = User::at(&format!("http://{redirector}"));
    let out = user.run(&["login", "--username", "admin", "--password-stdin"], &format!("{PASSWORD}\n"));
    assert_ne!(out.status.code(), Some(0), "a 307 is not a login: {}", text(&out.stderr));
    // The sink takes connections in order: once it has answered ours, it
    // has read whatever ward sent it before.
    let drained = || {
        let mut marker = TcpStream::connect(&sink).expect("connect to the sink");
        marker.write_all(b"MARK\r\n\r\n").expect("mark");
        let _ = marker.read_to_end(&mut Vec::new());
        let seen = String::from_utf8_lossy(&sink_saw.lock().expect("lock")).into_owned();
        sink_saw.lock().expect("lock").clear();
        seen
    };
    assert_eq!(drained(), "MARK\r\n\r\n", "the redirect was followed");

    let server = Ward::start("", &["--listen", "127.0.0.1:0"]);
    let user = User::at(&server.addr);
    let proxy = format!("http://{sink}");
    let out = user
        .command(&["login", "--username", "admin", "--password-stdin"])
        .envs([("HTTP_PROXY", &proxy), ("http_proxy", &proxy), ("ALL_PROXY", &proxy), ("all_proxy", &proxy)])
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().expect("stdin").write_all(format!("{ADMIN_PASSWORD}\n").as_bytes())?;
            child.wait_with_output()
        })
        .expect("ward runs");
    assert_eq!(out.status.code(), Some(0), "straight to the server: {}", text(&out.stderr));
    assert_eq!(drained(), "MARK\r\n\r\n", "the proxy saw the plain-http login");
}

#[test]
fn sighup_does_not_end_a_server_without_tls() {
    let server = Ward::start("", &["--listen", "127.0.0.1:0"]);
    server.signal("-HUP");
    eventually(20, "the SIGHUP to be logged", || server.log().contains("nothing to reload"));
    let user = User::at(&server.addr);
    user.login("admin", ADMIN_PASSWORD);
    assert!(user.ok(&["whoami"]).contains("admin"), "still serving after SIGHUP");
}
