//! A store file or an export written by someone without the owner's key:
//! refused with an error naming the file, the forged value never printed,
//! nothing written over it. Files in the old untagged format migrate on
//! first unlock, and cannot be put back afterwards.

#[path = "secrets_common/mod.rs"]
mod common;

use age::secrecy::ExposeSecret;
use common::{Home, assert_ok, text};
use std::io::Write;
use std::str::FromStr;

const FORGED: &str = "sk-FORGED-by-someone-else";

/// The lines of a store file before the ciphertext, and the ciphertext.
fn lines_and_ciphertext(bytes: &[u8], lines: usize) -> (Vec<&[u8]>, &[u8]) {
    let mut rest = bytes;
    let mut out = Vec::new();
    for _ in 0..lines {
        let at = rest.iter().position(|&b| b == b'\n').expect("a header line");
        out.push(&rest[..at]);
        rest = &rest[at + 1..];
    }
    (out, rest)
}

/// What the attacker in issue 11 does: reads the public recipient from the
/// plaintext index and encrypts a payload of their choosing to it.
fn encrypt_to(recipient: &str, payload: &serde_json::Value) -> Vec<u8> {
    let recipient = age::x25519::Recipient::from_str(recipient).expect("an age recipient");
    let plain = serde_json::to_vec(payload).expect("JSON");
    age::encrypt(&recipient, &plain).expect("age encrypts")
}

/// A payload with every indexed entry's value replaced by [`FORGED`].
fn forged_payload(index: &serde_json::Value) -> serde_json::Value {
    let entries: Vec<_> = index["entries"]
        .as_array()
        .expect("indexed entries")
        .iter()
        .map(|meta| serde_json::json!({ "meta": meta, "secret": { "value": FORGED } }))
        .collect();
    serde_json::json!({ "entries": entries })
}

fn assert_refused(home: &Home, args: &[&str], path: &std::path::Path) {
    let out = home.ward(args);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stdout}{stderr}");
    assert!(
        stderr.contains(&path.display().to_string()),
        "{args:?}: the error does not name the file: {stderr}"
    );
    assert!(stderr.contains("authenticity check"), "{args:?}: {stderr}");
    assert!(!stdout.contains(FORGED) && !stderr.contains(FORGED), "{args:?} printed the forged value");
}

/// A home holding `api-key/openai` = `sk-real`; its store file and bytes.
fn home_with_a_store() -> (Home, std::path::PathBuf, Vec<u8>) {
    let home = Home::new();
    home.set("openai", "sk-real", &["--type", "api-key"]);
    let path = home.store_file();
    let real = std::fs::read(&path).expect("store");
    (home, path, real)
}

#[test]
fn a_store_re_encrypted_to_its_public_recipient_is_refused() {
    let (home, path, real) = home_with_a_store();
    let (lines, _) = lines_and_ciphertext(&real, 3);
    let index: serde_json::Value = serde_json::from_slice(lines[1]).expect("index");
    let ciphertext = encrypt_to(index["recipient"].as_str().expect("recipient"), &forged_payload(&index));

    let with_old_tag = [lines[0], b"\n", lines[1], b"\n", lines[2], b"\n", &ciphertext].concat();
    let with_made_up_tag =
        [lines[0], b"\n", lines[1], b"\nhmac-sha256:", "ab".repeat(32).as_bytes(), b"\n", &ciphertext]
            .concat();
    let in_the_old_format = [b"ward-secrets v1\n", lines[1], b"\n", &ciphertext].concat();
    for forged in [in_the_old_format, with_old_tag, with_made_up_tag] {
        std::fs::write(&path, &forged).expect("forge the store");
        assert_refused(&home, &["secret", "get", "openai", "--show-value"], &path);
        assert_refused(&home, &["secret", "set", "other", "--value", "x"], &path);
        let template = home.path().join("t.tpl");
        std::fs::write(&template, "${TOKEN:api-key:openai}").expect("template");
        assert_refused(&home, &["inject", "-i", template.to_str().expect("utf-8")], &path);
        assert_eq!(std::fs::read(&path).expect("store"), forged, "the forged file was written over");
    }

    std::fs::write(&path, &real).expect("restore");
    assert_eq!(home.value("openai"), "sk-real");
}

#[test]
fn a_changed_index_is_refused_too() {
    let (home, path, real) = home_with_a_store();
    let renamed = String::from_utf8_lossy(&real[..200]).replace("\"openai\"", "\"openaj\"");
    let changed = [renamed.as_bytes(), &real[200..]].concat();
    std::fs::write(&path, &changed).expect("change the index");
    assert_refused(&home, &["secret", "get", "openaj", "--show-value"], &path);
    assert_eq!(std::fs::read(&path).expect("store"), changed);
}

