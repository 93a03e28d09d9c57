//! A browser as the dashboard's API tests drive it: no redirects
//! followed, one `Cookie` header kept by hand, forms posted as a browser
//! posts them, the CSRF field read from the page.

use crate::helpers::TestApp;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};

/// A page as the browser got it.
pub struct Page {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Page {
    pub fn header(&self, name: &str) -> String {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
    }

    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let at =
            self.body.find(r#"name="csrf" value=""#).expect("a CSRF field") + r#"name="csrf" value=""#.len();
        self.body[at..].split('"').next().expect("value").to_owned()
    }

    /// The `Set-Cookie` for `name`, whole.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// A browser without redirects followed, holding one session cookie.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    /// Where requests go: the app's address, or another node's.
    pub base: String,
    http: reqwest::Client,
    /// The `Cookie` header it sends.
    pub cookie: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Self { app, base: app.base.clone(), http, cookie: String::new() }
    }

    /// Signs in through the form; the session token is the cookie's value.
    pub async fn sign_in(app: &'a TestApp, user: &str, password: &str) -> Self {
        let mut b = Self::new(app);
        let form = b.get("/ui/login").await;
        let nonce = form.set_cookie("ward_login").expect("nonce cookie");
        b.cookie = nonce.split(';').next().expect("pair").to_owned();
        let done =
            b.post("/ui/login", &[("csrf", &form.csrf()), ("username", user), ("password", password)]).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let session = done.set_cookie("ward_session").expect("session cookie");
        b.cookie = session.split(';').next().expect("pair").to_owned();
        b
    }

    /// The session token the cookie carries.
    pub fn token(&self) -> &str {
        self.cookie.trim_start_matches("ward_session=")
    }

    pub async fn send(&self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if !self.cookie.is_empty() {
            req = req.header(COOKIE, &self.cookie);
        }
        if let Some(form) = form {
            let body: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            req = req.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(body);
        }
        let resp = req.send().await.expect("request reaches the server");
        let status = resp.status();
        let headers = resp.headers().clone();
        Page { status, headers, body: resp.text().await.expect("body") }
    }

    pub async fn get(&self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }

    /// Creates a token through the form and reads it from the shown-once
    /// page; returns where it was shown and the page with the token as
    /// its body.
    pub async fn create_token(&self, name: &str, kind: &str, scopes: &[&str]) -> (String, Page) {
        let posted = self.post_create(name, kind, scopes).await;
        let (shown_at, sealed) = hand_off(&posted);
        let shown = self.with_cookie(&sealed).get(&shown_at).await;
        assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
        let token = shown_token(&shown.body).expect("the token field");
        (shown_at, Page { body: token, ..shown })
    }

    /// Posts the create form; the answer (a redirect to the shown page).
    pub async fn post_create(&self, name: &str, kind: &str, scopes: &[&str]) -> Page {
        let csrf = self.get("/ui/tokens/new").await.csrf();
        let mut form = vec![("csrf", csrf.as_str()), ("name", name), ("type", kind), ("ttl", "7d")];
        form.extend(scopes.iter().map(|s| ("scope", *s)));
        let posted = self.post("/ui/tokens", &form).await;
        assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
        posted
    }

    /// This browser also sending cookie `pair` (`name=value`).
    pub fn with_cookie(&self, pair: &str) -> Self {
        Self {
            app: self.app,
            base: self.base.clone(),
            http: self.http.clone(),
            cookie: format!("{}; {pair}", self.cookie),
        }
    }

    /// This browser talking to another node.
    pub fn at(&self, base: &str) -> Self {
        Self { app: self.app, base: base.to_owned(), http: self.http.clone(), cookie: self.cookie.clone() }
    }
}

/// Where a form that issued a token sent the browser, and the sealed
/// `ward_shown=…` cookie pair it set for that page.
pub fn hand_off(posted: &Page) -> (String, String) {
    let shown_at = posted.header(LOCATION.as_str());
    assert!(shown_at.starts_with("/ui/shown/"), "{shown_at}");
    let cookie = posted.set_cookie("ward_shown").expect("the sealed token's cookie");
    (shown_at, cookie.split(';').next().expect("pair").to_owned())
}

/// The token in a shown-once page, if there is one.
pub fn shown_token(body: &str) -> Option<String> {
    let field = r#"id="token" type="text" readonly value=""#;
    let at = body.find(field)? + field.len();
    body[at..].split('"').next().map(str::to_owned)
}

pub async fn user_browser<'a>(app: &'a TestApp, name: &str) -> Browser<'a> {
    app.user(name).await;
    Browser::sign_in(app, name, &format!("{name}-password")).await
}
