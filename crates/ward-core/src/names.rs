//! Names and passwords, parsed at the boundary.

use std::fmt;
use zeroize::Zeroizing;

/// Why a name or password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidName {
    #[error("token name must be 1 to 100 characters with no control characters")]
    TokenName,
    #[error(
        "user name '{0}' is invalid: use 1 to 64 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit"
    )]
    Username(String),
    #[error("password must be at least {min} characters long", min = Password::MIN_LEN)]
    PasswordTooShort,
    #[error("password must be at most 1024 bytes long")]
    PasswordTooLong,
}

/// The human label of a token: 1-100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenName(String);

impl TokenName {
    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        let s = s.trim();
        let ok = !s.is_empty() && s.chars().count() <= 100 && !s.chars().any(char::is_control);
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidName::TokenName) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user or service-user name: `[a-z0-9][a-z0-9._-]{0,63}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// The name `ward server` gives the admin it creates on its first start.
    pub const FIRST_ADMIN: &'static str = "admin";

    /// [`Username::FIRST_ADMIN`] as a name.
    pub fn first_admin() -> Self {
        Self(Self::FIRST_ADMIN.to_owned())
    }

    pub fn parse(s: &str) -> Result<Self, InvalidName> {
        let b = s.as_bytes();
        let ok = (1..=64).contains(&b.len())
            && b[0].is_ascii_alphanumeric()
            && b.iter()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'.' | b'_' | b'-'));
        if ok { Ok(Self(s.to_owned())) } else { Err(InvalidName::Username(s.chars().take(64).collect())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Username> for String {
    fn from(name: Username) -> Self {
        name.0
    }
}

impl From<&Username> for String {
    fn from(name: &Username) -> Self {
        name.0.clone()
    }
}

/// A password on its way to the hasher. `Debug` is redacted; zeroed on drop.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    pub const MIN_LEN: usize = 8;

    /// A new password must be 8 characters or more.
    pub fn new_checked(s: String) -> Result<Self, InvalidName> {
        if s.chars().count() < Self::MIN_LEN {
            return Err(InvalidName::PasswordTooShort);
        }
        Self::any(s)
    }

    /// A password offered at login: any length up to 1 KiB is checked.
    pub fn any(s: String) -> Result<Self, InvalidName> {
        if s.len() > 1024 {
            return Err(InvalidName::PasswordTooLong);
        }
        Ok(Self(Zeroizing::new(s)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lower_case_slugs() {
        assert!(Username::parse("alice").is_ok());
        assert!(Username::parse("ci-bot.2").is_ok());
        assert!(Username::parse("Alice").is_err());
        assert!(Username::parse("-x").is_err());
        assert!(Username::parse("").is_err());
    }

    #[test]
    fn short_passwords_are_refused_and_never_printed() {
        assert_eq!(Password::new_checked("short".into()).err(), Some(InvalidName::PasswordTooShort));
        let p = Password::new_checked("long enough".into());
        assert_eq!(p.map(|p| format!("{p:?}")).ok().as_deref(), Some("Password(***)"));
    }
}
