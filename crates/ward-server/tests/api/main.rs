//! ward-server's integration tests: a real server on port 0 over a real
//! SQLite file, driven over HTTP.

mod helpers;
mod openapi;
mod service_users;
mod session;
mod tokens;
mod users;
