//! `ward secret …` against the age-encrypted file backend: every command,
//! listing without unlocking, wrong keys and damaged files leaving the file
//! as it was, file modes, pinning, export/import, and concurrent writers.

#[path = "secrets_common/mod.rs"]
mod common;

use common::{Home, assert_ok, text};

#[test]
fn set_get_list_delete_round_trip_through_the_file() {
    let home = Home::new();
    home.set("openai", "sk-test-123", &["--type", "api-key", "--provider", "openai", "--meta", "team=ml"]);
    home.set("gh", "ghp_abc", &[]);
    assert_eq!(home.value("openai"), "sk-test-123");
    assert_eq!(home.value("bearer/gh"), "ghp_abc");
    assert_eq!(home.names(), ["api-key/openai", "bearer/gh"]);

    let meta: serde_json::Value =
        serde_json::from_str(&home.ok(&["secret", "get", "openai", "-o", "json"])).expect("JSON");
    assert_eq!(meta["type"], "api-key");
    assert_eq!(meta["provider"], "openai");
    assert_eq!(meta["metadata"]["team"], "ml");
    assert!(!meta.to_string().contains("sk-test-123"), "metadata output shows the value: {meta}");

    home.ok(&["secret", "delete", "openai", "--confirm"]);
    assert_eq!(home.names(), ["bearer/gh"]);
    let out = home.ward(&["secret", "get", "openai"]);
    assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("ward secret list"), "{}", text(&out.stderr));
}

#[test]
fn show_value_prints_only_the_value() {
    let home = Home::new();
    home.set("k", "the-value", &[]);
    let out = home.ward(&["secret", "get", "k", "--show-value"]);
    assert_ok(&out, &["get"]);
    assert_eq!(text(&out.stdout), "the-value\n");
}

#[test]
fn the_value_flag_works_and_warns_about_shell_history() {
    let home = Home::new();
    let out = home.ward(&["secret", "set", "k", "--value", "v1"]);
    assert_ok(&out, &["set"]);
    assert!(text(&out.stderr).contains("shell history"), "{}", text(&out.stderr));
    assert_eq!(home.value("k"), "v1");
}

