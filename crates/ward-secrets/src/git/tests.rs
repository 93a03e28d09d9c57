//! The git protocol against an in-memory backend; the real `git
//! credential` runs in `ward-cli/tests/secrets_helpers.rs`.

use super::*;
use crate::backend::{BackendKind, SecretBackend};
use std::collections::BTreeMap;
use std::sync::Mutex;

#[derive(Debug, Default)]
struct Memory(Mutex<BTreeMap<EntryId, Entry>>);

impl SecretBackend for Memory {
    fn kind(&self) -> BackendKind {
        BackendKind::File
    }
    fn location(&self) -> String {
        "memory".into()
    }
    fn list(&self) -> Result<Vec<EntryMeta>> {
        Ok(self.0.lock().expect("lock").values().map(|e| e.meta.clone()).collect())
    }
    fn get(&self, id: &EntryId) -> Result<Option<Entry>> {
        Ok(self.0.lock().expect("lock").get(id).cloned())
    }
    fn put(&self, entries: Vec<Entry>) -> Result<()> {
        let mut map = self.0.lock().expect("lock");
        for entry in entries {
            map.insert(entry.id(), entry);
        }
        Ok(())
    }
    fn delete(&self, ids: &[EntryId]) -> Result<usize> {
        let mut map = self.0.lock().expect("lock");
        Ok(ids.iter().filter(|id| map.remove(id).is_some()).count())
    }
}

struct NoRefresh;

impl Refresher for NoRefresh {
    fn refresh(&self, entry: &Entry) -> Result<Entry> {
        Err(Error::Refresh { id: entry.id().to_string(), reason: "not in this test".into() })
    }
}

fn store(dir: &tempfile::TempDir) -> SecretStore {
    SecretStore::new(Box::<Memory>::default(), dir.path().join("lock"))
}

/// An entry put straight into the backend, as an older ward or a hand
/// edit could have left it.
fn put_raw(store: &SecretStore, name: &str, user: &str, password: &str, fields: &[(&str, &str)]) {
    let id = EntryId::new(NAMESPACE, name).expect("valid");
    let mut meta = EntryMeta::new(&id, Kind::Basic, Utc::now());
    meta.username = Some(user.into());
    for (k, v) in fields {
        meta.metadata.insert((*k).into(), (*v).into());
    }
    store.put(Entry { meta, secret: SecretValue::new(SecretString::new(password)) }).expect("put");
}

const ASK: &str = "protocol=https\nhost=h.example\n\n";

#[test]
fn requests_parse_up_to_the_blank_line() {
    let r = Request::parse(
        "protocol=https\nhost=git.example.com:8443\npath=a/b.git\nusername=me\npassword=p=w\n\nhost=x\n",
    );
    assert_eq!(r.protocol.as_deref(), Some("https"));
    assert_eq!(r.host.as_deref(), Some("git.example.com:8443"));
    assert_eq!(r.path.as_deref(), Some("a/b.git"));
    assert_eq!(r.password.as_ref().map(SecretString::expose), Some("p=w"));
    let id = r.entry_id().expect("an id");
    assert!(id.to_string().starts_with("git/me@git.example.com_8443."), "{id}");
}

#[test]
fn debug_hides_the_password() {
    assert!(!format!("{:?}", Request::parse("password=hunter2\n")).contains("hunter2"));
}

#[test]
fn a_value_with_a_line_break_is_never_emitted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(&dir);
    let https = [("protocol", "https"), ("host", "h.example")];
    put_raw(&store, "evil", "u", "p\nusername=evil", &https);
    assert_eq!(run("get", &store, &NoRefresh, ASK).expect("runs"), "");
    put_raw(&store, "evil", "u\r\npassword=x", "p", &https);
    assert_eq!(run("get", &store, &NoRefresh, ASK).expect("runs"), "");
}

#[test]
fn an_entry_of_an_older_ward_answers_and_a_new_password_replaces_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(&dir);
    put_raw(&store, "h.example", "u", "old", &[("protocol", "https"), ("host", "h.example")]);
    assert_eq!(run("get", &store, &NoRefresh, ASK).expect("runs"), "username=u\npassword=old\n");
    // git approving what it was given changes nothing.
    let approve = "protocol=https\nhost=h.example\nusername=u\npassword=old\n\n";
    run("store", &store, &NoRefresh, approve).expect("runs");
    assert_eq!(
        store.list().expect("list").iter().map(|m| m.name.as_str()).collect::<Vec<_>>(),
        ["h.example"]
    );

    let approve = "protocol=https\nhost=h.example\nusername=u\npassword=new\n\n";
    run("store", &store, &NoRefresh, approve).expect("runs");
    let names: Vec<String> = store.list().expect("list").into_iter().map(|m| m.name).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_ne!(names[0], "h.example");
    assert_eq!(run("get", &store, &NoRefresh, ASK).expect("runs"), "username=u\npassword=new\n");
}

#[test]
fn the_newest_of_several_accounts_answers_when_git_names_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = store(&dir);
    for (user, password) in [("alice", "pa"), ("bob", "pb")] {
        let input = format!("protocol=https\nhost=h.example\nusername={user}\npassword={password}\n\n");
        run("store", &store, &NoRefresh, &input).expect("runs");
    }
    assert_eq!(run("get", &store, &NoRefresh, ASK).expect("runs"), "username=bob\npassword=pb\n");
}
