//! The dashboard's cookies, read and written in one place: the session
//! cookie (`HttpOnly; SameSite=Strict; Path=/ui`, `Secure` under TLS),
//! the sign-in form's nonce cookie (`Path=/ui/login`) and the sealed
//! shown-once token (`Path=/ui/shown/{slot}`, two minutes; `shown.rs`).

use super::Transport;
use axum::http::header::COOKIE;
use axum::http::{HeaderMap, HeaderValue};

/// The session cookie: its value is the login session's token.
pub const SESSION: &str = "ward_session";
/// The sign-in form's nonce cookie (`csrf::for_login`).
pub const LOGIN: &str = "ward_login";
/// The sealed token waiting for its shown-once page (`shown::seal`).
pub const SHOWN: &str = "ward_shown";

/// The value of cookie `name` in the request, if sent.
pub fn get<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn header(value: &str) -> HeaderValue {
    // Every value set here is ASCII (hex, base62); never fails in practice.
    HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("ward_invalid=; Max-Age=0"))
}

fn secure(transport: Transport) -> &'static str {
    if transport.tls { "; Secure" } else { "" }
}

/// The `Set-Cookie` of a new session, living `max_age` seconds.
pub fn session(token: &str, max_age: i64, transport: Transport) -> HeaderValue {
    header(&format!(
        "{SESSION}={token}; Path=/ui; Max-Age={max_age}; HttpOnly; SameSite=Strict{}",
        secure(transport)
    ))
}

/// The `Set-Cookie` that ends the session cookie in the browser.
pub fn clear_session() -> HeaderValue {
    HeaderValue::from_static("ward_session=; Path=/ui; Max-Age=0; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` of the sign-in form's nonce.
pub fn login_nonce(nonce: &str, transport: Transport) -> HeaderValue {
    header(&format!("{LOGIN}={nonce}; Path=/ui/login; HttpOnly; SameSite=Strict{}", secure(transport)))
}

/// The `Set-Cookie` that ends the nonce cookie once signed in.
pub fn clear_login_nonce() -> HeaderValue {
    HeaderValue::from_static("ward_login=; Path=/ui/login; Max-Age=0; HttpOnly; SameSite=Strict")
}

/// The `Set-Cookie` of a sealed token for the page at `slot` (a hex
/// name from `shown::new_slot`, checked by the caller), living as long
/// as the token waits.
pub fn shown(sealed: &str, slot: &str, transport: Transport) -> HeaderValue {
    header(&format!(
        "{SHOWN}={sealed}; Path=/ui/shown/{slot}; Max-Age={}; HttpOnly; SameSite=Strict{}",
        super::shown::TTL_SECONDS,
        secure(transport)
    ))
}

/// The `Set-Cookie` that ends the sealed token of `slot` once shown.
pub fn clear_shown(slot: &str, transport: Transport) -> HeaderValue {
    header(&format!(
        "{SHOWN}=; Path=/ui/shown/{slot}; Max-Age=0; HttpOnly; SameSite=Strict{}",
        secure(transport)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_in_any_header() {
        let mut h = HeaderMap::new();
        h.append(COOKIE, HeaderValue::from_static("a=1; ward_sessionx=2"));
        h.append(COOKIE, HeaderValue::from_static("b=3;ward_session=tok"));
        assert_eq!(get(&h, SESSION), Some("tok"));
        assert_eq!(get(&h, "c"), None);
    }

    #[test]
    fn the_session_cookie_is_secure_only_under_tls() {
        let plain = session("t", 60, Transport { tls: false });
        assert_eq!(plain, "ward_session=t; Path=/ui; Max-Age=60; HttpOnly; SameSite=Strict");
        let tls = session("t", 60, Transport { tls: true });
        assert_eq!(tls, "ward_session=t; Path=/ui; Max-Age=60; HttpOnly; SameSite=Strict; Secure");
    }

    #[test]
    fn the_shown_cookie_reaches_only_its_page_and_lives_two_minutes() {
        let c = shown("sealed", "ab12", Transport { tls: true });
        assert_eq!(
            c,
            "ward_shown=sealed; Path=/ui/shown/ab12; Max-Age=120; HttpOnly; SameSite=Strict; Secure"
        );
        let gone = clear_shown("ab12", Transport { tls: false });
        assert_eq!(gone, "ward_shown=; Path=/ui/shown/ab12; Max-Age=0; HttpOnly; SameSite=Strict");
    }
}