#[test]
fn the_same_name_in_two_namespaces_needs_a_namespace() {
    let home = Home::new();
    home.set("x", "1", &["--namespace", "a"]);
    home.set("x", "2", &["--namespace", "b"]);
    let out = home.ward(&["secret", "get", "x"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--namespace"), "{}", text(&out.stderr));
    assert_eq!(home.ok(&["secret", "get", "x", "-n", "b", "--show-value"]), "2\n");
}

#[cfg(unix)]
#[test]
fn the_store_and_its_key_are_private_files() {
    let home = Home::new();
    home.set("k", "v", &[]);
    assert_eq!(common::mode(&home.store_file()), 0o600);
    assert_eq!(common::mode(&home.config_dir().join("identity.txt")), 0o600);
    assert_eq!(common::mode(&home.data_dir()), 0o700);
    let bytes = std::fs::read(home.store_file()).expect("store file");
    assert!(!String::from_utf8_lossy(&bytes).contains("\"v\""), "the value is in plaintext");
}

#[test]
fn list_works_without_the_passphrase() {
    let mut home = Home::new();
    home.setenv("WARD_PASSPHRASE", "pass one");
    home.set("k", "v", &["--type", "api-key"]);
    home.env.retain(|(k, _)| k != "WARD_PASSPHRASE");
    assert_eq!(home.names(), ["api-key/k"]);
    let out = home.ward(&["secret", "get", "k", "--show-value"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("WARD_PASSPHRASE"), "{}", text(&out.stderr));
}

#[test]
fn a_wrong_passphrase_is_a_clear_error_and_changes_nothing() {
    let mut home = Home::new();
    home.setenv("WARD_PASSPHRASE", "right");
    home.set("k", "v", &[]);
    let store = std::fs::read(home.store_file()).expect("store");
    let key = std::fs::read(home.config_dir().join("identity.age")).expect("wrapped key");
    home.setenv("WARD_PASSPHRASE", "wrong");
    for args in [&["secret", "get", "k", "--show-value"][..], &["secret", "set", "k2", "--value", "x"]] {
        let out = home.ward(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(text(&out.stderr).contains("wrong passphrase"), "{}", text(&out.stderr));
    }
    assert_eq!(std::fs::read(home.store_file()).expect("store"), store);
    assert_eq!(std::fs::read(home.config_dir().join("identity.age")).expect("key"), key);
}

#[test]
fn a_damaged_file_is_a_clear_error_and_is_left_byte_for_byte() {
    let home = Home::new();
    home.set("k", "v", &[]);
    let path = home.store_file();
    let mut bytes = std::fs::read(&path).expect("store");
    let last = bytes.len() - 5;
    bytes[last] ^= 0xff;
    std::fs::write(&path, &bytes).expect("damage it");
    for args in [&["secret", "get", "k", "--show-value"][..], &["secret", "set", "k2", "--value", "x"]] {
        let out = home.ward(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = text(&out.stderr);
        // A changed byte fails the tag before anything is decrypted.
        assert!(err.contains("failed its authenticity check") && err.contains("hint:"), "{err}");
    }
    assert_eq!(std::fs::read(&path).expect("store"), bytes);
    // Truncated, too.
    std::fs::write(&path, &bytes[..20]).expect("truncate");
    let out = home.ward(&["secret", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("is damaged"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read(&path).expect("store"), &bytes[..20]);
}

#[test]
fn the_first_write_pins_the_backend_and_key_in_the_config() {
    let home = Home::bare();
    let out = home.run(&["secret", "set", "k"], "v\n", &[]);
    assert_ok(&out, &["set"]);
    assert!(text(&out.stderr).contains("pinned"), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(home.config_dir().join("config.toml")).expect("config written");
    assert!(config.contains("backend = \"file\""), "{config}");
    assert!(config.contains("key = \"identity\""), "{config}");
    let backends = home.ok(&["secret", "backends"]);
    assert!(backends.contains("pinned") && backends.contains("secrets.age"), "{backends}");
}

#[test]
fn a_pinned_keyring_that_does_not_answer_is_an_error_not_a_fallback() {
    let home = Home::bare();
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    std::fs::write(
        home.config_dir().join("config.toml"),
        "[profiles.default]\nbackend = \"keyring\"\n[profiles.default.keyring]\ntimeout_secs = 2\n",
    )
    .expect("config");
    let out =
        home.run(&["secret", "set", "k"], "v\n", &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("keyring backend is not available") && err.contains("--backend file"), "{err}");
    assert!(!home.store_file().exists(), "fell back to the file");
}

#[test]
fn delete_and_clear_refuse_without_a_terminal_or_flag() {
    let home = Home::new();
    home.set("a", "1", &[]);
    for args in [&["secret", "delete", "a"][..], &["secret", "clear"]] {
        let out = home.ward(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    assert_eq!(home.names(), ["bearer/a"]);
}

#[test]
fn clear_removes_one_namespace_or_everything() {
    let home = Home::new();
    home.set("a", "1", &[]);
    home.set("b", "2", &["--type", "api-key"]);
    home.set("c", "3", &["--type", "api-key"]);
    assert_eq!(home.ok(&["secret", "clear", "--namespace", "api-key", "--force"]), "Deleted 2 secrets.\n");
    assert_eq!(home.names(), ["bearer/a"]);
    home.ok(&["secret", "clear", "--force"]);
    assert!(home.names().is_empty());
}

#[test]
fn list_filters_by_type_and_marks_expired_entries() {
    let home = Home::new();
    home.set("old", "1", &["--expires-at", "2001-01-01T00:00:00Z"]);
    home.set("new", "2", &["--type", "api-key", "--expires-at", "30d"]);
    let table = home.ok(&["secret", "list"]);
    let old_line = table.lines().find(|l| l.contains("old")).expect("old listed");
    assert!(old_line.contains('⚠'), "{table}");
    assert!(!table.lines().find(|l| l.contains("new")).expect("new listed").contains('⚠'), "{table}");
    let only: serde_json::Value =
        serde_json::from_str(&home.ok(&["secret", "list", "--type", "api-key", "-o", "json"])).expect("JSON");
    assert_eq!(only["secrets"].as_array().map(Vec::len), Some(1));
    assert_eq!(only["secrets"][0]["expired"], false);
}

#[test]
fn export_and_import_move_secrets_between_stores() {
    let a = Home::new();
    a.set("one", "v1", &["--type", "api-key"]);
    a.set("two", "v2", &[]);
    let file = a.path().join("backup.age");
    let file_arg = file.to_str().expect("utf-8 path");
    let pass = [("WARD_EXPORT_PASSPHRASE", "export pass")];
    assert_ok(&a.run(&["secret", "export", "--to", file_arg], "", &pass), &["export"]);
    #[cfg(unix)]
    assert_eq!(common::mode(&file), 0o600);
    let b = Home::new();
    let wrong = b.run(&["secret", "import", file_arg], "", &[("WARD_EXPORT_PASSPHRASE", "nope")]);
    assert_eq!(wrong.status.code(), Some(2), "{}", text(&wrong.stderr));
    assert_ok(&b.run(&["secret", "import", file_arg], "", &pass), &["import"]);
    assert_eq!(b.names(), ["api-key/one", "bearer/two"]);
    assert_eq!(b.value("one"), "v1");
}

#[test]
fn twenty_concurrent_writers_leave_twenty_entries() {
    let home = Home::new();
    home.set("seed", "0", &[]);
    let children: Vec<_> = (0..20)
        .map(|i| {
            let mut command =
                home.command(common::WARD, &["secret", "set", &format!("k{i}"), "--value", &format!("v{i}")]);
            command.stdin(std::process::Stdio::null()).stdout(std::process::Stdio::null());
            command.stderr(std::process::Stdio::piped()).spawn().expect("ward starts")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("ward ends");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let names = home.names();
    assert_eq!(names.len(), 21, "{names:?}");
    for i in [0, 7, 19] {
        assert_eq!(home.value(&format!("k{i}")), format!("v{i}"));
    }
}

/// Writers killed at random points: the file is always the old one or a new
/// one, never a broken one, and later writes go on.
#[cfg(unix)]
#[test]
fn a_writer_killed_mid_write_leaves_the_old_or_the_new_file() {
    let home = Home::new();
    let big = "x".repeat(256 * 1024);
    for i in 0..8 {
        home.set(&format!("big{i}"), &big, &[]);
    }
    for round in 0..12u64 {
        let mut child = home
            .command(common::WARD, &["secret", "set", &format!("r{round}"), "--value", "v"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("ward starts");
        std::thread::sleep(std::time::Duration::from_millis(5 + round * 7));
        let _ = std::process::Command::new("kill").args(["-KILL", &child.id().to_string()]).status();
        let _ = child.wait();
        let names = home.names();
        let before = 8 + usize::try_from(round).expect("small");
        assert!(names.len() == before || names.len() == before + 1, "round {round}: {names:?}");
        assert_eq!(home.value("big3").len(), big.len(), "round {round}: the store no longer decrypts");
        home.set(&format!("r{round}"), "v", &[]);
    }
    let leftovers: Vec<_> = std::fs::read_dir(home.data_dir())
        .expect("data dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".ward-tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left behind: {leftovers:?}");
}
