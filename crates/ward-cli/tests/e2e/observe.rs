//! Issue 12, observability, against the real binary: `/metrics` parses with
//! Prometheus' own parser and counts exactly the verifies made; under
//! `--log-format json` every stderr line is a JSON object, each request has
//! an access line, and no token or password appears; no colour escape
//! reaches a log that is not a terminal or whose reader set `NO_COLOR`;
//! `traceparent` reaches the log, and two requests of one trace keep two
//! request ids.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use serde_json::Value;
use std::io::Read;
use std::process::{Command, Stdio};

const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// Runs `e2e/observe.py ARGS` (Python with prometheus_client) and parses
/// what it prints.
fn python(args: &[&str]) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/observe.py");
    let out = Command::new("python3").arg(script).args(args).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "observe.py {args:?} failed (is prometheus-client installed? `pip install prometheus-client`):\n{}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON from observe.py")
}

/// `/metrics`, parsed by prometheus_client.
fn scrape(server: &Server) -> Value {
    let scraped = python(&["scrape", &format!("{}/metrics", server.url)]);
    assert_eq!(scraped["status"], 200);
    scraped
}

/// The value of sample `name` whose labels include `labels`, 0 when absent.
fn sample(scraped: &Value, name: &str, labels: &[(&str, &str)]) -> f64 {
    scraped["samples"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["name"] == name)
        .find(|s| labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
        .unwrap_or(0.0)
}

fn token_of(value: &Value) -> String {
    value["token"].as_str().expect("token in output").to_owned()
}

#[test]
fn metrics_parse_with_prometheus_client_and_count_exactly_the_verifies_made() {
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let token = token_of(&admin.json(&["token", "create", "--name", "probe", "--type", "personal"]));
    let before = scrape(&server);
    let valid = [("code", "VALID")];
    const N: usize = 6;
    for _ in 0..N {
        admin.ok(&["token", "verify", &token]);
    }
    // A path that carries something token-shaped: counted, never named.
    let probe = "ward_u_ObservePathSecret0123456789abcdefXyZ";
    let got = python(&["get", &format!("{}/v1/tokens/{probe}/nope", server.url)]);
    assert_eq!(got["status"], 404);

    let after = scrape(&server);
    let rose = sample(&after, "ward_verify_total", &valid) - sample(&before, "ward_verify_total", &valid);
    assert_eq!(rose, N as f64, "the verify counter rose by exactly the verifies made");
    let verify_route = [("route", "/v1/verify"), ("status", "200")];
    assert!(sample(&after, "ward_http_requests_total", &verify_route) >= N as f64);
    assert!(
        sample(&after, "ward_http_request_duration_seconds_count", &[("route", "/v1/verify")]) >= N as f64
    );
    assert!(sample(&after, "ward_http_requests_total", &[("route", "unmatched"), ("status", "404")]) >= 1.0);
    let body = after["text"].as_str().unwrap_or_default();
    for secret in [probe, &token[7..], "admin"] {
        assert!(!body.contains(secret), "{secret} appears in /metrics");
    }
}

#[test]
fn json_logs_are_one_object_per_line_with_an_access_line_per_request_and_no_secret() {
    let mut server = Server::start_with_args("", &["--log-format", "json"]);
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let mut issued = Vec::new();
    for name in ["one", "two"] {
        issued.push(token_of(&admin.json(&["token", "create", "--name", name, "--type", "personal"])));
    }
    for token in &issued {
        admin.ok(&["token", "verify", token]);
    }
    let listed = admin.json(&["token", "list"]);
    let id = listed["tokens"][0]["id"].as_str().expect("id").to_owned();
    admin.ok(&["token", "revoke", &id, "--confirm"]);
    let traced_ids: Vec<String> = (0..2)
        .map(|_| {
            let traced =
                python(&["get", &format!("{}/healthz", server.url), &format!("traceparent: {TRACEPARENT}")]);
            traced["headers"]["x-request-id"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert_ne!(traced_ids[0], traced_ids[1], "one trace, two requests, two request ids");
    assert!(server.stop(), "clean shutdown");

    let log = server.log();
    let lines: Vec<Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON object ({e}): {l}")))
        .collect();
    assert!(lines.iter().all(Value::is_object));
    assert!(
        lines.iter().any(|l| l["message"].as_str().is_some_and(|m| m.starts_with("ward server listening")))
    );
    let access: Vec<&Value> = lines.iter().filter(|l| l["target"] == "ward::access").collect();
    for line in &access {
        for field in ["method", "route", "status", "latency_ms", "request_id", "client"] {
            assert!(!line[field].is_null(), "{field} missing from {line}");
        }
        assert_eq!(line["level"], "INFO");
    }
    let count = |method: &str, route: &str| {
        access.iter().filter(|l| l["method"] == method && l["route"] == route).count()
    };
    assert_eq!(count("POST", "/v1/login"), 1, "{access:?}");
    assert_eq!(count("POST", "/v1/tokens"), 2);
    assert_eq!(count("POST", "/v1/verify"), 2);
    assert_eq!(count("POST", "/v1/tokens/{id}/revoke"), 1);
    let traced_lines: Vec<&&Value> =
        access.iter().filter(|l| l["trace_id"] == "0af7651916cd43dd8448eb211c80319c").collect();
    assert_eq!(traced_lines.len(), 2, "each traced request's access line carries the trace id");
    for (line, id) in traced_lines.iter().zip(&traced_ids) {
        assert_eq!(line["request_id"], id.as_str());
        assert_eq!(line["client"], "127.0.0.1");
    }
    for secret in issued.iter().map(|t| &t[7..]).chain([ADMIN_PASSWORD]) {
        assert!(!log.contains(secret), "a token or the password appears in the log");
    }
}

/// Runs `ward server` under a pseudo-terminal (`script`) until it logs that
/// it listens (at most 30 s: the read ends when `script` is killed), and
/// returns everything it wrote.
fn under_terminal(no_color: Option<&str>) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let command = format!(
        "exec {} server --listen 127.0.0.1:0 --data-dir {}",
        env!("CARGO_BIN_EXE_ward"),
        dir.path().join("data").display()
    );
    let mut script = Command::new("script");
    script
        .args(["-q", "-f", "-e", "-c", &command, "/dev/null"])
        .env("WARD_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env_remove("WARD_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(value) = no_color {
        script.env("NO_COLOR", value);
    }
    let mut child = script.spawn().expect("script (util-linux) runs");
    let mut stdout = child.stdout.take().expect("stdout");
    let pid = child.id().to_string();
    // A watchdog, not a timed assertion: a server that never says it
    // listens must not hang the test run.
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
    });
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // The `listening` log line carries `server.addr`; the plain
    // announcement before it does not.
    while !String::from_utf8_lossy(&seen).contains("server.addr") {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
    seen
}

#[test]
fn no_colour_escapes_without_a_terminal_or_with_no_color() {
    // The control: on a terminal, the level is coloured.
    let coloured = under_terminal(None);
    assert!(text(&coloured).contains("listening"), "{}", text(&coloured));
    assert!(coloured.contains(&0x1b), "a terminal gets colour: {}", text(&coloured));
    let plain = under_terminal(Some("1"));
    assert!(text(&plain).contains("listening"), "{}", text(&plain));
    assert!(!plain.contains(&0x1b), "NO_COLOR=1 on a terminal: {}", text(&plain));

    let mut piped = Server::start("");
    assert!(piped.stop());
    let log = piped.log();
    assert!(log.contains("listening"));
    assert!(!log.contains('\u{1b}'), "stderr is a pipe: no escape");
}