/// A store as versions before the tag wrote it: an identity file, the
/// index, and the age payload, untagged.
fn write_version_1_store(home: &Home, value: &str) -> Vec<u8> {
    let identity = age::x25519::Identity::generate();
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    let key_path = home.config_dir().join("identity.txt");
    let mut key = std::fs::File::create(&key_path).expect("identity file");
    #[cfg(unix)]
    std::fs::set_permissions(&key_path, std::os::unix::fs::PermissionsExt::from_mode(0o600)).expect("chmod");
    writeln!(key, "# public key: {}\n{}", identity.to_public(), identity.to_string().expose_secret())
        .expect("write identity");
    let meta = serde_json::json!({
        "namespace": "api-key", "name": "old", "type": "api-key",
        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
        "expires_at": null, "refreshable": false, "metadata": {}
    });
    let recipient = identity.to_public().to_string();
    let index = serde_json::json!({ "recipient": recipient, "entries": [meta] });
    let payload = serde_json::json!({ "entries": [{ "meta": meta, "secret": { "value": value } }] });
    let bytes = [
        b"ward-secrets v1\n",
        serde_json::to_vec(&index).expect("JSON").as_slice(),
        b"\n",
        &encrypt_to(&recipient, &payload),
    ]
    .concat();
    std::fs::create_dir_all(home.data_dir()).expect("data dir");
    std::fs::write(home.store_file(), &bytes).expect("old store");
    bytes
}

#[test]
fn an_old_untagged_store_migrates_on_first_read_and_cannot_be_put_back() {
    let home = Home::new();
    let old = write_version_1_store(&home, "sk-old");
    assert_eq!(home.names(), ["api-key/old"]);
    assert_eq!(home.value("old"), "sk-old");
    let migrated = std::fs::read(home.store_file()).expect("store");
    assert!(migrated.starts_with(b"ward-secrets v2\n"), "not migrated: {}", text(&migrated[..40]));
    assert_eq!(home.value("old"), "sk-old");

    // Putting the untagged file back is a downgrade: refused, left as it is.
    std::fs::write(home.store_file(), &old).expect("put the old file back");
    let out = home.ward(&["secret", "get", "old", "--show-value"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("old untagged format"), "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains("sk-old"));
    assert_eq!(std::fs::read(home.store_file()).expect("store"), old);
}

#[test]
fn an_old_untagged_store_migrates_on_first_write() {
    let home = Home::new();
    write_version_1_store(&home, "sk-old");
    home.set("new", "v", &[]);
    assert!(std::fs::read(home.store_file()).expect("store").starts_with(b"ward-secrets v2\n"));
    assert_eq!(home.names(), ["api-key/old", "bearer/new"]);
    assert_eq!(home.value("old"), "sk-old");
}

#[test]
fn a_forged_export_is_refused_and_nothing_is_imported() {
    let a = Home::new();
    a.set("openai", "sk-real", &["--type", "api-key"]);
    let file = a.path().join("backup.age");
    let file_arg = file.to_str().expect("utf-8 path");
    let pass = [("WARD_EXPORT_PASSPHRASE", "export pass")];
    assert_ok(&a.run(&["secret", "export", "--to", file_arg], "", &pass), &["export"]);
    let real = std::fs::read(&file).expect("export");

    let forged_body = serde_json::json!({
        "format": "ward-secrets-export v1",
        "entries": [{ "meta": {
            "namespace": "api-key", "name": "openai", "type": "api-key",
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
        }, "secret": { "value": FORGED } }]
    });
    let plain = serde_json::to_vec(&forged_body).expect("JSON");
    let to_a_public_key =
        encrypt_to(&age::x25519::Identity::generate().to_public().to_string(), &forged_body);
    let other_passphrase =
        age::encrypt(&age::scrypt::Recipient::new("attacker's".to_owned().into()), &plain).expect("encrypts");
    let mut flipped = real.clone();
    let at = flipped.len() - 3;
    flipped[at] ^= 1;

    let b = Home::new();
    for forged in [to_a_public_key, other_passphrase, flipped] {
        std::fs::write(&file, &forged).expect("forge the export");
        let out = b.run(&["secret", "import", file_arg], "", &pass);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_ne!(out.status.code(), Some(0), "{stdout}{stderr}");
        assert!(stderr.contains(file_arg), "the error does not name the file: {stderr}");
        assert!(!stdout.contains(FORGED) && !stderr.contains(FORGED), "printed the forged value");
        assert!(!b.store_file().exists(), "the import wrote a store");
    }
    std::fs::write(&file, &real).expect("restore");
    assert_ok(&b.run(&["secret", "import", file_arg], "", &pass), &["import"]);
    assert_eq!(b.value("openai"), "sk-real");
}

#[test]
fn a_whole_store_written_with_someone_elses_key_is_refused() {
    let (home, path, _) = home_with_a_store();
    // The attacker's own, fully valid store: their recipient, their payload.
    let attacker = Home::new();
    attacker.set("openai", FORGED, &["--type", "api-key"]);
    let theirs = std::fs::read(attacker.store_file()).expect("their store");
    std::fs::write(&path, &theirs).expect("swap the store");
    let out = home.ward(&["secret", "get", "openai", "--show-value"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(stderr.contains(&path.display().to_string()) && stderr.contains("not the one"), "{stderr}");
    assert!(!stdout.contains(FORGED) && !stderr.contains(FORGED), "printed the forged value");
    assert_eq!(std::fs::read(&path).expect("store"), theirs, "written over");
}
