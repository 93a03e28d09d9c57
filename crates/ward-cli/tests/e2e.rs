//! The real `ward` binary against a real `ward server` process.

#[path = "e2e/agents.rs"]
mod agents;
#[path = "e2e/audit.rs"]
mod audit;
#[path = "e2e/certs.rs"]
mod certs;
// The dashboard in a real browser (node + chromium; see the module doc).
#[path = "browser/dashboard.rs"]
mod browser;
#[path = "e2e/cli_conventions.rs"]
mod cli_conventions;
#[path = "e2e/clocked.rs"]
mod clocked;
#[path = "e2e/crash.rs"]
mod crash;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/http2.rs"]
mod http2;
#[path = "e2e/leaks.rs"]
mod leaks;
#[path = "e2e/lifecycle.rs"]
mod lifecycle;
#[path = "e2e/limits.rs"]
mod limits;
#[path = "e2e/oauth.rs"]
mod oauth;
#[path = "e2e/observe.rs"]
mod observe;
#[path = "e2e/password.rs"]
mod password;
#[path = "e2e/pg_tls.rs"]
mod pg_tls;
#[path = "e2e/proxies.rs"]
mod proxies;
#[path = "common/request.rs"]
mod request;
#[path = "e2e/schemathesis.rs"]
mod schemathesis;
#[path = "e2e/secrecy.rs"]
mod secrecy;
#[path = "e2e/server.rs"]
mod server;
#[path = "e2e/starts.rs"]
mod starts;
#[path = "e2e/token_policy.rs"]
mod token_policy;
#[path = "e2e/transport.rs"]
mod transport;
#[path = "e2e/users.rs"]
mod users;
