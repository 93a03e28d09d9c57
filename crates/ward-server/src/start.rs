//! A safe start: refuse what can be refused before anything is written,
//! then open the database, check that this node can unseal the signing
//! keys, and create the first admin under the start lock.
//!
//! [`crate::launch`] runs [`check_listen`] and the other checks, binds its
//! listener (so a taken port is refused before a one-time password could be
//! shown and lost), and only then calls [`prepare`].

use crate::LaunchError;
use crate::authority::bootstrap::{self, AdminPassword};
use crate::signing::{self, KeySource, MasterKey, NodeMasterKey};
use std::net::SocketAddr;
use std::sync::Arc;
use ward_store::Backend;

/// Checks the form of a `--listen` value without binding: `HOST:PORT`
/// (an IP address, `[v6]` or a host name; a port from 0 to 65535) or
/// `unix:/PATH`.
pub fn check_listen(addr: &str) -> Result<(), LaunchError> {
    let bad = |reason: &str| Err(LaunchError::Listen { addr: addr.to_owned(), reason: reason.to_owned() });
    if let Some(path) = addr.strip_prefix("unix:") {
        return if path.is_empty() { bad("the Unix socket path is empty") } else { Ok(()) };
    }
    if addr.parse::<SocketAddr>().is_ok() {
        return Ok(());
    }
    let Some((host, port)) = addr.rsplit_once(':') else {
        return bad("no port");
    };
    if port.parse::<u16>().is_err() {
        return bad("the port must be a number from 0 to 65535");
    }
    let name_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '.';
    if host.is_empty() || !host.chars().all(name_char) {
        return bad("the host must be an IP address or a host name");
    }
    Ok(())
}

/// Opens the database under the start lock, refuses a master key that
/// cannot unseal its signing keys, writes a new master key file, creates
/// the first admin (printing a generated password once) and releases the
/// lock. Returns the store and the master key to serve with.
pub async fn prepare(
    database_url: &str,
    master: NodeMasterKey,
    admin_password: Option<String>,
) -> Result<(Arc<dyn Backend>, MasterKey), LaunchError> {
    let (store, lock) = ward_store::open_for_start(database_url).await?;
    let kids = signing::unsealable(store.as_ref(), &master.key).await.map_err(LaunchError::Bootstrap)?;
    if let Some(kid) = kids.first() {
        return Err(unseal_error(kid, kids.len(), &master));
    }
    let key = master.persist()?;
    match bootstrap::ensure_admin(store.as_ref(), admin_password).await.map_err(LaunchError::Bootstrap)? {
        Some(AdminPassword::Generated(password)) => {
            crate::observe::announce(&format!("Created the first user 'admin' with password: {password}"));
            crate::observe::announce(
                "This password is shown only once. Log in with `ward login --username admin`.",
            );
        }
        Some(AdminPassword::Given) => crate::observe::announce(
            "Created the first user 'admin' with the password from WARD_ADMIN_PASSWORD.",
        ),
        None => {}
    }
    lock.release().await?;
    Ok((store, key))
}

fn unseal_error(kid: &str, count: usize, master: &NodeMasterKey) -> LaunchError {
    let file = master.file.display();
    let has = match master.source {
        KeySource::Env => format!("WARD_MASTER_KEY holds master key {}", master.key.fingerprint()),
        KeySource::File => format!("{file} holds master key {}", master.key.fingerprint()),
        KeySource::New => format!("WARD_MASTER_KEY is not set and {file} does not exist"),
    };
    LaunchError::Unseal(format!(
        "this node cannot unseal signing key {kid}{more}: it was sealed with another master key, and {has}. \
         Give this node the deployment's master key: set WARD_MASTER_KEY to it (base64) or put it in {file}",
        more = if count > 1 { format!(" (and {} more)", count - 1) } else { String::new() },
    ))
}

#[cfg(test)]
mod tests {
    use super::check_listen;

    #[test]
    fn listen_addresses_of_every_accepted_form_pass_and_malformed_ones_say_why() {
        for good in ["127.0.0.1:8420", "0.0.0.0:0", "[::1]:8420", "localhost:8420", "unix:/run/ward.sock"] {
            assert!(check_listen(good).is_ok(), "{good}");
        }
        for (bad, why) in [
            ("127.0.0.1", "no port"),
            ("127.0.0.1:http", "port"),
            ("127.0.0.1:70000", "port"),
            (":8420", "host"),
            ("not an address:1", "host"),
            ("unix:", "empty"),
        ] {
            let message = check_listen(bad).expect_err(bad).to_string();
            assert!(message.contains(why), "{bad}: {message}");
            assert!(!message.contains("another ward server"), "{message}");
        }
    }
}
