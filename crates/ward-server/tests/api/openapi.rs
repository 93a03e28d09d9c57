//! `/openapi.json` documents every route.

use crate::helpers::TestApp;
use reqwest::{Method, StatusCode};

/// The routes of the API, as the issue that defines them lists them.
const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/openapi.json"),
    ("get", "/metrics"),
    ("post", "/v1/login"),
    ("post", "/v1/logout"),
    ("get", "/v1/whoami"),
    ("post", "/v1/password"),
    ("post", "/v1/users/{id}/password"),
    ("post", "/v1/tokens"),
    ("get", "/v1/tokens"),
    ("get", "/v1/tokens/{id}"),
    ("post", "/v1/tokens/{id}/revoke"),
    ("delete", "/v1/tokens/{id}"),
    ("post", "/v1/tokens/{id}/rotate"),
    ("post", "/v1/verify"),
    ("post", "/v1/users"),
    ("get", "/v1/users"),
    ("get", "/v1/users/{id}/tokens"),
    ("post", "/v1/users/{id}/revoke-tokens"),
    ("delete", "/v1/users/{id}"),
    ("post", "/v1/service-users"),
    ("get", "/v1/service-users"),
    ("post", "/v1/service-users/{id}/rotate-key"),
    ("delete", "/v1/service-users/{id}"),
    ("get", "/v1/audit"),
    ("get", "/v1/audit/verify"),
    ("post", "/v1/authorize"),
    ("get", "/v1/approvals"),
    ("post", "/v1/approvals/{id}/approve"),
    ("post", "/v1/approvals/{id}/deny"),
    ("post", "/v1/mint"),
    ("get", "/v1/mint"),
    ("post", "/v1/mint/revoke"),
    ("get", "/v1/keys"),
    ("post", "/v1/keys/rotate"),
    ("post", "/v1/keys/{kid}/retire"),
    ("get", "/.well-known/jwks.json"),
    // issue 13: proxies and OAuth
    ("get", "/v1/forward-auth"),
    ("post", "/oauth/introspect"),
    ("post", "/oauth/revoke"),
    ("get", "/.well-known/oauth-authorization-server"),
    // issue 15: the revocation stream
    ("get", "/v1/events"),
    // issue 16: the idle-token policy
    ("get", "/v1/idle-tokens"),
    ("post", "/v1/idle-tokens/revoke"),
    // issue 16: leaked tokens, forensics
    ("post", "/v1/leaks"),
    ("post", "/v1/tokens/identify"),
];

#[tokio::test]
async fn openapi_json_is_openapi_3_and_lists_every_route() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.str("openapi").starts_with("3."), "{}", r.body["openapi"]);
    let paths = r.body["paths"].as_object().expect("paths object");
    for (method, path) in ROUTES {
        assert!(paths.get(*path).and_then(|p| p.get(*method)).is_some(), "{method} {path} is missing");
    }
    let documented: usize = paths.values().map(|p| p.as_object().map_or(0, |m| m.len())).sum();
    assert_eq!(documented, ROUTES.len(), "the document lists a route this test does not know");
    assert!(r.body["components"]["securitySchemes"]["bearer"].is_object());
}

#[tokio::test]
async fn every_documented_route_is_served() {
    // An issuer, so that the OAuth metadata is served (404 without one).
    let app = TestApp::with_config("[server]\nissuer = \"http://127.0.0.1\"").await;
    for (method, path) in ROUTES {
        let m: Method = method.to_uppercase().parse().expect("method");
        // Raw: not every route answers JSON (`/metrics` is text).
        let url = format!("{}{}", app.base, path.replace("{id}", "tok_x").replace("{kid}", "key_x"));
        let status = app.http.request(m, url).send().await.expect("request reaches the server").status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path} is not routed");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is not routed");
    }
}

#[tokio::test]
async fn healthz_answers_without_credentials() {
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.str("status"), "ok");
}

#[tokio::test]
async fn every_operation_has_its_own_operation_id() {
    let app = TestApp::spawn().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    let mut ids: Vec<String> =
        operations(&doc).map(|(_, _, op)| op["operationId"].as_str().unwrap_or("").to_owned()).collect();
    assert!(ids.iter().all(|id| !id.is_empty()), "an operation without an id: {ids:?}");
    let count = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicated operation ids");
}

#[tokio::test]
async fn path_parameters_are_in_the_path_and_the_rest_in_the_query() {
    let app = TestApp::spawn().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    for (path, method, op) in operations(&doc) {
        for param in op["parameters"].as_array().into_iter().flatten() {
            let name = param["name"].as_str().unwrap_or_default();
            let in_path = path.contains(&format!("{{{name}}}"));
            assert_eq!(
                param["in"] == "path",
                in_path,
                "{method} {path}: parameter {name} is `in: {}`",
                param["in"]
            );
        }
    }
}

