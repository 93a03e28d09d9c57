//! After a full scenario, no issued token appears in the database files,
//! the server's log output, or any message the CLI printed to stderr.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};

fn token_of(value: &serde_json::Value) -> String {
    value["token"].as_str().expect("token in output").to_owned()
}

#[test]
fn no_issued_token_reaches_the_database_the_log_or_an_error() {
    let mut server = Server::start("[[scopes]]\nname = \"read:metrics\"\nrisk = \"low\"\n");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    let mut issued: Vec<String> = Vec::new();
    let mut stderr = String::new();

    // A session token obtained the way any HTTP client would.
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let session = runtime.block_on(async {
        let client = ward_client::Client::new(&server.url, None).expect("client");
        let request = ward_api::LoginRequest { username: "admin".into(), password: ADMIN_PASSWORD.into() };
        client.login(&request).await.expect("login").token
    });
    issued.push(session.clone());

    for kind in ["personal", "pipeline", "service", "registry"] {
        issued.push(token_of(&admin.json(&["token", "create", "--name", kind, "--type", kind])));
    }
    let listed = admin.json(&["token", "list", "--type", "pipeline"]);
    let id = listed["tokens"][0]["id"].as_str().expect("id").to_owned();
    issued.push(token_of(&admin.json(&["token", "rotate", &id, "--grace", "1h"])));
    let svc = admin.json(&["service-user", "create", "metrics", "--scopes", "read:metrics"]);
    issued.push(token_of(&svc));
    issued.push(token_of(&admin.json(&["service-user", "rotate-key", "metrics"])));

    // Failures that involve tokens: bad ones presented, revoked ones used.
    let revoked = issued[1].clone();
    let listed = admin.json(&["token", "list", "--type", "personal"]);
    admin.ok(&["token", "revoke", listed["tokens"][0]["id"].as_str().expect("id"), "--confirm"]);
    for args in [vec!["token", "verify", revoked.as_str()], vec!["whoami"], vec!["token", "list"]] {
        let out = admin.command(&args).env("WARD_TOKEN", &revoked).output().expect("ward runs");
        assert_ne!(out.status.code(), Some(0));
        stderr.push_str(&text(&out.stderr));
    }
    let mut typo = revoked.clone();
    typo.pop();
    typo.push('!');
    let out = admin.command(&["whoami"]).env("WARD_TOKEN", &typo).output().expect("ward runs");
    stderr.push_str(&text(&out.stderr));
    let out = admin.ward(&["token", "verify", &typo]);
    stderr.push_str(&text(&out.stderr));
    let out = admin.run(&["login", "--username", "admin", "--password-stdin"], &format!("{session}\n"));
    stderr.push_str(&text(&out.stderr));
    assert!(server.stop(), "clean shutdown");

    let log = server.log();
    assert!(log.contains("token created"), "the server logged the scenario (WARD_LOG=debug)");
    let mut files = String::new();
    for entry in std::fs::read_dir(&server.data_dir).expect("data dir") {
        let bytes = std::fs::read(entry.expect("entry").path()).expect("read");
        files.push_str(&String::from_utf8_lossy(&bytes));
    }
    assert!(!files.is_empty());
    for token in &issued {
        let secret = &token[7..];
        for (place, haystack) in [("database files", &files), ("server log", &log), ("CLI stderr", &stderr)] {
            assert!(!haystack.contains(secret), "an issued token appears in the {place}");
        }
    }
}
