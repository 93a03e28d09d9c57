//! Issue 13, forward auth behind real proxies: nginx (`auth_request`) and
//! Caddy (`forward_auth`), each started by the test on free loopback ports
//! in front of a real `ward server` running `examples/ops.toml`, with the
//! very configuration `docs/proxies.md` shows (its first `nginx` and
//! `caddyfile` blocks, with the addresses swapped for the test's). Behind
//! each proxy, an upstream of the same proxy echoes the `X-Ward-*` headers
//! it received.
//!
//! Under `CI=true` a missing nginx or caddy fails the test; elsewhere it is
//! skipped with a message (`apt-get install nginx-light caddy`).

use crate::harness::{ADMIN_PASSWORD, Server, User, eventually, text};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};

const OPS: &str = include_str!("../../../../examples/ops.toml");
const DOCS: &str = include_str!("../../../../docs/proxies.md");
/// The addresses the documented configs use, replaced by the test's.
const DOC_WARD: &str = "127.0.0.1:8420";
const DOC_UPSTREAM: &str = "127.0.0.1:9000";
const DOC_NGINX_LISTEN: &str = "listen 8080;";
const DOC_CADDY_SITE: &str = ":8081 {";

/// The first fenced block of `docs/proxies.md` whose info string is `lang`.
fn documented(lang: &str) -> String {
    let fence = format!("```{lang}\n");
    let start =
        DOCS.find(&fence).unwrap_or_else(|| panic!("docs/proxies.md has no {lang} block")) + fence.len();
    let len = DOCS[start..].find("```").expect("the block ends");
    DOCS[start..start + len].to_owned()
}

/// Whether `tool` runs; under CI its absence fails the test.
fn have(tool: &str) -> bool {
    let found = Command::new(tool).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok()
        || Command::new(tool).arg("version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        assert!(std::env::var("CI").is_err(), "{tool} is missing: apt-get install -y nginx-light caddy");
        eprintln!("skipped: {tool} is not installed (apt-get install -y nginx-light caddy)");
    }
    found
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// A proxy process, killed when dropped.
struct Proxy {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `port` accepts connections (the proxy has started).
fn listening(child: &mut Child, port: u16, what: &str) {
    eventually(20, &format!("{what} listening on {port}"), || {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited early with {status}");
        }
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
}

/// nginx with the documented server block; the upstream is a second
/// server block of the same nginx.
fn nginx(ward: &str) -> Proxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, upstream) = (free_port(), free_port());
    let site = documented("nginx")
        .replace(DOC_WARD, ward)
        .replace(DOC_UPSTREAM, &format!("127.0.0.1:{upstream}"))
        .replace(DOC_NGINX_LISTEN, &format!("listen 127.0.0.1:{port};"));
    assert!(site.contains(&format!("listen 127.0.0.1:{port};")), "the documented block listens on 8080");
    let d = dir.path().display();
    let conf = format!(
        "worker_processes 1;\nerror_log {d}/error.log;\npid {d}/nginx.pid;\nevents {{ worker_connections 64; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
         fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
         {site}\n  server {{\n    listen 127.0.0.1:{upstream};\n    location / {{\n      default_type text/plain;\n\
         return 200 \"upstream subject=$http_x_ward_subject token=$http_x_ward_token_id scopes=$http_x_ward_scopes\\n\";\n\
         }}\n  }}\n}}\n"
    );
    let path = dir.path().join("nginx.conf");
    std::fs::write(&path, conf).expect("write nginx.conf");
    let root = text(&Command::new("id").arg("-u").output().expect("id").stdout).trim() == "0";
    let globals = if root { "daemon off; user root;" } else { "daemon off;" };
    let mut child = Command::new("nginx")
        .args(["-p", &d.to_string(), "-c"])
        .arg(&path)
        .args(["-g", globals])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start nginx");
    listening(&mut child, port, "nginx");
    listening(&mut child, upstream, "nginx upstream");
    Proxy { child, url: format!("http://127.0.0.1:{port}"), _dir: dir }
}

/// Caddy with the documented site; the upstream is a second site of the
/// same Caddy.
fn caddy(ward: &str) -> Proxy {
    let dir = tempfile::tempdir().expect("tempdir");
    let (port, upstream) = (free_port(), free_port());
    let site = documented("caddyfile")
        .replace(DOC_WARD, ward)
        .replace(DOC_UPSTREAM, &format!("127.0.0.1:{upstream}"))
        .replace(DOC_CADDY_SITE, &format!("http://127.0.0.1:{port} {{"));
    assert!(site.contains(&format!("127.0.0.1:{port} {{")), "the documented site is :8081");
    let conf = format!(
        "{{\n\tadmin off\n\tauto_https off\n}}\n\n{site}\nhttp://127.0.0.1:{upstream} {{\n\
         \trespond \"upstream subject={{header.X-Ward-Subject}} token={{header.X-Ward-Token-Id}} scopes={{header.X-Ward-Scopes}}\" 200\n}}\n"
    );
    let path = dir.path().join("Caddyfile");
    std::fs::write(&path, conf).expect("write Caddyfile");
    let mut child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(&path)
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caddy");
    listening(&mut child, port, "caddy");
    listening(&mut child, upstream, "caddy upstream");
    Proxy { child, url: format!("http://127.0.0.1:{port}"), _dir: dir }
}

/// An answer through the proxy: status, headers (lower-case names), body.
struct Answer {
    status: u16,
    headers: String,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
        })
    }
}

/// `METHOD url` with `token` as bearer and `headers`, through curl.
fn call(method: &str, url: &str, token: Option<&str>, headers: &[&str]) -> Answer {
    let dir = tempfile::tempdir().expect("tempdir");
    let head = dir.path().join("headers");
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "-", "-D"]).arg(&head).args(["-X", method, url]);
    if let Some(t) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {t}")]);
    }
    for h in headers {
        cmd.args(["-H", h]);
    }
    let out = cmd.output().expect("curl runs");
    let headers = std::fs::read_to_string(&head).unwrap_or_default();
    let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Answer { status, headers, body: text(&out.stdout) }
}

