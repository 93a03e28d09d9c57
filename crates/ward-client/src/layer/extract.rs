//! [`Principal`] as an axum extractor: the caller [`super::VerifyLayer`]
//! verified. On a route the layer does not cover it refuses (500) rather
//! than let the handler run unauthenticated.

use super::reject;
use crate::Principal;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(reject::not_layered)
    }
}
