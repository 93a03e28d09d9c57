//! ward-server's integration tests: a real server on port 0 over a real
//! SQLite file, driven over HTTP.

mod agent_bounds;
mod agents;
mod audit;
mod audit_keyed;
mod audit_refusals;
mod audit_writer;
mod authorize;
mod bounds;
mod caching;
mod cascade;
mod enumeration;
mod errors;
mod events;
mod forensics;
mod forward_auth;
mod grants;
mod helpers;
mod idle;
mod issuers;
mod leaks;
mod lifetimes;
mod login;
mod nodes;
mod notices;
mod oauth;
mod observe;
mod openapi;
mod password;
mod passwords_are_roots;
mod service_users;
mod session;
#[path = "../common/sse.rs"]
mod sse;
mod tokens;
mod usage_limits;
mod users;
// The dashboard at /ui.
mod ui;
mod ui_admin;
mod ui_shown;
mod ui_support;
mod ui_tables;
