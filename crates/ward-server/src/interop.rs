//! The settings that let standard clients and proxies use ward: the issuer
//! URL (`[server] issuer`), what `GET /v1/forward-auth` does with a request
//! no `[[routes]]` entry matches (`[forward_auth] unmatched`), and how often
//! one client address may call `POST /oauth/revoke` (`[oauth]`).
//!
//! ```toml
//! [server]
//! issuer = "https://ward.example.com"   # `iss` of minted tokens, the RFC 8414 issuer
//!
//! [forward_auth]
//! unmatched = "deny"                    # or "allow": any valid token passes an unmapped path
//!
//! [oauth]
//! revoke_per_minute = 60                # per client address
//! ```
//!
//! The issuer used to be `[mint] issuer`, a free string; it is now one URL
//! for both minted tokens and the metadata, and the old key is refused with
//! a message that names the new one.

use serde::Deserialize;

/// A setting of this module that cannot be used; the message names the key
/// and the fix (the config file loader reports it as it is).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSetting(String);

/// What `iss` says when no issuer is configured (kept so that tokens minted
/// before `[server] issuer` existed still verify).
pub const DEFAULT_ISS: &str = "ward";

/// `[forward_auth]` as the file has it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForwardAuth {
    unmatched: Option<String>,
}

/// `[oauth]` as the file has it.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOAuth {
    revoke_per_minute: Option<u32>,
}

/// What forward auth answers for a request that matches no `[[routes]]`
/// entry: 403 (`Deny`, the default), or 200 for any valid token (`Allow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unmatched {
    #[default]
    Deny,
    Allow,
}

/// `[forward_auth]`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ForwardAuthSettings {
    pub unmatched: Unmatched,
}

/// `[oauth]`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OAuthSettings {
    /// `POST /oauth/revoke` calls one client address may make per minute.
    pub revoke_per_minute: u32,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        Self { revoke_per_minute: 60 }
    }
}

/// An issuer URL: `https://host[:port]`, or `http://` to this machine only,
/// with no path, query or fragment (RFC 8414 puts the metadata at
/// `/.well-known/oauth-authorization-server` under it). Kept without a
/// trailing slash, exactly as `iss` and the metadata say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(String);

impl Issuer {
    pub fn parse(text: &str) -> Result<Self, InvalidSetting> {
        let shown: String = text.chars().take(200).collect();
        let bad = |why: &str| {
            InvalidSetting(format!(
                "server.issuer '{shown}' {why}: give the URL clients reach ward at, e.g. \"https://ward.example.com\""
            ))
        };
        let url = reqwest::Url::parse(text).map_err(|_| bad("is not a URL"))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return Err(bad("is not an http(s) URL"));
        }
        if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
            return Err(bad("has a path, query or fragment"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("carries credentials"));
        }
        ward_core::plain_http::check(url.scheme(), url.host_str().unwrap_or_default(), false)
            .map_err(|_| bad("is plain http:// to another machine (use https://)"))?;
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `path` (starting with `/`) under this issuer.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

/// `[server] issuer`, refusing the old `[mint] issuer`.
pub(crate) fn issuer(server: Option<String>, mint: Option<String>) -> Result<Option<Issuer>, InvalidSetting> {
    if mint.is_some() {
        return Err(InvalidSetting(
            "mint.issuer is replaced by server.issuer, a URL (e.g. [server] issuer = \"https://ward.example.com\"); \
             it becomes the iss of minted tokens and the OAuth metadata issuer. Tokens minted under the old \
             issuer stop verifying when it changes"
                .into(),
        ));
    }
    server.map(|s| Issuer::parse(&s)).transpose()
}

pub(crate) fn forward_auth(raw: RawForwardAuth) -> Result<ForwardAuthSettings, InvalidSetting> {
    let unmatched = match raw.unmatched.as_deref() {
        None | Some("deny") => Unmatched::Deny,
        Some("allow") => Unmatched::Allow,
        Some(other) => {
            let shown: String = other.chars().take(40).collect();
            return Err(InvalidSetting(format!(
                "forward_auth.unmatched is '{shown}': use \"deny\" (the default) or \"allow\""
            )));
        }
    };
    Ok(ForwardAuthSettings { unmatched })
}

pub(crate) fn oauth(raw: RawOAuth) -> Result<OAuthSettings, InvalidSetting> {
    let revoke_per_minute = raw.revoke_per_minute.unwrap_or(OAuthSettings::default().revoke_per_minute);
    if revoke_per_minute == 0 {
        return Err(InvalidSetting(
            "oauth.revoke_per_minute must be at least 1 (leave it out for 60)".into(),
        ));
    }
    Ok(OAuthSettings { revoke_per_minute })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issuer_is_an_https_url_or_http_to_this_machine() {
        assert_eq!(
            Issuer::parse("https://ward.example.com/").map(|i| i.0),
            Ok("https://ward.example.com".into())
        );
        assert!(Issuer::parse("http://127.0.0.1:8420").is_ok());
        for bad in
            ["ward", "ftp://x", "http://ward.example.com", "https://h/x", "https://h/?a=1", "https://u:p@h"]
        {
            let e = Issuer::parse(bad).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains("server.issuer"), "{bad}: {e}");
        }
        assert_eq!(
            Issuer::parse("https://h").map(|i| i.join("/oauth/revoke")),
            Ok("https://h/oauth/revoke".into())
        );
    }

    #[test]
    fn the_old_mint_issuer_key_is_refused_naming_the_new_one() {
        let e = issuer(None, Some("ward".into())).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("server.issuer") && e.contains("mint.issuer"), "{e}");
        assert_eq!(issuer(None, None), Ok(None));
    }

    #[test]
    fn unmatched_paths_are_denied_unless_the_config_says_allow() {
        let raw = |u: Option<&str>| RawForwardAuth { unmatched: u.map(str::to_owned) };
        assert_eq!(forward_auth(raw(None)).map(|s| s.unmatched), Ok(Unmatched::Deny));
        assert_eq!(forward_auth(raw(Some("allow"))).map(|s| s.unmatched), Ok(Unmatched::Allow));
        let e = forward_auth(raw(Some("maybe"))).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("forward_auth.unmatched"), "{e}");
    }

    #[test]
    fn the_revoke_rate_is_positive() {
        assert_eq!(oauth(RawOAuth::default()).map(|o| o.revoke_per_minute), Ok(60));
        let e =
            oauth(RawOAuth { revoke_per_minute: Some(0) }).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("oauth.revoke_per_minute"), "{e}");
    }
}