#[tokio::test]
async fn every_secured_operation_documents_401_with_its_challenge_and_every_body_413_and_415() {
    let app = TestApp::spawn().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await.body;
    for (path, method, op) in operations(&doc) {
        let responses = &op["responses"];
        if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
            assert!(responses["401"]["headers"]["WWW-Authenticate"].is_object(), "{method} {path}");
        }
        if op["requestBody"].is_object() {
            for status in ["400", "413", "415", "422"] {
                let schema = &responses[status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} {status}");
            }
        }
    }
}

/// `openapi-spec-validator` (PyPI) accepts the document a real server
/// serves. Under `CI=true` a missing validator fails the test.
#[tokio::test]
async fn the_document_passes_openapi_spec_validator() {
    let Some(validator) = tool("openapi-spec-validator") else { return };
    let app = TestApp::spawn().await;
    let r = app.call(Method::GET, "/openapi.json", None, None).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, r.body.to_string()).expect("write the document");
    let out = tokio::process::Command::new(validator).arg(&file).output().await.expect("run the validator");
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "openapi-spec-validator refused the document:\n{said}");
    assert!(said.contains("OK"), "{said}");
}

/// Every `(path, method, operation)` of the document.
fn operations(doc: &serde_json::Value) -> impl Iterator<Item = (String, String, &serde_json::Value)> {
    doc["paths"].as_object().into_iter().flatten().flat_map(|(path, item)| {
        item.as_object().into_iter().flatten().map(move |(method, op)| (path.clone(), method.clone(), op))
    })
}

/// The path of an external tool on `PATH`; `None` (the test passes with a
/// note) when it is missing, except under `CI=true`, where that fails.
fn tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|dir| dir.join(name)).find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "{name} is not installed; .ci/run installs it");
        eprintln!("skipped: {name} is not installed (pip install openapi-spec-validator)");
    }
    found
}

// The dashboard (/ui) -------------------------------------------------------

/// The dashboard's routes: served, and not in the OpenAPI document, which
/// describes the JSON API.
const UI_ROUTES: &[(&str, &str)] = &[
    ("get", "/ui"),
    ("get", "/ui/login"),
    ("post", "/ui/login"),
    ("post", "/ui/logout"),
    ("get", "/ui/assets/ward.css"),
    ("get", "/ui/assets/ward.js"),
    ("get", "/ui/tokens"),
    ("post", "/ui/tokens"),
    ("get", "/ui/tokens/new"),
    ("get", "/ui/tokens/{id}/revoke"),
    ("post", "/ui/tokens/{id}/revoke"),
    ("get", "/ui/tokens/{id}/rotate"),
    ("post", "/ui/tokens/{id}/rotate"),
    ("get", "/ui/shown/{id}"),
    ("get", "/ui/expiring"),
    ("get", "/ui/users"),
    ("post", "/ui/users"),
    ("get", "/ui/users/{id}/tokens"),
    ("post", "/ui/users/{id}/revoke-tokens"),
    ("post", "/ui/users/{id}/delete"),
    ("get", "/ui/service-users"),
    ("post", "/ui/service-users"),
    ("post", "/ui/service-users/{id}/rotate-key"),
    ("post", "/ui/service-users/{id}/delete"),
    ("get", "/ui/approvals"),
    ("post", "/ui/approvals/{id}/decide"),
    ("get", "/ui/agents"),
    ("post", "/ui/agents/revoke"),
    ("post", "/ui/keys/rotate"),
    ("post", "/ui/keys/{kid}/retire"),
    ("get", "/ui/audit"),
    ("get", "/ui/audit/export"),
];

#[tokio::test]
async fn every_dashboard_route_is_served_and_none_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app.call(Method::GET, "/openapi.json", None, None).await;
    let paths = doc.body["paths"].as_object().expect("paths object");
    assert!(paths.keys().all(|p| !p.starts_with("/ui")), "a dashboard route is in the API document");
    let http =
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    for (method, path) in UI_ROUTES {
        let m: Method = method.to_uppercase().parse().expect("method");
        let url = format!("{}{}", app.base, path.replace("{id}", "tok_x").replace("{kid}", "key_x"));
        let status = http.request(m, url).send().await.expect("request reaches the server").status();
        assert_ne!(status, StatusCode::NOT_FOUND, "{method} {path} is not routed");
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is not routed");
    }
}
