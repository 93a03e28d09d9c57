//! Form bodies: [`Fields`] (an `application/x-www-form-urlencoded` body,
//! repeated names kept, as checkboxes send them) and [`Posted`], the
//! extractor of every state-changing page: a live [`Session`] and then its
//! CSRF token, checked before the handler runs, so a forged or stale form
//! changes nothing (403).

use super::csrf;
use super::error::UiError;
use super::session::Session;
use crate::error::{ApiError, MAX_BODY};
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};

/// The name/value pairs of a form body, in order.
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, `None` when blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }

    /// Every value of `name` (checkboxes).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = UiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let body = axum::body::to_bytes(req.into_body(), MAX_BODY)
            .await
            .map_err(|_| ApiError::BadRequest("the form is larger than any ward form".into()))?;
        Ok(Self::parse(&body))
    }
}

/// A form posted from a page of a live session, its CSRF token checked.
#[derive(Debug)]
pub struct Posted {
    pub session: Session,
    pub fields: Fields,
}

impl FromRequest<AppState> for Posted {
    type Rejection = UiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let session = Session::from_request_parts(&mut parts, state).await?;
        let fields = Fields::from_request(Request::from_parts(parts, body), state).await?;
        if !csrf::matches(&session.csrf, fields.get(csrf::FIELD)) {
            tracing::warn!(token.id = %session.caller.token_id, "dashboard form refused: bad or missing CSRF token");
            return Err(UiError::Csrf);
        }
        Ok(Self { session, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::Fields;

    #[test]
    fn repeated_names_are_all_kept_and_values_decoded() {
        let f = Fields::parse(b"scope=read%3Astacks&scope=write:stacks&name=ci+deploy&empty=+");
        assert_eq!(f.all("scope"), ["read:stacks", "write:stacks"]);
        assert_eq!(f.get("name"), Some("ci deploy"));
        assert_eq!(f.text("empty"), None);
        assert_eq!(f.get("missing"), None);
    }
}
