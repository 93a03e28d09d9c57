//! Issue 13, OAuth with standard clients: authlib's `introspect_token` and
//! `revoke_token` (client_secret_basic with a service user's name and key)
//! and PyJWT verifying a minted token with the issuer and `jwks_uri` read
//! from the RFC 8414 metadata and an audience, all in `e2e/oauth.py`
//! against a real `ward server` with `[server] issuer` set.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use serde_json::Value;
use std::process::Command;

const OPS: &str = include_str!("../../../../examples/ops.toml");

#[test]
fn authlib_introspects_and_revokes_and_pyjwt_verifies_issuer_and_audience() {
    // The issuer is the URL clients reach: a free port, named in the config
    // and given to the server.
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let issuer = format!("http://127.0.0.1:{port}");
    let config = format!("{OPS}\n[server]\nissuer = \"{issuer}\"\n");
    let server = Server::start_with_args(&config, &["--listen", &format!("127.0.0.1:{port}")]);
    assert_eq!(server.url, issuer);

    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let svc = admin.json(&["service-user", "create", "resource-api", "--scopes", "ward:introspect"]);
    let key = svc["token"].as_str().unwrap_or_else(|| panic!("no key in {svc}")).to_owned();
    let active =
        admin.json(&["token", "create", "--name", "ci", "--type", "pipeline", "--scopes", "readonly"]);
    let active = active["token"].as_str().expect("token").to_owned();
    let doomed =
        admin.json(&["token", "create", "--name", "leak", "--type", "pipeline", "--scopes", "readonly"]);
    let doomed = doomed["token"].as_str().expect("token").to_owned();
    let minted = admin.json(&[
        "mint",
        "--agent",
        "grafana",
        "--scopes",
        "readonly",
        "--ttl",
        "1h",
        "--audience",
        "https://ops.example.com",
    ]);
    let jwt = minted["token"].as_str().expect("token").to_owned();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/e2e/oauth.py");
    let out = Command::new("python3")
        .arg(script)
        .args([&server.url, "resource-api", &key, &active, &doomed, &jwt, "https://ops.example.com"])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "oauth.py failed (are authlib, requests, PyJWT and cryptography installed? `pip install authlib requests pyjwt cryptography`):\n{}",
        text(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("JSON from oauth.py");

    assert_eq!(seen["metadata"]["issuer"], issuer.as_str());
    let introspected = &seen["introspect"];
    assert_eq!(introspected["status"], 200);
    assert_eq!(introspected["body"]["active"], true, "{introspected}");
    assert_eq!(introspected["body"]["scope"], "container:read file:read network:read system:read");
    assert_eq!(introspected["body"]["username"], "admin");
    assert_eq!(seen["revoke"]["status"], 200);
    assert_eq!(seen["after_revoke"]["body"], serde_json::json!({"active": false}));

    let claims = &seen["pyjwt"]["claims"];
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], "https://ops.example.com");
    assert_eq!(claims["sub"], "grafana");
    assert_eq!(seen["pyjwt"]["refused"], serde_json::json!({"other_audience": true, "other_issuer": true}));
    // ward agrees that the revoked token is revoked.
    let out = admin.run(&["token", "verify", "-", "--output", "json"], &format!("{doomed}\n"));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert_eq!(verdict["code"], "REVOKED", "{}", text(&out.stderr));
}
