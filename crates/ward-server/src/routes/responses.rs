//! The error answers every operation of a kind can give, added to the
//! OpenAPI document once instead of on each route: they come from the
//! extractors and the router, not from the handler, so each route's own
//! annotation lists only what its authority function decides (403, 404,
//! 409, 429 …).
//!
//! - an operation with a bearer `security` requirement: 401 (RFC 6750
//!   `WWW-Authenticate`), 503 (the token is looked up in the database);
//!   its 403, where it has one, also carries `WWW-Authenticate`;
//! - with a JSON request body: 400 (not JSON), 413 (over
//!   [`MAX_BODY`](crate::error::MAX_BODY)), 415 (not `application/json`),
//!   422 (JSON of the wrong shape, or a rule broken);
//! - with query parameters: 422 (a value of the wrong type or out of range);
//! - with path parameters: 400 (not UTF-8 once percent-decoded);
//! - 429 with `Retry-After`, wherever a route lists 429.
//!
//! Each is `ErrorBody`, as `crate::error` renders every error.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, ObjectBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder, Type};

/// Adds the shared error answers to every operation of `doc`.
pub fn complete(doc: &mut OpenApi) {
    for item in doc.paths.paths.values_mut() {
        let ops = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for op in ops.into_iter().flatten() {
            complete_operation(op);
        }
    }
}

fn complete_operation(op: &mut Operation) {
    let secured = op.security.as_ref().is_some_and(|reqs| !reqs.is_empty());
    let has_body = op.request_body.is_some();
    let params = op.parameters.as_deref().unwrap_or_default();
    let has_query = params.iter().any(|p| p.parameter_in == ParameterIn::Query);
    let has_path = params.iter().any(|p| p.parameter_in == ParameterIn::Path);

    let mut add: Vec<(&str, &str)> = Vec::new();
    if has_body {
        add.push(("400", "the body is not JSON"));
        add.push(("413", "the body is larger than 64 KiB"));
        add.push(("415", "the body was not sent as Content-Type: application/json"));
        add.push(("422", "the body has the wrong shape or breaks a rule; the message names it"));
    } else if has_query {
        add.push(("422", "a query parameter has the wrong type or is out of range"));
    }
    if has_path {
        add.push(("400", "a path parameter is not UTF-8"));
    }
    if secured {
        add.push(("503", "the database is unavailable; try again shortly"));
    }
    let responses = &mut op.responses.responses;
    for (status, description) in add {
        responses.entry(status.to_owned()).or_insert_with(|| RefOr::T(error(description)));
    }
    if secured {
        let unauthenticated = error("no token, or a token that is malformed, unknown, expired or revoked");
        responses.insert("401".to_owned(), RefOr::T(with_www_authenticate(unauthenticated)));
        if let Some(RefOr::T(forbidden)) = responses.get_mut("403") {
            *forbidden = with_www_authenticate(forbidden.clone());
        }
    }
    if let Some(RefOr::T(limited)) = responses.get_mut("429") {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0)).build();
        let header = HeaderBuilder::new().schema(seconds).description(Some("seconds to wait")).build();
        limited.headers.insert("Retry-After".to_owned(), header);
    }
}

/// An `ErrorBody` answer.
fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build(),
        )
        .build()
}

/// `response` with the RFC 6750 challenge header.
fn with_www_authenticate(mut response: Response) -> Response {
    let challenge = HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String).build())
        .description(Some("RFC 6750 challenge, e.g. Bearer realm=\"ward\", error=\"invalid_token\""))
        .build();
    response.headers.insert("WWW-Authenticate".to_owned(), challenge);
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_secured_operation_with_a_body_gets_every_shared_answer() {
        let doc = crate::routes::api().1;
        let item = doc.paths.paths.get("/v1/tokens").and_then(|p| p.post.as_ref());
        let statuses: Vec<&str> =
            item.map(|op| op.responses.responses.keys().map(String::as_str).collect()).unwrap_or_default();
        for status in ["201", "400", "401", "403", "413", "415", "422", "503"] {
            assert!(statuses.contains(&status), "{status} missing from {statuses:?}");
        }
    }
}
