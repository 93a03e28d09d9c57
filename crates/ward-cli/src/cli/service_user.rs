//! `ward service-user …`.

use super::user::DestructiveNameArgs;
use super::{parse_lifetime_or_days, parse_ttl};
use clap::{Args, Subcommand};
use ward_core::Ttl;

#[derive(Debug, Subcommand)]
pub enum ServiceUserCommand {
    /// Create a service user; its first API key is printed once.
    Create(CreateServiceUserArgs),
    /// List service users and their keys.
    List,
    /// Issue a new API key; the old one may live for a grace period.
    RotateKey(RotateKeyArgs),
    /// Delete a service user and revoke its keys.
    Delete(DestructiveNameArgs),
}

#[derive(Debug, Args)]
pub struct CreateServiceUserArgs {
    /// The service user's name: a-z, 0-9, '.', '_' or '-'.
    pub name: String,
    /// Scopes of its keys, comma separated.
    #[arg(long, value_delimiter = ',', required = true, value_name = "SCOPES")]
    pub scopes: Vec<String>,
    /// Lifetime of the first key, e.g. 30d, 12h or 90m (a bare number is days).
    #[arg(long = "expires-in", visible_alias = "ttl", value_name = "DURATION",
          value_parser = parse_lifetime_or_days)]
    pub expires_in: Option<Ttl>,
}

#[derive(Debug, Args)]
pub struct RotateKeyArgs {
    /// The service user, by name or id.
    pub name: String,
    /// How long the old key keeps working, e.g. 1h (default: it stops at once).
    #[arg(long, value_name = "DURATION", value_parser = parse_ttl)]
    pub grace: Option<Ttl>,
}