/// The tokens the cases need, minted and created through the CLI.
struct Tokens {
    reader: String,
    reader_id: String,
    patcher: String,
    revoked: String,
}

fn tokens(server: &Server) -> Tokens {
    let admin = User::new(server);
    admin.login("admin", ADMIN_PASSWORD);
    let mint = |agent: &str, scopes: &str| {
        let m = admin.json(&["mint", "--agent", agent, "--scopes", scopes, "--ttl", "1h"]);
        (m["token"].as_str().expect("token").to_owned(), m["jti"].as_str().expect("jti").to_owned())
    };
    let (reader, reader_id) = mint("grafana", "container:read");
    let (patcher, _) = mint("patcher", "system:read,system:admin");
    let (revoked, jti) = mint("gone", "container:read");
    admin.ok(&["mint", "revoke", "--jti", &jti, "--confirm"]);
    Tokens { reader, reader_id, patcher, revoked }
}

/// The cases of the issue, through `proxy`.
fn the_proxy_passes_only_what_ward_allows(proxy: &Proxy, t: &Tokens, name: &str) {
    let url = |path: &str| format!("{}{path}", proxy.url);

    let allowed = call("GET", &url("/containers?all=1"), Some(&t.reader), &["X-Ward-Subject: admin"]);
    assert_eq!(allowed.status, 200, "{name}: allowed: {}{}", allowed.headers, allowed.body);
    let want = format!("upstream subject=grafana token={} scopes=container:read", t.reader_id);
    assert!(allowed.body.starts_with(&want), "{name}: the upstream saw {:?}", allowed.body);

    let scope = call("POST", &url("/containers/c1/restart"), Some(&t.reader), &["X-Ward-Auto-Approve: true"]);
    assert_eq!(scope.status, 403, "{name}: insufficient scope: {}", scope.body);

    let approval = call("POST", &url("/system/updates"), Some(&t.patcher), &[]);
    assert_eq!(approval.status, 403, "{name}: approval needed must never pass: {}", approval.body);
    let id = approval.header("x-ward-approval").unwrap_or_default();
    assert!(id.starts_with("apr_"), "{name}: the approval id reaches the client: {}", approval.headers);

    let unmapped = call("GET", &url("/secrets"), Some(&t.reader), &[]);
    assert_eq!(unmapped.status, 403, "{name}: a path no route maps is denied");

    for (what, token) in [("revoked", Some(t.revoked.as_str())), ("missing", None)] {
        let r = call("GET", &url("/containers"), token, &[]);
        assert_eq!(r.status, 401, "{name}: {what} token: {}{}", r.headers, r.body);
        let challenge = r.header("www-authenticate").unwrap_or_default();
        assert!(challenge.starts_with("Bearer realm=\"ward\""), "{name}: {what}: {}", r.headers);
    }
}

#[test]
fn nginx_auth_request_passes_only_what_ward_allows() {
    if !have("nginx") {
        return;
    }
    let server = Server::start(OPS);
    let t = tokens(&server);
    let ward = server.url.trim_start_matches("http://").to_owned();
    let proxy = nginx(&ward);
    the_proxy_passes_only_what_ward_allows(&proxy, &t, "nginx");
}

#[test]
fn caddy_forward_auth_passes_only_what_ward_allows() {
    if !have("caddy") {
        return;
    }
    let server = Server::start(OPS);
    let t = tokens(&server);
    let ward = server.url.trim_start_matches("http://").to_owned();
    let proxy = caddy(&ward);
    the_proxy_passes_only_what_ward_allows(&proxy, &t, "caddy");
    // Caddy sends X-Forwarded-Method/-Uri; a client adding nginx's pair to
    // pass as another request is refused, not judged by the pair it chose.
    let smuggled = ["X-Original-Method: GET", "X-Original-URI: /containers"];
    let r = call("POST", &format!("{}/containers/c1/restart", proxy.url), Some(&t.reader), &smuggled);
    assert_ne!(r.status, 200, "{}", r.body);
}

#[test]
fn the_documented_configs_name_the_addresses_the_test_replaces() {
    let nginx = documented("nginx");
    assert!(nginx.contains(DOC_WARD) && nginx.contains(DOC_UPSTREAM) && nginx.contains(DOC_NGINX_LISTEN));
    let caddy = documented("caddyfile");
    assert!(caddy.contains(DOC_WARD) && caddy.contains(DOC_UPSTREAM) && caddy.contains(DOC_CADDY_SITE));
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/proxies.md").exists());
}
