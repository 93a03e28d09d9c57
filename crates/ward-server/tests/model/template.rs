//! The template database every case starts from: admin, a second admin
//! `bob`, a user `alice` (each logged in once, so a case pays no argon2
//! work unless it logs in or changes a password; the server has no knob to
//! make argon2 cheaper), and an `observer` service user that only verifies.
//! Built once per test run; each case copies it under its own server.

use crate::driver::{ADMIN_PASSWORD, Reply, Server};
use crate::model::{Cred, End, Kind, Model, Role, SESSION_HOURS, User};
use chrono::{DateTime, Duration, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Routes that may land later (helper B): probed, and the ops that need
/// them are left out while they are missing.
#[derive(Debug, Clone, Copy)]
pub struct Routes {
    pub own: bool,
    pub reset: bool,
}

/// The database every case starts from, and the model of it.
pub struct Template {
    _dir: tempfile::TempDir,
    file: PathBuf,
    model: Model,
    pub observer: String,
    /// Which password routes the server has: `POST /v1/password` (own)
    /// and `POST /v1/users/{id}/password` (admin reset).
    pub password_routes: Routes,
}

fn created(v: &Value, key: &str) -> DateTime<Utc> {
    serde_json::from_value(v[key].clone()).unwrap_or_else(|_| panic!("{key} in {v}"))
}

/// A login session as the model holds it.
fn session(user: usize, r: &Reply) -> Cred {
    assert_eq!(r.status, StatusCode::OK, "template login: {:?}", r.body);
    let expires = created(&r.body, "expires_at");
    Cred {
        kind: Kind::Login,
        owner: user,
        agent: None,
        scopes: 0,
        created: expires - Duration::hours(SESSION_HOURS),
        expires: Some(expires),
        parent: None,
        end: End::Live,
        successor: None,
        seen_invalid: false,
        kid: None,
        id: r.str("token_id"),
        token: r.str("token"),
    }
}

impl Template {
    pub async fn build() -> Self {
        let (mut server, db) = Server::start(None).await;
        let login = |name: &'static str, password: &'static str| {
            let s = &server;
            async move { s.post("/v1/login", None, json!({"username": name, "password": password})).await }
        };
        let admin = login("admin", ADMIN_PASSWORD).await;
        let admin_token = admin.str("token");
        let mut users = vec![User {
            name: "admin".into(),
            id: admin.str("user_id"),
            role: Role::Admin,
            deleted: false,
            password: ADMIN_PASSWORD.into(),
        }];
        for (name, role) in [("bob", Role::Admin), ("alice", Role::User)] {
            let password = format!("{name}-password-1");
            let wire = if role == Role::Admin { "admin" } else { "user" };
            let r = server
                .post(
                    "/v1/users",
                    Some(&admin_token),
                    json!({"name": name, "role": wire, "password": password}),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "create {name}: {:?}", r.body);
            users.push(User { name: name.into(), id: r.str("id"), role, deleted: false, password });
        }
        let obs = server
            .post(
                "/v1/service-users",
                Some(&admin_token),
                json!({"name": "observer", "scopes": ["ward:introspect"]}),
            )
            .await;
        assert_eq!(obs.status, StatusCode::CREATED, "observer: {:?}", obs.body);
        let observer = obs.body["key"]["token"].as_str().expect("observer key").to_owned();
        let mut model = Model { users, ..Model::default() };
        model.creds.push(session(0, &admin));
        model.creds.push(session(1, &login("bob", "bob-password-1").await));
        model.creds.push(session(2, &login("alice", "alice-password-1").await));
        for c in 0..model.creds.len() {
            model.creds[c].scopes = model.perms(model.creds[c].owner);
        }
        // A route that exists answers an anonymous call with a JSON 401;
        // a missing one with axum's empty 404/405.
        let exists = |r: Reply| r.status == StatusCode::UNAUTHORIZED && !r.body.is_null();
        let own = exists(server.post("/v1/password", None, json!({})).await);
        let reset_path = format!("/v1/users/{}/password", model.users[2].id);
        let reset = exists(server.post(&reset_path, None, json!({})).await);
        let password_routes = Routes { own, reset };
        eprintln!("model test: password routes {password_routes:?}");
        server.stop().await;
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("template.db");
        let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
            "sqlite://{}",
            db.to_str().expect("utf-8 path")
        ))
        .await
        .expect("open template source");
        sqlx::query(&format!("VACUUM INTO '{}'", file.to_str().expect("utf-8 path")))
            .execute(&mut conn)
            .await
            .expect("VACUUM INTO template");
        Self { _dir: dir, file, model, observer, password_routes }
    }

    /// A server over a fresh copy, and the model of what it holds.
    pub async fn instance(&self) -> (Server, Model) {
        let (server, _) = Server::start(Some(&self.file)).await;
        (server, self.model.clone())
    }
}
