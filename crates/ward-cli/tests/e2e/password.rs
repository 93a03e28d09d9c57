//! `ward passwd` and `ward user set-password` through the CLI.

use crate::harness::{ADMIN_PASSWORD, Server, User, text};

#[test]
fn passwd_changes_ones_password_and_ends_ones_other_session() {
    let server = Server::start("");
    let admin = User::new(&server);
    admin.login("admin", ADMIN_PASSWORD);
    admin.run(&["user", "create", "alice", "--password-stdin"], "alice-password\n");
    let laptop = User::new(&server);
    let phone = User::new(&server);
    laptop.login("alice", "alice-password");
    phone.login("alice", "alice-password");

    let out = laptop.run(&["passwd", "--password-stdin"], "alice-password\nalice-new-password\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("1 of your other sessions ended"), "{}", text(&out.stdout));
    assert_eq!(laptop.ward(&["whoami"]).status.code(), Some(0), "this session goes on");
    assert_eq!(phone.ward(&["whoami"]).status.code(), Some(3), "the other one ended");

    let out = laptop.run(&["passwd", "--password-stdin"], "wrong-password\nwhatever-new-one\n");
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("current password is wrong"), "{}", text(&out.stderr));

    let out = admin.run(&["user", "set-password", "alice", "--password-stdin"], "set-by-the-admin\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(laptop.ward(&["whoami"]).status.code(), Some(3), "a reset ends every session");
    phone.login("alice", "set-by-the-admin");
    assert_eq!(phone.ward(&["whoami"]).status.code(), Some(0));
}
