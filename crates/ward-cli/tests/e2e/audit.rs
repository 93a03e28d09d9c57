//! `ward audit`, `ward audit verify` and `ward server --audit-log` against a
//! real server: searches by subject and risk, a chain broken by editing the
//! stopped server's database file, and a mirror that grep and jq can read.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn admin(server: &Server) -> User {
    let user = User::new(server);
    user.login("admin", ADMIN_PASSWORD);
    user
}

/// `ward audit ARGS --output json`'s events.
fn audit(user: &User, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["audit"];
    all.extend(args);
    user.json(&all)["events"].as_array().cloned().unwrap_or_default()
}

fn actions(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["action"].as_str()).collect()
}

/// Runs `sql` on the database file of a stopped server.
fn tamper(server: &Server, sql: &str) {
    use sqlx::Connection;
    let db = server.data_dir.join("ward.db");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .expect("open the database file");
        sqlx::raw_sql(sql).execute(&mut conn).await.expect("tamper");
        conn.close().await.expect("close");
    });
}

/// Creates a critical token as `user` and returns `(id, token)`.
fn critical_token(user: &User) -> (String, String) {
    let created =
        user.json(&["token", "create", "--name", "root", "--type", "personal", "--scopes", "ward:admin"]);
    (
        created["id"].as_str().unwrap_or_default().to_owned(),
        created["token"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn ward_audit_searches_by_subject_action_risk_and_time() {
    let server = Server::start("");
    let admin = admin(&server);
    admin.run(&["user", "create", "alice", "--password-stdin"], "alice-password-1\n");
    let alice = User::new(&server);
    alice.login("alice", "alice-password-1");
    alice.ok(&["token", "create", "--name", "laptop", "--type", "personal"]);
    let (root_id, _) = critical_token(&admin);

    let alices = audit(&admin, &["--subject", "alice"]);
    assert!(alices.iter().all(|e| e["subject"] == "alice"), "{alices:?}");
    let found = actions(&alices);
    assert!(found.contains(&"login.success") && found.contains(&"token.create"), "{found:?}");
    assert!(alices.iter().all(|e| e["client_ip"] == "127.0.0.1"));

    let critical = audit(&admin, &["--risk", "critical", "--action", "token.create"]);
    assert_eq!(critical.len(), 1, "{critical:?}");
    assert_eq!(critical[0]["token_id"], root_id.as_str());
    assert_eq!(audit(&admin, &["--token-id", &root_id, "--since", "1h"]).len(), 1);
    assert!(audit(&admin, &["--until", "2001-01-01T00:00:00Z"]).is_empty());
    assert_eq!(audit(&admin, &["--limit", "3"]).len(), 3);

    let table = admin.ok(&["audit", "--subject", "alice", "--action", "token.create"]);
    assert!(table.starts_with("Seq") && table.contains("token.create") && table.contains("alice"), "{table}");

    let bad = admin.ward(&["audit", "--since", "last tuesday"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad.stderr));
    let forbidden = alice.ward(&["audit"]);
    assert_eq!(forbidden.status.code(), Some(4), "{}", text(&forbidden.stderr));
}

/// Starts a server, records a few events, checks the chain is intact,
/// stops it, runs `sql(seq)` on the older of two `token.create` events,
/// restarts it, and returns `ward audit verify ARGS`'s output and the
/// event that was targeted.
fn verify_after(args: &[&str], sql: impl Fn(u64) -> String) -> (std::process::Output, Value) {
    let mut server = Server::start("");
    let admin = admin(&server);
    critical_token(&admin);
    critical_token(&admin);
    let target = audit(&admin, &["--action", "token.create", "--limit", "2"]).pop().expect("an event");
    let intact = admin.ward(&["audit", "verify"]);
    assert_eq!(intact.status.code(), Some(0), "{}", text(&intact.stderr));
    assert!(text(&intact.stdout).contains("intact"), "{}", text(&intact.stdout));

    assert!(server.stop(), "the server stops cleanly");
    tamper(&server, &sql(target["seq"].as_u64().expect("seq")));
    let config = server.config_path();
    server.spawn(&config, None);
    // A new port: log in again there.
    let admin = self::admin(&server);
    let mut all = vec!["audit", "verify"];
    all.extend(args);
    (admin.ward(&all), target)
}

#[test]
fn ward_audit_verify_names_an_edited_event_and_exits_1() {
    let (out, target) =
        verify_after(&[], |seq| format!("UPDATE audit_events SET risk_level = 'low' WHERE seq = {seq}"));
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let id = target["id"].as_str().unwrap_or_default();
    assert!(
        said.contains(&format!("event {} ({id}) was changed", target["seq"])),
        "{said} / {}",
        text(&out.stderr)
    );
}

#[test]
fn ward_audit_verify_names_a_deleted_event() {
    let (out, target) = verify_after(&[], |seq| format!("DELETE FROM audit_events WHERE seq = {seq}"));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains(&format!("event {} was removed", target["seq"])),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn ward_audit_verify_names_swapped_events_as_reordered_in_json_too() {
    let (out, target) = verify_after(&["--output", "json"], |seq| {
        format!(
            "UPDATE audit_events SET seq = -seq WHERE seq IN ({seq}, {next});
             UPDATE audit_events SET seq = {seq} WHERE seq = -{next};
             UPDATE audit_events SET seq = {next} WHERE seq = -{seq};",
            next = seq + 1
        )
    });
    assert_eq!(out.status.code(), Some(1));
    let verdict: Value = serde_json::from_slice(&out.stdout).expect("JSON verdict");
    assert_eq!(verdict["ok"], false);
    assert_eq!(
        (&verdict["first_bad"]["seq"], &verdict["first_bad"]["problem"]),
        (&target["seq"], &Value::from("reordered"))
    );
}

/// Lines of `file` that `program ARGS file` prints.
fn filtered(program: &str, args: &[&str], file: &Path) -> Option<Vec<String>> {
    let out = Command::new(program).args(args).arg(file).output().ok()?;
    Some(text(&out.stdout).lines().map(str::to_owned).collect())
}

#[test]
fn the_audit_log_mirror_is_json_lines_for_grep_and_jq() {
    let mut server = Server::start_with_audit_log("");
    let admin = admin(&server);
    let (root_id, root) = critical_token(&admin);
    assert!(server.stop(), "the server stops cleanly");

    let file = server.audit_log.clone().expect("a mirror");
    let mirror = std::fs::read_to_string(&file).expect("read the mirror");
    let lines: Vec<Value> =
        mirror.lines().map(|l| serde_json::from_str(l).expect("a JSON object per line")).collect();
    assert!(lines.len() >= 3, "{mirror}");
    assert!(lines.windows(2).all(|w| w[1]["seq"].as_u64() > w[0]["seq"].as_u64()));
    assert!(
        lines.windows(2).all(|w| w[1]["prev_hash"] == w[0]["hash"]),
        "each line chains to the one before"
    );

    let admins = filtered("grep", &[r#""subject": "admin""#], &file).expect("grep runs");
    assert_eq!(admins.len(), lines.iter().filter(|l| l["subject"] == "admin").count());
    match filtered("jq", &["-c", r#"select(.risk_level == "critical")"#], &file) {
        Some(critical) => {
            assert_eq!(critical.len(), 1, "{critical:?}");
            assert!(critical[0].contains(&root_id));
        }
        None => eprintln!("skipped: jq is not installed"),
    }
    assert!(!mirror.contains(&root[11..]), "the token is not in the mirror");
    assert!(!server.log().contains(&root[11..]), "nor in the server's log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).expect("mirror metadata").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

/// SQL that edits the event at `seq` and recomputes it, every later event
/// and the head as plain SHA-256 links: what someone with the database but
/// not the master key would run.
fn forge_without_the_key(server: &Server, seq: u64) -> String {
    let db = server.data_dir.join("ward.db");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let chain = runtime.block_on(async {
        let store = ward_store::SqliteStore::open(db.to_str().expect("utf-8 path")).await.expect("open");
        let chain = ward_store::AuditLog::audit_chain(&store, None, 10_000).await.expect("read the chain");
        store.close().await;
        chain
    });
    let hex = |h: &ward_core::audit::EventHash| h.to_hex();
    let mut sql = format!("UPDATE audit_events SET risk_level = 'low' WHERE seq = {seq};\n");
    let mut prev = None;
    for mut event in chain.into_iter().filter(|e| e.seq >= seq) {
        if event.seq == seq {
            event.entry.risk_level = Some("low".into());
        }
        let prev_hash = prev.unwrap_or(event.prev_hash);
        let hash = ward_core::audit::unkeyed_hash(&prev_hash, &event.entry.canonical());
        sql.push_str(&format!(
            "UPDATE audit_events SET prev_hash = X'{}', hash = X'{}' WHERE seq = {};\n\
             UPDATE audit_head SET seq = {}, hash = X'{}' WHERE id = 1;\n",
            hex(&prev_hash),
            hex(&hash),
            event.seq,
            event.seq,
            hex(&hash)
        ));
        prev = Some(hash);
    }
    sql
}

#[test]
fn ward_audit_verify_names_an_edit_whose_chain_was_recomputed_without_the_key() {
    let mut server = Server::start("");
    let admin = admin(&server);
    critical_token(&admin);
    critical_token(&admin);
    let target = audit(&admin, &["--action", "token.create", "--limit", "2"]).pop().expect("an event");
    let seq = target["seq"].as_u64().expect("seq");
    assert!(server.stop(), "the server stops cleanly");
    let sql = forge_without_the_key(&server, seq);
    tamper(&server, &sql);
    let config = server.config_path();
    server.spawn(&config, None);
    let admin = self::admin(&server);

    let out = admin.ward(&["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1), "a forged chain passed: {}", text(&out.stdout));
    let id = target["id"].as_str().unwrap_or_default();
    let said = text(&out.stdout);
    assert!(said.contains(&format!("event {seq} ({id}) was changed")), "{said}");
    assert!(said.contains("without the audit key"), "{said}");
}
