//! The OS keyring backend against a real Secret Service: the test starts
//! its own D-Bus session bus (`dbus-daemon`, as `dbus-run-session` does,
//! but without service activation) and a gnome-keyring-daemon on it,
//! unlocked with a password, in a temp HOME; nothing touches the
//! developer's keyring.
//! Without those programs the tests are skipped with a message, except
//! under CI, where they fail (.ci/run installs them).

#[path = "secrets_common/mod.rs"]
mod common;

use common::{Home, text};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=RUNTIME</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

struct SecretService {
    bus: Child,
    keyring: Child,
    address: String,
}

impl SecretService {
    fn start(home: &Home) -> Option<Self> {
        let install = "apt-get install gnome-keyring dbus-x11 libsecret-1-0";
        if !common::require("dbus-daemon", install) || !common::require("gnome-keyring-daemon", install) {
            return None;
        }
        let runtime = home.path().join("run");
        std::fs::create_dir_all(&runtime).expect("runtime dir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        // A session bus without service activation: otherwise the first
        // keyring call could start a second, locked gnome-keyring before
        // ours has registered.
        let bus_config = home.path().join("bus.conf");
        std::fs::write(&bus_config, BUS_CONFIG.replace("RUNTIME", &runtime.display().to_string()))
            .expect("bus config");
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", bus_config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts");
        let mut address = String::new();
        BufReader::new(bus.stdout.take().expect("stdout")).read_line(&mut address).expect("bus address");
        let address = address.trim().to_owned();
        let mut keyring = home
            .command("gnome-keyring-daemon", &["--foreground", "--components=secrets", "--unlock"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(home.path().join("gnome-keyring.log")).expect("log file"))
            .spawn()
            .expect("gnome-keyring-daemon starts");
        if let Some(mut stdin) = keyring.stdin.take() {
            stdin.write_all(b"keyring password").expect("unlock password");
        }
        let mut service = Self { bus, keyring, address };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let out = home.run(&["secret", "backends", "-o", "json"], "", &service.env());
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
            if json["backends"][0]["available"] == true {
                break;
            }
            let log = std::fs::read_to_string(home.path().join("gnome-keyring.log")).unwrap_or_default();
            let exited = service.keyring.try_wait().ok().flatten();
            assert!(
                Instant::now() < deadline && exited.is_none(),
                "the keyring never answered: {json}\ngnome-keyring-daemon ({exited:?}): {log}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        Some(service)
    }

    fn env(&self) -> [(&str, &str); 1] {
        [("DBUS_SESSION_BUS_ADDRESS", self.address.as_str())]
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        for child in [&mut self.keyring, &mut self.bus] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn keyring_home() -> (Home, Option<SecretService>) {
    let mut home = Home::bare();
    let service = SecretService::start(&home);
    if let Some(s) = &service {
        home.setenv("DBUS_SESSION_BUS_ADDRESS", &s.address);
    }
    (home, service)
}

#[test]
fn every_command_works_against_a_real_secret_service() {
    let (mut home, service) = keyring_home();
    if service.is_none() {
        return;
    }
    home.setenv("WARD_BACKEND", "keyring");
    common::every_command_works(&home);
}

#[test]
fn the_keyring_is_chosen_on_first_use_and_pinned() {
    let (home, service) = keyring_home();
    if service.is_none() {
        return;
    }
    let out = home.run(&["secret", "set", "k"], "v\n", &[]);
    common::assert_ok(&out, &["set"]);
    assert!(text(&out.stderr).contains("keyring backend"), "{}", text(&out.stderr));
    let config = std::fs::read_to_string(home.config_dir().join("config.toml")).expect("config");
    assert!(config.contains("backend = \"keyring\""), "{config}");
    // The value is in the keyring, not in any file of ours.
    for file in walk(home.data_dir()) {
        let bytes = std::fs::read(&file).expect("readable");
        assert!(!String::from_utf8_lossy(&bytes).contains("\"v\""), "{} holds the value", file.display());
    }
    assert_eq!(home.value("k"), "v");

    // Once pinned, a keyring that stops answering is an error, not the file.
    drop(service);
    let out = home.run(&["secret", "get", "k", "--show-value"], "", &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("keyring backend is not available"), "{}", text(&out.stderr));
    assert!(!home.store_file().exists());
}

fn walk(dir: std::path::PathBuf) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(e.path()) } else { vec![e.path()] }).collect()
}

/// Envelope encryption: the age file holds the entries, its key lives in
/// the keyring (`key = "keyring"`), and no key file is written.
#[test]
fn the_file_backend_can_keep_its_key_in_the_keyring() {
    let (home, service) = keyring_home();
    if service.is_none() {
        return;
    }
    std::fs::create_dir_all(home.config_dir()).expect("config dir");
    std::fs::write(
        home.config_dir().join("config.toml"),
        "[profiles.default]\nbackend = \"file\"\n[profiles.default.file]\nkey = \"keyring\"\n",
    )
    .expect("config");
    home.set("k", "v", &["--type", "api-key"]);
    assert_eq!(home.value("k"), "v");
    assert!(home.store_file().exists());
    assert!(!home.config_dir().join("identity.txt").exists(), "a key file was written");
    let backends = home.ok(&["secret", "backends"]);
    assert!(backends.contains("key: keyring"), "{backends}");
    drop(service);
    let out = home.run(&["secret", "get", "k", "--show-value"], "", &[]);
    assert_eq!(out.status.code(), Some(1), "read without the keyring holding the key");
    assert_eq!(home.names(), ["api-key/k"], "listing still works without the key");
}
